// Small DOM helpers. User text only ever goes in through text nodes.
import { formatDate, formatTime, t } from './i18n.js';

/** Create an element: h('a', {href, className, dataset: {...}}, child, 'text', ...). */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'className') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** Make ``parent``'s children exactly ``nodes``, moving only what moved. */
export function syncChildren(parent, nodes) {
  let cursor = parent.firstChild;
  for (const node of nodes) {
    if (node === cursor) {
      cursor = cursor.nextSibling;
    } else {
      parent.insertBefore(node, cursor);
    }
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
}

export function initials(name) {
  const words = String(name || '?').trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] || '?').slice(0, 2);
  return letters.toUpperCase();
}

/** A round avatar with initials, its colour derived from ``seed``. */
export function avatar(name, seed, className = '') {
  const node = h('span', { className: `avatar ${className}`.trim(), 'aria-hidden': 'true' }, initials(name));
  node.style.setProperty('--hue', String((Number(seed) * 47) % 360));
  return node;
}

export function dayKey(date) {
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

function daysAgo(date) {
  const start = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  return Math.round((start(new Date()) - start(date)) / 86_400_000);
}

/** "Today", "Yesterday", "Monday, 3 June" or "3 June 2024" for day separators. */
export function formatDay(date) {
  const ago = daysAgo(date);
  if (ago === 0) return t('day.today');
  if (ago === 1) return t('day.yesterday');
  return formatDate(date, date.getFullYear() === new Date().getFullYear() ? 'day' : 'long');
}

/** Compact time for the chat list: 14:05, Yesterday, Mon, 3 Jun. */
export function formatListTime(date) {
  const ago = daysAgo(date);
  if (ago === 0) return formatTime(date);
  if (ago === 1) return t('day.yesterday');
  return formatDate(date, ago < 7 ? 'weekday' : 'short');
}

/** A random id for client_msg_id (crypto.randomUUID needs a secure context; this does not). */
export function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
