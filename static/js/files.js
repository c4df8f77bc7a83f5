// Files in a message: images as thumbnails that open in a viewer, other files as cards with name and size.
import { h } from './dom.js';
import { formatNumber, t } from './i18n.js';

const UNITS = ['files.bytes', 'files.kb', 'files.mb', 'files.gb'];

export function formatSize(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return t(UNITS[unit], { count: unit ? formatNumber(value, value < 10 ? 1 : 0) : bytes });
}

let viewer = null;

/** The dialog showing a full image; built once. */
function openViewer(file) {
  if (!viewer) {
    viewer = h('dialog', { className: 'dialog image-viewer', dataset: { testid: 'image-viewer' } });
    viewer.addEventListener('click', (event) => { if (event.target === viewer) viewer.close(); });
    document.body.append(viewer);
  }
  viewer.replaceChildren(
    h('div', { className: 'dialog-head' },
      h('h2', { className: 'viewer-title' }, file.name),
      h('a', { href: file.url, download: file.name, className: 'link-button' }, t('files.download')),
      h('button', { type: 'button', className: 'icon-button', 'aria-label': t('common.close'), onClick: () => viewer.close() }, '✕')),
    h('img', { src: file.url, alt: file.name, className: 'viewer-image' }));
  viewer.showModal();
}

function fileView(file) {
  if (file.thumbnail_url) {
    return h('button', { type: 'button', className: 'file-thumb', title: file.name,
      dataset: { testid: 'file-thumbnail' }, onClick: () => openViewer(file) },
    h('img', { src: file.thumbnail_url, alt: file.name, loading: 'lazy' }));
  }
  return h('a', { href: file.url, download: file.name, className: 'file-card', dataset: { testid: 'file-card' } },
    h('span', { className: 'file-icon', 'aria-hidden': 'true' }, '📄'),
    h('span', { className: 'file-name' }, file.name),
    h('span', { className: 'file-size muted' }, formatSize(file.size)));
}

/** The files of a message, or null when it has none. */
export function filesView(files) {
  if (!files || !files.length) return null;
  return h('div', { className: 'files', dataset: { testid: 'message-files' } }, ...files.map(fileView));
}
