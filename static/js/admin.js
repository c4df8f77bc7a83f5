// The admin page: list users, create one, reset a password, make or revoke an administrator, deactivate or
// reactivate.
import { api, startSession, wireLogout } from './api.js';
import { formatListTime, h, userAvatar } from './dom.js';
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);
const myId = Number($('admin').dataset.userId);
const MIN_PASSWORD = Number($('admin').dataset.minPassword); // served by the server, which enforces it
let users = [];
let resetting = null;

function say(node, text) {
  node.textContent = text;
  node.hidden = !text;
}

async function load() {
  try {
    users = (await api('GET', '/api/admin/users')).users;
    say($('list-error'), '');
  } catch (error) {
    say($('list-error'), t('admin.loadFailed', { reason: error.message }));
    return;
  }
  render();
}

function render() {
  const filter = $('user-filter').value.trim().toLowerCase();
  const shown = users.filter((u) => !filter || u.username.includes(filter)
    || u.display_name.toLowerCase().includes(filter));
  $('users-body').replaceChildren(...shown.map(row));
}

function row(user) {
  const self = user.id === myId;
  const actions = h('td', { className: 'actions' },
    h('button', { type: 'button', className: 'btn btn-small', onClick: () => askPassword(user) }, t('admin.resetPassword')),
    self || !user.is_active ? null : h('button', {
      type: 'button', className: 'btn btn-small', dataset: { testid: user.is_admin ? 'revoke-admin' : 'make-admin' },
      onClick: () => setAdmin(user, !user.is_admin),
    }, user.is_admin ? t('admin.revokeAdmin') : t('admin.makeAdmin')),
    self ? null : h('button', {
      type: 'button', className: `btn btn-small ${user.is_active ? 'btn-danger-ghost' : ''}`,
      dataset: { testid: user.is_active ? 'deactivate' : 'reactivate' },
      onClick: () => setActive(user, !user.is_active),
    }, user.is_active ? t('admin.deactivate') : t('admin.reactivate')));
  return h('tr', { dataset: { userId: String(user.id), username: user.username },
    className: user.is_active ? '' : 'inactive' },
  h('td', {}, h('span', { className: 'user-cell' }, userAvatar(user),
    h('span', { className: 'person-text' },
      h('span', { className: 'person-name' }, user.display_name, self ? ` ${t('admin.you')}` : ''),
      h('span', { className: 'person-username muted' }, `@${user.username}`)))),
  h('td', {}, user.is_admin ? h('span', { className: 'pill pill-accent' }, t('admin.admin')) : t('admin.member')),
  h('td', { dataset: { testid: 'status' } }, h('span', { className: `pill ${user.is_active ? 'pill-ok' : 'pill-off'}` },
    user.is_active ? t('admin.active') : t('admin.deactivated'))),
  h('td', { className: 'muted' }, user.last_seen_at ? formatListTime(new Date(user.last_seen_at)) : '—'),
  actions);
}

async function create(event) {
  event.preventDefault();
  const form = event.target;
  say($('create-error'), '');
  say($('create-ok'), '');
  const body = {
    username: form.elements.username.value.trim().toLowerCase(),
    display_name: form.elements.display_name.value.trim() || undefined,
    password: form.elements.password.value,
    is_admin: form.elements.is_admin.checked,
  };
  if (!body.username || body.password.length < MIN_PASSWORD) {
    say($('create-error'), t('admin.needsPassword', { count: MIN_PASSWORD }));
    return;
  }
  try {
    const created = await api('POST', '/api/admin/users', body);
    form.reset();
    say($('create-ok'), t('admin.created', { name: created.display_name, username: created.username }));
    await load();
  } catch (error) {
    say($('create-error'), error.message);
  }
}

/** PATCH one user (``change``), then say ``done`` and reload the list. */
async function changeUser(user, change, done) {
  try {
    await api('PATCH', `/api/admin/users/${user.id}`, change);
    say($('list-ok'), t(done, { name: user.display_name }));
    await load();
  } catch (error) {
    say($('list-error'), error.message);
  }
}

const setActive = (user, active) =>
  changeUser(user, { is_active: active }, active ? 'admin.reactivated' : 'admin.deactivatedOut');
const setAdmin = (user, admin) => changeUser(user, { is_admin: admin }, admin ? 'admin.madeAdmin' : 'admin.revokedAdmin');

function askPassword(user) {
  resetting = user;
  $('password-heading').textContent = t('admin.resetFor', { name: user.display_name });
  $('password-form').reset();
  say($('password-error'), '');
  $('password-dialog').showModal();
  $('password-form').elements.password.focus();
}

async function setPassword(event) {
  event.preventDefault();
  const password = event.target.elements.password.value;
  if (password.length < MIN_PASSWORD) {
    say($('password-error'), t('admin.passwordShort', { count: MIN_PASSWORD }));
    return;
  }
  try {
    await api('POST', `/api/admin/users/${resetting.id}/password`, { password });
  } catch (error) {
    say($('password-error'), error.message);
    return;
  }
  $('password-dialog').close();
  say($('list-ok'), t('admin.passwordSet', { name: resetting.display_name }));
}

startSession(myId);
wireLogout($('logout-form'));
$('create-user-form').addEventListener('submit', create);
$('password-form').addEventListener('submit', setPassword);
$('user-filter').addEventListener('input', render);
for (const button of document.querySelectorAll('#password-dialog [data-close]')) {
  button.addEventListener('click', () => $('password-dialog').close());
}
load();
