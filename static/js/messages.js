// The message pane: history with paging, day separators, own/pending/failed messages, typing.
import { api } from './api.js';
import { avatar, dayKey, formatDay, formatTime, h, linkify, syncChildren } from './dom.js';

const PAGE = 50;
const GROUP_WITHIN = 5 * 60_000;
const TYPING_SHOWN = 4_000;
const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

export class MessagePane {
  /**
   * els: {scroller, list, status, typing}; opts: {me, pendingFor(chatId), onLoaded(newestId),
   * onRetry(clientMsgId)}.
   */
  constructor(els, opts) {
    Object.assign(this, els);
    this.opts = opts;
    this.chat = null;
    this.reset();
    this.scroller.addEventListener('scroll', () => {
      if (this.scroller.scrollTop < 150) this.loadOlder();
    });
  }

  reset() {
    this.byId = new Map();
    this.nodes = new Map();
    this.separators = new Map();
    this.hasMore = false;
    this.nextBeforeId = null;
    this.loading = false;
    this.generation = (this.generation || 0) + 1;
    this.clearTyping();
  }

  get chatId() {
    return this.chat ? this.chat.id : null;
  }

  newestId() {
    let newest = 0;
    for (const id of this.byId.keys()) newest = Math.max(newest, id);
    return newest;
  }

  async open(chat) {
    this.chat = chat;
    this.reset();
    this.list.replaceChildren();
    await this.load(null);
  }

  close() {
    this.chat = null;
    this.reset();
    this.list.replaceChildren();
  }

  /** The newest page (beforeId null) or the page before ``beforeId``. */
  async load(beforeId) {
    const generation = this.generation;
    const chatId = this.chatId;
    this.loading = true;
    this.setStatus(beforeId ? 'Loading older messages…' : 'Loading messages…');
    let page;
    try {
      const query = beforeId ? `&before_id=${beforeId}` : '';
      page = await api('GET', `/api/chats/${chatId}/messages?limit=${PAGE}${query}`);
    } catch (error) {
      if (generation !== this.generation) return;
      this.loading = false;
      this.setStatus(`Could not load messages: ${error.message}`,
        h('button', { type: 'button', className: 'link-button', onClick: () => this.load(beforeId) }, 'Try again'));
      return;
    }
    if (generation !== this.generation) return; // another chat was opened meanwhile
    this.loading = false;
    this.hasMore = page.has_more;
    this.nextBeforeId = page.next_before_id;
    for (const message of page.messages) this.byId.set(message.id, message);
    this.setStatus(this.hasMore ? '' : this.beginning());
    this.render({ keepBottomDistance: Boolean(beforeId), toBottom: !beforeId });
    if (!beforeId) this.opts.onLoaded(this.newestId());
    if (this.hasMore && this.scroller.scrollHeight <= this.scroller.clientHeight) this.loadOlder();
  }

  loadOlder() {
    if (this.chat && this.hasMore && !this.loading && this.nextBeforeId) this.load(this.nextBeforeId);
  }

  beginning() {
    return this.chat.type === 'group' ? `This is the beginning of ${this.chat.title}.`
      : `This is the beginning of your conversation with ${this.chat.title}.`;
  }

  setStatus(text, extra = null) {
    this.status.replaceChildren(text, ...(extra ? [' ', extra] : []));
    this.status.hidden = !text;
  }

  /** A stored message of the open chat (pushed, acked or caught up); duplicates are ignored. */
  add(message) {
    if (message.chat_id !== this.chatId || message.deleted) return;
    this.byId.set(message.id, message);
    this.clearTyping(message.sender_id);
    this.render({ toBottom: message.sender_id === this.opts.me.id });
  }

  update(message) {
    if (!this.byId.has(message.id)) return;
    if (message.deleted) this.byId.delete(message.id);
    else this.byId.set(message.id, message);
    this.render({});
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
      .map((e) => ({ ...e, sender_id: this.opts.me.id, sender_name: this.opts.me.name }))
      .filter((e) => !storedKeys.has(this.key(e)));
    const nodes = [];
    const keys = new Set();
    let previous = null;
    for (const message of [...stored, ...pending]) {
      const when = new Date(message.created_at);
      const day = dayKey(when);
      const newDay = !previous || dayKey(new Date(previous.created_at)) !== day;
      if (newDay) nodes.push(this.separator(day, when));
      const grouped = !newDay && previous.sender_id === message.sender_id
        && when - new Date(previous.created_at) < GROUP_WITHIN;
      const key = this.key(message);
      keys.add(key);
      nodes.push(this.messageNode(key, message, grouped));
      previous = message;
    }
    for (const key of this.nodes.keys()) if (!keys.has(key)) this.nodes.delete(key);
    syncChildren(this.list, nodes);
    if (keepBottomDistance) sc.scrollTop = sc.scrollHeight - fromBottom;
    else if (toBottom || nearBottom) sc.scrollTop = sc.scrollHeight;
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
      node = h('li', { className: 'message', dataset: { testid: 'message' } });
      this.nodes.set(key, node);
    }
    const own = message.sender_id === this.opts.me.id;
    const state = message.id ? 'sent' : message.state; // queued | pending | failed | sent
    const signature = JSON.stringify([message.id, message.text, message.edited_at, state, message.error, grouped]);
    if (node.dataset.signature === signature) return node;
    node.dataset.signature = signature;
    node.className = ['message', own ? 'own' : 'other', grouped ? 'grouped' : '', state].join(' ').trim();
    if (message.id) node.dataset.messageId = String(message.id);
    if (message.client_msg_id) node.dataset.clientMsgId = message.client_msg_id;
    const when = new Date(message.created_at);
    const text = h('div', { className: 'text' });
    text.append(linkify(message.text));
    node.replaceChildren(
      own ? '' : avatar(message.sender_name, message.sender_id),
      h('div', { className: 'bubble', title: fullDate.format(when) },
        h('div', { className: 'meta' },
          h('span', { className: 'sender' }, own ? 'You' : message.sender_name),
          h('time', { datetime: message.created_at }, formatTime(when)),
          message.edited_at ? h('span', { className: 'edited' }, '(edited)') : null),
        text,
        this.statusLine(message, state)));
    return node;
  }

  statusLine(message, state) {
    if (state === 'pending' || state === 'queued') {
      return h('div', { className: 'status', dataset: { testid: 'message-status' } },
        state === 'queued' ? 'Waiting for the connection…' : 'Sending…');
    }
    if (state === 'failed') {
      return h('div', { className: 'status', dataset: { testid: 'message-status' }, role: 'alert' },
        `Not sent${message.error ? `: ${message.error}` : ''} `,
        h('button', {
          type: 'button', className: 'link-button', dataset: { testid: 'retry' },
          onClick: () => this.opts.onRetry(message.client_msg_id),
        }, 'Retry'));
    }
    return null;
  }

  // --- typing -------------------------------------------------------------------

  showTyping(userId, name) {
    const known = this.typers.get(userId);
    if (known) clearTimeout(known.timer);
    const timer = setTimeout(() => this.clearTyping(userId), TYPING_SHOWN);
    this.typers.set(userId, { name, timer });
    this.renderTyping();
  }

  /** Stop showing one user typing, or everyone when ``userId`` is omitted. */
  clearTyping(userId) {
    this.typers = this.typers || new Map();
    for (const [id, typer] of this.typers) {
      if (userId !== undefined && id !== userId) continue;
      clearTimeout(typer.timer);
      this.typers.delete(id);
    }
    this.renderTyping();
  }

  renderTyping() {
    if (!this.typing) return;
    const names = [...this.typers.values()].map((t) => t.name);
    let text = '';
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = 'Several people are typing…';
    this.typing.textContent = text;
    this.typing.classList.toggle('visible', Boolean(text));
  }
}
