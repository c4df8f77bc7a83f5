// The open conversation: the chat the address names (#/chat/N), shown in the message pane and the
// composer, and its header (title, topic; who is online, or when the other person was last seen). An
// archived chat stays readable; its composer gives way to a notice (with "Unarchive" for those allowed).
import { api } from './api.js';
import { relativeTime, t } from './i18n.js';
import { mayManage } from './settings.js';

export class Conversation {
  /**
   * els: {panel, empty, title, subtitle, topic, membersButton, settingsButton, muteButton, composerForm,
   * archivedNotice, unarchiveButton}; parts: {list, pane, composer, typing};
   * opts: {me, isOnline(userId), onReopen() (the open chat was picked again), onMuted() (a chat was muted or unmuted)}.
   */
  constructor(els, parts, opts) {
    Object.assign(this, els);
    this.parts = parts;
    this.opts = opts;
    this.id = null; // the open chat's id
    this.muteButton.addEventListener('click', () => this.toggleMute());
    this.unarchiveButton.addEventListener('click', () => this.unarchive());
    setInterval(() => this.header(), 60_000); // "Last seen 5 minutes ago" moves on
  }

  /** Mute or unmute the open chat for this user; every tab (this one too) applies the `chat_muted` frame. */
  async toggleMute() {
    const chat = this.id && this.parts.list.get(this.id);
    if (!chat) return;
    try {
      const fresh = await api('PATCH', `/api/chats/${chat.id}`, { muted: !chat.muted });
      this.setMuted(fresh.id, fresh.muted); // at once, even if the socket is down
    } catch (error) {
      this.parts.composer.showError(error.message, 5000);
    }
  }

  async unarchive() {
    try {
      this.parts.list.upsert(await api('PATCH', `/api/chats/${this.id}`, { archived: false }));
      this.header();
      this.parts.pane.render();
      this.parts.composer.focus();
    } catch (error) {
      this.archivedNotice.querySelector('.form-error').textContent = error.message;
    }
  }

  setMuted(id, muted) {
    this.parts.list.setMuted(id, muted);
    this.header();
    this.opts.onMuted();
  }

  /** Open the chat the address names, or none. */
  route() {
    const match = location.hash.match(/^#\/chat\/(\d+)$/);
    const id = match ? Number(match[1]) : null;
    if (id && this.parts.list.get(id)) this.open(id);
    else this.close();
  }

  open(id) {
    if (id === this.id) {
      this.opts.onReopen();
      return;
    }
    const { list, pane, composer, typing } = this.parts;
    this.id = id;
    document.body.classList.add('chat-open');
    this.empty.hidden = true;
    this.panel.hidden = false;
    list.setActive(id);
    this.header();
    composer.setChat(id);
    typing.clear();
    pane.open(list.get(id));
    if (matchMedia('(min-width: 761px)').matches) composer.focus();
  }

  close() {
    const { list, pane, composer, typing } = this.parts;
    this.id = null;
    document.body.classList.remove('chat-open');
    this.panel.hidden = true;
    this.empty.hidden = false;
    list.setActive(null);
    composer.setChat(null);
    typing.clear();
    pane.close();
  }

  /** Title and subtitle of the open chat; again whenever its title, members or presence change. */
  header() {
    const { list } = this.parts;
    const { isOnline } = this.opts;
    const chat = this.id && list.get(this.id);
    if (!chat) return;
    this.title.textContent = chat.title;
    const peer = list.peer(chat);
    let subtitle;
    if (peer) {
      const lastSeen = peer.last_seen_at ? t('presence.lastSeen', { when: relativeTime(new Date(peer.last_seen_at)) })
        : t('status.offline');
      subtitle = isOnline(peer.id) ? t('status.online') : lastSeen;
    } else {
      const here = chat.members.filter((m) => isOnline(m.id)).length;
      subtitle = `${t('chat.members', { count: chat.members.length })} · ${t('chat.online', { count: here })}`;
    }
    this.subtitle.textContent = subtitle;
    this.topic.textContent = chat.topic || '';
    this.topic.hidden = !chat.topic;
    this.membersButton.hidden = chat.type !== 'group';
    this.settingsButton.hidden = chat.type !== 'group';
    const archived = Boolean(chat.archived);
    const hadFocus = this.composerForm.contains(document.activeElement);
    this.composerForm.hidden = archived;
    this.archivedNotice.hidden = !archived;
    this.unarchiveButton.hidden = !mayManage(chat, this.opts.me);
    if (!archived) this.archivedNotice.querySelector('.form-error').textContent = '';
    if (archived && hadFocus) this.parts.pane.scroller.focus();
    this.muteButton.setAttribute('aria-pressed', String(Boolean(chat.muted)));
    this.muteButton.textContent = chat.muted ? t('chat.unmute') : t('chat.mute');
  }
}
