// "X is typing…" under the open chat: each person shows for a few seconds after their last typing
// frame, or until their message arrives.
import { t } from './i18n.js';

const SHOWN_FOR = 4_000;

export class TypingLine {
  constructor(node) {
    this.node = node;
    this.typers = new Map(); // user id -> {name, timer}
  }

  show(userId, name) {
    const known = this.typers.get(userId);
    if (known) clearTimeout(known.timer);
    const timer = setTimeout(() => this.clear(userId), SHOWN_FOR);
    this.typers.set(userId, { name, timer });
    this.render();
  }

  /** Stop showing one user typing, or everyone when ``userId`` is omitted. */
  clear(userId) {
    for (const [id, typer] of this.typers) {
      if (userId !== undefined && id !== userId) continue;
      clearTimeout(typer.timer);
      this.typers.delete(id);
    }
    this.render();
  }

  render() {
    const names = [...this.typers.values()].map((t) => t.name);
    let text = '';
    if (names.length === 1) text = t('typing.one', { name: names[0] });
    else if (names.length === 2) text = t('typing.two', { first: names[0], second: names[1] });
    else if (names.length > 2) text = t('typing.several');
    this.node.textContent = text;
    this.node.classList.toggle('visible', Boolean(text));
  }
}
