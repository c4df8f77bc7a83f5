// Secret redaction, time formatting and the plain-text report of /diagnostics: in the reader's
// language, with the stable English codes (check ids, PASS/FAIL, close and error codes) on every line
// that has one, so that support can read a report in any language.
import { lang, t } from './i18n.js';

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{17}[A-Za-z0-9_.-]*/g;
const secrets = new Set();

// Remember a secret (token, password) so that it never appears whole in the log or the report.
export function addSecret(value) {
  if (typeof value === 'string' && value.length >= 4) secrets.add(value);
}

export function shorten(secret) {
  if (!secret) return '';
  const keep = secret.length > 24 ? 20 : Math.floor(secret.length / 2);
  return secret.slice(0, keep) + '...';
}

export function redact(text) {
  let out = String(text);
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join(shorten(secret));
  }
  return out.replace(JWT_LIKE, (match) => match.slice(0, 20) + '...');
}

export function clock(date) {
  const pad = (n, width = 2) => String(n).padStart(width, '0');
  const time = [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => pad(n)).join(':');
  return `${time}.${pad(date.getMilliseconds(), 3)}`;
}

export function duration(seconds) {
  const s = Math.round(Math.abs(seconds));
  if (s < 90) return t('duration.s', { count: s });
  if (s < 5400) return t('duration.min', { count: Math.round(s / 60) });
  if (s < 172800) return t('duration.h', { count: Math.round(s / 3600) });
  return t('duration.days', { count: Math.round(s / 86400) });
}

const LABEL = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP', pending: '----', running: '....' };

// The whole result as text: verdict, checks, event log, server log (admins), browser and time.
export function buildReport({ verdict, checks, events, serverVersion, wsUrl, admin }) {
  const now = new Date();
  const lines = [
    `${t('report.title')} [lang=${lang}]`,
    `${t('report.time')}: ${now.toISOString()} (${t('report.localTime')} ${now.toString()})`,
    `${t('report.page')}: ${location.href}`,
    `${t('report.browser')}: ${navigator.userAgent}`,
    `${t('report.version')}: ${serverVersion || t('report.unknown')}`,
    `${t('report.wsUrl')}: ${wsUrl || t('report.notDetermined')}`,
    '',
    `${t('report.verdict')}: ${verdict.title} [verdict=${verdict.state || 'idle'}]`,
  ];
  if (verdict.detail) lines.push(`  ${verdict.detail}`);
  lines.push('', t('report.checks'));
  for (const check of checks) {
    const result = check.result || { status: 'pending' };
    lines.push(`[${LABEL[result.status]}] ${check.n}. ${check.title} (${check.id})${result.value ? ' - ' + result.value : ''}`);
    if (result.cause) lines.push(`       ${t('report.cause')}: ${result.cause}`);
    if (result.fix) lines.push(`       ${t('report.fix')}: ${result.fix}`);
    if (result.tell) lines.push(`       ${t('report.tell')}: ${result.tell}`);
    const codes = [result.closeCode && `close=${result.closeCode}`, result.code && `error=${result.code}`].filter(Boolean);
    if (codes.length) lines.push(`       code: ${codes.join(' ')}`);
  }
  lines.push('', t('report.events'));
  for (const event of events) lines.push(`${clock(event.at)} ${event.text}`);
  if (admin) {
    lines.push('', t('report.facts', {
      version: admin.version, up: duration(admin.uptime_seconds), database: `${admin.database.kind} ${admin.database.url}`,
      connections: admin.counters.connections, backlog: admin.writer.backlog,
    }));
    lines.push('', t('report.serverLog', { count: admin.log.length }), ...admin.log);
  }
  return redact(lines.join('\n')) + '\n';
}
