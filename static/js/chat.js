// The chat page: wires the socket, chat list, message pane, composer and dialogs together,
// and keeps the outbox of messages that are not acknowledged yet (in localStorage too, so
// they survive a reload).
import { api, startSession, wireLogout } from './api.js';
import { ChatList } from './chatlist.js';
import { Composer, MAX_TEXT } from './composer.js';
import { MembersDialog, NewChatDialog } from './dialogs.js';
import { avatar, formatListTime, randomId } from './dom.js';
import { MessagePane } from './messages.js';
import { Notifier } from './notify.js';
import { Socket } from './socket.js';

const $ = (id) => document.getElementById(id);
const root = $('app');
const me = { id: Number(root.dataset.userId), name: root.dataset.displayName };
const ACK_TIMEOUT = 15_000;
const CATCH_UP_PAGES = 10;
const RETRYABLE = new Set(['db_unavailable', 'internal_error', 'rate_limited']); // other send errors need the user

const online = new Set();
const outbox = new Map(); // client_msg_id -> {client_msg_id, chat_id, text, created_at, state, error, fatal, timer}
const OUTBOX_KEY = `cm_outbox_${me.id}`; // localStorage: this user's unacknowledged messages, nothing else
const STORED_FIELDS = ['client_msg_id', 'chat_id', 'text', 'created_at', 'state', 'error', 'fatal'];
const fetching = new Set();
let lastSeenId = 0; // the highest message id this page has seen: catch-up starts after it
let changedSince = null; // server time of the last catch-up: later edits and deletions are fetched on reconnect
let openChatId = null;
let synced = false;
let held = null; // frames that arrive while a (re)sync runs

const isOnline = (id) => online.has(id);
const list = new ChatList($('chat-list'), { me, isOnline, empty: $('chat-list-empty') });
const pane = new MessagePane(
  { scroller: $('messages'), list: $('message-list'), status: $('history-status'), typing: $('typing') },
  {
    me,
    pendingFor: (chatId) => [...outbox.values()].filter((e) => e.chat_id === chatId),
    onLoaded: (newestId) => { seen(newestId); readOpenChat(); },
    onRetry: (clientMsgId) => retry(clientMsgId),
    onDiscard: (clientMsgId) => discard(clientMsgId),
    onEdit: editMessage,
    onDelete: deleteMessage,
  });
const composer = new Composer(
  { form: $('composer-form'), input: $('composer-input'), error: $('composer-error'), counter: $('composer-counter') },
  { onSend: send, onTyping: () => openChatId && socket.send({ type: 'typing', chat_id: openChatId }) });
const notifier = new Notifier($('notifications-button'), { onClickChat: (id) => { location.hash = `#/chat/${id}`; } });
const newChat = new NewChatDialog($('new-chat-dialog'), {
  me, isOnline, onChat: (chat) => { list.upsert(chat); location.hash = `#/chat/${chat.id}`; },
});
const members = new MembersDialog($('members-dialog'), { me, isOnline, onLeave: (chatId) => left(chatId) });
const socket = new Socket({ onFrame: frame, onState: showConnection });

// --- frames ---------------------------------------------------------------------

const HANDLERS = {
  new_message: (f) => receive(f.message),
  message_ack: (f) => receive(f.message),
  catch_up: (f) => f.messages.forEach(receive),
  typing: (f) => {
    if (f.chat_id === openChatId && f.user_id !== me.id) pane.showTyping(f.user_id, f.display_name || f.username);
  },
  read: (f) => {
    const chat = list.get(f.chat_id);
    if (!chat || f.user_id !== me.id || typeof f.unread_count !== 'number') return;
    chat.last_read_message_id = Math.max(chat.last_read_message_id || 0, f.message_id);
    list.setUnread(f.chat_id, f.unread_count);
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
  chat_updated: (f) => {
    const chat = list.get(f.chat_id);
    if (chat) list.upsert({ ...chat, title: f.title });
    header();
  },
  member_added: (f) => {
    if (f.user_ids.includes(me.id) && !list.get(f.chat_id)) fetchChat(f.chat_id);
    else membersChanged(f.chat_id, f.chat.members);
  },
  member_removed: (f) => {
    const chat = list.get(f.chat_id);
    if (f.user_id === me.id) left(f.chat_id);
    else if (chat) membersChanged(f.chat_id, chat.members.filter((m) => m.id !== f.user_id));
  },
  message_updated: (f) => changed(f.message),
  message_deleted: (f) => changed(f.message),
  error: (f) => {
    if (f.client_msg_id && outbox.has(f.client_msg_id)) fail(f.client_msg_id, f.message, !RETRYABLE.has(f.code));
    else console.warn(`Server said ${f.code}: ${f.message}`);
  },
};

function frame(f) {
  if (f.type === 'connected') {
    connected(f);
  } else if (f.type === 'disconnected') {
    disconnected();
  } else if (held) {
    held.push(f);
  } else if (HANDLERS[f.type]) {
    HANDLERS[f.type](f);
  }
}

async function connected(f) {
  online.clear();
  for (const id of f.online_user_ids || []) online.add(id);
  await resync(0);
  presenceChanged();
  flushOutbox();
}

/** Run ``sync`` while holding incoming frames back, then apply them; retried a few times on failure. */
async function resync(attempt) {
  const frames = [];
  held = frames;
  try {
    await firstLoad; // the load started with the page; after it, sync() only catches up
    await sync();
  } catch (error) {
    console.warn('Could not load the chats after connecting:', error.message);
    if (attempt < 5) setTimeout(() => socket.online && resync(attempt + 1), 2000 * (attempt + 1));
  } finally {
    if (held === frames) held = null;
  }
  frames.forEach(frame);
}

function disconnected() {
  for (const entry of outbox.values()) {
    clearTimeout(entry.timer);
    if (entry.state === 'pending') entry.state = 'queued';
  }
  saveOutbox();
  pane.clearTyping();
  pane.render();
}

/** The chat list from the server; after a reconnect, also every message missed meanwhile. */
async function sync() {
  // Taken before the chats load, so no edit or deletion can slip in between.
  const mark = synced ? null : (await api('GET', '/api/updates?limit=0')).server_time;
  list.set(await api('GET', '/api/chats'));
  if (!synced) {
    changedSince = mark;
    for (const chat of list.all()) if (chat.last_message) seen(chat.last_message.id);
    for (const entry of outbox.values()) if (!list.get(entry.chat_id)) settle(entry.client_msg_id); // chat left
    synced = true;
    route();
    return;
  }
  if (openChatId && !list.get(openChatId)) closeChat();
  let nextMark = null;
  for (let page = 0; page < CATCH_UP_PAGES; page += 1) {
    const since = encodeURIComponent(changedSince);
    const missed = await api('GET', `/api/updates?after_id=${lastSeenId}&changed_since=${since}`);
    nextMark = nextMark || missed.server_time;
    missed.messages.forEach(receive);
    (missed.changed || []).forEach(changed); // edited or deleted while this page was away
    if (!missed.has_more || !missed.messages.length) {
      changedSince = nextMark;
      readOpenChat();
      return;
    }
  }
  changedSince = nextMark;
  if (openChatId) pane.open(list.get(openChatId)); // too far behind: reload the open chat instead
}

function seen(id) {
  lastSeenId = Math.max(lastSeenId, id || 0);
}

/** A stored message, however it came (pushed, acked, caught up); each is counted once. */
function receive(message) {
  seen(message.id);
  const own = message.sender_id === me.id;
  if (own && message.client_msg_id) settle(message.client_msg_id);
  const chat = list.get(message.chat_id);
  if (!chat) {
    fetchChat(message.chat_id);
    return;
  }
  if (message.chat_id === openChatId) pane.add(message);
  if (message.id <= ((chat.last_message && chat.last_message.id) || 0)) return;
  const reading = message.chat_id === openChatId && !document.hidden;
  const unread = !own && !reading && message.id > (chat.last_read_message_id || 0);
  list.applyMessage(message, unread);
  if (own) {
    chat.last_read_message_id = Math.max(chat.last_read_message_id || 0, message.id);
    list.setUnread(chat.id, 0);
  } else if (reading) {
    markRead(chat.id, message.id);
  } else {
    notifier.message(chat, message);
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
    list.setUnread(id, id === openChatId && !document.hidden ? 0 : fresh.unread_count || 0);
    updateTitle();
  } catch (error) {
    console.warn(`Could not reload chat ${id}:`, error.message);
  }
}

async function editMessage(message, text) {
  changed(await api('PATCH', `/api/messages/${message.id}`, { text }));
}

async function deleteMessage(message) {
  changed(await api('DELETE', `/api/messages/${message.id}`));
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

// --- reading ----------------------------------------------------------------------

function markRead(chatId, messageId) {
  const chat = list.get(chatId);
  if (!chat || !messageId) return;
  const upTo = Math.max(chat.last_read_message_id || 0, messageId);
  if (upTo === chat.last_read_message_id && !chat.unread_count) return;
  chat.last_read_message_id = upTo;
  list.setUnread(chatId, 0);
  updateTitle();
  if (!socket.send({ type: 'mark_read', chat_id: chatId, message_id: upTo })) {
    api('POST', `/api/chats/${chatId}/read`, { message_id: upTo }).catch(() => {});
  }
}

function readOpenChat() {
  if (openChatId && !document.hidden) markRead(openChatId, pane.newestId());
}

function updateTitle() {
  notifier.title(list.totalUnread());
}

// --- sending ----------------------------------------------------------------------

function send(text) {
  if (!openChatId) return false;
  const entry = { client_msg_id: randomId(), chat_id: openChatId, text, created_at: new Date().toISOString(),
    state: 'queued', error: null, fatal: false, timer: null };
  outbox.set(entry.client_msg_id, entry);
  transmit(entry);
  pane.render({ toBottom: true });
  return true;
}

// --- the outbox in localStorage -------------------------------------------------------
// Tabs of one user share the key: each writes only its own entries and removes only what
// it settled, so entries of other tabs survive (a resend of one is deduped by the server).

function readStored() {
  try {
    const stored = JSON.parse(localStorage.getItem(OUTBOX_KEY) || '[]');
    return Array.isArray(stored) ? stored : [];
  } catch {
    return [];
  }
}

function writeStored(entries) {
  try {
    if (entries.length) localStorage.setItem(OUTBOX_KEY, JSON.stringify(entries));
    else localStorage.removeItem(OUTBOX_KEY);
  } catch (error) {
    console.warn('Could not keep unsent messages for a reload:', error.message);
  }
}

/** Write this tab's unsent messages (and forget ``removed`` ids) in the stored outbox. */
function saveOutbox(removed = null) {
  const entries = new Map();
  for (const item of readStored()) {
    if (item && typeof item.client_msg_id === 'string' && item.client_msg_id !== removed) {
      entries.set(item.client_msg_id, item);
    }
  }
  for (const entry of outbox.values()) {
    const item = Object.fromEntries(STORED_FIELDS.map((field) => [field, entry[field]]));
    entries.set(entry.client_msg_id, item);
  }
  writeStored([...entries.values()]);
}

/** Entries left by an earlier page: waiting for the connection, or failed as they were. */
function loadOutbox() {
  for (const item of readStored()) {
    const valid = item && typeof item.client_msg_id === 'string' && item.client_msg_id.length <= 64
      && Number.isInteger(item.chat_id) && typeof item.text === 'string'
      && item.text.trim().length >= 1 && item.text.length <= MAX_TEXT
      && typeof item.created_at === 'string' && !Number.isNaN(Date.parse(item.created_at));
    if (!valid || outbox.has(item.client_msg_id)) continue;
    const failed = item.state === 'failed';
    outbox.set(item.client_msg_id, {
      client_msg_id: item.client_msg_id, chat_id: item.chat_id, text: item.text, created_at: item.created_at,
      state: failed ? 'failed' : 'queued', error: failed && typeof item.error === 'string' ? item.error : null,
      fatal: failed && item.fatal === true, timer: null,
    });
  }
}

/** Send (or resend, with the same client_msg_id) over the socket; queued while offline. */
function transmit(entry) {
  clearTimeout(entry.timer);
  const sent = socket.send({ type: 'send_message', chat_id: entry.chat_id, text: entry.text,
    client_msg_id: entry.client_msg_id });
  entry.state = sent ? 'pending' : 'queued';
  entry.error = null;
  entry.fatal = false;
  if (sent) entry.timer = setTimeout(() => fail(entry.client_msg_id, 'no answer from the server', false), ACK_TIMEOUT);
  saveOutbox();
}

function settle(clientMsgId) {
  const entry = outbox.get(clientMsgId);
  if (entry) clearTimeout(entry.timer);
  outbox.delete(clientMsgId);
  if (entry || readStored().some((item) => item && item.client_msg_id === clientMsgId)) saveOutbox(clientMsgId);
}

function fail(clientMsgId, reason, fatal) {
  const entry = outbox.get(clientMsgId);
  if (!entry) return;
  clearTimeout(entry.timer);
  Object.assign(entry, { state: 'failed', error: reason, fatal });
  saveOutbox();
  if (entry.chat_id === openChatId) pane.render();
}

/** The user gives up on a failed message. */
function discard(clientMsgId) {
  settle(clientMsgId);
  pane.render();
  composer.focus();
}

function retry(clientMsgId) {
  const entry = outbox.get(clientMsgId);
  if (!entry) return;
  transmit(entry);
  pane.render({ toBottom: true });
}

/** After (re)connecting: resend everything unacknowledged, oldest first; the server dedupes. */
function flushOutbox() {
  const entries = [...outbox.values()].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
  for (const entry of entries) if (!entry.fatal) transmit(entry);
  pane.render();
}

// --- opening chats ---------------------------------------------------------------------

function route() {
  if (!synced) return;
  const match = location.hash.match(/^#\/chat\/(\d+)$/);
  const id = match ? Number(match[1]) : null;
  if (id && list.get(id)) openChat(id);
  else closeChat();
}

function openChat(id) {
  if (id === openChatId) {
    readOpenChat();
    return;
  }
  openChatId = id;
  document.body.classList.add('chat-open');
  $('pane-empty').hidden = true;
  $('conversation').hidden = false;
  list.setActive(id);
  header();
  composer.setChat(id);
  pane.open(list.get(id));
  if (matchMedia('(min-width: 761px)').matches) composer.focus();
}

function closeChat() {
  openChatId = null;
  document.body.classList.remove('chat-open');
  $('conversation').hidden = true;
  $('pane-empty').hidden = false;
  list.setActive(null);
  composer.setChat(null);
  pane.close();
}

function left(chatId) {
  for (const entry of outbox.values()) if (entry.chat_id === chatId) settle(entry.client_msg_id);
  list.remove(chatId);
  if (openChatId === chatId) location.hash = '';
  updateTitle();
}

function header() {
  const chat = openChatId && list.get(openChatId);
  if (!chat) return;
  $('chat-title').textContent = chat.title;
  const peer = list.peer(chat);
  let subtitle;
  if (peer) {
    const lastSeen = peer.last_seen_at ? `Last seen ${formatListTime(new Date(peer.last_seen_at))}` : 'Offline';
    subtitle = online.has(peer.id) ? 'Online' : lastSeen;
  } else {
    const here = chat.members.filter((m) => online.has(m.id)).length;
    subtitle = `${chat.members.length} members · ${here} online`;
  }
  $('chat-subtitle').textContent = subtitle;
  $('members-button').hidden = chat.type !== 'group';
}

function presenceChanged() {
  list.render();
  header();
  if (members.isOpen && members.chat) members.renderMembers();
}

function membersChanged(chatId, memberList) {
  const chat = list.get(chatId);
  if (!chat) return;
  list.upsert({ ...chat, members: memberList });
  header();
  if (members.isOpen && members.chat && members.chat.id === chatId) members.reload(chatId);
}

// --- connection banner -------------------------------------------------------------------

const STATUS = { connecting: 'Connecting…', online: 'Online', reconnecting: 'Reconnecting…', offline: 'Offline' };
let countdown = null;

function showConnection(state, detail) {
  const banner = $('connection-banner');
  banner.dataset.state = state;
  root.dataset.connection = state;
  $('me-status').textContent = STATUS[state];
  $('connection-retry').hidden = state === 'online' || !(detail.retryAt || state === 'offline');
  clearInterval(countdown);
  const text = () => {
    if (state === 'online') return 'Connected.';
    if (state === 'offline') {
      return `Offline: ${detail.reason || 'no connection'} Messages you write are sent once it is back.`;
    }
    const lost = state === 'reconnecting' ? 'Connection lost.' : 'Cannot reach the server yet.';
    if (!detail.retryAt) return state === 'reconnecting' ? 'Connection lost. Reconnecting…' : 'Connecting…';
    const seconds = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
    return seconds ? `${lost} Reconnecting in ${seconds} s…` : `${lost} Reconnecting…`;
  };
  $('connection-text').textContent = text();
  if (detail.retryAt) countdown = setInterval(() => { $('connection-text').textContent = text(); }, 1000);
}

// --- start ----------------------------------------------------------------------------

const face = avatar(me.name, me.id, 'me-avatar');
face.id = 'me-avatar';
$('me-avatar').replaceWith(face);

startSession(me.id);
wireLogout($('logout-form'));
// Logging out on purpose also forgets unsent messages (a session that merely ends keeps them).
$('logout-form').addEventListener('submit', () => localStorage.removeItem(OUTBOX_KEY));
loadOutbox();
$('connection-retry').addEventListener('click', () => socket.retryNow());
$('new-chat-button').addEventListener('click', () => newChat.open());
$('empty-new-chat').addEventListener('click', () => newChat.open());
$('members-button').addEventListener('click', () => members.open(openChatId));
$('chat-filter').addEventListener('input', (event) => list.filter(event.target.value));
window.addEventListener('hashchange', route);
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
// The chat list and the open chat load over HTTP at once, so a reload shows them (and the
// unsent messages) even while the socket cannot connect; each (re)connect then catches up.
const firstLoad = sync().catch((error) => console.warn('Could not load the chats yet:', error.message));
socket.start();
