// The ordered checks of /diagnostics. Each takes the shared context and returns
// {status: 'pass'|'fail'|'skip', value, cause?, fix?, tell?, headline?, closeCode?, actions?}.
import { Probe } from './diagnostics-probe.js';
import { addSecret, duration, shorten } from './diagnostics-report.js';

const PINGS = 20;
const OPEN_TIMEOUT_MS = 10000;
const FRAME_TIMEOUT_MS = 5000;

const pass = (value, extra = {}) => ({ status: 'pass', value, ...extra });
const skip = (value) => ({ status: 'skip', value });
const fail = (value, cause, fix, extra = {}) => ({ status: 'fail', value, cause, fix, ...extra });

export const CHECKS = [
  { id: 'api', n: 1, title: 'The server answers', run: checkApi },
  { id: 'health', n: 2, title: 'The server reaches its database', run: checkHealth },
  { id: 'token', n: 3, title: 'Your login token', run: checkToken },
  { id: 'url', n: 4, title: 'WebSocket address', run: checkUrl },
  { id: 'upgrade', n: 5, title: 'The real-time connection opens', run: checkUpgrade },
  { id: 'roundtrip', n: 6, title: `Round trip (${PINGS} pings)`, run: checkRoundTrip },
  { id: 'echo', n: 7, title: 'A message goes through the server and comes back', run: checkEcho },
  { id: 'idle', n: 8, title: 'A quiet connection stays open (optional)', run: checkIdle },
];

async function checkApi(ctx) {
  let answer;
  try {
    answer = await ctx.fetch('/', { headers: { Accept: 'application/json' } });
  } catch (error) {
    return fail(`no answer: ${error.message}`,
      `Nothing answers at ${location.origin}: the server is stopped, or the network or a proxy in between `
      + 'does not let the request through.',
      'Start the server (python server.py, or restart its container/service), then reload this page.',
      { headline: 'The server does not answer.' });
  }
  ctx.reachable = true;
  const { response, body, ms } = answer;
  if (!response.ok || !body || body.message !== 'Corporate Messenger API') {
    return fail(`HTTP ${response.status}, not the messenger API`,
      'Something answers at this address, but it is not the Corporate Messenger server: a proxy or another '
      + 'web server answers in its place.',
      'Point the reverse proxy at the messenger server (see docs/deployment.md) and check the server runs behind it.',
      { headline: 'Another program answers instead of the messenger server.' });
  }
  ctx.version = body.version;
  return pass(`${body.message} ${body.version}, answered in ${ms.toFixed(0)} ms`);
}

async function checkHealth(ctx) {
  if (!ctx.reachable) return skip('the server does not answer (check 1)');
  const { response, body } = await ctx.fetch('/api/health');
  if (response.ok && body && body.db === 'ok') {
    return pass(`database ${body.database} reachable; ${body.connections} real-time connection(s) open on the server`);
  }
  const detail = body && body.detail ? `: ${body.detail}` : '';
  if (body && body.db === 'ok' && body.disk === 'full') {
    return fail(`the server's disk is full${detail}`,
      'The server runs and reaches its database, but its disk is full: new messages and logins are refused '
      + '(error disk_full) until space is freed.',
      'An administrator frees space in the data folder (or on the database server\'s disk); the server '
      + 'recovers by itself. Then run the checks again.',
      { headline: 'The server\'s disk is full.' });
  }
  return fail(`database ${body && body.db === 'error' ? 'unreachable' : `status HTTP ${response.status}`}${detail}`,
    'The server runs but cannot reach its database, so logins and messages fail until it is back.',
    'Start the database or correct DATABASE_URL; the server reconnects by itself. Then run the checks again.',
    { headline: 'The server runs, but its database is unreachable.' });
}

// Three base64url parts with a JSON header and payload, or the reason it is not.
export function parseJwt(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return { error: `${parts.length} part(s) instead of 3 separated by dots` };
  if (!parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) return { error: 'characters outside base64url' };
  try {
    const decode = (part) => JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '=')));
    const header = decode(parts[0]);
    const payload = decode(parts[1]);
    if (typeof payload !== 'object' || payload === null) return { error: 'the payload is not a JSON object' };
    return { header, payload };
  } catch {
    return { error: 'the header or payload is not base64url-encoded JSON' };
  }
}

function expiresAt(token) {
  const parsed = parseJwt(token);
  return parsed.payload && typeof parsed.payload.exp === 'number' ? parsed.payload.exp * 1000 : null;
}

// Trade the HttpOnly session cookie for a fresh access token; null when there is no session.
async function renew(ctx) {
  ctx.log('•', 'Trying to renew the login with this browser\'s session cookie');
  try {
    const { response, body } = await ctx.fetch('/api/auth/refresh', {
      method: 'POST', headers: { 'X-XSRFToken': ctx.xsrf() }, logBody: false,
    });
    if (response.ok && body && body.access_token) {
      addSecret(body.access_token);
      addSecret(body.refresh_token);
      ctx.log('•', `Renewed: new token ${shorten(body.access_token)} for ${body.user.username}`);
      return body;
    }
    ctx.log('•', `No session to renew (${body && body.error ? body.error.code : `HTTP ${response.status}`})`);
  } catch (error) {
    ctx.log('•', `Renewing failed: ${error.message}`);
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
    return skip('no token in this browser, and the server does not answer to renew one (check 1)');
  }
  if (!token) {
    return fail('no token',
      'This browser is not logged in: there is no access token in its storage and no session to renew.',
      'Log in with the form on this page (or on the login page), or paste a token, then run the checks again.',
      { headline: 'You are not logged in.', ...LOGIN_ACTION });
  }
  addSecret(token);
  const from = {
    pasted: 'pasted',
    form: 'from the login form',
    renewed: 'renewed from your session',
    storage: "from this browser's login",
  }[source];
  const parsed = parseJwt(token);
  if (parsed.error) {
    const meaning = ctx.tokenErrors.token_malformed;
    return fail(`${shorten(token)} (${from}) is not a token: ${parsed.error}`, meaning.meaning, meaning.fix,
      { headline: 'The token is not valid.', ...LOGIN_ACTION });
  }
  const { payload } = parsed;
  const expires = typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : null;
  const left = expires ? (expires.getTime() - Date.now()) / 1000 : null;
  const when = !expires ? 'no expiry time' : left < 0
    ? `expired ${duration(left)} ago (at ${expires.toLocaleString()})`
    : `expires in ${duration(left)} (at ${expires.toLocaleTimeString()})`;
  const describe = `${shorten(token)} (${from}), user id ${payload.sub}, ${when}`;
  if (!ctx.reachable) return skip(`${describe}; not confirmed: the server does not answer`);
  const { response, body } = await ctx.fetch('/api/me', { headers: { Authorization: `Bearer ${token}` } });
  if (response.ok) {
    ctx.user = body;
    return pass(`${body.username}${body.is_admin ? ' (administrator)' : ''}, ${describe}; accepted by the server`);
  }
  const code = body && body.error ? body.error.code : `http_${response.status}`;
  const meaning = ctx.tokenErrors[code] || {
    meaning: body && body.error ? body.error.message : `The server answered HTTP ${response.status}.`,
    fix: 'Log in again.',
  };
  const expired = code === 'token_expired' || (left !== null && left < 0);
  const headline = expired ? 'Your login has expired: log in again.' : 'The server does not accept your login token.';
  return fail(`${describe}; refused by the server: ${code}`, meaning.meaning, meaning.fix,
    { headline, ...LOGIN_ACTION });
}

function checkUrl(ctx) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = ctx.wsOverride || `${scheme}//${location.host}${ctx.wsPath}`;
  ctx.wsUrl = url;
  ctx.wsDisplay = url + (ctx.token ? `?token=${shorten(ctx.token)}` : '');
  if (!/^wss?:\/\/[^/]+/.test(url)) {
    return fail(`${url} is not a WebSocket address`, 'A WebSocket address starts with ws:// or wss://.',
      'Correct the address, or leave the field empty to test this server.');
  }
  if (location.protocol === 'https:' && url.startsWith('ws:')) {
    ctx.mixed = true;
    return fail(`${url} (unencrypted ws:// from an https:// page: mixed content)`,
      'This page is encrypted (https) but the WebSocket address is not (ws://): the browser blocks it before it '
      + 'leaves the browser.',
      'Use wss:// with an https page: let the TLS proxy forward /ws, and build the address from location.protocol.',
      { headline: 'The browser will block this WebSocket address (mixed content).' });
  }
  const kind = url.startsWith('wss:') ? 'encrypted (wss)' : 'unencrypted (ws)';
  const sameHost = new URL(url.replace(/^ws/, 'http')).host === location.host;
  const same = sameHost ? 'same host as this page' : 'another host than this page';
  return pass(`${ctx.wsDisplay} (${kind}, ${same})`);
}

// Turn a close event into a failed result with the most likely cause for this situation.
export function closeFailure(ctx, closed, when) {
  const entry = ctx.codes[String(closed.code)];
  const name = entry ? entry.name : closed.code >= 4000 ? 'application code' : 'unknown code';
  const value = `closed ${when} with ${closed.code} (${name})${closed.reason ? `: "${closed.reason}"` : ''}`;
  if (!entry) {
    return fail(value, 'The connection was closed with a code this page does not know.',
      'Send the copied report to an administrator.', { closeCode: closed.code });
  }
  let pick = entry.causes[0];
  let headline = `The real-time connection was closed with ${closed.code} (${name}).`;
  if (closed.code === 1006) {
    const tlsMismatch = !closed.afterOpen && ctx.wsUrl.startsWith('wss:') && location.protocol !== 'https:';
    if (!ctx.reachable) pick = entry.causes[0];
    else if (ctx.mixed || tlsMismatch) pick = entry.causes[3];
    else if (!closed.afterOpen) pick = entry.causes[1];
    else if (closed.idle) pick = entry.causes[2];
    else pick = entry.causes[4];
    headline = pick === entry.causes[1]
      ? 'Plain web requests work, but the real-time connection (WebSocket) never reaches the server.'
      : headline;
  } else if (closed.code === 1008) {
    const reason = closed.reason.toLowerCase();
    if (reason.startsWith('origin')) pick = entry.causes[2];
    else if (reason.includes('deactivated') || reason.includes('password')) pick = entry.causes[1];
    else if (reason.startsWith('missing') || reason.startsWith('not authenticated')) pick = entry.causes[3];
    headline = `The server refused the real-time connection: ${closed.reason || name}.`;
  }
  return fail(value, pick.cause, pick.fix, { tell: pick.check, closeCode: closed.code, headline });
}

async function checkUpgrade(ctx) {
  if (!ctx.token) return skip('no token to connect with (check 3)');
  if (!/^wss?:/.test(ctx.wsUrl)) return skip('no usable WebSocket address (check 4)');
  const probe = new Probe(`${ctx.wsUrl}?token=${encodeURIComponent(ctx.token)}`, ctx.log);
  ctx.probe = probe;
  ctx.log('→', `new WebSocket("${ctx.wsDisplay}")`);
  const opened = await probe.open(OPEN_TIMEOUT_MS);
  if (opened.error) {
    if (!ctx.mixed && opened.error.name === 'SecurityError') {
      return fail(`the browser refused: ${opened.error.message}`,
        'This page may only open WebSockets to this server and to the addresses in the server\'s '
        + '--allowed-origins (its Content-Security-Policy).',
        'Test another address from a page served by that address, or add it to --allowed-origins.',
        { headline: 'This page may not test that WebSocket address.' });
    }
    const cause = ctx.mixed ? 'An https page may not open an unencrypted ws:// connection.'
      : 'The browser does not accept this address.';
    return fail(`the browser refused: ${opened.error.message}`, cause,
      'Use a wss:// address on https pages, ws:// on http pages.',
      { headline: 'The browser refused to open the WebSocket.' });
  }
  if (opened.timeout) {
    probe.close();
    return fail(`neither opened nor failed within ${OPEN_TIMEOUT_MS / 1000} s`,
      'Something in between holds the connection without answering: a firewall dropping packets, or a proxy '
      + 'buffering it.',
      'Check firewalls and the proxy in front of the server (docs/deployment.md).',
      { headline: 'The real-time connection hangs.' });
  }
  if (opened.close) return closeFailure(ctx, opened.close, 'before it opened');
  const hello = await probe.waitFor((f) => f.type === 'connected', FRAME_TIMEOUT_MS);
  if (!hello) {
    if (probe.closed) return closeFailure(ctx, probe.closed, `${opened.ms.toFixed(0)} ms after opening`);
    return fail(`opened in ${opened.ms.toFixed(0)} ms, but no "connected" frame within ${FRAME_TIMEOUT_MS / 1000} s`,
      'The connection opened but the server did not greet it: something other than the messenger answers at '
      + 'this address, or a proxy buffers frames.',
      'Check that /ws is proxied straight to the messenger server without buffering.');
  }
  ctx.connected = hello;
  const chats = hello.chat_ids.length ? `added to chats ${hello.chat_ids.join(', ')}` : 'not in any chat yet';
  return pass(`opened in ${opened.ms.toFixed(0)} ms; connected as ${hello.username} (user ${hello.user_id}), ${chats}`);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function checkRoundTrip(ctx) {
  if (!ctx.probe || !ctx.probe.isOpen || !ctx.connected) return skip('needs an open connection (check 5)');
  const times = [];
  for (let id = 1; id <= PINGS; id += 1) {
    const sent = ctx.probe.send({ type: 'ping', id });
    const pong = await ctx.probe.waitFor((f) => f.type === 'pong' && f.id === id, FRAME_TIMEOUT_MS);
    if (!pong) {
      if (ctx.probe.closed) return closeFailure(ctx, ctx.probe.closed, `after ${id - 1} pongs`);
      return fail(`${id - 1} of ${PINGS} pings answered; ping ${id} got no pong within ${FRAME_TIMEOUT_MS / 1000} s`,
        'Frames reach the server slowly or not at all: an overloaded server or a proxy that buffers WebSocket '
        + 'traffic.',
        'Look at the server load and at the proxy settings (no buffering for /ws).');
    }
    times.push(pong.receivedAt - sent);
    ctx.progress(`${id} of ${PINGS} pings answered`);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const ms = (v) => `${v.toFixed(1)} ms`;
  ctx.latency = { min: sorted[0], median: percentile(sorted, 50), p95: percentile(sorted, 95) };
  const { median, p95 } = ctx.latency;
  return pass(`${PINGS} of ${PINGS} answered; min ${ms(sorted[0])}, median ${ms(median)}, p95 ${ms(p95)}`);
}

function nonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function checkEcho(ctx) {
  if (!ctx.probe || !ctx.probe.isOpen || !ctx.connected) return skip('needs an open connection (check 5)');
  const value = nonce();
  const sent = ctx.probe.send({ type: 'diagnostic_echo', nonce: value });
  const echoed = (f) => (f.type === 'diagnostic_echo' && f.nonce === value) || f.type === 'error';
  const frame = await ctx.probe.waitFor(echoed, FRAME_TIMEOUT_MS);
  if (frame && frame.type === 'error') {
    return fail(`the server answered with an error: ${frame.code}: ${frame.message}`,
      'The server does not support the loop-back test (an older version?) or rejected it.',
      'Update the server, or send the copied report to an administrator.');
  }
  if (!frame) {
    if (ctx.probe.closed) return closeFailure(ctx, ctx.probe.closed, 'while waiting for the loop-back message');
    return fail(`not delivered within ${FRAME_TIMEOUT_MS / 1000} s`,
      'The server accepted the connection but did not deliver the loop-back message: its delivery path '
      + '(message bus and hub) is not working.',
      'Send the copied report to an administrator; the server log may show why.',
      { headline: 'Messages are not delivered in real time.' });
  }
  const to = frame.connection_id === ctx.connected.connection_id ? 'to this connection'
    : `to connection ${frame.connection_id}`;
  const ms = (frame.receivedAt - sent).toFixed(1);
  return pass(`delivered back ${to} in ${ms} ms through the server's message bus and hub (stored nowhere)`);
}

async function checkIdle(ctx) {
  if (!ctx.idleSeconds) {
    return skip('not selected: tick "Also keep the connection idle" above to look for a proxy idle timeout');
  }
  if (!ctx.probe || !ctx.probe.isOpen || !ctx.connected) return skip('needs an open connection (check 5)');
  const seconds = ctx.idleSeconds;
  ctx.log('•', `Idle test: sending nothing for ${seconds} s`);
  const started = Date.now();
  const left = () => Math.max(0, Math.round(seconds - (Date.now() - started) / 1000));
  const ticker = setInterval(() => ctx.progress(`waiting, ${left()} s left`), 1000);
  const closed = await ctx.probe.closedWithin(seconds * 1000);
  clearInterval(ticker);
  if (!closed) return pass(`still open after ${seconds} s without sending anything`);
  const result = closeFailure(ctx, { ...closed, idle: true }, `after ${Math.round(closed.openSeconds)} s open (idle)`);
  if (closed.code !== 1006 && closed.code !== 1005) return result;
  const after = Math.round((Date.now() - started) / 1000);
  const headline = `The connection was cut after about ${after} s without traffic: an idle timeout in between.`;
  return { ...result, headline };
}
