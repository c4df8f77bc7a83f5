// The outbox: messages written but not acknowledged yet. Each goes out over the socket with a
// client_msg_id and is kept in localStorage until its ack arrives, so it survives a reload and is
// sent again with the same id (the server stores it once).
import { randomId } from './dom.js';
import { t } from './i18n.js';

const ACK_TIMEOUT = 15_000;
const STORED_FIELDS = ['client_msg_id', 'chat_id', 'text', 'files', 'created_at', 'state', 'error', 'fatal', 'quote'];

export class Outbox {
  /**
   * opts: {userId, maxText, maxIdLength (limits served by the page), send(frame) -> bool (false while
   * offline), onFailed(entry) (a message just failed)}. An entry is {client_msg_id, chat_id, text,
   * created_at, state: queued|pending|failed, error, fatal, timer, quote (of the message it replies to, or null)}.
   */
  constructor(opts) {
    this.opts = opts;
    this.entries = new Map(); // client_msg_id -> entry
    // localStorage: this user's unacknowledged messages, nothing else (no token). Tabs of one user share
    // the key: each writes only its own entries and removes only what it settled, so entries of other
    // tabs survive (a resend of one is deduped by the server).
    this.key = `cm_outbox_${opts.userId}`;
  }

  has(clientMsgId) {
    return this.entries.has(clientMsgId);
  }

  all() {
    return [...this.entries.values()];
  }

  forChat(chatId) {
    return this.all().filter((entry) => entry.chat_id === chatId);
  }

  /** A new message for ``chatId`` (a reply when ``quote`` is given, with uploaded ``files``), sent at once if the socket is open. */
  add(chatId, text, { quote = null, files = [] } = {}) {
    const entry = { client_msg_id: randomId(), chat_id: chatId, text, files, created_at: new Date().toISOString(),
      state: 'queued', error: null, fatal: false, timer: null, quote };
    this.entries.set(entry.client_msg_id, entry);
    this.transmit(entry);
  }

  /** Send (or resend, with the same client_msg_id) over the socket; queued while offline. */
  transmit(entry) {
    clearTimeout(entry.timer);
    const files = entry.files || [];
    const sent = this.opts.send({ type: 'send_message', chat_id: entry.chat_id, text: entry.text,
      client_msg_id: entry.client_msg_id, ...(entry.quote ? { reply_to: entry.quote.id } : {}),
      ...(files.length ? { file_ids: files.map((f) => f.id) } : {}) });
    entry.state = sent ? 'pending' : 'queued';
    entry.error = null;
    entry.fatal = false;
    if (sent) {
      entry.timer = setTimeout(() => this.fail(entry.client_msg_id, t('message.noAnswer'), false), ACK_TIMEOUT);
    }
    this.save();
  }

  /** The message is stored (its ack, or the same message pushed to another tab), discarded or given up. */
  settle(clientMsgId) {
    const entry = this.entries.get(clientMsgId);
    if (entry) clearTimeout(entry.timer);
    this.entries.delete(clientMsgId);
    if (entry || this.readStored().some((item) => item && item.client_msg_id === clientMsgId)) this.save(clientMsgId);
  }

  /** ``fatal``: only the user can help (no automatic resend after a reconnect). */
  fail(clientMsgId, reason, fatal) {
    const entry = this.entries.get(clientMsgId);
    if (!entry) return;
    clearTimeout(entry.timer);
    Object.assign(entry, { state: 'failed', error: reason, fatal });
    this.save();
    this.opts.onFailed(entry);
  }

  retry(clientMsgId) {
    const entry = this.entries.get(clientMsgId);
    if (entry) this.transmit(entry);
    return Boolean(entry);
  }

  /** After (re)connecting: resend everything unacknowledged, oldest first; the server dedupes. */
  flush() {
    const entries = this.all().sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
    for (const entry of entries) if (!entry.fatal) this.transmit(entry);
  }

  /** The socket closed: what was waiting for an ack now waits for the connection. */
  disconnected() {
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer);
      if (entry.state === 'pending') entry.state = 'queued';
    }
    this.save();
  }

  /** The user left (or lost) the chat: its unsent messages go. */
  dropChat(chatId) {
    for (const entry of this.forChat(chatId)) this.settle(entry.client_msg_id);
  }

  /** Entries left by an earlier page: waiting for the connection, or failed as they were. */
  load() {
    const { maxText, maxIdLength } = this.opts;
    for (const item of this.readStored()) {
      const valid = item && typeof item.client_msg_id === 'string' && item.client_msg_id.length <= maxIdLength
        && Number.isInteger(item.chat_id) && typeof item.text === 'string'
        && item.text.trim().length >= 1 && item.text.length <= maxText
        && typeof item.created_at === 'string' && !Number.isNaN(Date.parse(item.created_at));
      if (!valid || this.entries.has(item.client_msg_id)) continue;
      const failed = item.state === 'failed';
      this.entries.set(item.client_msg_id, {
        client_msg_id: item.client_msg_id, chat_id: item.chat_id, text: item.text, created_at: item.created_at,
        state: failed ? 'failed' : 'queued', error: failed && typeof item.error === 'string' ? item.error : null,
        fatal: failed && item.fatal === true, timer: null,
        quote: item.quote && Number.isInteger(item.quote.id) && typeof item.quote.text === 'string' ? item.quote : null,
      });
    }
  }

  /** Logging out on purpose forgets unsent messages (a session that merely ends keeps them). */
  forget() {
    localStorage.removeItem(this.key);
  }

  /** Write this tab's entries (and drop ``removed``) in the stored outbox, keeping other tabs' entries. */
  save(removed = null) {
    const stored = new Map();
    for (const item of this.readStored()) {
      if (item && typeof item.client_msg_id === 'string' && item.client_msg_id !== removed) {
        stored.set(item.client_msg_id, item);
      }
    }
    for (const entry of this.entries.values()) {
      stored.set(entry.client_msg_id, Object.fromEntries(STORED_FIELDS.map((field) => [field, entry[field]])));
    }
    try {
      if (stored.size) localStorage.setItem(this.key, JSON.stringify([...stored.values()]));
      else localStorage.removeItem(this.key);
    } catch (error) {
      console.warn('Could not keep unsent messages for a reload:', error.message);
    }
  }

  readStored() {
    try {
      const stored = JSON.parse(localStorage.getItem(this.key) || '[]');
      return Array.isArray(stored) ? stored : [];
    } catch {
      return [];
    }
  }
}
