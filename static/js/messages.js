// The message pane: history with paging, day separators, own/pending/failed messages
// (editing and deleting in place are editing.js's).
import { api } from './api.js';
import { avatar, dayKey, formatDay, h, syncChildren, userAvatar } from './dom.js';
import { formatDate, formatTime, t } from './i18n.js';
import { MessageEditing } from './editing.js';
import { filesView } from './files.js';
import { renderMarkdown } from './markdown.js';
import { mentionText } from './mentions.js';
import { reactionChips } from './reactions.js';
import { quoteNode, quoteOf } from './replies.js';

const PAGE = 50;
const UNREAD_PAGE = 200; // the most the server gives in one page: fewer round trips to the first unread
const UNREAD_PAGES = 10; // beyond 2,000 unread the divider waits at the top of what was loaded
const JUMP_FROM = 300; // px above the bottom: offer "Jump to newest"
const GROUP_WITHIN = 5 * 60_000;

export class MessagePane {
  /**
   * els: {scroller, list, status}; opts: {me, maxText, pendingFor(chatId), onLoaded(newestId),
   * onRetry(clientMsgId), onDiscard(clientMsgId), onEdit(message, text) -> Promise,
   * onDelete(message) -> Promise, membersOf(chatId), onReply(message), onPickReaction(message, anchor),
   * onReact(message, emoji, add), onPin(message, pinned), isArchived(chatId), onPerson(userId, name) (a click on a sender's name or avatar)}.
   */
  constructor(els, opts) {
    Object.assign(this, els);
    this.opts = opts;
    this.chat = null;
    this.editing = new MessageEditing({
      list: this.list, maxText: opts.maxText, find: (id) => this.byId.get(id), render: () => this.render(),
      onEdit: opts.onEdit, onDelete: opts.onDelete,
    });
    this.reset();
    this.jumpButton = h('button', {
      type: 'button', className: 'btn btn-small jump-newest', hidden: true, dataset: { testid: 'jump-newest' },
      onClick: () => this.scrollToNewest(),
    }, t('history.jumpNewest'));
    this.scroller.append(h('div', { className: 'jump-anchor' }, this.jumpButton));
    this.scroller.addEventListener('scroll', () => {
      if (this.scroller.scrollTop < 150) this.loadOlder();
      this.updateJump();
    });
  }

  reset() {
    this.byId = new Map();
    this.notices = []; // live membership lines of the open chat: {afterId, node}
    this.nodes = new Map();
    this.separators = new Map();
    this.hasMore = false;
    this.nextBeforeId = null;
    this.loading = false;
    this.generation = (this.generation || 0) + 1;
    this.editing.reset();
  }

  get chatId() {
    return this.chat ? this.chat.id : null;
  }

  newestId() {
    let newest = 0;
    for (const id of this.byId.keys()) newest = Math.max(newest, id);
    return newest;
  }

  /**
   * Show ``chat`` from its first unread message (a "New messages" divider above it) or, with nothing
   * unread, from the newest. The divider stays where it was put until another chat is opened.
   */
  async open(chat) {
    this.chat = chat;
    this.reset();
    this.unreadAfter = chat.unread_count > 0 ? chat.last_read_message_id : null;
    this.unreadNode = null;
    this.list.replaceChildren();
    await this.load(null);
  }

  /** The first unread message is loaded (or there is none, or no older page to look in). */
  firstUnreadLoaded() {
    return this.unreadAfter === null || !this.hasMore || [...this.byId.keys()].some((id) => id <= this.unreadAfter);
  }

  close() {
    this.chat = null;
    this.reset();
    this.list.replaceChildren();
    this.updateJump();
  }

  scrollToNewest() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.updateJump();
  }

  updateJump() {
    const sc = this.scroller;
    this.jumpButton.hidden = !this.chat || sc.scrollHeight - sc.scrollTop - sc.clientHeight < JUMP_FROM;
  }

  /**
   * The newest page (beforeId null) or the page before ``beforeId``. Opening a chat with unread
   * messages loads bigger pages back to the first unread one, then shows it at the top.
   */
  async load(beforeId, opening = !beforeId) {
    const generation = this.generation;
    const chatId = this.chatId;
    this.loading = true;
    this.setStatus(beforeId ? t('history.loadingOlder') : t('history.loading'));
    let page;
    try {
      const query = beforeId ? `&before_id=${beforeId}` : '';
      const limit = opening && this.unreadAfter !== null ? UNREAD_PAGE : PAGE;
      page = await api('GET', `/api/chats/${chatId}/messages?limit=${limit}${query}`);
    } catch (error) {
      if (generation !== this.generation) return;
      this.loading = false;
      this.setStatus(t('history.failed', { reason: error.message }),
        h('button', { type: 'button', className: 'link-button', onClick: () => this.load(beforeId) }, t('common.tryAgain')));
      return;
    }
    if (generation !== this.generation) return; // another chat was opened meanwhile
    this.loading = false;
    this.hasMore = page.has_more;
    this.nextBeforeId = page.next_before_id;
    for (const message of page.messages) this.byId.set(message.id, message);
    this.setStatus(this.hasMore ? '' : this.beginning());
    if (opening && !this.firstUnreadLoaded() && (this.pagesOpening = (this.pagesOpening || 0) + 1) < UNREAD_PAGES) {
      await this.load(this.nextBeforeId, true);
      return;
    }
    this.pagesOpening = 0;
    this.render({ keepBottomDistance: Boolean(beforeId) && !opening, toBottom: opening && !this.unreadNode });
    if (opening && this.unreadNode) this.unreadNode.scrollIntoView({ block: 'start' });
    this.updateJump();
    if (opening) this.opts.onLoaded(this.newestId());
    if (this.hasMore && this.scroller.scrollHeight <= this.scroller.clientHeight) this.loadOlder();
  }

  /** Scroll to a message of the open chat (loading older pages until it is there) and mark it a moment. */
  async reveal(messageId) {
    const generation = this.generation;
    for (let pages = 0; generation === this.generation && pages < 200;) {
      if (this.byId.has(messageId)) {
        const node = this.list.querySelector(`[data-message-id="${messageId}"]`);
        node.scrollIntoView({ block: 'center' });
        node.classList.add('found');
        setTimeout(() => node.classList.remove('found'), 2500);
        return true;
      }
      if (this.loading) {
        await new Promise((resolve) => { setTimeout(resolve, 50); });
      } else if (this.hasMore && this.nextBeforeId) {
        pages += 1;
        await this.load(this.nextBeforeId);
      } else {
        return false; // deleted meanwhile, or not in this chat
      }
    }
    return false;
  }

  loadOlder() {
    if (this.chat && this.hasMore && !this.loading && this.nextBeforeId) this.load(this.nextBeforeId);
  }

  beginning() {
    return t(this.chat.type === 'group' ? 'history.beginningGroup' : 'history.beginningDirect', { title: this.chat.title });
  }

  setStatus(text, extra = null) {
    this.status.replaceChildren(text, ...(extra ? [' ', extra] : []));
    this.status.hidden = !text;
  }

  /** A stored message of the open chat (pushed, acked or caught up); duplicates are ignored. */
  add(message) {
    if (message.chat_id !== this.chatId || message.deleted) return;
    this.byId.set(message.id, message);
    this.render({ toBottom: message.sender_id === this.opts.me.id });
  }

  /** A message's new reaction list (a ``reactions`` frame or REST answer). */
  /**
   * A line in the open chat's stream for a membership change seen live ("Joined the chat: Anna"), after
   * the newest message; it is not history: the chat opened again shows the members, not the lines.
   */
  notice(chatId, text) {
    if (chatId !== this.chatId) return;
    this.notices.push({ afterId: this.newestId(), node: h('li', { className: 'member-notice', dataset: { testid: 'member-notice' } }, text) });
    this.render({});
  }

  /** A ``message_pinned`` frame, or the answer to our own pin. */
  setPinned({ message_id: id, pinned }) {
    const message = this.byId.get(id);
    if (!message) return;
    this.byId.set(id, { ...message, pinned });
    this.render({});
  }

  setReactions({ message_id: id, reactions }) {
    const message = this.byId.get(id);
    if (!message) return;
    this.byId.set(id, { ...message, reactions });
    this.render({});
  }

  /** Show a message of the open chat, loading older pages until it is there; it flashes briefly. */
  async jumpTo(id) {
    const generation = this.generation;
    while (!this.byId.has(id) && this.hasMore && generation === this.generation) {
      const before = this.nextBeforeId;
      if (!this.loading) await this.load(before);
      else await new Promise((resolve) => { setTimeout(resolve, 100); });
      if (!this.loading && this.nextBeforeId === before) return; // the page failed to load
    }
    const message = this.byId.get(id);
    const node = message && generation === this.generation && this.nodes.get(this.key(message));
    if (!node) return;
    node.scrollIntoView({ block: 'center' });
    node.classList.add('flash');
    setTimeout(() => node.classList.remove('flash'), 2000);
  }

  /** {lowercase username -> id} of the chat's members, for highlighting mentions. */
  memberNames() {
    return new Map((this.opts.membersOf(this.chatId) || []).map((m) => [m.username.toLowerCase(), m.id]));
  }

  member(userId) {
    return (this.opts.membersOf(this.chatId) || []).find((m) => m.id === userId) || null;
  }

  nameOf(userId) {
    const member = this.member(userId);
    return member ? member.display_name : t('message.someone');
  }

  /** An edit or deletion (frame or REST answer); unknown ids are ignored. */
  update(message) {
    this.requote(message);
    if (!this.byId.has(message.id)) return;
    if (message.deleted) {
      const hadFocus = this.nodes.get(this.key(message))?.contains(document.activeElement);
      this.byId.delete(message.id);
      this.editing.forget(message.id);
      this.render({});
      if (hadFocus) this.scroller.focus();
      return;
    }
    this.byId.set(message.id, message);
    this.render({});
  }

  /** Replies quoting an edited or deleted message show its new text ("" once deleted). */
  requote(message) {
    const text = message.deleted ? '' : quoteOf(message).text;
    for (const [id, reply] of this.byId) {
      if (reply.reply_to && reply.reply_to.id === message.id && reply.reply_to.text !== text) {
        this.byId.set(id, { ...reply, reply_to: { ...reply.reply_to, text } });
      }
    }
  }

  key(message) {
    return message.client_msg_id && message.sender_id === this.opts.me.id
      ? `c:${message.client_msg_id}` : `m:${message.id}`;
  }

  /** Rebuild the visible order: stored messages by id, then this chat's unsent ones. */
  render({ toBottom = false, keepBottomDistance = false } = {}) {
    if (!this.chat) return;
    const sc = this.scroller;
    const nearBottom = sc.scrollHeight - sc.scrollTop - sc.clientHeight < 80;
    const fromBottom = sc.scrollHeight - sc.scrollTop;
    const stored = [...this.byId.values()].sort((a, b) => a.id - b.id);
    const storedKeys = new Set(stored.map((m) => this.key(m)));
    const pending = this.opts.pendingFor(this.chatId)
      .map((e) => ({ ...e, sender_id: this.opts.me.id, sender_name: this.opts.me.name, reply_to: e.quote || null }))
      .filter((e) => !storedKeys.has(this.key(e)));
    const nodes = [];
    const keys = new Set();
    let previous = null;
    const firstUnread = this.unreadAfter === null ? null
      : stored.find((m) => m.id > this.unreadAfter && m.sender_id !== this.opts.me.id);
    let notice = 0;
    for (const message of [...stored, ...pending]) {
      for (; notice < this.notices.length && message.id && this.notices[notice].afterId < message.id; notice += 1) {
        nodes.push(this.notices[notice].node);
      }
      const when = new Date(message.created_at);
      const day = dayKey(when);
      const newDay = !previous || dayKey(new Date(previous.created_at)) !== day;
      if (newDay) nodes.push(this.separator(day, when));
      if (message === firstUnread) nodes.push(this.unreadDivider());
      const grouped = !newDay && message !== firstUnread && previous.sender_id === message.sender_id
        && when - new Date(previous.created_at) < GROUP_WITHIN;
      const key = this.key(message);
      keys.add(key);
      nodes.push(this.messageNode(key, message, grouped));
      previous = message;
    }
    nodes.push(...this.notices.slice(notice).map((n) => n.node)); // after the newest (pending ones come first)
    for (const key of this.nodes.keys()) if (!keys.has(key)) this.nodes.delete(key);
    syncChildren(this.list, nodes);
    if (keepBottomDistance) sc.scrollTop = sc.scrollHeight - fromBottom;
    else if (toBottom || nearBottom) sc.scrollTop = sc.scrollHeight;
  }

  /** "New messages" above the first message that was unread when the chat was opened. */
  unreadDivider() {
    this.unreadNode = this.unreadNode || h('li', {
      className: 'unread-divider', role: 'separator', dataset: { testid: 'unread-divider' },
    }, h('span', {}, t('history.newMessages')));
    return this.unreadNode;
  }

  separator(day, when) {
    const label = formatDay(when);
    let node = this.separators.get(day);
    if (!node || node.textContent !== label) {
      node = h('li', { className: 'day-separator', role: 'separator', dataset: { testid: 'day-separator' } },
        h('span', {}, label));
      this.separators.set(day, node);
    }
    return node;
  }

  messageNode(key, message, grouped) {
    let node = this.nodes.get(key);
    if (!node) {
      node = h('li', { className: 'message', role: 'article', dataset: { testid: 'message' } }); // in a role=log list
      this.nodes.set(key, node);
    }
    const own = message.sender_id === this.opts.me.id;
    const state = message.id ? 'sent' : message.state; // queued | pending | failed | sent
    const editor = own ? this.editing.editorFor(message.id) : null;
    const confirming = own ? this.editing.confirmingFor(message.id) : null;
    const mentionsMe = (message.mentions || []).includes(this.opts.me.id);
    const sender = own ? null : this.member(message.sender_id); // a member's name and picture are the current ones
    const senderName = sender ? sender.display_name : message.sender_name;
    const archived = this.opts.isArchived(this.chatId); // readable, but closed to replies, reactions and edits
    const signature = JSON.stringify([message.id, archived, senderName, sender && sender.avatar_url, message.text, message.edited_at, state, message.error, grouped,
      (message.files || []).map((f) => f.id),
      editor && [editor.error, editor.busy], confirming && [confirming.error, confirming.busy],
      message.reply_to, message.reactions, message.mentions, message.pinned]);
    if (node.dataset.signature === signature) return node;
    const hadFocus = editor && document.activeElement === editor.input;
    node.dataset.signature = signature;
    node.className = ['message', own ? 'own' : 'other', grouped ? 'grouped' : '', state,
      message.edited_at ? 'was-edited' : '', editor ? 'editing' : '', mentionsMe ? 'mentions-me' : ''].join(' ').trim();
    if (message.id) node.dataset.messageId = String(message.id);
    if (message.client_msg_id) node.dataset.clientMsgId = message.client_msg_id;
    const when = new Date(message.created_at);
    let body;
    if (editor) {
      body = this.editing.editorBox(editor);
    } else {
      body = h('div', { className: 'text' });
      const mentioned = message.mentions && message.mentions.length ? this.memberNames() : null;
      body.append(renderMarkdown(message.text, mentioned
        ? (words) => mentionText(words, mentioned, this.opts.me.id) : undefined));
    }
    const canChange = own && state === 'sent' && !editor;
    const chips = reactionChips(message.reactions, {
      me: this.opts.me, nameOf: (id) => this.nameOf(id),
      onToggle: (emoji, add) => this.opts.onReact(message, emoji, add),
    });
    node.replaceChildren(...[
      own ? null : this.senderFace(message, sender, senderName),
      h('div', { className: 'bubble', title: editor ? null : formatDate(when, 'full') },
        h('div', { className: 'meta' },
          own ? h('span', { className: 'sender' }, t('common.you'))
            : h('button', { type: 'button', className: 'sender sender-button', dataset: { testid: 'sender' },
              title: t('profile.show'), onClick: () => this.opts.onPerson(message.sender_id, message.sender_name) }, senderName),
          h('time', { datetime: message.created_at }, formatTime(when)),
          message.edited_at ? h('span', { className: 'edited', dataset: { testid: 'edited' } }, t('message.edited')) : null),
        // apart from the meta line, which a grouped message hides
        message.pinned ? h('div', { className: 'pinned-mark', dataset: { testid: 'pinned-mark' } }, `📌 ${t('pins.pinned')}`)
          : null,
        message.reply_to ? quoteNode(message.reply_to, (id) => this.jumpTo(id)) : null,
        body,
        editor ? null : filesView(message.files),
        confirming ? this.editing.confirmBox(confirming) : null,
        chips,
        this.statusLine(message, state)),
      state === 'sent' && !editor && !confirming && !archived ? this.actions(message, canChange) : null,
    ].filter(Boolean));
    if (editor) {
      editor.input.disabled = editor.busy;
      if (hadFocus) editor.input.focus();
    }
    return node;
  }

  /** The sender's avatar (their picture, else initials); a click shows their profile card. */
  senderFace(message, sender, name) {
    const face = sender ? userAvatar(sender) : avatar(name, message.sender_id);
    face.classList.add('clickable');
    face.addEventListener('click', () => this.opts.onPerson(message.sender_id, message.sender_name));
    return face;
  }

  /** Reply, React and Pin for every stored message; Edit and Delete too for one's own. */
  actions(message, canChange) {
    const group = canChange ? this.editing.actions(message)
      : h('div', { className: 'message-actions', role: 'group', 'aria-label': t('message.actions') });
    const react = h('button', {
      type: 'button', className: 'action-button', dataset: { testid: 'react-message' }, title: t('reactions.add'),
      onClick: () => this.opts.onPickReaction(message, react),
    }, t('message.react'));
    const pin = h('button', {
      type: 'button', className: 'action-button', dataset: { testid: 'pin-message' },
      title: message.pinned ? null : t('pins.pinTitle'), onClick: () => this.opts.onPin(message, !message.pinned),
    }, message.pinned ? t('pins.unpin') : t('pins.pin'));
    group.prepend(h('button', {
      type: 'button', className: 'action-button', dataset: { testid: 'reply-message' }, title: t('message.replyTitle'),
      onClick: () => this.opts.onReply(message),
    }, t('message.reply')), react, pin);
    return group;
  }

  statusLine(message, state) {
    if (state === 'pending' || state === 'queued') {
      return h('div', { className: 'status', dataset: { testid: 'message-status' } },
        state === 'queued' ? t('message.queued') : t('message.sending'));
    }
    if (state === 'failed') {
      return h('div', { className: 'status', dataset: { testid: 'message-status' }, role: 'alert' },
        `${message.error ? t('message.notSentBecause', { reason: message.error }) : t('message.notSent')} `,
        h('button', {
          type: 'button', className: 'link-button', dataset: { testid: 'retry' },
          onClick: () => this.opts.onRetry(message.client_msg_id),
        }, t('message.retry')),
        ' · ',
        h('button', {
          type: 'button', className: 'link-button', dataset: { testid: 'discard' },
          title: t('message.discardTitle'), onClick: () => this.opts.onDiscard(message.client_msg_id),
        }, t('message.discard')));
    }
    return null;
  }
}
