// Drafts: what was typed and not sent, per chat and per account, in localStorage, so a reload or a
// browser restart finds it again. Sending clears a chat's draft; logging out forgets every draft kept
// in this browser (the next person at a shared computer sees none of them).
const PREFIX = 'cm_drafts:';
const MAX_DRAFTS = 200; // the most recently typed are kept
const MAX_AGE_MS = 30 * 24 * 3600 * 1000;
let forgotten = false; // logging out: nothing more is kept from this page, not even as it unloads

export class Drafts {
  constructor(userId) {
    this.key = PREFIX + userId;
  }

  get(chatId) {
    return this.read()[chatId]?.text || '';
  }

  /** Keep ``text`` as the chat's draft (an empty or blank one removes it). */
  set(chatId, text) {
    if (forgotten) return;
    // read again first: another tab of this account may have kept a draft of another chat meanwhile
    const items = this.read();
    if (text.trim()) items[chatId] = { text, at: Date.now() };
    else delete items[chatId];
    const kept = Object.entries(items)
      .filter(([, draft]) => Date.now() - draft.at < MAX_AGE_MS)
      .sort(([, a], [, b]) => b.at - a.at)
      .slice(0, MAX_DRAFTS);
    try {
      localStorage.setItem(this.key, JSON.stringify(Object.fromEntries(kept)));
    } catch {
      // storage full or refused (private mode): the draft lives as long as the page does
    }
  }

  read() {
    try {
      const items = JSON.parse(localStorage.getItem(this.key) || '{}');
      return items && typeof items === 'object' ? items : {};
    } catch {
      return {};
    }
  }
}

/** Forget the drafts of every account (logging out). */
export function forgetDrafts() {
  forgotten = true;
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith(PREFIX)) localStorage.removeItem(key);
  }
}
