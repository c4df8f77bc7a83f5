// Dialogs: start a direct chat or a group; see, add, remove and leave a group's members and make owners. Also the
// pieces the other dialogs (channels.js, profile.js, settings.js) are built from.
import { api } from './api.js';
import { h, userAvatar } from './dom.js';
import { t } from './i18n.js';

export function showError(node, text) {
  node.textContent = text;
  node.hidden = !text;
}

let dialogCount = 0;

/** A modal dialog built in script: {dialog, body, foot}; its heading labels it, ✕ and the backdrop close it. */
export function makeDialog(heading, { testid, className = '' } = {}) {
  dialogCount += 1;
  const headingId = `dialog-heading-${dialogCount}`;
  const body = h('div', { className: 'dialog-body stack' });
  const foot = h('div', { className: 'dialog-foot' });
  const title = h('h2', { id: headingId }, heading);
  const dialog = h('dialog', { className: `dialog ${className}`.trim(), 'aria-labelledby': headingId, dataset: { testid } },
    h('div', { className: 'dialog-head' }, title,
      h('button', { type: 'button', className: 'icon-button', dataset: { close: '' }, 'aria-label': t('common.close') }, '✕')),
    body, foot);
  document.body.append(dialog);
  wireClose(dialog);
  return { dialog, body, foot, title };
}

/** A labelled input: h('label.field', text, input). */
export function field(label, input) {
  return h('label', { className: 'field' }, h('span', {}, label), input);
}

export function wireClose(dialog) {
  for (const button of dialog.querySelectorAll('[data-close]')) {
    button.addEventListener('click', () => dialog.close());
  }
  // A click on the backdrop (outside the dialog box) closes it too.
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close();
  });
}

/** One person: avatar with presence, name and username, and an optional trailing label. */
export function personRow(user, isOnline, trailing = null, props = {}) {
  const face = userAvatar(user);
  const online = isOnline(user.id);
  face.append(h('span', { className: 'presence-dot', dataset: { online: String(online) },
    title: online ? t('status.online') : t('status.offline') }));
  return h(props.onClick ? 'button' : 'div', { type: props.onClick ? 'button' : null, className: 'person', ...props },
    face,
    h('span', { className: 'person-text' },
      h('span', { className: 'person-name' }, user.display_name),
      h('span', { className: 'person-username muted' }, `@${user.username}`)),
    trailing ? h('span', { className: 'person-trailing' }, trailing) : null);
}

/** Search people as the user types (GET /api/users?q=). */
function peopleSearch(input, list, { exclude, row }) {
  let timer = null;
  let sequence = 0;
  const run = async () => {
    const mine = ++sequence;
    let users;
    try {
      users = (await api('GET', `/api/users?limit=20&q=${encodeURIComponent(input.value.trim())}`)).users;
    } catch (error) {
      list.replaceChildren(h('li', { className: 'people-empty' }, t('people.searchFailed', { reason: error.message })));
      return;
    }
    if (mine !== sequence) return;
    const shown = users.filter((u) => !exclude().has(u.id));
    list.replaceChildren(...(shown.length
      ? shown.map((u) => h('li', {}, row(u)))
      : [h('li', { className: 'people-empty muted' }, t('people.none'))]));
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, 200);
  });
  return run;
}

export class NewChatDialog {
  /** opts: {me, isOnline, onChat(chat)} — onChat gets the created (or existing) chat. */
  constructor(dialog, opts) {
    this.dialog = dialog;
    this.opts = opts;
    this.selected = new Map();
    this.title = dialog.querySelector('#group-title');
    this.search = dialog.querySelector('#people-search');
    this.results = dialog.querySelector('#people-results');
    this.chips = dialog.querySelector('#group-chips');
    this.error = dialog.querySelector('#new-chat-error');
    this.visibility = this.visibilityChoice();
    this.title.closest('label').after(this.visibility);
    wireClose(dialog);
    for (const tab of dialog.querySelectorAll('[role="tab"]')) {
      tab.addEventListener('click', () => this.setMode(tab.dataset.mode));
    }
    dialog.querySelector('#create-group').addEventListener('click', () => this.createGroup());
    this.refresh = peopleSearch(this.search, this.results, {
      exclude: () => new Set([opts.me.id]),
      row: (user) => this.row(user),
    });
  }

  /** Private (the default: only people added see it) or public (in the channel directory, anyone may join). */
  visibilityChoice() {
    const option = (value, label, hint) => h('label', { className: 'check choice' },
      h('input', { type: 'radio', name: 'visibility', value, dataset: { testid: `visibility-${value}` } }),
      h('span', {}, h('strong', {}, label), h('span', { className: 'muted choice-hint' }, hint)));
    return h('fieldset', { className: 'choices group-only' },
      h('legend', {}, t('group.visibility')),
      option('private', t('group.private'), t('group.privateHint')),
      option('public', t('group.public'), t('group.publicHint')));
  }

  open(mode = 'direct') {
    this.selected.clear();
    this.visibility.querySelector('[value="private"]').checked = true;
    this.title.value = '';
    this.search.value = '';
    showError(this.error, '');
    this.setMode(mode);
    this.dialog.showModal();
    (mode === 'group' ? this.title : this.search).focus();
  }

  setMode(mode) {
    this.mode = mode;
    this.dialog.dataset.mode = mode;
    for (const tab of this.dialog.querySelectorAll('[role="tab"]')) {
      tab.setAttribute('aria-selected', String(tab.dataset.mode === mode));
    }
    this.renderChips();
    this.refresh();
  }

  row(user) {
    if (this.mode === 'direct') {
      return personRow(user, this.opts.isOnline, t('people.message'), { onClick: () => this.openDirect(user) });
    }
    const chosen = this.selected.has(user.id);
    return personRow(user, this.opts.isOnline, chosen ? t('people.added') : t('people.add'), {
      onClick: () => this.toggle(user), 'aria-pressed': String(chosen),
    });
  }

  toggle(user) {
    if (this.selected.has(user.id)) this.selected.delete(user.id);
    else this.selected.set(user.id, user);
    this.renderChips();
    this.refresh();
  }

  renderChips() {
    this.chips.replaceChildren(...[...this.selected.values()].map((user) => h('li', { className: 'chip' },
      user.display_name,
      h('button', { type: 'button', 'aria-label': t('people.remove', { name: user.display_name }),
        onClick: () => this.toggle(user) }, '✕'))));
  }

  async openDirect(user) {
    try {
      this.done(await api('POST', '/api/chats', { type: 'direct', user_id: user.id }));
    } catch (error) {
      showError(this.error, error.message);
    }
  }

  async createGroup() {
    const title = this.title.value.trim();
    if (!title) {
      showError(this.error, t('group.needsName'));
      this.title.focus();
      return;
    }
    try {
      const visibility = this.visibility.querySelector(':checked').value;
      this.done(await api('POST', '/api/chats', { type: 'group', title, visibility, member_ids: [...this.selected.keys()] }));
    } catch (error) {
      showError(this.error, error.message);
    }
  }

  done(chat) {
    this.dialog.close();
    this.opts.onChat(chat);
  }
}

export class MembersDialog {
  /** opts: {me: {id, isAdmin}, isOnline, onLeave(chatId), onPerson(userId) (show their profile card)}. */
  constructor(dialog, opts) {
    this.dialog = dialog;
    this.opts = opts;
    this.chat = null;
    this.heading = dialog.querySelector('#members-heading');
    this.members = dialog.querySelector('#member-list');
    this.search = dialog.querySelector('#member-search');
    this.results = dialog.querySelector('#member-results');
    this.error = dialog.querySelector('#members-error');
    this.confirm = dialog.querySelector('#leave-confirm');
    this.leaveButton = dialog.querySelector('#leave-button');
    wireClose(dialog);
    this.leaveButton.addEventListener('click', () => this.askLeave(true));
    dialog.querySelector('#leave-no').addEventListener('click', () => this.askLeave(false));
    dialog.querySelector('#leave-yes').addEventListener('click', () => this.leave());
    this.refreshSearch = peopleSearch(this.search, this.results, {
      exclude: () => new Set(this.chat ? this.chat.members.map((m) => m.id) : []),
      row: (user) => personRow(user, opts.isOnline, t('people.add'), { onClick: () => this.add(user) }),
    });
  }

  get isOpen() {
    return this.dialog.open;
  }

  async open(chatId) {
    this.search.value = '';
    showError(this.error, '');
    this.askLeave(false);
    this.results.replaceChildren();
    this.dialog.showModal();
    await this.reload(chatId);
    this.refreshSearch();
  }

  /** Fetch the chat again (GET /api/chats/{id}) and redraw the member list. */
  async reload(chatId) {
    try {
      this.chat = await api('GET', `/api/chats/${chatId}`);
    } catch (error) {
      showError(this.error, error.message);
      return;
    }
    this.heading.textContent = t('group.membersOf', { title: this.chat.title });
    this.renderMembers();
  }

  renderMembers() {
    const { me } = this.opts;
    // Owners and administrators manage members; the server checks it again.
    const manage = (this.chat.role === 'owner' || me.isAdmin) && !this.chat.archived;
    const rows = this.chat.members.map((member) => h('li', { className: 'member-row', dataset: { userId: String(member.id) } },
      personRow(member, this.opts.isOnline,
        [member.id === me.id ? t('common.you') : '', member.role === 'owner' ? t('group.owner') : '']
          .filter(Boolean).join(' · '),
        { onClick: () => this.opts.onPerson(member.id), title: t('profile.show') }),
      manage ? h('span', { className: 'member-actions' }, this.roleButton(member),
        member.id !== me.id ? h('button', {
          type: 'button', className: 'btn btn-small btn-danger-ghost', dataset: { testid: 'remove-member' },
          'aria-label': t('group.removeMember', { name: member.display_name }),
          onClick: () => this.remove(member),
        }, t('group.remove')) : null) : null));
    this.members.replaceChildren(...rows);
    const closed = Boolean(this.chat.archived); // nobody joins an archived group
    this.search.closest('label').hidden = closed;
    this.results.hidden = closed;
  }

  /** "Make owner", or "Remove owner" (a group keeps at least one owner: the server says so if not). */
  roleButton(member) {
    const owner = member.role === 'owner';
    return h('button', {
      type: 'button', className: 'btn btn-small', dataset: { testid: owner ? 'remove-owner' : 'make-owner' },
      'aria-label': t(owner ? 'group.removeOwnerOf' : 'group.makeOwnerOf', { name: member.display_name }),
      onClick: () => this.setRole(member, owner ? 'member' : 'owner'),
    }, t(owner ? 'group.removeOwner' : 'group.makeOwner'));
  }

  async setRole(member, role) {
    try {
      this.chat = await api('PATCH', `/api/chats/${this.chat.id}/members/${member.id}`, { role });
    } catch (error) {
      showError(this.error, error.message);
      return;
    }
    showError(this.error, '');
    this.renderMembers();
  }

  async remove(member) {
    try {
      await api('DELETE', `/api/chats/${this.chat.id}/members/${member.id}`);
    } catch (error) {
      showError(this.error, error.message);
      return;
    }
    await this.reload(this.chat.id);
  }

  async add(user) {
    try {
      const answer = await api('POST', `/api/chats/${this.chat.id}/members`, { user_ids: [user.id] });
      this.chat = answer.chat;
      this.renderMembers();
      this.refreshSearch();
    } catch (error) {
      showError(this.error, error.message);
    }
  }

  askLeave(show) {
    this.confirm.hidden = !show;
    this.leaveButton.hidden = show;
    if (show) this.dialog.querySelector('#leave-yes').focus();
  }

  async leave() {
    try {
      await api('DELETE', `/api/chats/${this.chat.id}/members/${this.opts.me.id}`);
    } catch (error) {
      showError(this.error, error.message);
      return;
    }
    this.dialog.close();
    this.opts.onLeave(this.chat.id);
  }
}
