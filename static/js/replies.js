// Replies: the quote above a reply (a button that jumps to the original) and the "Replying to …" bar
// over the composer (Esc or × cancels it).
import { h } from './dom.js';
import { t } from './i18n.js';

const EXCERPT = 200;

/** What a reply shows of the message it answers: {id, sender_id, sender_name, text}. */
export function quoteOf(message) {
  return { id: message.id, sender_id: message.sender_id, sender_name: message.sender_name,
    text: message.text.slice(0, EXCERPT) };
}

/** The quote inside a reply; ``text`` is "" once the original is deleted. */
export function quoteNode(quote, onJump) {
  const deleted = !quote.text;
  return h('button', {
    type: 'button', className: `reply-quote${deleted ? ' deleted' : ''}`, disabled: deleted,
    dataset: { testid: 'reply-quote', replyTo: String(quote.id) },
    title: deleted ? t('reply.originalDeleted') : t('reply.showOriginal'),
    onClick: () => onJump(quote.id),
  },
  h('span', { className: 'reply-sender' }, quote.sender_name),
  h('span', { className: 'reply-text' }, deleted ? t('message.deleted') : quote.text));
}

export class ReplyBar {
  /** bar: the element above the composer; input: the composer's textarea. */
  constructor(bar, input) {
    this.bar = bar;
    this.input = input;
    this.quote = null;
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.quote) {
        event.preventDefault();
        this.clear();
      }
    });
  }

  /** Answer ``message`` with the next send. */
  set(message) {
    this.quote = quoteOf(message);
    this.bar.replaceChildren(
      h('span', { className: 'reply-bar-text' },
        h('span', { className: 'reply-bar-label' }, t('reply.to'), ' ', h('strong', {}, message.sender_name)),
        h('span', { className: 'reply-text' }, this.quote.text)),
      h('button', { type: 'button', className: 'icon-button reply-cancel', dataset: { testid: 'reply-cancel' },
        'aria-label': t('reply.cancel'), title: t('reply.cancelTitle'), onClick: () => this.clear() }, '×'));
    this.bar.hidden = false;
    this.input.focus();
  }

  clear() {
    this.quote = null;
    this.bar.hidden = true;
    this.bar.replaceChildren();
    this.input.focus();
  }

  /** The quote for a message being sent now, and the bar closes. */
  take() {
    const { quote } = this;
    if (quote) {
      this.quote = null;
      this.bar.hidden = true;
      this.bar.replaceChildren();
    }
    return quote;
  }
}
