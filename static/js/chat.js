// The chat page: wires the socket, chat list, open conversation, message pane, composer, outbox and
// dialogs together, and applies the server's frames to them.
import { api, startSession, wireLogout } from './api.js';
import { ConnectionBanner } from './banner.js';
import { CatchUp } from './catchup.js';
import { ChannelDirectory } from './channels.js';
import { ChatList } from './chatlist.js';
import { languageSwitch } from './locale.js';
import { Attachments } from './attachments.js';
import { Composer } from './composer.js';
import { Conversation } from './conversation.js';
import { MembersDialog, NewChatDialog } from './dialogs.js';
import { userAvatar } from './dom.js';
import { Drafts } from './drafts.js';
import { t } from './i18n.js';
import { MentionPicker } from './mentions.js';
import { MessagePane } from './messages.js';
import { Notifier } from './notify.js';
import { Outbox } from './outbox.js';
import { PinsDialog, setPinned } from './pins.js';
import { buildParts } from './pageparts.js';
import { ProfileCard, ProfileDialog, rememberTimeZone } from './profile.js';
import { Reactions } from './reactions.js';
import { ReplyBar } from './replies.js';
import { MessageSearch } from './search.js';
import { ChatSettings } from './settings.js';
import { Socket } from './socket.js';
import { TypingLine } from './typing.js';

const $ = (id) => document.getElementById(id);
const root = $('app');
const me = { id: Number(root.dataset.userId), name: root.dataset.displayName, isAdmin: root.dataset.isAdmin === 'true' };
// Limits the server enforces, served on the page: the browser keeps no copy of them.
const maxText = Number(root.dataset.maxText);
const RETRYABLE = new Set(['db_unavailable', 'disk_full', 'internal_error', 'rate_limited']); // other send errors need the user
const CHAT_FIELDS = ['title', 'topic', 'visibility', 'archived', 'default']; // what a chat_updated frame may change
const parts = buildParts();

const online = new Set();
const fetching = new Set();
const isOnline = (id) => online.has(id);
const list = new ChatList($('chat-list'), { me, isOnline, empty: $('chat-list-empty'), archived: parts.archived });
const outbox = new Outbox({
  userId: me.id, maxText, maxIdLength: Number(root.dataset.maxClientMsgId), send: (f) => socket.send(f),
  onFailed: (entry) => entry.chat_id === view.id && pane.render(),
});
const pane = new MessagePane(
  { scroller: $('messages'), list: $('message-list'), status: $('history-status') },
  {
    me,
    maxText,
    pendingFor: (chatId) => outbox.forChat(chatId),
    onLoaded: (newestId) => { catchUp.seen(newestId); readOpenChat(); },
    onRetry: (clientMsgId) => outbox.retry(clientMsgId) && pane.render({ toBottom: true }),
    onDiscard: discard,
    onEdit: async (message, text) => changed(await api('PATCH', `/api/messages/${message.id}`, { text })),
    onDelete: async (message) => changed(await api('DELETE', `/api/messages/${message.id}`)),
    membersOf: (chatId) => list.get(chatId)?.members,
    onReply: (message) => {
      replyBar.set(message);
      pane.render(); // the bar took room: stay at the bottom if the list was there
    },
    onPickReaction: (message, anchor) => reactions.pick(message, anchor),
    onReact: (message, emoji, add) => reactions.toggle(message, emoji, add),
    onPin: async (message, pinned) => {
      try {
        pane.setPinned({ message_id: message.id, pinned: (await setPinned(message, pinned)).pinned });
      } catch (error) {
        composer.showError(t('pins.failed', { reason: error.message }), 5000);
      }
    },
    isArchived: (chatId) => Boolean(list.get(chatId)?.archived),
    onPerson: showPerson,
  });
const replyBar = new ReplyBar($('reply-bar'), $('composer-input'));
new MentionPicker($('composer-form'), $('composer-input'), {
  members: () => (list.get(view.id)?.members || []).filter((m) => m.id !== me.id),
});
const typing = new TypingLine($('typing'));
const attachments = new Attachments(
  { tray: $('attachment-tray'), button: $('attach-button'), input: $('attach-input'), dropZone: $('conversation') },
  { maxBytes: Number(root.dataset.maxUploadBytes), onError: (text) => composer.showError(text, 6000),
    onChange: () => {} });
const reactions = new Reactions({
  onSaved: (list) => pane.setReactions(list), onError: (text) => composer.showError(text, 5000),
});
const composer = new Composer(
  { form: $('composer-form'), input: $('composer-input'), error: $('composer-error'), counter: $('composer-counter') },
  { maxText, attachments, drafts: new Drafts(me.id), onSend: send,
    onTyping: () => view.id && socket.send({ type: 'typing', chat_id: view.id }) });
const view = new Conversation(
  { panel: $('conversation'), empty: $('pane-empty'), title: $('chat-title'), subtitle: $('chat-subtitle'),
    topic: parts.topic, membersButton: $('members-button'), settingsButton: parts.settingsButton,
    muteButton: $('mute-button'), composerForm: $('composer-form'), archivedNotice: parts.archivedNotice,
    unarchiveButton: parts.unarchiveButton },
  { list, pane, composer, typing },
  { me, isOnline, onReopen: readOpenChat, onMuted: updateTitle });
const notifier = new Notifier($('notifications-button'), { onClickChat: (id) => { location.hash = `#/chat/${id}`; } });
const newChat = new NewChatDialog($('new-chat-dialog'), {
  me, isOnline, onChat: (chat) => { list.upsert(chat); location.hash = `#/chat/${chat.id}`; },
});
const pins = new PinsDialog({
  onJump: (message) => pane.jumpTo(message.id), isArchived: (chatId) => Boolean(list.get(chatId)?.archived),
});
const members = new MembersDialog($('members-dialog'), { me, isOnline, onLeave: (chatId) => left(chatId), onPerson: showPerson });
const directory = new ChannelDirectory({
  onJoined: (chat) => { list.upsert(chat); location.hash = `#/chat/${chat.id}`; },
  onOpen: (id) => { location.hash = `#/chat/${id}`; },
});
const settings = new ChatSettings({
  me, maxTitle: Number(root.dataset.maxTitle),
  onChanged: (chat) => { list.upsert(chat); view.header(); pane.render(); },
  onMembers: (chatId) => members.open(chatId),
  onLeave: async (chatId) => { await members.open(chatId); members.askLeave(true); },
});
const profile = new ProfileDialog({ minPassword: Number(root.dataset.minPassword), onSaved: userUpdated });
const card = new ProfileCard({ me, isOnline, onMessage: openDirect });
const banner = new ConnectionBanner(
  { app: root, banner: $('connection-banner'), text: $('connection-text'), retry: $('connection-retry'),
    status: $('me-status') },
  { onRetry: () => socket.retryNow() });
const catchUp = new CatchUp({
  loadChats: async () => {
    list.set(await api('GET', '/api/chats'));
    if (view.id && !list.get(view.id)) view.close();
    updateTitle(); // the unread counts may have changed while the page was loading or away
    return list.all();
  },
  loaded: () => {
    notifier.skipUpTo(catchUp.lastSeenId); // what the page opened with is not news
    for (const entry of outbox.all()) if (!list.get(entry.chat_id)) outbox.settle(entry.client_msg_id); // chat left
    view.route();
  },
  onMessage: receive,
  onChanged: changed,
  caughtUp: (complete) => {
    if (complete) readOpenChat();
    else if (view.id) pane.open(list.get(view.id)); // too far behind: reload the open chat instead
  },
  dispatch: (f) => Object.hasOwn(HANDLERS, f.type) && HANDLERS[f.type](f),
  canRetry: () => socket.online,
});
const socket = new Socket({ onFrame: frame, onState: (state, detail) => banner.show(state, detail) });

// --- frames ---------------------------------------------------------------------

const HANDLERS = {
  new_message: (f) => receive(f.message),
  message_ack: (f) => receive(f.message),
  catch_up: (f) => f.messages.forEach(receive),
  typing: (f) => {
    if (f.chat_id === view.id && f.user_id !== me.id) typing.show(f.user_id, f.display_name || f.username);
  },
  read: (f) => {
    const chat = list.get(f.chat_id);
    if (!chat || f.user_id !== me.id || typeof f.unread_count !== 'number') return;
    chat.last_read_message_id = Math.max(chat.last_read_message_id || 0, f.message_id);
    list.setUnread(f.chat_id, f.unread_count);
    if (typeof f.unread_mentions === 'number') list.setMentions(f.chat_id, f.unread_mentions);
    updateTitle();
  },
  presence: (f) => {
    if (f.status === 'online') {
      online.add(f.user_id);
    } else {
      online.delete(f.user_id);
      const now = new Date().toISOString();
      for (const chat of list.all()) {
        for (const member of chat.members) if (member.id === f.user_id) member.last_seen_at = now;
      }
    }
    presenceChanged();
  },
  chat_created: (f) => list.upsert(f.chat),
  chat_muted: (f) => view.setMuted(f.chat_id, f.muted),
  chat_updated: (f) => {
    const chat = list.get(f.chat_id);
    if (chat) list.upsert({ ...chat, ...Object.fromEntries(CHAT_FIELDS.filter((k) => k in f).map((k) => [k, f[k]])) });
    view.header();
    if (f.chat_id === view.id) pane.render(); // archived or reopened: the messages' buttons go or come back
  },
  user_updated: (f) => userUpdated(f.user),
  member_added: (f) => {
    if (f.user_ids.includes(me.id) && !list.get(f.chat_id)) {
      fetchChat(f.chat_id);
      return;
    }
    const names = f.chat.members.filter((m) => f.user_ids.includes(m.id)).map((m) => m.display_name);
    if (names.length) pane.notice(f.chat_id, t('members.joined', { names: names.join(', ') }));
    membersChanged(f.chat_id, f.chat.members);
  },
  member_removed: (f) => {
    const chat = list.get(f.chat_id);
    if (f.user_id === me.id) {
      left(f.chat_id);
    } else if (chat) {
      const gone = chat.members.find((m) => m.id === f.user_id);
      if (gone) pane.notice(f.chat_id, t('members.left', { name: gone.display_name }));
      membersChanged(f.chat_id, chat.members.filter((m) => m.id !== f.user_id));
    }
  },
  member_role: (f) => {
    const chat = list.get(f.chat_id);
    if (!chat) return;
    if (f.user_id === me.id) list.upsert({ ...chat, role: f.role }); // what the settings and header offer follows
    membersChanged(f.chat_id, chat.members.map((m) => (m.id === f.user_id ? { ...m, role: f.role } : m)));
    settings.refresh(list.get(f.chat_id));
  },
  message_updated: (f) => changed(f.message),
  message_deleted: (f) => changed(f.message),
  reactions: (f) => pane.setReactions(f),
  message_pinned: (f) => {
    pane.setPinned(f);
    pins.refresh(f.chat_id);
  },
  error: (f) => {
    if (f.client_msg_id && outbox.has(f.client_msg_id)) outbox.fail(f.client_msg_id, f.message, !RETRYABLE.has(f.code));
    else console.warn(`Server said ${f.code}: ${f.message}`);
  },
};

function frame(f) {
  if (f.type === 'connected') connected(f);
  else if (f.type === 'disconnected') disconnected();
  else catchUp.frame(f);
}

async function connected(f) {
  online.clear();
  for (const id of f.online_user_ids || []) online.add(id);
  await catchUp.reconnected();
  presenceChanged();
  outbox.flush(); // everything unacknowledged, with its original client_msg_id
  pane.render();
}

function disconnected() {
  outbox.disconnected();
  typing.clear();
  pane.render();
}

/** A stored message, however it came (pushed, acked, caught up); each is counted once. */
function receive(message) {
  catchUp.seen(message.id);
  const own = message.sender_id === me.id;
  if (own && message.client_msg_id) outbox.settle(message.client_msg_id);
  const chat = list.get(message.chat_id);
  if (!chat) {
    fetchChat(message.chat_id);
    return;
  }
  if (message.chat_id === view.id) {
    pane.add(message);
    typing.clear(message.sender_id);
  }
  const reading = message.chat_id === view.id && !document.hidden;
  const unread = !own && !reading && message.id > (chat.last_read_message_id || 0);
  // Before the check below: a message a reconnect's chat list already carries is counted, yet news.
  if (unread) notifier.message(chat, message, (message.mentions || []).includes(me.id));
  if (message.id <= ((chat.last_message && chat.last_message.id) || 0)) return;
  list.applyMessage(message, unread);
  if (own) {
    chat.last_read_message_id = Math.max(chat.last_read_message_id || 0, message.id);
    list.setUnread(chat.id, 0);
  } else if (reading) {
    markRead(chat.id, message.id);
  }
  updateTitle();
}

/** An edit or a deletion, from a frame or from our own REST call (applying one twice is harmless). */
function changed(message) {
  pane.update(message);
  const chat = list.get(message.chat_id);
  const wasLast = chat && chat.last_message && chat.last_message.id === message.id;
  if (!wasLast) return;
  if (message.deleted) refreshChat(message.chat_id); // the preview falls back to the message before
  else list.updateMessage(message);
}

/** Reload one chat's entry (its last message and unread count) after a deletion. */
async function refreshChat(id) {
  try {
    const fresh = await api('GET', `/api/chats/${id}`);
    if (!list.get(id)) return;
    list.upsert(fresh);
    const reading = id === view.id && !document.hidden;
    list.setUnread(id, reading ? 0 : fresh.unread_count || 0);
    list.setMentions(id, reading ? 0 : fresh.unread_mentions || 0);
    updateTitle();
  } catch (error) {
    console.warn(`Could not reload chat ${id}:`, error.message);
  }
}

async function fetchChat(id) {
  if (fetching.has(id)) return;
  fetching.add(id);
  try {
    list.upsert(await api('GET', `/api/chats/${id}`));
    updateTitle();
  } catch (error) {
    console.warn(`Could not load chat ${id}:`, error.message);
  } finally {
    fetching.delete(id);
  }
}

// --- reading, sending, membership -----------------------------------------------------

function markRead(chatId, messageId) {
  const chat = list.get(chatId);
  if (!chat || !messageId) return;
  const upTo = Math.max(chat.last_read_message_id || 0, messageId);
  if (upTo === chat.last_read_message_id && !chat.unread_count) return;
  chat.last_read_message_id = upTo;
  list.setUnread(chatId, 0);
  list.setMentions(chatId, 0);
  updateTitle();
  if (!socket.send({ type: 'mark_read', chat_id: chatId, message_id: upTo })) {
    api('POST', `/api/chats/${chatId}/read`, { message_id: upTo }).catch(() => {});
  }
}

function readOpenChat() {
  if (view.id && !document.hidden) markRead(view.id, pane.newestId());
}

function updateTitle() {
  notifier.title(list.totalUnread());
}

function send(text, files) {
  if (!view.id) return false;
  outbox.add(view.id, text, { quote: replyBar.take(), files });
  pane.render({ toBottom: true });
  return true;
}

/** The user gives up on a failed message. */
function discard(clientMsgId) {
  outbox.settle(clientMsgId);
  pane.render();
  composer.focus();
}

function left(chatId) {
  outbox.dropChat(chatId);
  list.remove(chatId);
  if (view.id === chatId) location.hash = '';
  updateTitle();
}

function presenceChanged() {
  list.render();
  view.header();
  if (members.isOpen && members.chat) members.renderMembers();
  if (card.isOpen) card.render();
}

/** Someone's new name, status or picture (a `user_updated` frame, or our own profile just saved). */
function userUpdated(user) {
  list.updateUser(user);
  pane.render();
  view.header();
  card.refresh(user);
  if (members.isOpen && members.chat) {
    members.chat.members = members.chat.members.map((m) => (m.id === user.id ? { ...m, ...user } : m));
    members.renderMembers();
  }
  if (user.id === me.id) showMe(user);
}

/** What the page knows of a user: their member entry in any of our chats. */
function knownUser(id) {
  for (const chat of list.all()) {
    const member = chat.members.find((m) => m.id === id);
    if (member) return member;
  }
  return null;
}

function showPerson(id, name) {
  card.open(knownUser(id) || { id, display_name: name || t('message.someone') });
}

async function openDirect(user) {
  const chat = await api('POST', '/api/chats', { type: 'direct', user_id: user.id });
  list.upsert(chat);
  location.hash = `#/chat/${chat.id}`;
}

async function openProfile() {
  try {
    profile.open(await api('GET', '/api/me'));
  } catch (error) {
    console.warn('Could not load the profile:', error.message);
  }
}

/** The sidebar's own name and avatar (a button that opens the profile dialog). */
function showMe(user) {
  me.name = user.display_name;
  $('me-name').textContent = user.display_name;
  parts.meButton.replaceChildren(userAvatar(user, 'me-avatar'));
}

function membersChanged(chatId, memberList) {
  const chat = list.get(chatId);
  if (!chat) return;
  list.upsert({ ...chat, members: memberList });
  view.header();
  if (members.isOpen && members.chat && members.chat.id === chatId) members.reload(chatId);
}

// --- start ----------------------------------------------------------------------------

showMe({ id: me.id, display_name: me.name, avatar_url: null });
startSession(me.id);
api('GET', '/api/me').then((user) => { // the picture: the page carries only the name
  showMe(user);
  return rememberTimeZone(user);
}).catch((error) => console.warn('Could not load or update the profile:', error.message));
wireLogout($('logout-form'));
$('logout-form').addEventListener('submit', () => outbox.forget());
outbox.load();
$('new-chat-button').addEventListener('click', () => newChat.open());
$('empty-new-chat').addEventListener('click', () => newChat.open());
$('members-button').addEventListener('click', () => members.open(view.id));
parts.settingsButton.addEventListener('click', () => settings.open(list.get(view.id)));
parts.pinsButton.addEventListener('click', () => pins.open(view.id));
parts.browse.addEventListener('click', () => directory.open());
parts.browseToo.addEventListener('click', () => directory.open());
parts.meButton.addEventListener('click', openProfile);
$('chat-filter').addEventListener('input', (event) => list.filter(event.target.value));
languageSwitch(document.querySelector('.foot-actions'), { beforeReload: () => composer.keepDraft() });
new MessageSearch(
  { form: $('search-form'), input: $('message-search'), scope: $('search-scope'), results: $('search-results'),
    chatList: $('chat-list-wrap') },
  { openChatId: () => view.id, chatTitle: (id) => list.get(id)?.title,
    onPick: (chatId, messageId) => {
      view.open(chatId);
      location.hash = `#/chat/${chatId}`;
      pane.reveal(messageId);
    } });
window.addEventListener('hashchange', () => {
  replyBar.take(); // a reply belongs to the chat it was started in
  if (catchUp.synced) view.route();
});
document.addEventListener('visibilitychange', () => {
  readOpenChat();
  updateTitle();
});
document.addEventListener('keydown', (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'k') {
    event.preventDefault();
    $('chat-filter').focus();
  }
});
// The chat list and the open chat load over HTTP at once; each (re)connect then catches up.
catchUp.start();
socket.start();
