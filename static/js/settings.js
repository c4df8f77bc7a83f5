// Channel settings, from the chat header: name and topic (any member), visibility and "default channel"
// (the owner or an administrator), members, leaving, archiving and unarchiving (the owner or an
// administrator). Only what the user may do is shown; the server checks it again (PATCH /api/chats/{id}).
import { api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { field, makeDialog, showError } from './dialogs.js';

const MAX_TOPIC = 250;

/** Whether ``me`` may change a group's visibility, default flag and archive state. */
export function mayManage(chat, me) {
  return chat.type === 'group' && (chat.role === 'owner' || me.isAdmin);
}

export class ChatSettings {
  /**
   * opts: {me: {id, isAdmin}, maxTitle (served by the page), onChanged(chat) (the server's answer),
   * onMembers(chatId) (open the members dialog), onLeave(chatId) (open the leave question)}.
   */
  constructor(opts) {
    this.opts = opts;
    const { dialog, body, foot, title } = makeDialog(t('settings.title'), { testid: 'chat-settings' });
    this.dialog = dialog;
    this.heading = title;
    this.body = body;
    this.foot = foot;
    this.error = h('p', { className: 'form-error', role: 'alert', hidden: true });
    this.ok = h('p', { className: 'form-ok', role: 'status', hidden: true });
  }

  open(chat) {
    this.chat = chat;
    this.render();
    this.dialog.showModal();
    (this.body.querySelector('input') || this.body.querySelector('button')).focus();
  }

  /** Redraw for the chat's new state (someone's role changed) if the dialog is showing it. */
  refresh(chat) {
    if (!this.dialog.open || this.chat.id !== chat.id) return;
    this.chat = chat;
    this.render();
  }

  render() {
    const { chat } = this;
    const { me } = this.opts;
    const manage = mayManage(chat, me);
    this.heading.textContent = t('settings.titleOf', { title: chat.title });
    showError(this.error, '');
    showError(this.ok, '');
    const parts = [];
    if (!chat.archived) parts.push(this.form(manage));
    else parts.push(h('p', { className: 'muted' }, t('archive.notice')));
    parts.push(h('div', { className: 'settings-actions' },
      h('button', { type: 'button', className: 'btn', dataset: { testid: 'settings-members' },
        onClick: () => { this.dialog.close(); this.opts.onMembers(chat.id); } }, t('settings.members')),
      manage ? h('button', { type: 'button', className: 'btn', dataset: { testid: chat.archived ? 'unarchive' : 'archive' },
        onClick: () => this.change({ archived: !chat.archived }) },
      chat.archived ? t('archive.unarchive') : t('archive.archive')) : null,
      h('button', { type: 'button', className: 'btn btn-danger-ghost', dataset: { testid: 'settings-leave' },
        onClick: () => { this.dialog.close(); this.opts.onLeave(chat.id); } }, t('settings.leave'))));
    parts.push(this.error, this.ok);
    this.body.replaceChildren(...parts);
    this.foot.replaceChildren(h('button', { type: 'button', className: 'btn', onClick: () => this.dialog.close() },
      t('common.close')));
  }

  /** Name and topic for every member; visibility and default only for the owner or an administrator. */
  form(manage) {
    const { chat } = this;
    const title = h('input', { value: chat.title, maxlength: String(this.opts.maxTitle), autocomplete: 'off',
      dataset: { testid: 'settings-name' } });
    const topic = h('input', { value: chat.topic || '', maxlength: String(MAX_TOPIC), autocomplete: 'off',
      placeholder: t('settings.topicHint'), dataset: { testid: 'settings-topic' } });
    const visibility = h('input', { type: 'checkbox', checked: chat.visibility === 'public', dataset: { testid: 'settings-public' } });
    const isDefault = h('input', { type: 'checkbox', checked: Boolean(chat.default), dataset: { testid: 'settings-default' } });
    const onlyIfPublic = () => { // the server keeps default channels public
      isDefault.disabled = !visibility.checked;
      if (!visibility.checked) isDefault.checked = false;
    };
    visibility.addEventListener('change', onlyIfPublic);
    onlyIfPublic();
    const form = h('form', { className: 'stack', noValidate: true },
      field(t('settings.name'), title),
      field(t('settings.topic'), topic),
      manage ? h('label', { className: 'check' }, visibility, t('settings.public')) : null,
      manage ? h('label', { className: 'check' }, isDefault, t('settings.default')) : null,
      h('div', { className: 'form-actions' },
        h('button', { type: 'submit', className: 'btn btn-primary', dataset: { testid: 'settings-save' } }, t('settings.save'))));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const changes = {};
      if (title.value.trim() && title.value.trim() !== chat.title) changes.title = title.value.trim();
      if (topic.value.trim() !== (chat.topic || '')) changes.topic = topic.value.trim();
      if (manage && visibility.checked !== (chat.visibility === 'public')) changes.visibility = visibility.checked ? 'public' : 'private';
      if (manage && isDefault.checked !== Boolean(chat.default)) changes.default = isDefault.checked;
      if (!title.value.trim()) showError(this.error, t('group.needsName'));
      else if (Object.keys(changes).length) this.change(changes);
      else showError(this.ok, t('settings.saved'));
    });
    return form;
  }

  async change(changes) {
    let chat;
    try {
      chat = await api('PATCH', `/api/chats/${this.chat.id}`, changes);
    } catch (error) {
      showError(this.error, error.message);
      return;
    }
    this.chat = { ...this.chat, ...chat };
    this.opts.onChanged(this.chat);
    this.render();
    showError(this.ok, t('settings.saved'));
    // Focus stays in the dialog: on the button that undoes an archiving, else on the form's first field.
    (this.body.querySelector('[data-testid="unarchive"]') || this.body.querySelector('input')).focus();
  }
}
