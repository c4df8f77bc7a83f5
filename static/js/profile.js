// Profiles. ProfileDialog: your own name, picture (PUT /api/me/avatar, previewed before saving), status,
// email, time zone and password (POST /api/me/password, which signs out your other sessions). ProfileCard:
// someone else's name, status, presence, email and local time, with a "Message" button that opens your
// direct chat with them. rememberTimeZone: the browser's zone saved for someone who has none yet.
import { api, freshToken } from './api.js';
import { h, userAvatar } from './dom.js';
import { lang, relativeTime, t } from './i18n.js';
import { field, makeDialog, showError } from './dialogs.js';

const MAX_NAME = 64;
const MAX_STATUS = 100;
const MAX_EMOJI = 16;
const MAX_EMAIL = 254;

/** The IANA zone this browser runs in ("Europe/Moscow"). */
export function browserTimeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Save the browser's zone for ``user`` if they have none yet, so that others see their local time without
 * anyone opening the profile dialog (as Slack does); the updated user, or null when nothing was saved. */
export async function rememberTimeZone(user) {
  if (user.timezone || !browserTimeZone()) return null;
  return api('PATCH', '/api/me', { timezone: browserTimeZone() });
}

/** The time now in ``timeZone`` as messages show theirs ("2:05 PM", "14:05"); null if this browser does not know the zone. */
function timeIn(timeZone, now = new Date()) {
  try {
    return new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit', timeZone }).format(now);
  } catch {
    return null;
  }
}

/** The zones the select offers: the browser's list, plus ``extra`` ones it may lack (such as "UTC"). */
function zoneOptions(...extra) {
  const zones = new Set(Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : []);
  for (const zone of extra) if (zone) zones.add(zone);
  return [...zones].sort().map((zone) => h('option', { value: zone }, zone.replaceAll('_', ' ')));
}

/** PUT /api/me/avatar with the file as multipart field ``file``; the updated user. */
async function uploadAvatar(file) {
  const body = new FormData();
  body.append('file', file);
  const response = await fetch('/api/me/avatar', {
    method: 'PUT', body, headers: { Authorization: `Bearer ${await freshToken()}` },
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error((data && data.error && data.error.message) || `HTTP ${response.status}`);
  return data;
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener('load', () => resolve(reader.result));
    reader.addEventListener('error', () => reject(reader.error));
    reader.readAsDataURL(file);
  });
}

export class ProfileDialog {
  /** opts: {minPassword (served by the page), onSaved(user) (the user object the server answered)}. */
  constructor(opts) {
    this.opts = opts;
    const { dialog, body, foot } = makeDialog(t('profile.title'), { testid: 'profile-dialog' });
    this.dialog = dialog;
    this.picked = null;
    this.preview = h('span', { className: 'profile-preview' });
    this.fileInput = h('input', { type: 'file', accept: 'image/*', hidden: true, dataset: { testid: 'avatar-input' },
      'aria-label': t('profile.pickPicture') });
    this.fileInput.addEventListener('change', () => this.pick(this.fileInput.files[0]));
    this.name = h('input', { maxlength: String(MAX_NAME), autocomplete: 'name', required: true,
      dataset: { testid: 'profile-name' } });
    this.emoji = h('input', { maxlength: String(MAX_EMOJI), autocomplete: 'off', className: 'emoji-input',
      placeholder: '🙂', dataset: { testid: 'profile-emoji' } });
    this.status = h('input', { maxlength: String(MAX_STATUS), autocomplete: 'off', placeholder: t('profile.statusExample'),
      dataset: { testid: 'profile-status' } });
    this.email = h('input', { type: 'email', maxlength: String(MAX_EMAIL), autocomplete: 'email',
      placeholder: 'name@example.com', dataset: { testid: 'profile-email' } });
    this.timezone = h('select', { dataset: { testid: 'profile-timezone' } });
    this.error = h('p', { className: 'form-error', role: 'alert', hidden: true });
    this.saved = h('p', { className: 'form-ok', role: 'status', hidden: true });
    const save = h('button', { type: 'submit', className: 'btn btn-primary', dataset: { testid: 'profile-save' } },
      t('profile.save'));
    const profileForm = h('form', { className: 'stack', noValidate: true },
      h('div', { className: 'profile-picture' }, this.preview,
        h('button', { type: 'button', className: 'btn btn-small', dataset: { testid: 'avatar-pick' },
          onClick: () => this.fileInput.click() }, t('profile.pickPicture')),
        this.fileInput),
      field(t('profile.name'), this.name),
      h('div', { className: 'status-fields' }, field(t('profile.emoji'), this.emoji), field(t('profile.status'), this.status)),
      field(t('profile.email'), this.email), field(t('profile.timezone'), this.timezone),
      this.error, this.saved, h('div', { className: 'form-actions' }, save));
    profileForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save(save);
    });
    body.append(profileForm, this.passwordForm());
    foot.append(h('button', { type: 'button', className: 'btn', onClick: () => dialog.close() }, t('common.close')));
  }

  passwordForm() {
    const minlength = String(this.opts.minPassword);
    this.current = h('input', { type: 'password', autocomplete: 'current-password', dataset: { testid: 'current-password' } });
    this.next = h('input', { type: 'password', autocomplete: 'new-password', minlength, dataset: { testid: 'new-password' } });
    this.passwordError = h('p', { className: 'form-error', role: 'alert', hidden: true });
    this.passwordOk = h('p', { className: 'form-ok', role: 'status', dataset: { testid: 'password-changed' }, hidden: true });
    const form = h('form', { className: 'stack password-section', noValidate: true },
      h('h3', {}, t('profile.password')),
      field(t('profile.currentPassword'), this.current),
      field(t('profile.newPassword'), this.next),
      this.passwordError, this.passwordOk,
      h('div', { className: 'form-actions' },
        h('button', { type: 'submit', className: 'btn', dataset: { testid: 'password-save' } }, t('profile.changePassword'))));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.changePassword();
    });
    return form;
  }

  open(user) {
    this.user = user;
    this.picked = null;
    this.fileInput.value = '';
    this.name.value = user.display_name;
    this.emoji.value = user.status_emoji || '';
    this.status.value = user.status_text || '';
    this.email.value = user.email || '';
    const zone = user.timezone || browserTimeZone();
    this.timezone.replaceChildren(...zoneOptions(zone));
    this.timezone.value = zone;
    this.current.value = '';
    this.next.value = '';
    for (const node of [this.error, this.saved, this.passwordError, this.passwordOk]) showError(node, '');
    this.preview.replaceChildren(userAvatar(user, 'large'));
    this.dialog.showModal();
    this.name.focus();
  }

  /** A picture chosen: shown at once, uploaded on Save. */
  async pick(file) {
    if (!file) return;
    if (!file.type.startsWith('image/')) {
      showError(this.error, t('profile.notAnImage'));
      return;
    }
    showError(this.error, '');
    this.picked = file;
    const face = userAvatar({ ...this.user, display_name: this.name.value || this.user.display_name,
      avatar_url: await readAsDataUrl(file) }, 'large');
    face.dataset.testid = 'avatar-preview';
    this.preview.replaceChildren(face);
  }

  async save(button) {
    const display_name = this.name.value.trim();
    showError(this.saved, '');
    if (!display_name) {
      showError(this.error, t('profile.needsName'));
      this.name.focus();
      return;
    }
    button.disabled = true;
    try {
      let user = this.user;
      if (this.picked) user = await uploadAvatar(this.picked);
      this.picked = null;
      user = await api('PATCH', '/api/me', {
        display_name, status_text: this.status.value.trim(), status_emoji: this.emoji.value.trim(),
        email: this.email.value.trim() || null, timezone: this.timezone.value,
      });
      this.user = user;
      showError(this.error, '');
      showError(this.saved, t('profile.saved'));
      this.opts.onSaved(user);
    } catch (error) {
      showError(this.error, error.message);
    } finally {
      button.disabled = false;
    }
  }

  async changePassword() {
    showError(this.passwordOk, '');
    if (!this.current.value || this.next.value.length < this.opts.minPassword) {
      showError(this.passwordError, t('profile.passwordShort', { count: this.opts.minPassword }));
      return;
    }
    try {
      await api('POST', '/api/me/password', { current_password: this.current.value, new_password: this.next.value });
    } catch (error) {
      showError(this.passwordError, error.status === 403 ? t('profile.wrongPassword') : error.message);
      this.current.focus();
      return;
    }
    this.current.value = '';
    this.next.value = '';
    showError(this.passwordError, '');
    showError(this.passwordOk, t('profile.passwordChanged'));
  }
}

export class ProfileCard {
  /** opts: {me, isOnline(userId), onMessage(user) (open the direct chat with them)}. */
  constructor(opts) {
    this.opts = opts;
    const { dialog, body, foot } = makeDialog(t('profile.cardTitle'), { testid: 'profile-card', className: 'card-dialog' });
    this.dialog = dialog;
    this.body = body;
    this.foot = foot;
    this.error = h('p', { className: 'form-error', role: 'alert', hidden: true });
  }

  get isOpen() {
    return this.dialog.open;
  }

  open(user) {
    this.user = user;
    showError(this.error, '');
    this.render();
    this.dialog.showModal();
    this.foot.querySelector('button')?.focus();
  }

  /** Redraw (a `user_updated` or presence change) if the card shows ``userId``. */
  refresh(user) {
    if (this.isOpen && this.user && user.id === this.user.id) {
      this.user = { ...this.user, ...user };
      this.render();
    }
  }

  render() {
    const { user } = this;
    const online = this.opts.isOnline(user.id);
    const presence = online ? t('status.online')
      : (user.last_seen_at ? t('presence.lastSeen', { when: relativeTime(new Date(user.last_seen_at)) }) : t('status.offline'));
    const status = [user.status_emoji, user.status_text].filter(Boolean).join(' ');
    const face = userAvatar(user, 'large');
    face.append(h('span', { className: 'presence-dot', dataset: { online: String(online) } }));
    this.body.replaceChildren(
      h('div', { className: 'profile-head' }, face,
        h('div', { className: 'profile-names' },
          h('p', { className: 'profile-name', dataset: { testid: 'card-name' } }, user.display_name),
          user.username ? h('p', { className: 'muted' }, `@${user.username}`) : null)),
      status ? h('p', { className: 'profile-status', dataset: { testid: 'card-status' } }, status) : null,
      h('p', { className: 'muted', dataset: { testid: 'card-presence' } }, presence),
      user.email ? h('p', {}, h('a', { href: `mailto:${encodeURIComponent(user.email).replaceAll('%40', '@')}`, dataset: { testid: 'card-email' } }, user.email)) : null,
      this.localTime(user.timezone),
      this.error);
    const message = user.id === this.opts.me.id ? null
      : h('button', { type: 'button', className: 'btn btn-primary', dataset: { testid: 'card-message' },
        onClick: () => this.message() }, t('profile.message'));
    this.foot.replaceChildren(...[message,
      h('button', { type: 'button', className: 'btn', onClick: () => this.dialog.close() }, t('common.close'))].filter(Boolean));
  }

  /** "2:05 PM local time (America/New York)", or null without a zone this browser knows. */
  localTime(timeZone) {
    const time = timeZone && timeIn(timeZone);
    if (!time) return null;
    return h('p', { className: 'muted', dataset: { testid: 'card-local-time' } },
      t('profile.localTime', { time, zone: timeZone.replaceAll('_', ' ') }));
  }

  async message() {
    try {
      await this.opts.onMessage(this.user);
      this.dialog.close();
    } catch (error) {
      showError(this.error, error.message);
    }
  }
}
