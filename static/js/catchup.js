// Keeping the page in step with the server: the first load, and after every (re)connect the chat
// list plus everything missed meanwhile (GET /api/updates: messages after the newest id this page
// has seen, edits and deletions since the server time of the last catch-up). Frames that arrive
// while a catch-up runs are held and applied after it, so nothing is applied out of order.
import { api } from './api.js';

const MAX_PAGES = 10;
const RETRIES = 5;

export class CatchUp {
  /**
   * opts: {loadChats() -> Promise of the chat list (already shown), loaded() (after the first load),
   * onMessage(message), onChanged(message) (an edit or deletion), caughtUp(complete) (complete is
   * false when the page was too far behind), dispatch(frame), canRetry() -> bool}.
   */
  constructor(opts) {
    this.opts = opts;
    this.lastSeenId = 0; // the highest message id this page has seen: catch-up starts after it
    this.changedSince = null; // server time of the last catch-up: later edits and deletions come next
    this.synced = false; // the first load is done
    this.held = null; // frames that arrive while a catch-up runs
    this.first = null;
  }

  seen(id) {
    this.lastSeenId = Math.max(this.lastSeenId, id || 0);
  }

  /** Load at once, without waiting for the socket, so a reload shows the chats even while it cannot connect. */
  start() {
    this.first = this.sync().catch((error) => console.warn('Could not load the chats yet:', error.message));
  }

  /** A frame from the socket: applied now, or after the catch-up that is running. */
  frame(f) {
    if (this.held) this.held.push(f);
    else this.opts.dispatch(f);
  }

  /** After every (re)connect; tried again a few times if it fails. */
  async reconnected(attempt = 0) {
    const frames = [];
    this.held = frames;
    try {
      await this.first; // the load started with the page; after it, sync() only catches up
      await this.sync();
    } catch (error) {
      console.warn('Could not load the chats after connecting:', error.message);
      if (attempt < RETRIES) {
        setTimeout(() => this.opts.canRetry() && this.reconnected(attempt + 1), 2000 * (attempt + 1));
      }
    } finally {
      if (this.held === frames) this.held = null;
    }
    frames.forEach((f) => this.frame(f));
  }

  /** The chat list from the server; after the first load, also every message missed meanwhile. */
  async sync() {
    if (!this.synced) {
      // Taken before the chats load, so no edit or deletion can slip in between.
      const mark = (await api('GET', '/api/updates?limit=0')).server_time;
      const chats = await this.opts.loadChats();
      this.changedSince = mark;
      for (const chat of chats) if (chat.last_message) this.seen(chat.last_message.id);
      this.synced = true;
      this.opts.loaded();
      return;
    }
    await this.opts.loadChats();
    let nextMark = null;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const since = encodeURIComponent(this.changedSince);
      const missed = await api('GET', `/api/updates?after_id=${this.lastSeenId}&changed_since=${since}`);
      nextMark = nextMark || missed.server_time;
      missed.messages.forEach(this.opts.onMessage);
      (missed.changed || []).forEach(this.opts.onChanged); // edited or deleted while this page was away
      if (!missed.has_more || !missed.messages.length) {
        this.changedSince = nextMark;
        this.opts.caughtUp(true);
        return;
      }
    }
    this.changedSince = nextMark;
    this.opts.caughtUp(false);
  }
}
