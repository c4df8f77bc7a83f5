// The message pane: history with paging, day separators, own/pending/failed messages, typing,
// and editing or deleting one's own messages in place.
import { api } from './api.js';
import { MAX_TEXT } from './composer.js';
import { avatar, dayKey, formatDay, formatTime, h, linkify, syncChildren } from './dom.js';

const PAGE = 50;
const GROUP_WITHIN = 5 * 60_000;
const TYPING_SHOWN = 4_000;
const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

export class MessagePane {
  /**
   * els: {scroller, list, status, typing}; opts: {me, pendingFor(chatId), onLoaded(newestId),
   * onRetry(clientMsgId), onDiscard(clientMsgId), onEdit(message, text) -> Promise,
   * onDelete(message) -> Promise}.
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
    this.editor = null; // {id, input, error, busy}: the own message being edited
    this.confirming = null; // {id, error, busy}: the own message whose deletion awaits a yes
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

  /** An edit or deletion (frame or REST answer); unknown ids are ignored. */
  update(message) {
    if (!this.byId.has(message.id)) return;
    if (message.deleted) {
      const hadFocus = this.nodes.get(this.key(message))?.contains(document.activeElement);
      this.byId.delete(message.id);
      if (this.editor && this.editor.id === message.id) this.editor = null;
      if (this.confirming && this.confirming.id === message.id) this.confirming = null;
      this.render({});
      if (hadFocus) this.scroller.focus();
      return;
    }
    this.byId.set(message.id, message);
    this.render({});
  }

  // --- editing and deleting one's own messages ---------------------------------------

  startEdit(message) {
    this.confirming = null;
    const input = h('textarea', {
      className: 'edit-input', rows: 1, 'aria-label': 'Edit message', dataset: { testid: 'edit-input' },
      onKeydown: (event) => {
        if (event.key === 'Escape') {
          event.preventDefault();
          event.stopPropagation();
          this.cancelEdit();
        } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey) {
          event.preventDefault();
          this.saveEdit();
        }
      },
      onInput: () => {
        this.sizeEditor();
        if (this.editor.error) this.setEditError('');
      },
    });
    input.value = message.text;
    this.editor = { id: message.id, input, error: '', busy: false };
    this.render({});
    this.sizeEditor();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  sizeEditor() {
    const { input } = this.editor;
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, 240)}px`;
  }

  setEditError(text) {
    this.editor.error = text;
    this.render({});
    this.editor.input.focus();
  }

  cancelEdit() {
    const id = this.editor && this.editor.id;
    this.editor = null;
    this.render({});
    this.focusAction(id, 'edit-message');
  }

  async saveEdit() {
    const editor = this.editor;
    if (!editor || editor.busy) return;
    const message = this.byId.get(editor.id);
    const text = editor.input.value.trim();
    if (!text) {
      this.setEditError('Type a message before saving, or delete the message instead.');
      return;
    }
    if (text.length > MAX_TEXT) {
      this.setEditError(`This message is ${text.length.toLocaleString()} characters long; `
        + `the limit is ${MAX_TEXT.toLocaleString()}.`);
      return;
    }
    if (!message || text === message.text) {
      this.cancelEdit();
      return;
    }
    editor.busy = true;
    editor.error = '';
    this.render({});
    try {
      await this.opts.onEdit(message, text);
    } catch (error) {
      if (this.editor !== editor) return;
      editor.busy = false;
      this.setEditError(`Not saved: ${error.message}`);
      return;
    }
    if (this.editor === editor) this.cancelEdit();
  }

  askDelete(message) {
    this.editor = null;
    this.confirming = { id: message.id, error: '', busy: false };
    this.render({});
    this.focusAction(message.id, 'confirm-delete');
  }

  cancelDelete() {
    const id = this.confirming && this.confirming.id;
    this.confirming = null;
    this.render({});
    this.focusAction(id, 'delete-message');
  }

  async confirmDelete() {
    const confirming = this.confirming;
    if (!confirming || confirming.busy) return;
    const message = this.byId.get(confirming.id);
    if (!message) return;
    confirming.busy = true;
    confirming.error = '';
    this.render({});
    try {
      await this.opts.onDelete(message);
    } catch (error) {
      if (this.confirming !== confirming) return;
      confirming.busy = false;
      confirming.error = `Not deleted: ${error.message}`;
      this.render({});
      this.focusAction(confirming.id, 'confirm-delete');
    }
  }

  focusAction(id, testid) {
    const node = id && this.list.querySelector(`[data-message-id="${id}"] [data-testid="${testid}"]`);
    if (node) node.focus();
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
    const editor = own && this.editor && this.editor.id === message.id ? this.editor : null;
    const confirming = own && this.confirming && this.confirming.id === message.id ? this.confirming : null;
    const signature = JSON.stringify([message.id, message.text, message.edited_at, state, message.error, grouped,
      editor && [editor.error, editor.busy], confirming && [confirming.error, confirming.busy]]);
    if (node.dataset.signature === signature) return node;
    const hadFocus = editor && document.activeElement === editor.input;
    node.dataset.signature = signature;
    node.className = ['message', own ? 'own' : 'other', grouped ? 'grouped' : '', state,
      message.edited_at ? 'was-edited' : '', editor ? 'editing' : ''].join(' ').trim();
    if (message.id) node.dataset.messageId = String(message.id);
    if (message.client_msg_id) node.dataset.clientMsgId = message.client_msg_id;
    const when = new Date(message.created_at);
    let body;
    if (editor) {
      body = this.editorBox(editor);
    } else {
      body = h('div', { className: 'text' });
      body.append(linkify(message.text));
    }
    const canChange = own && state === 'sent' && !editor;
    node.replaceChildren(...[
      own ? null : avatar(message.sender_name, message.sender_id),
      h('div', { className: 'bubble', title: editor ? null : fullDate.format(when) },
        h('div', { className: 'meta' },
          h('span', { className: 'sender' }, own ? 'You' : message.sender_name),
          h('time', { datetime: message.created_at }, formatTime(when)),
          message.edited_at ? h('span', { className: 'edited', dataset: { testid: 'edited' } }, '(edited)') : null),
        body,
        confirming ? this.confirmBox(confirming) : null,
        this.statusLine(message, state)),
      canChange && !confirming ? this.actions(message) : null,
    ].filter(Boolean));
    if (editor) {
      editor.input.disabled = editor.busy;
      if (hadFocus) editor.input.focus();
    }
    return node;
  }

  /** Edit and Delete, shown on hover or keyboard focus of one's own stored messages. */
  actions(message) {
    return h('div', { className: 'message-actions', role: 'group', 'aria-label': 'Message actions' },
      h('button', {
        type: 'button', className: 'action-button', dataset: { testid: 'edit-message' },
        title: 'Edit this message', onClick: () => this.startEdit(message),
      }, 'Edit'),
      h('button', {
        type: 'button', className: 'action-button danger', dataset: { testid: 'delete-message' },
        title: 'Delete this message', onClick: () => this.askDelete(message),
      }, 'Delete'));
  }

  editorBox(editor) {
    return h('div', { className: 'edit-box' },
      editor.input,
      editor.error ? h('p', { className: 'edit-error', role: 'alert', dataset: { testid: 'edit-error' } },
        editor.error) : null,
      h('div', { className: 'edit-foot' },
        h('span', { className: 'edit-hint' }, editor.busy ? 'Saving…' : 'Enter to save · Esc to cancel'),
        h('button', { type: 'button', className: 'btn btn-small edit-cancel', disabled: editor.busy,
          onClick: () => this.cancelEdit() }, 'Cancel'),
        h('button', { type: 'button', className: 'btn btn-small edit-save', disabled: editor.busy,
          dataset: { testid: 'edit-save' }, onClick: () => this.saveEdit() }, 'Save')));
  }

  confirmBox(confirming) {
    const escape = (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.cancelDelete();
      }
    };
    return h('div', {
      className: 'delete-confirm', role: 'group', 'aria-label': 'Confirm deletion',
      dataset: { testid: 'delete-confirm' }, onKeydown: escape,
    },
    h('span', { className: 'delete-question' }, confirming.busy ? 'Deleting…' : 'Delete this message?'),
    h('button', { type: 'button', className: 'btn btn-small btn-danger', disabled: confirming.busy,
      dataset: { testid: 'confirm-delete' }, onClick: () => this.confirmDelete() }, 'Delete'),
    h('button', { type: 'button', className: 'btn btn-small', disabled: confirming.busy,
      dataset: { testid: 'cancel-delete' }, onClick: () => this.cancelDelete() }, 'Cancel'),
    confirming.error ? h('p', { className: 'edit-error', role: 'alert' }, confirming.error) : null);
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
        }, 'Retry'),
        ' · ',
        h('button', {
          type: 'button', className: 'link-button', dataset: { testid: 'discard' },
          title: 'Remove this unsent message', onClick: () => this.opts.onDiscard(message.client_msg_id),
        }, 'Discard'));
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
