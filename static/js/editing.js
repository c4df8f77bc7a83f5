// Editing and deleting one's own messages in place: the Edit and Delete buttons, the edit box
// (Enter saves, Escape cancels) and the "Delete this message?" question inside the bubble.
// At most one message is being edited and one awaits a yes; the message pane draws them.
import { h } from './dom.js';

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
      className: 'edit-input', rows: 1, 'aria-label': 'Edit message', dataset: { testid: 'edit-input' },
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
      this.setError('Type a message before saving, or delete the message instead.');
      return;
    }
    if (text.length > maxText) {
      this.setError(`This message is ${text.length.toLocaleString()} characters long; `
        + `the limit is ${maxText.toLocaleString()}.`);
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
      this.setError(`Not saved: ${error.message}`);
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
      confirming.error = `Not deleted: ${error.message}`;
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
    return h('div', { className: 'message-actions', role: 'group', 'aria-label': 'Message actions' },
      h('button', {
        type: 'button', className: 'action-button', dataset: { testid: 'edit-message' },
        title: 'Edit this message', onClick: () => this.start(message),
      }, 'Edit'),
      h('button', {
        type: 'button', className: 'action-button danger', dataset: { testid: 'delete-message' },
        title: 'Delete this message', onClick: () => this.askDelete(message),
      }, 'Delete'));
  }

  editorBox(editor) {
    return h('div', { className: 'edit-box' },
      editor.input,
      editor.error ? h('p', { className: 'edit-error', role: 'alert', dataset: { testid: 'edit-error' } },
        editor.error) : null,
      h('div', { className: 'edit-foot' },
        h('span', { className: 'edit-hint' }, editor.busy ? 'Saving…' : 'Enter to save · Esc to cancel'),
        h('button', { type: 'button', className: 'btn btn-small edit-cancel', disabled: editor.busy,
          onClick: () => this.cancel() }, 'Cancel'),
        h('button', { type: 'button', className: 'btn btn-small edit-save', disabled: editor.busy,
          dataset: { testid: 'edit-save' }, onClick: () => this.save() }, 'Save')));
  }

  confirmBox(confirming) {
    const escape = (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.cancelDelete();
      }
    };
    return h('div', {
      className: 'delete-confirm', role: 'group', 'aria-label': 'Confirm deletion',
      dataset: { testid: 'delete-confirm' }, onKeydown: escape,
    },
    h('span', { className: 'delete-question' }, confirming.busy ? 'Deleting…' : 'Delete this message?'),
    h('button', { type: 'button', className: 'btn btn-small btn-danger', disabled: confirming.busy,
      dataset: { testid: 'confirm-delete' }, onClick: () => this.confirmDelete() }, 'Delete'),
    h('button', { type: 'button', className: 'btn btn-small', disabled: confirming.busy,
      dataset: { testid: 'cancel-delete' }, onClick: () => this.cancelDelete() }, 'Cancel'),
    confirming.error ? h('p', { className: 'edit-error', role: 'alert' }, confirming.error) : null);
  }
}
