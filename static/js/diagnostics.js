// /diagnostics: one button runs the ordered checks, a verdict on top says what is wrong in plain words.
// An ES module: nothing here lands in the global scope (the contract's console snippet declares
// `const token` and `const ws` at top level).
import { storedToken, storeToken } from './api.js';
import { AdminView } from './diagnostics-admin.js';
import { CHECKS } from './diagnostics-checks.js';
import { addSecret, buildReport, clock, redact, shorten } from './diagnostics-report.js';
import { formatNumber, has, t } from './i18n.js';

const root = document.getElementById('diagnostics');
const $ = (selector) => root.querySelector(selector);
const runButton = $('#run');
const copyButton = $('#copy');
const disconnectButton = $('#disconnect');
const tokenInput = $('#token-input');
const loginForm = $('#login-form');
const verdictBox = $('[data-testid="verdict"]');
const events = [];
const EVENT_LIMIT = 2000;
const STATUS_WORD = {
  pending: t('diag.status.pending'), running: t('diag.status.running'), pass: t('diag.status.pass'),
  fail: t('diag.status.fail'), skip: t('diag.status.skip'),
};
const STATUS_ICON = { pending: '○', running: '…', pass: '✓', fail: '✗', skip: '–' };

let table = { close_codes: {}, token_errors: {} };
let formToken = null;
let current = null; // the context of the last run
let verdict = { state: 'idle', title: t('diag.notRunYet'), detail: '' };
let running = false;
const admin = new AdminView($('#admin'), root.dataset.adminApi, log,
  () => (current && current.connected ? current.connected.connection_id : null));

// --- event log -----------------------------------------------------------------------

function log(direction, text) {
  const event = { at: new Date(), text: redact(`${direction} ${text}`) };
  events.push(event);
  const list = $('#event-log');
  const item = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = clock(event.at);
  item.append(time, ` ${event.text}`);
  list.append(item);
  if (events.length > EVENT_LIMIT) {
    events.shift();
    list.firstElementChild.remove();
  }
  list.scrollTop = list.scrollHeight;
}

async function loggedFetch(path, { logBody = true, ...options } = {}) {
  const method = options.method || 'GET';
  log('→', `${method} ${path}`);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10000);
  const started = performance.now();
  try {
    const response = await fetch(path, {
      ...options, signal: controller.signal, cache: 'no-store', credentials: 'same-origin',
    });
    const text = await response.text();
    const ms = performance.now() - started;
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    const shown = logBody ? `: ${text.slice(0, 400)}` : '';
    log('←', t('log.answer', { status: response.status, request: `${method} ${path}`, ms: Math.round(ms) }) + shown);
    return { response, body, ms };
  } catch (error) {
    const message = error.name === 'AbortError' ? t('diag.noAnswerIn', { count: 10 }) : error.message;
    log('←', t('log.failed', { request: `${method} ${path}`, reason: message }));
    throw new Error(message);
  } finally {
    clearTimeout(timer);
  }
}

// --- tokens ----------------------------------------------------------------------------

function pickToken() {
  const pasted = tokenInput.value.trim();
  if (pasted) return { token: pasted, source: 'pasted' };
  if (formToken) return { token: formToken, source: 'form' };
  return { token: storedToken(), source: 'storage' };
}

function storeRenewed(body) {
  storeToken(body.access_token, body.expires_in);
  showTokenSource();
}

function xsrf() {
  const cookie = document.cookie.split('; ').find((part) => part.startsWith('_xsrf='));
  return cookie ? decodeURIComponent(cookie.slice(6)) : root.dataset.xsrf;
}

function showTokenSource() {
  const { token, source } = pickToken();
  const where = {
    pasted: t('diag.source.pasted'), form: t('diag.source.form'), storage: t('diag.source.storage'),
  }[source];
  $('#token-source').textContent = token ? t('diag.source.using', { where, token: shorten(token) })
    : t('diag.source.none');
}

// --- rendering -------------------------------------------------------------------------

function renderChecks() {
  const list = $('#checks');
  list.replaceChildren();
  for (const check of CHECKS) {
    const item = document.createElement('li');
    item.className = 'diag-check';
    item.dataset.check = check.id;
    item.dataset.testid = `check-${check.id}`;
    item.innerHTML = '<span class="diag-icon" aria-hidden="true"></span><div class="diag-check-body">' +
      '<p class="diag-check-title"><span class="diag-check-name"></span> '
      + '<span class="diag-status" data-testid="status"></span></p>' +
      '<p class="diag-value" data-testid="value"></p><div class="diag-help" data-testid="help"></div></div>';
    item.querySelector('.diag-check-name').textContent = `${check.n}. ${check.title}`;
    list.append(item);
    check.element = item;
    setCheck(check, { status: 'pending', value: '' });
  }
}

function helpLine(label, text) {
  const p = document.createElement('p');
  const strong = document.createElement('strong');
  strong.textContent = `${label} `;
  p.append(strong, text);
  return p;
}

function setCheck(check, result) {
  const item = check.element;
  item.dataset.status = result.status;
  item.querySelector('.diag-icon').textContent = STATUS_ICON[result.status];
  item.querySelector('[data-testid="status"]').textContent = STATUS_WORD[result.status];
  item.querySelector('[data-testid="value"]').textContent = result.value || '';
  const help = item.querySelector('[data-testid="help"]');
  help.replaceChildren();
  if (result.cause) help.append(helpLine(t('diag.likelyCause'), result.cause));
  if (result.fix) help.append(helpLine(t('diag.fix'), result.fix));
  if (result.tell) help.append(helpLine(t('diag.howToTell'), result.tell));
  if (result.closeCode) {
    const link = document.createElement('a');
    link.href = `#close-${result.closeCode}`;
    link.textContent = t('diag.codeLink', { code: result.closeCode });
    link.addEventListener('click', () => { $('#close-codes').open = true; });
    help.append(link);
  }
  if ((result.actions || []).includes('login')) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = t('diag.loginAgain');
    button.dataset.testid = 'login-again';
    button.addEventListener('click', openLogin);
    help.append(button);
  }
}

function openLogin() {
  $('#credentials').open = true;
  loginForm.elements.username.focus();
}

function setVerdict(state, title, detail) {
  verdict = { state, title, detail };
  verdictBox.dataset.verdict = state;
  $('[data-testid="verdict-title"]').textContent = title;
  $('[data-testid="verdict-detail"]').textContent = detail;
}

function renderCloseCodes() {
  const box = $('#close-code-list');
  box.replaceChildren();
  for (const [code, entry] of Object.entries(table.close_codes)) {
    const article = document.createElement('article');
    article.id = `close-${code}`;
    article.dataset.code = code;
    const heading = document.createElement('h3');
    heading.textContent = `${code}: ${entry.name}`;
    const summary = document.createElement('p');
    summary.textContent = entry.summary;
    const causes = document.createElement('ul');
    for (const cause of entry.causes) {
      const item = document.createElement('li');
      item.append(helpLine(t('diag.cause'), cause.cause), helpLine(t('diag.fix'), cause.fix),
        helpLine(t('diag.whichCheck'), cause.check));
      causes.append(item);
    }
    article.append(heading, summary, causes);
    box.append(article);
  }
}

// --- running ---------------------------------------------------------------------------

function finalVerdict(ctx) {
  const failed = CHECKS.find((check) => check.result.status === 'fail');
  if (failed) {
    const r = failed.result;
    return ['fail', r.headline || t('diag.checkFailed', { n: failed.n, title: failed.title }),
      t('diag.whatToDo', { cause: r.cause, fix: r.fix })];
  }
  const notRun = CHECKS.find((check) => check.id !== 'idle' && check.result.status !== 'pass');
  if (notRun) {
    return ['fail', t('diag.checkNotRun', { n: notRun.n, title: notRun.title }), notRun.result.value];
  }
  const idle = CHECKS.find((check) => check.id === 'idle').result;
  const idleNote = idle.status === 'pass' ? t('diag.idleHeld', { count: ctx.idleSeconds }) : t('diag.idleNotRun');
  const median = formatNumber(ctx.latency.median, 1);
  return ['pass', t('diag.allGood'),
    `${t('diag.allGoodDetail', { user: ctx.user.username, version: ctx.version, median })} ${idleNote}`];
}

function goLive(ctx) {
  const status = $('#live-status');
  if (!ctx.probe || !ctx.probe.isOpen) {
    status.textContent = '';
    disconnectButton.hidden = true;
    return;
  }
  status.textContent = t('diag.live');
  disconnectButton.hidden = false;
  ctx.probe.onclose = (closed) => {
    disconnectButton.hidden = true;
    const entry = table.close_codes[String(closed.code)];
    const meaning = entry ? ` (${entry.name}): ${entry.summary}` : '';
    status.textContent = t('diag.liveClosed', { code: closed.code }) + meaning +
      (closed.reason ? ` ${t('diag.reasonGiven', { reason: closed.reason })}` : '');
  };
}

async function runChecks() {
  if (running) return;
  running = true;
  runButton.disabled = true;
  copyButton.disabled = true;
  if (current && current.probe) {
    current.probe.onclose = null;
    current.probe.close(1000, 'checks restarted');
  }
  await tableLoaded;
  log('•', t('log.running'));
  const idleBox = $('#idle-enabled');
  const idleInput = $('#idle-seconds'); // its default is the server's idle test length
  const ctx = {
    log, fetch: loggedFetch, pickToken, storeRenewed, xsrf,
    codes: table.close_codes, tokenErrors: table.token_errors,
    wsPath: root.dataset.wsPath, wsOverride: $('#ws-url-input').value.trim(),
    idleSeconds: idleBox.checked ? Math.max(1, Number(idleInput.value) || Number(idleInput.defaultValue)) : null,
    progress: () => {},
  };
  current = ctx;
  for (const check of CHECKS) setCheck(check, { status: 'pending', value: '' });
  setVerdict('running', t('diag.running'), t('diag.runningDetail'));
  for (const check of CHECKS) {
    setCheck(check, { status: 'running', value: t('diag.runningValue') });
    ctx.progress = (value) => setCheck(check, { status: 'running', value });
    let result;
    try {
      result = await check.run(ctx);
    } catch (error) {
      result = { status: 'fail', value: t('diag.checkCrashed', { reason: error.message }),
        cause: t('diag.checkCrashedCause'), fix: t('diag.sendReport') };
    }
    check.result = result;
    setCheck(check, result);
    const value = result.value ? ` - ${result.value}` : '';
    log('•', t('log.check', { n: check.n, title: check.title, status: STATUS_WORD[result.status] }) + value);
  }
  const [state, title, detail] = finalVerdict(ctx);
  setVerdict(state, title, detail);
  log('•', t('log.verdict', { title }));
  goLive(ctx);
  if (ctx.user && ctx.user.is_admin) {
    admin.start(ctx.token);
  } else {
    admin.stop();
    $('#admin').hidden = true;
  }
  running = false;
  runButton.disabled = false;
  copyButton.disabled = false;
}

async function copyReport() {
  const text = buildReport({
    verdict, checks: CHECKS, events, serverVersion: (current && current.version) || root.dataset.version,
    wsUrl: current && current.wsDisplay, admin: admin.facts,
  });
  const status = $('#copy-status');
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    const copied = document.execCommand('copy');
    area.remove();
    if (!copied) {
      status.textContent = t('diag.copyRefused');
      return;
    }
  }
  status.textContent = t('diag.copied');
  log('•', t('log.copied', { count: text.length }));
}

async function logIn(event) {
  event.preventDefault();
  const error = $('#login-error');
  error.textContent = '';
  const username = loginForm.elements.username.value;
  const password = loginForm.elements.password.value;
  let answer;
  try {
    await tableLoaded;
    log('•', t('log.loggingIn', { user: username }));
    answer = await loggedFetch('/api/auth/login', {
      method: 'POST', logBody: false,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ username, password }),
    });
  } catch (failure) {
    error.textContent = t('diag.noServerAnswer', { reason: failure.message });
    return;
  }
  const { response, body } = answer;
  if (!response.ok) {
    const code = body && body.error ? body.error.code : null;
    const known = table.token_errors[code];
    const plain = body && body.error ? body.error.message : `HTTP ${response.status}`;
    error.textContent = known ? `${known.meaning} ${known.fix}` : plain;
    return;
  }
  addSecret(body.access_token);
  addSecret(body.refresh_token);
  formToken = body.access_token;
  tokenInput.value = '';
  loginForm.elements.password.value = '';
  log('•', t('log.loggedIn', { user: body.user.username, token: shorten(formToken) }));
  showTokenSource();
  runChecks();
}

const tableLoaded = fetch(root.dataset.closeCodes)
  .then((response) => response.json())
  .then((loaded) => { table = localized(loaded); })
  .catch((error) => log('•', t('log.noTable', { reason: error.message })))
  .then(renderCloseCodes);

/** close-codes.json with its human texts in the reader's language (``codes.<path>`` keys); codes stay. */
function localized(node, path = 'codes') {
  if (typeof node === 'string') return has(path) ? t(path) : node;
  if (Array.isArray(node)) return node.map((item, i) => localized(item, `${path}.${i}`));
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, localized(value, `${path}.${key}`)]));
}

async function showAdminIfAllowed() {
  const { token, source } = pickToken();
  const parsed = token && token.split('.').length === 3;
  if (!parsed || source !== 'storage') return;
  try {
    const { response, body } = await loggedFetch('/api/me', { headers: { Authorization: `Bearer ${token}` } });
    if (response.ok && body.is_admin && !running && !current) admin.start(token);
  } catch {
    // the checks will say why
  }
}

renderChecks();
showTokenSource();
for (const scrolling of ['#event-log', '#server-log', '.diag-scroll']) $(scrolling).tabIndex = 0; // keyboard users can scroll them
runButton.addEventListener('click', runChecks);
copyButton.addEventListener('click', copyReport);
disconnectButton.addEventListener('click', () => {
  if (current && current.probe) current.probe.close(1000, 'closed from the diagnostics page');
});
tokenInput.addEventListener('input', showTokenSource);
loginForm.addEventListener('submit', logIn);
log('•', t('log.loaded', { url: location.href }));
showAdminIfAllowed();
