// The chat page's parts that only script adds to the template's HTML (their words come from the
// catalogs): the sidebar's Archived section and Browse channels buttons, the header's topic line and
// Channel settings and Pinned buttons, an archived chat's notice, and the footer's profile button.
import { h } from './dom.js';
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);

/** Add the parts to the page; returns them for chat.js to wire up. */
export function buildParts() {
  const archivedHeading = h('h2', { className: 'chat-section-heading', id: 'archived-heading' }, t('archive.section'));
  const archived = { ul: h('ul', { className: 'chat-list', id: 'archived-list', dataset: { testid: 'archived-list' },
    'aria-labelledby': 'archived-heading' }) };
  archived.section = h('section', { className: 'archived-section', hidden: true }, archivedHeading, archived.ul);
  $('chat-list').after(archived.section);
  // Beside "New conversation" (so Tab from "Find a conversation" still goes to the list), and on the empty pane.
  const browse = h('button', { type: 'button', className: 'icon-button', id: 'browse-channels',
    dataset: { testid: 'browse-channels' }, 'aria-label': t('channels.browse'), title: t('channels.browse') }, '#');
  $('new-chat-button').before(browse);
  const browseToo = h('button', { type: 'button', className: 'btn' }, t('channels.browse'));
  $('empty-new-chat').after(' ', browseToo);
  const topic = h('p', { className: 'chat-topic', id: 'chat-topic', dataset: { testid: 'chat-topic' }, hidden: true });
  $('chat-subtitle').after(topic);
  const settingsButton = h('button', { type: 'button', className: 'btn btn-small', id: 'settings-button',
    dataset: { testid: 'settings-button' }, hidden: true }, t('settings.open'));
  $('members-button').after(settingsButton);
  const pinsButton = h('button', { type: 'button', className: 'btn btn-small pins-button', id: 'pins-button',
    dataset: { testid: 'pins-button' }, 'aria-label': t('pins.title'), title: t('pins.title') },
  h('span', { 'aria-hidden': 'true' }, '📌'), h('span', { className: 'pins-label' }, ` ${t('pins.open')}`));
  $('members-button').before(pinsButton);
  const unarchiveButton = h('button', { type: 'button', className: 'btn btn-small', dataset: { testid: 'unarchive-notice' } },
    t('archive.unarchive'));
  const archivedNotice = h('div', { className: 'archived-notice', dataset: { testid: 'archived-notice' }, role: 'status', hidden: true },
    h('span', {}, t('archive.notice')), unarchiveButton, h('p', { className: 'form-error', role: 'alert' }));
  $('composer-form').before(archivedNotice);
  const meButton = h('button', { type: 'button', className: 'me-button', id: 'me-button', dataset: { testid: 'profile-button' },
    'aria-label': t('profile.edit'), title: t('profile.edit') });
  $('me-avatar').replaceWith(meButton);
  return { archived, browse, browseToo, topic, settingsButton, pinsButton, archivedNotice, unarchiveButton, meButton };
}
