// The connection banner (data-testid="connection-status") and the status line under the user's
// name: connecting, online, reconnecting (counting down to the next attempt) or offline.
const STATUS = { connecting: 'Connecting…', online: 'Online', reconnecting: 'Reconnecting…', offline: 'Offline' };

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
  if (state === 'online') return 'Connected.';
  if (state === 'offline') {
    return `Offline: ${detail.reason || 'no connection'} Messages you write are sent once it is back.`;
  }
  const lost = state === 'reconnecting' ? 'Connection lost.' : 'Cannot reach the server yet.';
  if (!detail.retryAt) return state === 'reconnecting' ? 'Connection lost. Reconnecting…' : 'Connecting…';
  const seconds = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
  return seconds ? `${lost} Reconnecting in ${seconds} s…` : `${lost} Reconnecting…`;
}
