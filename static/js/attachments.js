// Files attached in the composer: picked with the button, dropped on the conversation or pasted.
// Each uploads at once (XMLHttpRequest, for its progress events) and can be cancelled or removed;
// the message then carries the uploaded files' ids.
import { freshToken } from './api.js';
import { h } from './dom.js';
import { formatSize } from './files.js';
import { t } from './i18n.js';

const MAX_FILES = 10;

const isUploading = (item) => !item.stored && !item.error;

export class Attachments {
  /** els: {tray, button, input, dropZone}; opts: {maxBytes (served by the page), onError(text), onChange()}. */
  constructor(els, opts) {
    Object.assign(this, els);
    this.opts = opts;
    this.items = [];
    this.button.addEventListener('click', () => this.input.click());
    this.input.addEventListener('change', () => {
      this.add([...this.input.files]);
      this.input.value = '';
    });
    this.dropZone.addEventListener('dragover', (event) => {
      if (![...event.dataTransfer.types].includes('Files')) return;
      event.preventDefault();
      this.dropZone.classList.add('dropping');
    });
    this.dropZone.addEventListener('dragleave', (event) => {
      if (!this.dropZone.contains(event.relatedTarget)) this.dropZone.classList.remove('dropping');
    });
    this.dropZone.addEventListener('drop', (event) => {
      this.dropZone.classList.remove('dropping');
      if (!event.dataTransfer.files.length) return;
      event.preventDefault();
      this.add([...event.dataTransfer.files]);
    });
  }

  /** Pasted files (screenshots): call from the composer's paste event; true when it took them. */
  paste(event) {
    const files = [...(event.clipboardData?.files || [])];
    if (!files.length) return false;
    event.preventDefault();
    this.add(files);
    return true;
  }

  add(files) {
    for (const file of files) {
      if (this.items.length >= MAX_FILES) {
        this.opts.onError(t('files.tooMany', { count: MAX_FILES }));
        break;
      }
      if (file.size > this.opts.maxBytes) {
        this.opts.onError(t('files.tooBig', { name: file.name, size: formatSize(file.size), max: formatSize(this.opts.maxBytes) }));
        continue;
      }
      const item = { file, loaded: 0, stored: null, error: null, xhr: null, cancelled: false };
      this.items.push(item);
      this.upload(item);
    }
    this.render();
  }

  async upload(item) {
    const token = await freshToken().catch(() => null);
    if (item.cancelled) return;
    const xhr = new XMLHttpRequest();
    item.xhr = xhr;
    item.error = null;
    xhr.open('POST', '/api/files');
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (event) => {
      item.loaded = event.loaded;
      this.renderProgress(item);
    });
    xhr.addEventListener('load', () => {
      item.xhr = null;
      if (xhr.status === 201) item.stored = xhr.response;
      else item.error = xhr.response?.error?.message || t('files.failedStatus', { status: xhr.status });
      this.render();
    });
    xhr.addEventListener('error', () => {
      item.xhr = null;
      item.error = t('files.failedOffline');
      this.render();
    });
    const form = new FormData();
    form.append('file', item.file, item.file.name || 'pasted-file');
    xhr.send(form);
  }

  remove(item) {
    item.cancelled = true;
    if (item.xhr) item.xhr.abort();
    this.items = this.items.filter((other) => other !== item);
    this.render();
  }

  uploading() {
    return this.items.some(isUploading);
  }

  /** Uploaded files, ready to send. */
  ready() {
    return this.items.filter((item) => item.stored).map((item) => item.stored);
  }

  clear() {
    for (const item of this.items) this.remove(item);
    this.render();
  }

  renderProgress(item) {
    if (item.bar) item.bar.value = item.loaded;
  }

  render() {
    this.tray.hidden = !this.items.length;
    this.tray.replaceChildren(...this.items.map((item) => {
      const busy = isUploading(item);
      item.bar = busy ? h('progress', { max: item.file.size || 1, value: item.loaded,
        dataset: { testid: 'upload-progress' }, 'aria-label': t('files.uploading', { name: item.file.name }) }) : null;
      const state = item.error ? h('span', { className: 'upload-error', role: 'alert' }, item.error)
        : item.stored ? h('span', { className: 'muted' }, formatSize(item.stored.size)) : item.bar;
      return h('li', { className: `attachment ${item.error ? 'failed' : ''}`.trim(), dataset: { testid: 'attachment' } },
        h('span', { className: 'attachment-name' }, item.file.name || t('files.pasted')),
        state,
        h('button', {
          type: 'button', className: 'icon-button', dataset: { testid: 'attachment-remove' },
          'aria-label': t(busy ? 'files.cancelUploading' : 'people.remove', { name: item.file.name }),
          title: busy ? t('files.cancel') : t('files.remove'), onClick: () => this.remove(item),
        }, '✕'));
    }));
    this.opts.onChange();
  }
}
