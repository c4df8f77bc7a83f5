// Message search: a box in the sidebar over all the user's chats (or only the open one); results
// with the chat's name, the date and the matched words marked; a click opens the chat at the message.
import { api } from './api.js';
import { formatListTime, h } from './dom.js';
import { formatDate, t } from './i18n.js';

const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#x27;': "'" };

/** The server's highlight (escaped text, matches in <mark>…</mark>) as text nodes and <mark> elements. */
export function highlighted(highlight) {
  const unescape = (text) => text.replace(/&(amp|lt|gt|quot|#x27);/g, (entity) => ENTITIES[entity]);
  let marked = false;
  const nodes = [];
  for (const piece of highlight.split(/(<mark>|<\/mark>)/)) {
    if (piece === '<mark>' || piece === '</mark>') marked = piece === '<mark>';
    else if (piece) nodes.push(marked ? h('mark', {}, unescape(piece)) : unescape(piece));
  }
  return nodes;
}

export class MessageSearch {
  /**
   * els: {form, input, scope (checkbox: only the open chat), results, chatList (hidden while results show)};
   * opts: {openChatId() -> id|null, chatTitle(id) (undefined for an unknown chat), onPick(chatId, messageId)}.
   */
  constructor(els, opts) {
    Object.assign(this, els);
    this.opts = opts;
    this.asked = 0;
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.run();
    });
    this.input.addEventListener('input', () => { if (!this.input.value.trim()) this.clear(); });
    this.input.addEventListener('keydown', (event) => { if (event.key === 'Escape') this.clear(); });
    this.scope.addEventListener('change', () => this.input.value.trim() && this.run());
  }

  async run() {
    const q = this.input.value.trim();
    if (!q) return this.clear();
    const chatId = this.scope.checked ? this.opts.openChatId() : null;
    const asked = ++this.asked;
    this.show([h('li', { className: 'search-note' }, t('search.searching'))]);
    let found;
    try {
      const params = new URLSearchParams({ q, limit: '50', ...(chatId ? { chat_id: String(chatId) } : {}) });
      found = (await api('GET', `/api/search?${params}`)).results;
    } catch (error) {
      if (asked === this.asked) this.show([h('li', { className: 'search-note', role: 'alert' }, error.message)]);
      return undefined;
    }
    if (asked !== this.asked) return undefined; // a newer search or a clear came meanwhile
    const where = chatId ? ` ${t('search.inChat', { title: this.title(chatId) })}` : '';
    const head = h('li', { className: 'search-note' }, found.length
      ? `${t('search.found', { count: found.length })}${where}` : `${t('search.nothing')}${where}`,
    ' ', h('button', { type: 'button', className: 'link-button', onClick: () => this.clear() }, t('search.clear')));
    this.show([head, ...found.map((result) => this.resultNode(result))]);
    return undefined;
  }

  resultNode({ message, highlight }) {
    const when = new Date(message.created_at);
    return h('li', {},
      h('button', {
        type: 'button', className: 'search-result', dataset: { testid: 'search-result', messageId: message.id },
        onClick: () => this.opts.onPick(message.chat_id, message.id),
      },
      h('span', { className: 'chat-row' },
        h('span', { className: 'chat-title' }, this.title(message.chat_id)),
        h('time', { className: 'chat-time', datetime: message.created_at, title: formatDate(when, 'dateTime') },
          formatListTime(when))),
      h('span', { className: 'search-snippet' }, `${message.sender_name}: `, ...highlighted(highlight))));
  }

  title(chatId) {
    return this.opts.chatTitle(chatId) ?? t('chat.fallbackTitle', { id: chatId });
  }

  show(nodes) {
    this.results.replaceChildren(...nodes);
    this.results.hidden = false;
    this.chatList.hidden = true;
  }

  clear() {
    this.asked += 1;
    this.results.replaceChildren();
    this.results.hidden = true;
    this.chatList.hidden = false;
  }
}
