// The REST client: the access token kept at localStorage.access_token, its refresh
// through the HttpOnly session cookie, and JSON calls that carry it.
import { forgetDrafts } from './drafts.js';
import { t } from './i18n.js';
const TOKEN_KEY = 'access_token';
const EXPIRES_KEY = 'access_token_expires_at';
const LOCK_NAME = 'cm-token-refresh';

let pageUserId = null; // the user of the session cookie, from the page
let refreshing = null;
let refreshTimer = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The session is gone (refresh refused): the page is on its way to /login. */
export class AuthError extends ApiError {}

export function storeToken(token, expiresIn) {
  localStorage.setItem(TOKEN_KEY, token);
  localStorage.setItem(EXPIRES_KEY, String(Date.now() + expiresIn * 1000));
}

/** The token the last sign-in or refresh stored in this browser (null when none). */
export function storedToken() {
  return localStorage.getItem(TOKEN_KEY);
}

export function clearTokens() {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(EXPIRES_KEY);
}

function claims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part));
  } catch {
    return null;
  }
}

/** A token of this page's user with more than ``marginMs`` left. */
function usable(token, marginMs) {
  const c = token && claims(token);
  if (!c || !c.exp) return false;
  if (pageUserId !== null && String(c.sub) !== String(pageUserId)) return false;
  return c.exp * 1000 - Date.now() > marginMs;
}

function cookie(name) {
  const found = document.cookie.split('; ').find((c) => c.startsWith(name + '='));
  return found ? found.slice(name.length + 1) : '';
}

export function goToLogin() {
  clearTokens();
  const next = location.pathname === '/' ? '' : `?next=${encodeURIComponent(location.pathname)}`;
  location.assign('/login' + next);
}

/** Trade the session cookie for a new access token; ``stale`` is the token known to be bad. */
export function refreshToken(stale) {
  if (!refreshing) {
    const run = () => refreshWithCookie(stale);
    const locked = navigator.locks ? navigator.locks.request(LOCK_NAME, run) : run();
    refreshing = locked.finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function refreshWithCookie(stale) {
  const current = localStorage.getItem(TOKEN_KEY);
  if (current && current !== stale && usable(current, 60_000)) return current; // another tab did it
  const response = await fetch('/api/auth/refresh', {
    method: 'POST', credentials: 'same-origin', headers: { 'X-XSRFToken': cookie('_xsrf') },
  });
  const body = await response.json().catch(() => null);
  if (response.status === 401 || response.status === 403) {
    // Without Web Locks two tabs can race: the loser's cookie was just rotated by the winner.
    await new Promise((resolve) => { setTimeout(resolve, 500); });
    const other = localStorage.getItem(TOKEN_KEY);
    if (other && other !== stale && usable(other, 30_000)) return other;
    goToLogin();
    throw new AuthError(response.status, 'session_ended', t('session.ended'));
  }
  if (!response.ok || !body) {
    throw new ApiError(response.status, 'refresh_failed', t('session.refreshFailed', { status: response.status }));
  }
  storeToken(body.access_token, body.expires_in);
  if (pageUserId !== null && body.user && body.user.id !== pageUserId) {
    location.reload(); // someone else logged in from another tab: show their page
  }
  scheduleRefresh();
  return body.access_token;
}

/** A token good for at least 30 more seconds, refreshed first when needed. */
export async function freshToken() {
  const token = localStorage.getItem(TOKEN_KEY);
  return usable(token, 30_000) ? token : refreshToken(token);
}

/** Refresh a minute before expiry (with jitter, so several tabs don't all go at once). */
export function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const c = claims(localStorage.getItem(TOKEN_KEY) || '');
  const left = c && c.exp ? c.exp * 1000 - Date.now() : 0;
  const wait = Math.max(5_000, left - 60_000 - Math.random() * 15_000);
  refreshTimer = setTimeout(() => {
    const token = localStorage.getItem(TOKEN_KEY);
    (usable(token, 90_000) ? Promise.resolve() : refreshToken(token))
      .catch(() => {}) // offline: the next call or reconnect retries
      .finally(scheduleRefresh);
  }, wait);
}

/** Start token upkeep for the page's user (from the session cookie). */
export function startSession(userId) {
  pageUserId = userId;
  scheduleRefresh();
}

async function send(method, path, body, token) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** A JSON call to the API; one 401 triggers a refresh and a retry. */
export async function api(method, path, body) {
  let token = await freshToken();
  let response = await send(method, path, body, token);
  if (response.status === 401) {
    token = await refreshToken(token);
    response = await send(method, path, body, token);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || 'http_error', error.message || `HTTP ${response.status}`);
  }
  return data;
}

/** Logging out also forgets the token kept for the console snippet. */
export function wireLogout(form) {
  if (form) {
    form.addEventListener('submit', () => {
      clearTokens();
      forgetDrafts();
    });
  }
}
