// Reactions: the chips under a message (count, highlighted when yours, who reacted in the tooltip;
// a click toggles yours) and the picker (common emoji plus free entry).
import { api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

export const COMMON = ['👍', '❤️', '😂', '🎉', '😮', '😢', '👀', '✅'];
const MAX_EMOJI = 32;

/** The chips row, or null when nobody reacted. opts: {me, nameOf(userId), onToggle(emoji, add)}. */
export function reactionChips(reactions, { me, nameOf, onToggle }) {
  if (!reactions || !reactions.length) return null;
  return h('div', { className: 'reactions', dataset: { testid: 'reactions' } },
    ...reactions.map((r) => {
      const mine = r.user_ids.includes(me.id);
      const names = r.user_ids.map((id) => (id === me.id ? t('common.you') : nameOf(id)));
      return h('button', {
        type: 'button', className: `reaction-chip${mine ? ' mine' : ''}`, 'aria-pressed': String(mine),
        dataset: { testid: 'reaction-chip', emoji: r.emoji }, title: t('reactions.who', { names: names.join(', '), emoji: r.emoji }),
        onClick: () => onToggle(r.emoji, !mine),
      }, h('span', { className: 'reaction-emoji' }, r.emoji), h('span', { className: 'reaction-count' }, String(r.count)));
    }));
}

/** One picker for the page, opened next to a message's React button. */
export class ReactionPicker {
  constructor() {
    this.onPick = null;
    this.anchor = null;
    this.error = h('p', { className: 'edit-error', role: 'alert', hidden: true });
    this.input = h('input', {
      type: 'text', className: 'reaction-input', maxLength: MAX_EMOJI, placeholder: t('reactions.placeholder'),
      'aria-label': t('reactions.other'), dataset: { testid: 'reaction-input' },
    });
    const form = h('form', { className: 'reaction-free', onSubmit: (event) => {
      event.preventDefault();
      this.pick(this.input.value.trim());
    } }, this.input, h('button', { type: 'submit', className: 'btn btn-small' }, t('people.add')));
    this.node = h('div', {
      className: 'reaction-picker', role: 'dialog', 'aria-label': t('reactions.add'), hidden: true,
      dataset: { testid: 'reaction-picker' },
      onKeydown: (event) => {
        if (event.key === 'Escape') {
          event.preventDefault();
          event.stopPropagation();
          this.close();
        }
      },
    },
    h('div', { className: 'reaction-common' }, ...COMMON.map((emoji) => h('button', {
      type: 'button', className: 'reaction-option', dataset: { testid: 'reaction-option' }, title: emoji,
      onClick: () => this.pick(emoji),
    }, emoji))),
    form, this.error);
    document.body.append(this.node);
    document.addEventListener('mousedown', (event) => {
      if (!this.node.hidden && !this.node.contains(event.target) && event.target !== this.anchor) this.close();
    });
  }

  /** Show next to ``anchor``; ``onPick(emoji)`` gets the choice. */
  open(anchor, onPick) {
    this.anchor = anchor;
    this.onPick = onPick;
    this.input.value = '';
    this.error.hidden = true;
    this.node.hidden = false;
    const box = anchor.getBoundingClientRect();
    const width = this.node.offsetWidth;
    this.node.style.left = `${Math.max(8, Math.min(box.right - width, innerWidth - width - 8))}px`;
    this.node.style.top = `${Math.max(8, box.top - this.node.offsetHeight - 6)}px`;
    this.node.querySelector('button').focus();
  }

  pick(emoji) {
    if (!emoji || emoji.length > MAX_EMOJI || /\s/.test(emoji)) {
      this.error.textContent = t('reactions.invalid', { max: MAX_EMOJI });
      this.error.hidden = false;
      return;
    }
    const onPick = this.onPick;
    this.close();
    onPick(emoji);
  }

  close() {
    if (this.node.hidden) return;
    this.node.hidden = true;
    if (this.anchor && this.anchor.isConnected) this.anchor.focus();
    this.anchor = null;
  }
}

/** Saving reactions: ``toggle`` adds or removes mine; ``onSaved(list)`` gets the message's new list. */
export class Reactions {
  constructor({ onSaved, onError }) {
    this.picker = new ReactionPicker();
    this.onSaved = onSaved;
    this.onError = onError;
  }

  pick(message, anchor) {
    this.picker.open(anchor, (emoji) => this.toggle(message, emoji, true));
  }

  async toggle(message, emoji, add) {
    const path = `/api/messages/${message.id}/reactions/${encodeURIComponent(emoji)}`;
    try {
      this.onSaved(await api(add ? 'PUT' : 'DELETE', path));
    } catch (error) {
      this.onError(t('reactions.notSaved', { reason: error.message }));
    }
  }
}
