// Log in through fetch so the access token can be kept at localStorage.access_token.
const form = document.getElementById('login-form');
const errorBox = form.querySelector('[data-testid="login-error"]');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  errorBox.textContent = '';
  const response = await fetch('/login', {
    method: 'POST', body: new FormData(form), headers: { Accept: 'application/json' },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    errorBox.textContent = body.error ? body.error.message : `Login failed (${response.status})`;
    return;
  }
  localStorage.setItem('access_token', body.access_token);
  localStorage.setItem('access_token_expires_at', String(Date.now() + body.expires_in * 1000));
  window.location.assign(form.elements.next.value || '/');
});
