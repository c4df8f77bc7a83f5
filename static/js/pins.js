// Pinned messages: Pin and Unpin in a message's actions, and the chat's pinned list (the header's
// Pinned button): the newest pin first, a click opens the message in the chat.
import { api } from './api.js';
import { formatListTime, h } from './dom.js';
import { makeDialog } from './dialogs.js';
import { t } from './i18n.js';

/** PUT or DELETE the pin; the server answers the message (the frame tells the other members). */
export function setPinned(message, pinned) {
  return api(pinned ? 'PUT' : 'DELETE', `/api/messages/${message.id}/pin`);
}

export class PinsDialog {
  /** opts: {onJump(message), onError(text), isArchived(chatId)}. */
  constructor(opts) {
    this.opts = opts;
    this.chatId = null;
    const { dialog, body } = makeDialog(t('pins.title'), { testid: 'pins-dialog' });
    this.dialog = dialog;
    this.status = h('p', { className: 'muted', role: 'status' });
    this.list = h('ul', { className: 'pins-list', dataset: { testid: 'pins-list' } });
    body.append(this.status, this.list);
  }

  async open(chatId) {
    this.chatId = chatId;
    this.list.replaceChildren();
    this.status.textContent = t('pins.loading');
    this.dialog.showModal();
    await this.refresh();
  }

  /** Reload the list if it shows ``chatId`` (a pin changed there). */
  async refresh(chatId = this.chatId) {
    if (!this.dialog.open || chatId !== this.chatId) return;
    let pins;
    try {
      ({ pins } = await api('GET', `/api/chats/${chatId}/pins`));
    } catch (error) {
      this.status.textContent = t('pins.loadFailed', { reason: error.message });
      return;
    }
    if (chatId !== this.chatId) return;
    this.status.textContent = pins.length ? '' : t('pins.none');
    this.list.replaceChildren(...pins.map((message) => this.row(message)));
  }

  row(message) {
    const preview = message.text || t('pins.attachment');
    const unpin = this.opts.isArchived(message.chat_id) ? null : h('button', {
      type: 'button', className: 'btn btn-small', dataset: { testid: 'unpin' },
      'aria-label': t('pins.unpinFrom', { name: message.sender_name }),
      onClick: async () => {
        try {
          await setPinned(message, false);
          await this.refresh();
        } catch (error) {
          this.status.textContent = error.message;
        }
      },
    }, t('pins.unpin'));
    return h('li', { className: 'pin-row', dataset: { testid: 'pin' } },
      h('button', {
        type: 'button', className: 'pin-open',
        onClick: () => {
          this.dialog.close();
          this.opts.onJump(message);
        },
      }, h('span', { className: 'pin-meta' }, message.sender_name, ' · ',
        h('time', { datetime: message.created_at }, formatListTime(new Date(message.created_at)))),
      h('span', { className: 'pin-text' }, preview.length > 300 ? `${preview.slice(0, 300)}…` : preview)),
      unpin);
  }
}
