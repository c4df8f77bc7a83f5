// @mentions: highlighted in message text, and offered while typing "@" in the composer
// (arrow keys move, Enter or Tab inserts, Escape closes).
import { h } from './dom.js';
import { t } from './i18n.js';

// As the server reads them: "@" not after a word character or another "@".
const MENTION_RE = /(?<![\w@])@([A-Za-z0-9][A-Za-z0-9._-]{1,31})/g;
const TYPED_RE = /(?:^|[^\w@])@([A-Za-z0-9._-]{0,32})$/;
const MAX_OFFERED = 8;

/**
 * Words with the @names of ``mentioned`` users ({username lowercase -> user id}) highlighted;
 * ``between`` renders the rest (plain text by default).
 */
export function mentionText(text, mentioned, myId, between = (words) => document.createTextNode(words)) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(MENTION_RE)) {
    let name = match[1];
    if (!mentioned.has(name.toLowerCase())) name = name.replace(/[._-]+$/, '');
    const userId = mentioned.get(name.toLowerCase());
    if (userId === undefined) continue;
    fragment.append(between(text.slice(last, match.index)));
    fragment.append(h('span', { className: `mention${userId === myId ? ' mention-me' : ''}`,
      dataset: { testid: 'mention' } }, `@${name}`));
    last = match.index + 1 + name.length;
  }
  fragment.append(between(text.slice(last)));
  return fragment;
}

export class MentionPicker {
  /** form and input: the composer's; opts: {members() -> the open chat's other members}. */
  constructor(form, input, opts) {
    this.input = input;
    this.opts = opts;
    this.matches = [];
    this.active = 0;
    this.list = h('ul', { className: 'mention-picker', role: 'listbox', id: 'mention-picker',
      'aria-label': t('mentions.label'), hidden: true, dataset: { testid: 'mention-picker' } });
    form.append(this.list);
    input.setAttribute('aria-controls', 'mention-picker');
    input.addEventListener('input', () => this.update());
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    // Capture on the form: these keys belong to the picker before the composer sees them.
    form.addEventListener('keydown', (event) => this.key(event), true);
  }

  /** The "@partial" right before the caret, or null. */
  typed() {
    const { value, selectionStart, selectionEnd } = this.input;
    if (selectionStart !== selectionEnd) return null;
    const match = value.slice(0, selectionStart).match(TYPED_RE);
    return match ? match[1].toLowerCase() : null;
  }

  update() {
    const partial = this.typed();
    if (partial === null) {
      this.close();
      return;
    }
    this.matches = this.opts.members().filter((m) => m.username.startsWith(partial)
      || m.display_name.toLowerCase().split(/\s+/).some((w) => w.startsWith(partial))).slice(0, MAX_OFFERED);
    this.active = 0;
    this.render();
  }

  render() {
    this.list.hidden = !this.matches.length;
    this.input.setAttribute('aria-expanded', String(!this.list.hidden));
    this.list.replaceChildren(...this.matches.map((member, i) => h('li', {
      role: 'option', id: `mention-option-${member.id}`, className: 'mention-option',
      'aria-selected': String(i === this.active), dataset: { testid: 'mention-option', username: member.username },
      onMousedown: (event) => {
        event.preventDefault(); // keep the focus in the composer
        this.insert(member);
      },
    }, h('strong', {}, member.display_name), ' ', h('span', { className: 'muted' }, `@${member.username}`))));
    if (!this.list.hidden) this.input.setAttribute('aria-activedescendant', `mention-option-${this.matches[this.active].id}`);
    else this.input.removeAttribute('aria-activedescendant');
  }

  key(event) {
    if (this.list.hidden || event.isComposing) return;
    const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (step) {
      this.active = (this.active + step + this.matches.length) % this.matches.length;
      this.render();
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      this.insert(this.matches[this.active]);
    } else if (event.key === 'Escape') {
      this.close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }

  /** Replace the "@partial" before the caret with the member's "@username ". */
  insert(member) {
    const { value, selectionStart } = this.input;
    const before = value.slice(0, selectionStart).replace(/@[A-Za-z0-9._-]*$/, `@${member.username} `);
    this.input.value = before + value.slice(selectionStart);
    this.input.setSelectionRange(before.length, before.length);
    this.close();
    this.input.dispatchEvent(new Event('input'));
  }

  close() {
    this.matches = [];
    if (!this.list.hidden) this.render();
  }
}
