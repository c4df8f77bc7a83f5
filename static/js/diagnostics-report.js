// Secret redaction, time formatting and the plain-text report of /diagnostics.

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
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

const LABEL = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP', pending: '----', running: '....' };

// The whole result as text: verdict, checks, event log, server log (admins), browser and time.
export function buildReport({ verdict, checks, events, serverVersion, wsUrl, admin }) {
  const now = new Date();
  const lines = [
    'Corporate Messenger diagnostics report',
    `Time: ${now.toISOString()} (browser local time ${now.toString()})`,
    `Page: ${location.href}`,
    `Browser: ${navigator.userAgent}`,
    `Server version: ${serverVersion || 'unknown'}`,
    `WebSocket URL: ${wsUrl || 'not determined'}`,
    '',
    `Verdict: ${verdict.title}`,
  ];
  if (verdict.detail) lines.push(`  ${verdict.detail}`);
  lines.push('', 'Checks');
  for (const check of checks) {
    const result = check.result || { status: 'pending' };
    lines.push(`[${LABEL[result.status]}] ${check.n}. ${check.title}${result.value ? ' - ' + result.value : ''}`);
    if (result.cause) lines.push(`       cause: ${result.cause}`);
    if (result.fix) lines.push(`       fix:   ${result.fix}`);
    if (result.tell) lines.push(`       how to tell: ${result.tell}`);
  }
  lines.push('', 'Event log');
  for (const event of events) lines.push(`${clock(event.at)} ${event.text}`);
  if (admin) {
    lines.push('', `Server facts: version ${admin.version}, up ${duration(admin.uptime_seconds)}, ` +
      `database ${admin.database.kind} ${admin.database.url}, ${admin.counters.connections} connection(s), ` +
      `writer backlog ${admin.writer.backlog}`);
    lines.push('', `Server log (last ${admin.log.length} lines)`, ...admin.log);
  }
  return redact(lines.join('\n')) + '\n';
}
