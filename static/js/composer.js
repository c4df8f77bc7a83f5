// The composer: Enter sends, Shift+Enter breaks the line, limits checked before sending,
// typing notices while the user types, and a draft kept per chat (drafts.js) across reloads.
import { formatNumber, t } from './i18n.js';

const TYPING_EVERY = 2_500;
const COUNTER_FROM = 0.9; // the counter shows from this share of the limit
const DRAFT_SAVE_DELAY = 300; // ms after the last keystroke

export class Composer {
  /**
   * els: {form, input, error, counter}; opts: {maxText (served by the page), onSend(text, files) -> bool,
   * onTyping(), drafts (a Drafts), attachments (an Attachments, optional)}.
   */
  constructor(els, opts) {
    Object.assign(this, els);
    this.opts = opts;
    this.maxText = opts.maxText;
    this.drafts = opts.drafts;
    this.draftTimer = null;
    this.chatId = null;
    this.lastTyping = 0;
    this.errorTimer = null;
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener('input', () => this.changed());
    this.input.addEventListener('paste', (event) => opts.attachments?.paste(event));
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    window.addEventListener('pagehide', () => this.keepDraft()); // a reload or a closed tab types no more
  }

  /** Switch chats: keep the old draft, restore the new one. */
  setChat(chatId) {
    this.keepDraft();
    this.chatId = chatId;
    this.input.value = chatId === null ? '' : this.drafts.get(chatId);
    this.showError('');
    this.resize();
    this.updateCounter();
  }

  /** Save the open chat's draft now rather than after the typing pause. */
  keepDraft() {
    clearTimeout(this.draftTimer);
    if (this.chatId !== null) this.drafts.set(this.chatId, this.input.value);
  }

  focus() {
    this.input.focus();
  }

  changed() {
    clearTimeout(this.draftTimer);
    this.draftTimer = setTimeout(() => this.keepDraft(), DRAFT_SAVE_DELAY);
    this.resize();
    this.updateCounter();
    if (this.error.textContent && this.input.value.trim().length <= this.maxText) this.showError('');
    const now = Date.now();
    if (this.input.value.trim() && now - this.lastTyping > TYPING_EVERY) {
      this.lastTyping = now;
      this.opts.onTyping();
    }
  }

  submit() {
    const text = this.input.value.trim();
    const attachments = this.opts.attachments;
    if (attachments?.uploading()) {
      this.showError(t('composer.uploading'), 4000);
      return;
    }
    const files = attachments ? attachments.ready() : [];
    if (!text && !files.length) {
      this.showError(t('composer.empty'), 4000);
      return;
    }
    if (text.length > this.maxText) {
      this.showError(`${t('composer.tooLong', { count: text.length, limit: formatNumber(this.maxText) })} ${t('composer.shorten')}`);
      return;
    }
    if (this.opts.onSend(text, files)) {
      attachments?.clear();
      this.input.value = '';
      this.keepDraft(); // an empty draft: removed
      this.lastTyping = 0;
      this.resize();
      this.updateCounter();
      this.showError('');
    }
  }

  showError(text, hideAfter = 0) {
    clearTimeout(this.errorTimer);
    this.error.textContent = text;
    this.error.hidden = !text;
    if (text && hideAfter) this.errorTimer = setTimeout(() => this.showError(''), hideAfter);
  }

  updateCounter() {
    const length = this.input.value.trim().length;
    this.counter.hidden = length < COUNTER_FROM * this.maxText;
    this.counter.textContent = `${formatNumber(length)} / ${formatNumber(this.maxText)}`;
    this.counter.classList.toggle('over', length > this.maxText);
  }

  /** Grow with the text up to a few lines, then scroll. */
  resize() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, 200)}px`;
  }
}
