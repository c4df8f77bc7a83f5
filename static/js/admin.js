// The admin page: list users, create one, reset a password, deactivate or reactivate.
import { api, startSession, wireLogout } from './api.js';
import { avatar, formatListTime, h } from './dom.js';

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
    say($('list-error'), `Could not load users: ${error.message}`);
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
    h('button', { type: 'button', className: 'btn btn-small', onClick: () => askPassword(user) }, 'Reset password'),
    self ? null : h('button', {
      type: 'button', className: `btn btn-small ${user.is_active ? 'btn-danger-ghost' : ''}`,
      dataset: { testid: user.is_active ? 'deactivate' : 'reactivate' },
      onClick: () => setActive(user, !user.is_active),
    }, user.is_active ? 'Deactivate' : 'Reactivate'));
  return h('tr', { dataset: { userId: String(user.id), username: user.username },
    className: user.is_active ? '' : 'inactive' },
  h('td', {}, h('span', { className: 'user-cell' }, avatar(user.display_name, user.id),
    h('span', { className: 'person-text' },
      h('span', { className: 'person-name' }, user.display_name, self ? ' (you)' : ''),
      h('span', { className: 'person-username muted' }, `@${user.username}`)))),
  h('td', {}, user.is_admin ? h('span', { className: 'pill pill-accent' }, 'Admin') : 'Member'),
  h('td', { dataset: { testid: 'status' } }, h('span', { className: `pill ${user.is_active ? 'pill-ok' : 'pill-off'}` },
    user.is_active ? 'Active' : 'Deactivated')),
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
    say($('create-error'), `A username and a password of at least ${MIN_PASSWORD} characters are needed.`);
    return;
  }
  try {
    const created = await api('POST', '/api/admin/users', body);
    form.reset();
    say($('create-ok'), `Created ${created.display_name} (@${created.username}).`);
    await load();
  } catch (error) {
    say($('create-error'), error.message);
  }
}

async function setActive(user, active) {
  try {
    await api('PATCH', `/api/admin/users/${user.id}`, { is_active: active });
    say($('list-ok'), `${user.display_name} is ${active ? 'active again' : 'deactivated and logged out'}.`);
    await load();
  } catch (error) {
    say($('list-error'), error.message);
  }
}

function askPassword(user) {
  resetting = user;
  $('password-heading').textContent = `Reset password for ${user.display_name}`;
  $('password-form').reset();
  say($('password-error'), '');
  $('password-dialog').showModal();
  $('password-form').elements.password.focus();
}

async function setPassword(event) {
  event.preventDefault();
  const password = event.target.elements.password.value;
  if (password.length < MIN_PASSWORD) {
    say($('password-error'), `The password needs at least ${MIN_PASSWORD} characters.`);
    return;
  }
  try {
    await api('POST', `/api/admin/users/${resetting.id}/password`, { password });
  } catch (error) {
    say($('password-error'), error.message);
    return;
  }
  $('password-dialog').close();
  say($('list-ok'), `New password set for ${resetting.display_name}; their sessions were ended.`);
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
