// The login form: posts through fetch so the access token can be kept at localStorage.access_token.
import { clearTokens, storeToken } from './api.js';
import { t } from './i18n.js';

// Reaching the login page means this browser has no session (logged out, expired, or revoked):
// forget any access token left behind, even one a logout click could not clear before navigating.
clearTokens();

const form = document.getElementById('login-form');
const errorBox = form.querySelector('[data-testid="login-error"]');
const button = form.querySelector('button[type="submit"]');
let countdown = null;

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = !text;
}

// 429: say how long to wait, and keep the button disabled until then.
function throttled(seconds) {
  clearInterval(countdown);
  let left = seconds;
  const tick = () => {
    if (left <= 0) {
      clearInterval(countdown);
      button.disabled = false;
      showError('');
      return;
    }
    showError(t('login.throttled', { count: left }));
    button.disabled = true;
    left -= 1;
  };
  tick();
  countdown = setInterval(tick, 1000);
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!form.elements.username.value.trim() || !form.elements.password.value) {
    showError(t('login.missing'));
    return;
  }
  showError('');
  button.disabled = true;
  let response;
  try {
    response = await fetch('/login', {
      method: 'POST', body: new FormData(form), headers: { Accept: 'application/json' },
    });
  } catch {
    button.disabled = false;
    showError(t('login.unreachable'));
    return;
  }
  const body = await response.json().catch(() => ({}));
  button.disabled = false;
  if (response.status === 429) {
    const wait = Number(response.headers.get('Retry-After')) || (body.error && body.error.retry_after) || 60;
    throttled(wait);
    return;
  }
  if (!response.ok) {
    showError(body.error ? body.error.message : t('login.failed', { status: response.status }));
    form.elements.password.select();
    return;
  }
  storeToken(body.access_token, body.expires_in);
  window.location.assign(form.elements.next.value || '/');
});
