// The sidebar chat list: most recent activity first, preview, time, unread badge, presence dot; archived
// chats in a section of their own below.
import { avatar, formatListTime, h, syncChildren, userAvatar } from './dom.js';
import { t } from './i18n.js';

function activity(chat) {
  return Date.parse((chat.last_message && chat.last_message.created_at) || chat.last_activity_at) || 0;
}

export class ChatList {
  /**
   * me: {id}; isOnline(userId) -> bool; empty: shown when there are no chats;
   * archived: {section, ul}, shown when some chats are archived.
   */
  constructor(ul, { me, isOnline, empty, archived }) {
    this.ul = ul;
    this.empty = empty;
    this.archived = archived;
    this.me = me;
    this.isOnline = isOnline;
    this.chats = new Map();
    this.items = new Map(); // chat id -> <li>
    this.activeId = null;
    this.filterText = '';
  }

  get(id) {
    return this.chats.get(id);
  }

  all() {
    return [...this.chats.values()];
  }

  /** The other member of a direct chat. */
  peer(chat) {
    return chat.type === 'direct' ? chat.members.find((m) => m.id !== this.me.id) || null : null;
  }

  /** Replace the list with the server's answer (after a fresh GET /api/chats). */
  set(chats) {
    this.chats = new Map(chats.map((c) => [c.id, c]));
    for (const id of this.items.keys()) if (!this.chats.has(id)) this.items.delete(id);
    this.render();
  }

  upsert(chat) {
    const known = this.chats.get(chat.id);
    const merged = known ? { ...known, ...chat, unread_count: known.unread_count,
      unread_mentions: known.unread_mentions, last_read_message_id: known.last_read_message_id } : chat;
    this.chats.set(chat.id, merged);
    this.render();
  }

  remove(id) {
    this.chats.delete(id);
    this.items.delete(id);
    this.render();
  }

  /** A message newer than the chat's last one: preview, move to top, maybe raise the badge. */
  applyMessage(message, countUnread) {
    const chat = this.chats.get(message.chat_id);
    if (!chat) return;
    chat.last_message = message;
    if (countUnread) chat.unread_count = (chat.unread_count || 0) + 1;
    if (countUnread && (message.mentions || []).includes(this.me.id)) chat.unread_mentions = (chat.unread_mentions || 0) + 1;
    this.render();
  }

  updateMessage(message) {
    const chat = this.chats.get(message.chat_id);
    if (chat && chat.last_message && chat.last_message.id === message.id) {
      chat.last_message = message;
      this.render();
    }
  }

  setUnread(id, count) {
    const chat = this.chats.get(id);
    if (chat && chat.unread_count !== count) {
      chat.unread_count = count;
      this.render();
    }
  }

  setMentions(id, count) {
    const chat = this.chats.get(id);
    if (chat && chat.unread_mentions !== count) {
      chat.unread_mentions = count;
      this.render();
    }
  }

  setMuted(id, muted) {
    const chat = this.chats.get(id);
    if (chat && chat.muted !== muted) {
      chat.muted = muted;
      this.render();
    }
  }

  /** For the title: a muted chat counts only the messages that mention the user. */
  totalUnread() {
    return this.all().reduce((sum, c) => sum + ((c.muted ? c.unread_mentions : c.unread_count) || 0), 0);
  }

  setActive(id) {
    this.activeId = id;
    this.render();
  }

  filter(text) {
    this.filterText = text.trim().toLowerCase();
    this.render();
  }

  render() {
    const chats = this.all().sort((a, b) => activity(b) - activity(a) || b.id - a.id);
    const archived = chats.filter((chat) => chat.archived);
    syncChildren(this.ul, chats.filter((chat) => !chat.archived).map((chat) => this.renderItem(chat)));
    syncChildren(this.archived.ul, archived.map((chat) => this.renderItem(chat)));
    this.archived.section.hidden = archived.length === 0;
    this.empty.hidden = chats.length > 0;
  }

  /** A user's new name, status or avatar (a `user_updated` frame), in every chat they are in. */
  updateUser(user) {
    for (const chat of this.chats.values()) {
      const index = chat.members.findIndex((m) => m.id === user.id);
      if (index < 0) continue;
      chat.members[index] = { ...chat.members[index], ...user };
      if (this.peer(chat)?.id === user.id) chat.title = user.display_name;
    }
    this.render();
  }

  renderItem(chat) {
    let li = this.items.get(chat.id);
    if (!li) {
      li = h('li', { className: 'chat-item', dataset: { chatId: String(chat.id) } });
      this.items.set(chat.id, li);
    }
    const peer = this.peer(chat);
    const last = chat.last_message;
    const time = last ? new Date(last.created_at) : null;
    const unread = chat.unread_count || 0;
    const mentioned = chat.unread_mentions || 0;
    const signature = JSON.stringify([chat.title, chat.type, peer && peer.avatar_url,
      last && [last.id, last.text, last.deleted, this.senderName(chat, last)],
      unread, mentioned, Boolean(chat.muted), peer && this.isOnline(peer.id), chat.id === this.activeId, time && formatListTime(time)]);
    li.hidden = Boolean(this.filterText) && !chat.title.toLowerCase().includes(this.filterText);
    if (li.dataset.signature === signature) return li;
    li.dataset.signature = signature;
    li.classList.toggle('active', chat.id === this.activeId);
    li.classList.toggle('has-unread', unread > 0 && !chat.muted);
    li.classList.toggle('is-muted', Boolean(chat.muted));

    const face = chat.type === 'group' ? avatar('#', chat.id, 'group') : (peer ? userAvatar(peer) : avatar(chat.title, chat.id));
    if (chat.type === 'group') face.textContent = '#';
    if (peer) {
      const online = this.isOnline(peer.id);
      face.append(h('span', {
        className: 'presence-dot', dataset: { testid: 'presence-dot', online: String(online) },
        title: online ? t('status.online') : t('status.offline'),
      }));
    }
    const link = h('a', {
      className: 'chat-link', href: `#/chat/${chat.id}`,
      'aria-current': chat.id === this.activeId ? 'page' : null,
    },
    face,
    h('span', { className: 'chat-main' },
      h('span', { className: 'chat-row' },
        h('span', { className: 'chat-title' }, chat.title),
        h('span', { className: 'mute-icon', dataset: { testid: 'muted-icon' }, hidden: !chat.muted, title: t('chat.muted') }),
        time ? h('time', { className: 'chat-time', datetime: last.created_at }, formatListTime(time)) : null),
      h('span', { className: 'chat-row' },
        h('span', { className: 'chat-preview' }, this.preview(chat)),
        h('span', { className: 'badge mention-badge', dataset: { testid: 'mention-badge' }, hidden: mentioned === 0,
          title: t('chat.unreadMentions', { count: mentioned }),
          'aria-label': t('chat.unreadMentions', { count: mentioned }) }, mentioned ? '@' : ''),
        h('span', { className: `badge${chat.muted ? ' badge-muted' : ''}`, dataset: { testid: 'unread-count' },
          hidden: unread === 0,
          'aria-label': t('chat.unread', { count: unread }) }, unread ? String(unread) : ''))));
    const hadFocus = li.contains(document.activeElement);
    li.replaceChildren(link);
    if (hadFocus) link.focus();
    return li;
  }

  preview(chat) {
    const last = chat.last_message;
    if (!last) return chat.type === 'group' ? t('chat.members', { count: chat.members.length }) : t('chat.noMessages');
    const text = last.deleted ? t('message.deleted') : last.text.replace(/\s+/g, ' ').slice(0, 120);
    if (last.sender_id === this.me.id) return t('chat.youSaid', { text });
    return chat.type === 'group' ? `${this.senderName(chat, last)}: ${text}` : text;
  }

  /** The sender's current name (a member's, which `user_updated` keeps fresh), else the one the message carries. */
  senderName(chat, message) {
    const sender = chat.members.find((m) => m.id === message.sender_id);
    return sender ? sender.display_name : message.sender_name;
  }
}
