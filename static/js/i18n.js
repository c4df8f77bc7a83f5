// Every word the browser shows, in the page's language: <html lang> (the server negotiated it) picks
// static/i18n/<lang>.json, loaded once here before any module that imports this one runs.
// t(key, params): "{name}" placeholders; plural entries ({one, few, many, other}) pick their form with
// Intl.PluralRules from params.count. Dates and relative times come from Intl in the same language.
export const LANGUAGES = ['en', 'ru'];
const tag = document.documentElement.lang.slice(0, 2).toLowerCase(); // "ru" and "ru-RU" alike
export const lang = LANGUAGES.includes(tag) ? tag : 'en';

const plural = new Intl.PluralRules(lang);
const number = new Intl.NumberFormat(lang);

async function load() {
  // Served as a plain static file (no content hash): revalidate so a new release is never hidden by a cache.
  const response = await fetch(new URL(`../i18n/${lang}.json`, import.meta.url), { cache: 'no-cache' });
  if (!response.ok) throw new Error(`HTTP ${response.status} for the ${lang} catalog`);
  return response.json();
}

const catalog = await load().catch((error) => {
  console.error('Could not load the strings of this page:', error.message);
  return {};
});

/** Whether the catalog has ``key`` (close-code texts fall back to close-codes.json's English). */
export function has(key) {
  return Object.hasOwn(catalog, key);
}

/**
 * The text of ``key`` with ``{name}`` replaced by ``params.name``. ``count`` (a number) picks the plural
 * form and is written as the language writes numbers; other values go in as they are (codes, ids).
 */
export function t(key, params = {}) {
  let text = catalog[key];
  if (text === undefined) return key;
  if (typeof text === 'object') text = text[plural.select(Number(params.count))] ?? text.other;
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!Object.hasOwn(params, name)) return whole;
    const value = params[name];
    return name === 'count' && typeof value === 'number' ? number.format(value) : String(value);
  });
}

const DATE_FORMATS = {
  time: { hour: 'numeric', minute: '2-digit' },
  weekday: { weekday: 'short' },
  short: { day: 'numeric', month: 'short' },
  day: { weekday: 'long', day: 'numeric', month: 'long' },
  long: { day: 'numeric', month: 'long', year: 'numeric' },
  full: { dateStyle: 'full', timeStyle: 'short' },
  dateTime: { dateStyle: 'medium', timeStyle: 'medium' },
  clock: { hour: 'numeric', minute: '2-digit', second: '2-digit' },
};
const formats = {};

/** ``date`` as ``style`` (one of DATE_FORMATS) in the page's language. */
export function formatDate(date, style = 'long') {
  formats[style] ??= new Intl.DateTimeFormat(lang, DATE_FORMATS[style]);
  return formats[style].format(date);
}

export function formatTime(date) {
  return formatDate(date, 'time');
}

const relative = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
const UNITS = [['second', 60], ['minute', 60], ['hour', 24], ['day', 7], ['week', 4.35], ['month', 12], ['year', Infinity]];

/** "5 minutes ago" / "5 минут назад", "in 2 hours", "yesterday" for ``date`` seen from ``now``. */
export function relativeTime(date, now = Date.now()) {
  let amount = (date - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(amount) < size) return relative.format(Math.round(amount), unit);
    amount /= size;
  }
  return relative.format(Math.round(amount), 'year');
}

/** A number as the page's language writes it (10,000 / 10 000), with ``digits`` decimals if given. */
export function formatNumber(value, digits = null) {
  if (digits === null) return number.format(value);
  return value.toLocaleString(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
