// The channel directory: every public channel (GET /api/channels?q=), searched as the user types, with its
// topic and member count; "Join" (POST /api/channels/{id}/join) or "Open" for the ones already joined.
import { api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { makeDialog, showError } from './dialogs.js';

const SEARCH_DELAY = 250;

export class ChannelDirectory {
  /** opts: {onJoined(chat) (a channel just joined), onOpen(chatId) (one the user is already in)}. */
  constructor(opts) {
    this.opts = opts;
    const { dialog, body, foot } = makeDialog(t('channels.title'), { testid: 'channel-directory', className: 'wide' });
    this.dialog = dialog;
    this.search = h('input', {
      type: 'search', autocomplete: 'off', maxlength: '100', placeholder: t('channels.search'),
      'aria-label': t('channels.search'), dataset: { testid: 'channel-search' },
    });
    this.list = h('ul', { className: 'channels', dataset: { testid: 'channel-list' }, 'aria-label': t('channels.title') });
    this.status = h('p', { className: 'muted', role: 'status' });
    this.error = h('p', { className: 'form-error', role: 'alert', hidden: true });
    body.append(this.search, this.status, this.list, this.error);
    foot.append(h('button', { type: 'button', className: 'btn', dataset: { close: '' },
      onClick: () => dialog.close() }, t('common.close')));
    let timer = null;
    this.search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.load(), SEARCH_DELAY);
    });
    this.sequence = 0;
  }

  open() {
    this.search.value = '';
    showError(this.error, '');
    this.dialog.showModal();
    this.search.focus();
    this.load();
  }

  async load() {
    const mine = ++this.sequence;
    const q = this.search.value.trim();
    let channels;
    try {
      channels = (await api('GET', `/api/channels${q ? `?q=${encodeURIComponent(q)}` : ''}`)).channels;
    } catch (error) {
      if (mine === this.sequence) showError(this.error, t('channels.loadFailed', { reason: error.message }));
      return;
    }
    if (mine !== this.sequence) return; // a newer search went out meanwhile
    showError(this.error, '');
    this.status.textContent = channels.length ? '' : t(q ? 'channels.noMatch' : 'channels.none');
    this.list.replaceChildren(...channels.map((channel) => this.row(channel)));
  }

  row(channel) {
    const action = channel.is_member
      ? h('button', { type: 'button', className: 'btn btn-small', dataset: { testid: 'open-channel' },
        'aria-label': t('channels.openNamed', { title: channel.title }),
        onClick: () => this.openChannel(channel.id) }, t('channels.open'))
      : h('button', { type: 'button', className: 'btn btn-small btn-primary', dataset: { testid: 'join-channel' },
        'aria-label': t('channels.joinNamed', { title: channel.title }),
        onClick: (event) => this.join(channel, event.currentTarget) }, t('channels.join'));
    return h('li', { className: 'channel', dataset: { channelId: String(channel.id) } },
      h('span', { className: 'avatar group', 'aria-hidden': 'true' }, '#'),
      h('span', { className: 'channel-text' },
        h('span', { className: 'channel-title' }, channel.title),
        channel.topic ? h('span', { className: 'channel-topic muted' }, channel.topic) : null,
        h('span', { className: 'channel-count muted' }, t('chat.members', { count: channel.member_count }))),
      action);
  }

  async join(channel, button) {
    button.disabled = true;
    let chat;
    try {
      chat = await api('POST', `/api/channels/${channel.id}/join`);
    } catch (error) {
      button.disabled = false;
      showError(this.error, error.message);
      return;
    }
    this.dialog.close();
    this.opts.onJoined(chat);
  }

  openChannel(id) {
    this.dialog.close();
    this.opts.onOpen(id);
  }
}
