// Editing and deleting one's own messages in place: the Edit and Delete buttons, the edit box
// (Enter saves, Escape cancels) and the "Delete this message?" question inside the bubble.
// At most one message is being edited and one awaits a yes; the message pane draws them.
import { h } from './dom.js';
import { formatNumber, t } from './i18n.js';

export class MessageEditing {
  /**
   * opts: {list (the message list element), maxText (served by the page), find(id) -> message,
   * render() (redraw the pane), onEdit(message, text) -> Promise, onDelete(message) -> Promise}.
   */
  constructor(opts) {
    this.opts = opts;
    this.reset();
  }

  reset() {
    this.editor = null; // {id, input, error, busy}: the own message being edited
    this.confirming = null; // {id, error, busy}: the own message whose deletion awaits a yes
  }

  editorFor(id) {
    return this.editor && this.editor.id === id ? this.editor : null;
  }

  confirmingFor(id) {
    return this.confirming && this.confirming.id === id ? this.confirming : null;
  }

  /** The message is gone: forget its edit box or question. */
  forget(id) {
    if (this.editorFor(id)) this.editor = null;
    if (this.confirmingFor(id)) this.confirming = null;
  }

  start(message) {
    this.confirming = null;
    const input = h('textarea', {
      className: 'edit-input', rows: 1, 'aria-label': t('edit.label'), dataset: { testid: 'edit-input' },
      onKeydown: (event) => {
        if (event.key === 'Escape') {
          event.preventDefault();
          event.stopPropagation();
          this.cancel();
        } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey) {
          event.preventDefault();
          this.save();
        }
      },
      onInput: () => {
        this.size();
        if (this.editor.error) this.setError('');
      },
    });
    input.value = message.text;
    this.editor = { id: message.id, input, error: '', busy: false };
    this.opts.render();
    this.size();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  size() {
    const { input } = this.editor;
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, 240)}px`;
  }

  setError(text) {
    this.editor.error = text;
    this.opts.render();
    this.editor.input.focus();
  }

  cancel() {
    const id = this.editor && this.editor.id;
    this.editor = null;
    this.opts.render();
    this.focusAction(id, 'edit-message');
  }

  async save() {
    const editor = this.editor;
    if (!editor || editor.busy) return;
    const message = this.opts.find(editor.id);
    const text = editor.input.value.trim();
    const { maxText } = this.opts;
    if (!text) {
      this.setError(t('edit.empty'));
      return;
    }
    if (text.length > maxText) {
      this.setError(t('composer.tooLong', { count: text.length, limit: formatNumber(maxText) }));
      return;
    }
    if (!message || text === message.text) {
      this.cancel();
      return;
    }
    editor.busy = true;
    editor.error = '';
    this.opts.render();
    try {
      await this.opts.onEdit(message, text);
    } catch (error) {
      if (this.editor !== editor) return;
      editor.busy = false;
      this.setError(t('edit.notSaved', { reason: error.message }));
      return;
    }
    if (this.editor === editor) this.cancel();
  }

  askDelete(message) {
    this.editor = null;
    this.confirming = { id: message.id, error: '', busy: false };
    this.opts.render();
    this.focusAction(message.id, 'confirm-delete');
  }

  cancelDelete() {
    const id = this.confirming && this.confirming.id;
    this.confirming = null;
    this.opts.render();
    this.focusAction(id, 'delete-message');
  }

  async confirmDelete() {
    const confirming = this.confirming;
    if (!confirming || confirming.busy) return;
    const message = this.opts.find(confirming.id);
    if (!message) return;
    confirming.busy = true;
    confirming.error = '';
    this.opts.render();
    try {
      await this.opts.onDelete(message);
    } catch (error) {
      if (this.confirming !== confirming) return;
      confirming.busy = false;
      confirming.error = t('edit.notDeleted', { reason: error.message });
      this.opts.render();
      this.focusAction(confirming.id, 'confirm-delete');
    }
  }

  focusAction(id, testid) {
    const node = id && this.opts.list.querySelector(`[data-message-id="${id}"] [data-testid="${testid}"]`);
    if (node) node.focus();
  }

  /** Edit and Delete, shown on hover or keyboard focus of one's own stored messages. */
  actions(message) {
    return h('div', { className: 'message-actions', role: 'group', 'aria-label': t('message.actions') },
      h('button', {
        type: 'button', className: 'action-button', dataset: { testid: 'edit-message' },
        title: t('edit.editTitle'), onClick: () => this.start(message),
      }, t('edit.edit')),
      h('button', {
        type: 'button', className: 'action-button danger', dataset: { testid: 'delete-message' },
        title: t('edit.deleteTitle'), onClick: () => this.askDelete(message),
      }, t('edit.delete')));
  }

  editorBox(editor) {
    return h('div', { className: 'edit-box' },
      editor.input,
      editor.error ? h('p', { className: 'edit-error', role: 'alert', dataset: { testid: 'edit-error' } },
        editor.error) : null,
      h('div', { className: 'edit-foot' },
        h('span', { className: 'edit-hint' }, editor.busy ? t('edit.saving') : t('edit.hint')),
        h('button', { type: 'button', className: 'btn btn-small edit-cancel', disabled: editor.busy,
          onClick: () => this.cancel() }, t('common.cancel')),
        h('button', { type: 'button', className: 'btn btn-small edit-save', disabled: editor.busy,
          dataset: { testid: 'edit-save' }, onClick: () => this.save() }, t('edit.save'))));
  }

  confirmBox(confirming) {
    const escape = (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.cancelDelete();
      }
    };
    return h('div', {
      className: 'delete-confirm', role: 'group', 'aria-label': t('edit.confirmLabel'),
      dataset: { testid: 'delete-confirm' }, onKeydown: escape,
    },
    h('span', { className: 'delete-question' }, confirming.busy ? t('edit.deleting') : t('edit.question')),
    h('button', { type: 'button', className: 'btn btn-small btn-danger', disabled: confirming.busy,
      dataset: { testid: 'confirm-delete' }, onClick: () => this.confirmDelete() }, t('edit.delete')),
    h('button', { type: 'button', className: 'btn btn-small', disabled: confirming.busy,
      dataset: { testid: 'cancel-delete' }, onClick: () => this.cancelDelete() }, t('common.cancel')),
    confirming.error ? h('p', { className: 'edit-error', role: 'alert' }, confirming.error) : null);
  }
}
