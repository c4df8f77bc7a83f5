// The ordered checks of /diagnostics. Each takes the shared context and returns
// {status: 'pass'|'fail'|'skip', value, cause?, fix?, tell?, headline?, closeCode?, actions?}.
import { Probe } from './diagnostics-probe.js';
import { addSecret, duration, shorten } from './diagnostics-report.js';
import { formatDate, formatNumber, t } from './i18n.js';

const PINGS = 20;
const OPEN_TIMEOUT_MS = 10000;
const FRAME_TIMEOUT_MS = 5000;

const pass = (value, extra = {}) => ({ status: 'pass', value, ...extra });
const skip = (value) => ({ status: 'skip', value });
const fail = (value, cause, fix, extra = {}) => ({ status: 'fail', value, cause, fix, ...extra });

export const CHECKS = [
  { id: 'api', n: 1, title: t('chk.api.title'), run: checkApi },
  { id: 'health', n: 2, title: t('chk.health.title'), run: checkHealth },
  { id: 'token', n: 3, title: t('chk.token.title'), run: checkToken },
  { id: 'url', n: 4, title: t('chk.url.title'), run: checkUrl },
  { id: 'upgrade', n: 5, title: t('chk.upgrade.title'), run: checkUpgrade },
  { id: 'roundtrip', n: 6, title: t('chk.roundtrip.title', { count: PINGS }), run: checkRoundTrip },
  { id: 'echo', n: 7, title: t('chk.echo.title'), run: checkEcho },
  { id: 'idle', n: 8, title: t('chk.idle.title'), run: checkIdle },
];

async function checkApi(ctx) {
  let answer;
  try {
    answer = await ctx.fetch('/', { headers: { Accept: 'application/json' } });
  } catch (error) {
    return fail(t('chk.api.noAnswer', { reason: error.message }), t('chk.api.noAnswerCause', { origin: location.origin }),
      t('chk.api.noAnswerFix'), { headline: t('chk.api.noAnswerHeadline') });
  }
  ctx.reachable = true;
  const { response, body, ms } = answer;
  if (!response.ok || !body || body.message !== 'Corporate Messenger API') {
    return fail(t('chk.api.notUs', { status: response.status }), t('chk.api.notUsCause'), t('chk.api.notUsFix'),
      { headline: t('chk.api.notUsHeadline') });
  }
  ctx.version = body.version;
  return pass(t('chk.api.ok', { api: `${body.message} ${body.version}`, ms: Math.round(ms) }));
}

async function checkHealth(ctx) {
  if (!ctx.reachable) return skip(t('chk.skip.noServer'));
  const { response, body } = await ctx.fetch('/api/health');
  if (response.ok && body && body.db === 'ok') {
    return pass(t('chk.health.ok', { database: body.database, count: body.connections }));
  }
  const detail = body && body.detail ? `: ${body.detail}` : '';
  if (body && body.db === 'ok' && body.disk === 'full') {
    return fail(t('chk.health.diskFull') + detail, t('chk.health.diskFullCause'), t('chk.health.diskFullFix'),
      { headline: t('chk.health.diskFullHeadline') });
  }
  const state = body && body.db === 'error' ? t('chk.health.unreachable') : t('chk.health.status', { status: response.status });
  return fail(state + detail, t('chk.health.dbCause'), t('chk.health.dbFix'), { headline: t('chk.health.dbHeadline') });
}

// Three base64url parts with a JSON header and payload, or the reason it is not.
export function parseJwt(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return { error: t('chk.jwt.parts', { count: parts.length }) };
  if (!parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) return { error: t('chk.jwt.chars') };
  try {
    const decode = (part) => JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '=')));
    const header = decode(parts[0]);
    const payload = decode(parts[1]);
    if (typeof payload !== 'object' || payload === null) return { error: t('chk.jwt.payload') };
    return { header, payload };
  } catch {
    return { error: t('chk.jwt.json') };
  }
}

function expiresAt(token) {
  const parsed = parseJwt(token);
  return parsed.payload && typeof parsed.payload.exp === 'number' ? parsed.payload.exp * 1000 : null;
}

// Trade the HttpOnly session cookie for a fresh access token; null when there is no session.
async function renew(ctx) {
  ctx.log('•', t('log.renewing'));
  try {
    const { response, body } = await ctx.fetch('/api/auth/refresh', {
      method: 'POST', headers: { 'X-XSRFToken': ctx.xsrf() }, logBody: false,
    });
    if (response.ok && body && body.access_token) {
      addSecret(body.access_token);
      addSecret(body.refresh_token);
      ctx.log('•', t('log.renewed', { token: shorten(body.access_token), user: body.user.username }));
      return body;
    }
    ctx.log('•', t('log.noSession', { code: body && body.error ? body.error.code : `HTTP ${response.status}` }));
  } catch (error) {
    ctx.log('•', t('log.renewFailed', { reason: error.message }));
  }
  return null;
}

const LOGIN_ACTION = { actions: ['login'] };

async function checkToken(ctx) {
  let { token, source } = ctx.pickToken();
  if (ctx.reachable && source === 'storage' && (!token || (expiresAt(token) || Infinity) < Date.now())) {
    const renewed = await renew(ctx);
    if (renewed) {
      token = renewed.access_token;
      source = 'renewed';
      ctx.storeRenewed(renewed);
    }
  }
  ctx.token = token;
  ctx.tokenSource = source;
  if (!token && !ctx.reachable) {
    return skip(t('chk.token.skip'));
  }
  if (!token) {
    return fail(t('chk.token.none'), t('chk.token.noneCause'), t('chk.token.noneFix'),
      { headline: t('chk.token.noneHeadline'), code: 'token_missing', ...LOGIN_ACTION });
  }
  addSecret(token);
  const from = {
    pasted: t('chk.token.pasted'), form: t('chk.token.form'), renewed: t('chk.token.renewed'), storage: t('chk.token.storage'),
  }[source];
  const parsed = parseJwt(token);
  if (parsed.error) {
    const meaning = ctx.tokenErrors.token_malformed;
    return fail(t('chk.token.notToken', { token: shorten(token), from, reason: parsed.error }), meaning.meaning, meaning.fix,
      { headline: t('chk.token.invalidHeadline'), code: 'token_malformed', ...LOGIN_ACTION });
  }
  const { payload } = parsed;
  const expires = typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : null;
  const left = expires ? (expires.getTime() - Date.now()) / 1000 : null;
  const when = !expires ? t('chk.token.noExpiry') : left < 0
    ? t('chk.token.expired', { ago: duration(left), at: formatDate(expires, 'dateTime') })
    : t('chk.token.expires', { in: duration(left), at: formatDate(expires, 'clock') });
  const describe = t('chk.token.describe', { token: shorten(token), from, user: payload.sub, when });
  if (!ctx.reachable) return skip(t('chk.token.unconfirmed', { describe }));
  const { response, body } = await ctx.fetch('/api/me', { headers: { Authorization: `Bearer ${token}` } });
  if (response.ok) {
    ctx.user = body;
    const who = body.is_admin ? t('chk.token.admin', { user: body.username }) : body.username;
    return pass(t('chk.token.ok', { who, describe }));
  }
  const code = body && body.error ? body.error.code : `http_${response.status}`;
  const meaning = ctx.tokenErrors[code] || {
    meaning: body && body.error ? body.error.message : t('chk.token.http', { status: response.status }),
    fix: t('chk.token.relogin'),
  };
  const expired = code === 'token_expired' || (left !== null && left < 0);
  const headline = expired ? t('chk.token.expiredHeadline') : t('chk.token.refusedHeadline');
  return fail(t('chk.token.refused', { describe, code }), meaning.meaning, meaning.fix,
    { headline, code, ...LOGIN_ACTION });
}

function checkUrl(ctx) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = ctx.wsOverride || `${scheme}//${location.host}${ctx.wsPath}`;
  ctx.wsUrl = url;
  ctx.wsDisplay = url + (ctx.token ? `?token=${shorten(ctx.token)}` : '');
  if (!/^wss?:\/\/[^/]+/.test(url)) {
    return fail(t('chk.url.bad', { url }), t('chk.url.badCause'), t('chk.url.badFix'));
  }
  if (location.protocol === 'https:' && url.startsWith('ws:')) {
    ctx.mixed = true;
    return fail(t('chk.url.mixed', { url }), t('chk.url.mixedCause'), t('chk.url.mixedFix'),
      { headline: t('chk.url.mixedHeadline') });
  }
  const kind = url.startsWith('wss:') ? t('chk.url.wss') : t('chk.url.ws');
  const sameHost = new URL(url.replace(/^ws/, 'http')).host === location.host;
  const same = sameHost ? t('chk.url.sameHost') : t('chk.url.otherHost');
  return pass(`${ctx.wsDisplay} (${kind}, ${same})`);
}

// Turn a close event into a failed result with the most likely cause for this situation.
export function closeFailure(ctx, closed, when) {
  const entry = ctx.codes[String(closed.code)];
  const name = entry ? entry.name : closed.code >= 4000 ? t('chk.close.appCode') : t('chk.close.unknownCode');
  const value = t('chk.close.value', { when, code: closed.code, name })
    + (closed.reason ? `: "${closed.reason}"` : '');
  if (!entry) {
    return fail(value, t('chk.close.unknownCause'), t('chk.sendCopied'), { closeCode: closed.code });
  }
  let pick = entry.causes[0];
  let headline = t('chk.close.headline', { code: closed.code, name });
  if (closed.code === 1006) {
    const tlsMismatch = !closed.afterOpen && ctx.wsUrl.startsWith('wss:') && location.protocol !== 'https:';
    if (!ctx.reachable) pick = entry.causes[0];
    else if (ctx.mixed || tlsMismatch) pick = entry.causes[3];
    else if (!closed.afterOpen) pick = entry.causes[1];
    else if (closed.idle) pick = entry.causes[2];
    else pick = entry.causes[4];
    headline = pick === entry.causes[1] ? t('chk.close.proxyHeadline') : headline;
  } else if (closed.code === 1008) {
    const reason = closed.reason.toLowerCase();
    if (reason.startsWith('origin')) pick = entry.causes[2];
    else if (reason.includes('deactivated') || reason.includes('password')) pick = entry.causes[1];
    else if (reason.startsWith('missing') || reason.startsWith('not authenticated')) pick = entry.causes[3];
    headline = t('chk.close.refusedHeadline', { reason: closed.reason || name });
  }
  return fail(value, pick.cause, pick.fix, { tell: pick.check, closeCode: closed.code, headline });
}

async function checkUpgrade(ctx) {
  if (!ctx.token) return skip(t('chk.skip.noToken'));
  if (!/^wss?:/.test(ctx.wsUrl)) return skip(t('chk.skip.noUrl'));
  const probe = new Probe(`${ctx.wsUrl}?token=${encodeURIComponent(ctx.token)}`, ctx.log);
  ctx.probe = probe;
  ctx.log('→', `new WebSocket("${ctx.wsDisplay}")`);
  const opened = await probe.open(OPEN_TIMEOUT_MS);
  if (opened.error) {
    if (!ctx.mixed && opened.error.name === 'SecurityError') {
      return fail(t('chk.upgrade.refused', { reason: opened.error.message }), t('chk.upgrade.cspCause'),
        t('chk.upgrade.cspFix'), { headline: t('chk.upgrade.cspHeadline') });
    }
    const cause = ctx.mixed ? t('chk.upgrade.mixedCause') : t('chk.upgrade.badAddress');
    return fail(t('chk.upgrade.refused', { reason: opened.error.message }), cause, t('chk.upgrade.schemeFix'),
      { headline: t('chk.upgrade.refusedHeadline') });
  }
  if (opened.timeout) {
    probe.close();
    return fail(t('chk.upgrade.hangs', { count: OPEN_TIMEOUT_MS / 1000 }), t('chk.upgrade.hangsCause'),
      t('chk.upgrade.hangsFix'), { headline: t('chk.upgrade.hangsHeadline') });
  }
  if (opened.close) return closeFailure(ctx, opened.close, t('chk.when.beforeOpen'));
  const hello = await probe.waitFor((f) => f.type === 'connected', FRAME_TIMEOUT_MS);
  if (!hello) {
    const ms = Math.round(opened.ms);
    if (probe.closed) return closeFailure(ctx, probe.closed, t('chk.when.afterOpen', { ms }));
    return fail(t('chk.upgrade.noHello', { ms, count: FRAME_TIMEOUT_MS / 1000 }), t('chk.upgrade.noHelloCause'),
      t('chk.upgrade.noHelloFix'));
  }
  ctx.connected = hello;
  const chats = hello.chat_ids.length ? t('chk.upgrade.chats', { ids: hello.chat_ids.join(', ') }) : t('chk.upgrade.noChats');
  return pass(t('chk.upgrade.ok', { ms: Math.round(opened.ms), user: hello.username, id: hello.user_id, chats }));
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function checkRoundTrip(ctx) {
  if (!ctx.probe || !ctx.probe.isOpen || !ctx.connected) return skip(t('chk.skip.noConnection'));
  const times = [];
  for (let id = 1; id <= PINGS; id += 1) {
    const sent = ctx.probe.send({ type: 'ping', id });
    const pong = await ctx.probe.waitFor((f) => f.type === 'pong' && f.id === id, FRAME_TIMEOUT_MS);
    if (!pong) {
      if (ctx.probe.closed) return closeFailure(ctx, ctx.probe.closed, t('chk.when.afterPongs', { count: id - 1 }));
      return fail(t('chk.roundtrip.lost', { answered: id - 1, total: PINGS, id, count: FRAME_TIMEOUT_MS / 1000 }),
        t('chk.roundtrip.lostCause'), t('chk.roundtrip.lostFix'));
    }
    times.push(pong.receivedAt - sent);
    ctx.progress(t('chk.roundtrip.progress', { answered: id, total: PINGS }));
  }
  const sorted = [...times].sort((a, b) => a - b);
  const ms = (v) => t('chk.ms', { ms: formatNumber(v, 1) });
  ctx.latency = { min: sorted[0], median: percentile(sorted, 50), p95: percentile(sorted, 95) };
  const { median, p95 } = ctx.latency;
  return pass(t('chk.roundtrip.ok', { total: PINGS, min: ms(sorted[0]), median: ms(median), p95: ms(p95) }));
}

function nonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function checkEcho(ctx) {
  if (!ctx.probe || !ctx.probe.isOpen || !ctx.connected) return skip(t('chk.skip.noConnection'));
  const value = nonce();
  const sent = ctx.probe.send({ type: 'diagnostic_echo', nonce: value });
  const echoed = (f) => (f.type === 'diagnostic_echo' && f.nonce === value) || f.type === 'error';
  const frame = await ctx.probe.waitFor(echoed, FRAME_TIMEOUT_MS);
  if (frame && frame.type === 'error') {
    return fail(t('chk.echo.error', { code: frame.code, message: frame.message }), t('chk.echo.errorCause'),
      t('chk.echo.errorFix'), { code: frame.code });
  }
  if (!frame) {
    if (ctx.probe.closed) return closeFailure(ctx, ctx.probe.closed, t('chk.when.echo'));
    return fail(t('chk.echo.lost', { count: FRAME_TIMEOUT_MS / 1000 }), t('chk.echo.lostCause'), t('chk.echo.lostFix'),
      { headline: t('chk.echo.lostHeadline') });
  }
  const to = frame.connection_id === ctx.connected.connection_id ? t('chk.echo.toThis')
    : t('chk.echo.toOther', { id: frame.connection_id });
  return pass(t('chk.echo.ok', { to, ms: formatNumber(frame.receivedAt - sent, 1) }));
}

async function checkIdle(ctx) {
  if (!ctx.idleSeconds) {
    return skip(t('chk.idle.notSelected'));
  }
  if (!ctx.probe || !ctx.probe.isOpen || !ctx.connected) return skip(t('chk.skip.noConnection'));
  const seconds = ctx.idleSeconds;
  ctx.log('•', t('log.idle', { count: seconds }));
  const started = Date.now();
  const left = () => Math.max(0, Math.round(seconds - (Date.now() - started) / 1000));
  const ticker = setInterval(() => ctx.progress(t('chk.idle.waiting', { count: left() })), 1000);
  const closed = await ctx.probe.closedWithin(seconds * 1000);
  clearInterval(ticker);
  if (!closed) return pass(t('chk.idle.ok', { count: seconds }));
  const result = closeFailure(ctx, { ...closed, idle: true }, t('chk.when.idle', { count: Math.round(closed.openSeconds) }));
  if (closed.code !== 1006 && closed.code !== 1005) return result;
  const after = Math.round((Date.now() - started) / 1000);
  const headline = t('chk.idle.cutHeadline', { count: after });
  return { ...result, headline };
}
