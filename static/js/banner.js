// The connection banner (data-testid="connection-status") and the status line under the user's
// name: connecting, online, reconnecting (counting down to the next attempt) or offline.
import { t } from './i18n.js';

const STATUS = {
  connecting: t('status.connecting'), online: t('status.online'), reconnecting: t('status.reconnecting'),
  offline: t('status.offline'),
};

export class ConnectionBanner {
  /** els: {app, banner, text, retry, status}; onRetry() when the user presses "Retry now". */
  constructor(els, { onRetry }) {
    Object.assign(this, els);
    this.countdown = null;
    this.retry.addEventListener('click', onRetry);
  }

  /** The socket's state and its detail: {retryAt} while waiting to redial, {reason} when offline. */
  show(state, detail) {
    this.banner.dataset.state = state;
    this.app.dataset.connection = state;
    this.status.textContent = STATUS[state];
    this.retry.hidden = state === 'online' || !(detail.retryAt || state === 'offline');
    clearInterval(this.countdown);
    this.text.textContent = describe(state, detail);
    if (detail.retryAt) {
      this.countdown = setInterval(() => { this.text.textContent = describe(state, detail); }, 1000);
    }
  }
}

function describe(state, detail) {
  if (state === 'online') return t('banner.connected');
  if (state === 'offline') return t('banner.offline', { reason: detail.reason || t('banner.noConnection') });
  const lost = state === 'reconnecting' ? t('banner.lost') : t('banner.unreachable');
  if (!detail.retryAt) return state === 'reconnecting' ? t('banner.lostReconnecting') : t('status.connecting');
  const seconds = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
  return seconds ? t('banner.retryIn', { lost, count: seconds }) : t('banner.retrying', { lost });
}
