// Load client for bench/day.py, "a day at the company": one event-driven Node process (the `ws`
// package and the built-in fetch) playing every connected user with their browser tabs.
//
// Plan on stdin (JSON): {wsUrl, httpUrl, relay, seed, tabs, seconds, drainSeconds, parallel, words,
// users: [{uid, token, chats: [[chatId, weight], ...]}], mix: {...}} (day.py documents the mix).
// Each user, on a timer of its own: types then sends (mostly over the socket, some by REST), marks
// the chat it looks at read, opens history pages, searches, reacts; each tab now and then drops its
// socket and comes back with `catch_up` from the last message id it saw, as the page does.
// Against the relay (`relay: true`) only the socket part runs (sends, typing, reads) and nobody
// reconnects.  Every socket must get every message of its chats exactly once (live frame or
// catch-up; the sending socket gets the ack instead); counted per socket at the end.
// Prints progress to stderr every 10 s and the result as one JSON line on stdout, then exits.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const plan = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (chunk) => { text += chunk; });
  process.stdin.on('end', () => resolve(text));
}));
const mix = plan.mix;

let state = plan.seed >>> 0; // mulberry32: the same plan gives the same day
function rand() {
  state = (state + 0x6D2B79F5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const uniform = (low, high) => low + rand() * (high - low);
const exponential = (mean) => -Math.log(1 - rand()) * mean;
const pick = (list) => list[Math.floor(rand() * list.length)];
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

class Histogram { // 0.1 ms buckets up to 30 s; slower samples land in the last one
  constructor() { this.buckets = new Uint32Array(300_001); this.count = 0; this.max = 0; }
  add(ms) {
    this.buckets[Math.min(300_000, Math.max(0, Math.round(ms * 10)))] += 1;
    this.count += 1;
    this.max = Math.max(this.max, ms);
  }
  percentile(p) {
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i += 1) {
      seen += this.buckets[i];
      if (seen >= this.count * p / 100 && seen > 0) return i / 10;
    }
    return null;
  }
  summary() {
    return { count: this.count, p50: this.percentile(50), p99: this.percentile(99), max: Math.round(this.max * 10) / 10 };
  }
}

const delivery = new Histogram(); // sender's send -> a receiving socket's new_message
const ackLatency = new Histogram(); // send_message -> message_ack on the sending socket
const rest = {}; // endpoint -> Histogram
const counts = {
  sent_ws: 0, sent_rest: 0, acked: 0, send_skipped_no_open_tab: 0, typing_sent: 0, mark_read_sent: 0,
  history_pages: 0, searches: 0, reactions: 0, chat_lists: 0, reconnects: 0, catch_up_pages: 0,
  deliveries_live: 0, deliveries_by_catch_up: 0, duplicates: 0, overlaps: 0,
  frames_typing: 0, frames_read: 0, frames_reactions: 0, frames_presence: 0,
};
const errors = {}; // kind -> count
const error = (kind) => { errors[kind] = (errors[kind] || 0) + 1; };
const acked = []; // {id, chatId, senderTab}: every message the run stored
const socketsOf = new Map(); // chat id -> tabs of connected members
let inFlight = 0; // REST requests and unacked socket sends
let running = false;
let finished = false;
let expectedDeliveries = 0;
let uniqueDeliveries = 0;

async function timed(endpoint, method, path, token, body) {
  const started = performance.now();
  inFlight += 1;
  try {
    const response = await fetch(plan.httpUrl + path, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    });
    const answer = response.headers.get('content-type')?.includes('json') ? await response.json() : await response.text();
    (rest[endpoint] ||= new Histogram()).add(performance.now() - started);
    if (!response.ok) {
      error(`http ${response.status} ${answer?.error?.code || ''} ${endpoint}`.trim());
      return null;
    }
    return answer;
  } catch (e) {
    error(`http exception ${endpoint}: ${e.cause?.code || e.message}`);
    return null;
  } finally {
    inFlight -= 1;
  }
}

function noteStored(message, senderTab) {
  counts.acked += 1;
  acked.push({ id: message.id, chatId: message.chat_id, senderTab });
  expectedDeliveries += (socketsOf.get(message.chat_id) || []).length - (senderTab ? 1 : 0);
}

class Tab {
  constructor(user, index) {
    this.user = user;
    this.index = index;
    this.seen = new Map(); // run message id -> 'live' | 'catch_up' | 'both'
    this.lastId = 0;
    this.open = false;
    this.opened = false;
    this.closing = false;
    this.pending = new Map(); // client_msg_id -> performance.now() of the send
    this.own = new Set(); // client_msg_ids this socket sent (it gets the ack, not the message)
    this.attempt = 0;
  }

  connect() {
    return new Promise((resolve) => {
      const chats = this.user.chatIds.join(',');
      const url = `${plan.wsUrl}?token=${this.user.token}${plan.relay ? `&chats=${chats}` : ''}`;
      const ws = new WebSocket(url, { perMessageDeflate: false });
      this.ws = ws;
      ws.on('message', (data) => this.frame(JSON.parse(data), resolve));
      ws.on('error', () => {}); // the close that follows decides
      ws.on('close', (code, reason) => this.closed(code, reason.toString()));
    });
  }

  frame(f, onConnected) {
    switch (f.type) {
      case 'connected': this.connected(onConnected); break;
      case 'new_message': this.note(f.message, 'live'); break;
      case 'message_ack': this.acked(f); break;
      case 'catch_up': this.caughtUp(f); break;
      case 'typing': counts.frames_typing += 1; break;
      case 'read': counts.frames_read += 1; break;
      case 'reactions': counts.frames_reactions += 1; break;
      case 'presence': counts.frames_presence += 1; break;
      case 'error':
        error(`frame ${f.code}`);
        if (f.client_msg_id && this.pending.delete(f.client_msg_id)) inFlight -= 1;
        break;
      default: break;
    }
  }

  async connected(onConnected) {
    this.open = true;
    this.attempt = 0;
    if (plan.relay) { this.opened = true; onConnected(); return; }
    if (this.opened) {
      counts.reconnects += 1;
      this.send({ type: 'catch_up', after_id: this.lastId });
    }
    const first = !this.opened;
    this.opened = true;
    onConnected();
    counts.chat_lists += 1;
    const list = await timed(first ? 'GET /api/chats (first connect)' : 'GET /api/chats (reconnect)', 'GET',
      '/api/chats', this.user.token);
    if (first && list) {
      for (const chat of list) if (chat.last_message) this.lastId = Math.max(this.lastId, chat.last_message.id);
    }
  }

  caughtUp(f) {
    counts.catch_up_pages += 1;
    for (const message of f.messages) this.note(message, 'catch_up');
    if (f.has_more) this.send({ type: 'catch_up', after_id: this.lastId });
  }

  note(message, via) {
    this.lastId = Math.max(this.lastId, message.id);
    const key = message.client_msg_id || '';
    if (!key.startsWith('d-') || this.own.has(key)) return; // seeded history, or its own send back by catch-up
    const before = this.seen.get(message.id);
    if (via === 'live') {
      counts.deliveries_live += 1;
      if (before === 'live' || before === 'both') { counts.duplicates += 1; return; }
      delivery.add(performance.now() - Number(key.slice(key.lastIndexOf('-') + 1)));
      this.seen.set(message.id, before ? 'both' : 'live');
      if (before) { counts.overlaps += 1; return; }
    } else {
      if (before) { counts.overlaps += 1; return; }
      counts.deliveries_by_catch_up += 1;
      this.seen.set(message.id, 'catch_up');
    }
    uniqueDeliveries += 1;
    this.user.received(message);
  }

  acked(f) {
    const started = this.pending.get(f.client_msg_id);
    if (started === undefined) return;
    this.pending.delete(f.client_msg_id);
    inFlight -= 1;
    ackLatency.add(performance.now() - started);
    noteStored(f.message, this);
  }

  send(frame) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  sendMessage(chatId, key) {
    this.pending.set(key, performance.now());
    this.own.add(key);
    inFlight += 1;
    counts.sent_ws += 1;
    this.send({ type: 'send_message', chat_id: chatId, text: this.user.text(), client_msg_id: key });
  }

  closed(code, reason) {
    const wasOpen = this.open;
    this.open = false;
    if (finished) return;
    if (!this.closing) error(`socket closed ${code} ${reason}`.trim());
    this.closing = false;
    for (const key of this.pending.keys()) { error('unacked at close'); this.pending.delete(key); inFlight -= 1; }
    const delay = wasOpen && this.closingGap ? this.closingGap : Math.min(30_000, 500 * 2 ** this.attempt) * uniform(0.5, 1);
    this.closingGap = 0;
    this.attempt += 1;
    setTimeout(() => { if (!finished) this.connect(); }, delay);
  }

  dropLater() { // a laptop lid, a network change: the tab comes back and catches up
    if (!mix.reconnectEvery || plan.relay) return;
    setTimeout(() => {
      if (!running) return;
      if (!this.open || this.pending.size) { this.dropLater(); return; }
      this.closing = true;
      this.closingGap = uniform(mix.reconnectGapMin, mix.reconnectGapMax) * 1000;
      this.ws.close(1000, 'day: tab drops');
      this.dropLater();
    }, exponential(mix.reconnectEvery) * 1000);
  }
}

class User {
  constructor(spec, index) {
    this.index = index;
    this.uid = spec.uid;
    this.token = spec.token;
    this.weighted = spec.chats;
    this.chatIds = spec.chats.map(([id]) => id);
    this.totalWeight = spec.chats.reduce((sum, [, w]) => sum + w, 0);
    this.tabs = Array.from({ length: plan.tabs }, (_, k) => new Tab(this, k));
    this.focus = pick(this.chatIds);
    this.readUpTo = new Map(); // chat id -> newest id marked read
    this.newestIn = new Map(); // chat id -> newest id seen
    this.recent = []; // the last few message ids seen, to react to
    this.sends = 0;
    this.readTimer = null;
  }

  openTab() {
    const open = this.tabs.filter((tab) => tab.open);
    return open.length ? open[0] : null; // the first open tab is the one in front
  }

  chooseChat() {
    let left = rand() * this.totalWeight;
    for (const [id, weight] of this.weighted) { left -= weight; if (left <= 0) return id; }
    return this.chatIds[this.chatIds.length - 1];
  }

  text() {
    return `${pick(plan.words)} ${pick(plan.words)} ${pick(plan.words)} from user ${this.uid}`;
  }

  received(message) {
    if (message.sender_id === this.uid) return;
    if ((this.newestIn.get(message.chat_id) || 0) >= message.id) return; // the other tab saw it first
    this.newestIn.set(message.chat_id, message.id);
    this.recent.push(message.id);
    if (this.recent.length > 20) this.recent.shift();
    if (message.chat_id === this.focus && !this.readTimer) {
      this.readTimer = setTimeout(() => { this.readTimer = null; this.markRead(this.focus); }, mix.readDelay * 1000);
    }
  }

  markRead(chatId) {
    const newest = this.newestIn.get(chatId) || 0;
    const tab = this.openTab();
    if (!tab || newest <= (this.readUpTo.get(chatId) || 0)) return;
    this.readUpTo.set(chatId, newest);
    counts.mark_read_sent += 1;
    tab.send({ type: 'mark_read', chat_id: chatId, message_id: newest });
  }

  every(meanSeconds, action, first = exponential(meanSeconds)) {
    if (!meanSeconds) return;
    setTimeout(async () => {
      if (!running) return;
      await action();
      this.every(meanSeconds, action);
    }, first * 1000);
  }

  start() {
    const nextSend = (first) => setTimeout(() => this.compose(nextSend), first * 1000);
    nextSend(uniform(0, mix.sendEveryMax));
    if (!plan.relay) {
      this.every(mix.historyEvery, () => this.openHistory());
      this.every(mix.searchEvery, () => this.search());
      this.every(mix.reactEvery, () => this.react());
    }
    for (const tab of this.tabs) tab.dropLater();
  }

  async compose(nextSend) {
    if (!running) return;
    const chatId = this.chooseChat();
    const typingMs = uniform(mix.typingMin, mix.typingMax) * 1000;
    const until = performance.now() + typingMs;
    while (running && performance.now() < until) { // the page repeats typing while keys go down
      const tab = this.openTab();
      if (tab) { tab.send({ type: 'typing', chat_id: chatId }); counts.typing_sent += 1; }
      await sleep(Math.min(3000, until - performance.now()));
    }
    if (!running) return;
    this.sends += 1;
    this.focus = chatId;
    // THREAD REPLIES: not in the mix yet - main has no threads (no `thread_id` in handlers/ or models/).
    // When they land: one send in five goes here as a reply, `thread_id` = a recent top-level message
    // of `chatId` (from this.user.recent), and the loss check stays as it is (replies reach every
    // member's sockets as `new_message`, CONTRACT.md "Threads").
    const key = `d-${this.index}-${this.sends}-${performance.now().toFixed(1)}`;
    const tab = this.openTab();
    // the first user's first message always goes by REST, so even a short run has both paths
    const byRest = rand() < mix.restSendShare || !tab || (this.index === 0 && this.sends === 1);
    if (!plan.relay && byRest) {
      counts.sent_rest += 1;
      const message = await timed('POST /api/chats/{id}/messages', 'POST', `/api/chats/${chatId}/messages`,
        this.token, { text: this.text(), client_msg_id: key });
      if (message) noteStored(message, null);
    } else if (tab) {
      tab.sendMessage(chatId, key);
    } else {
      counts.send_skipped_no_open_tab += 1;
    }
    nextSend(uniform(mix.sendEveryMin, mix.sendEveryMax));
  }

  async openHistory() {
    const chatId = pick(this.chatIds);
    counts.history_pages += 1;
    const page = await timed('GET /api/chats/{id}/messages', 'GET', `/api/chats/${chatId}/messages?limit=50`, this.token);
    const messages = page?.messages || [];
    if (!messages.length) return;
    if (page.has_more && rand() < mix.pageBackShare) {
      counts.history_pages += 1;
      await timed('GET /api/chats/{id}/messages', 'GET',
        `/api/chats/${chatId}/messages?limit=50&before_id=${page.next_before_id}`, this.token);
    }
    this.focus = chatId;
    const newest = messages[messages.length - 1].id;
    if (newest > (this.newestIn.get(chatId) || 0)) this.newestIn.set(chatId, newest);
    this.markRead(chatId);
  }

  async search() {
    counts.searches += 1;
    await timed('GET /api/search', 'GET', `/api/search?q=${encodeURIComponent(pick(plan.words))}`, this.token);
  }

  async react() {
    if (!this.recent.length) return;
    counts.reactions += 1;
    const emoji = encodeURIComponent(pick(['👍', '🎉', '👀', '✅', '🙏']));
    await timed('PUT /api/messages/{id}/reactions/{emoji}', 'PUT',
      `/api/messages/${pick(this.recent)}/reactions/${emoji}`, this.token);
  }
}

// Open every tab, `parallel` handshakes at a time (each tab then loads the chat list, as the page does).
const users = plan.users.map((spec, index) => new User(spec, index));
const tabs = users.flatMap((user) => user.tabs);
for (const tab of tabs) {
  for (const chatId of tab.user.chatIds) {
    if (!socketsOf.has(chatId)) socketsOf.set(chatId, []);
    socketsOf.get(chatId).push(tab);
  }
}
const connectStarted = performance.now();
let next = 0;
await Promise.all(Array.from({ length: plan.parallel }, async () => {
  while (next < tabs.length) {
    const tab = tabs[next]; next += 1;
    await tab.connect();
  }
}));
const connectSeconds = (performance.now() - connectStarted) / 1000;
while (inFlight > 0) await sleep(50); // the first chat lists
await sleep(1000); // the presence frames of everyone connecting
process.stderr.write(`${tabs.length} sockets open in ${connectSeconds.toFixed(1)} s\n`);

running = true;
const started = performance.now();
const cpuStart = process.cpuUsage();
for (const user of users) user.start();
const progress = [];
let last = { at: started, live: 0, acked: 0 };
while (performance.now() - started < plan.seconds * 1000) {
  await sleep(Math.min(10_000, plan.seconds * 1000 - (performance.now() - started)));
  const now = performance.now();
  const line = {
    t: Math.round((now - started) / 1000),
    acked_per_s: Math.round((counts.acked - last.acked) / ((now - last.at) / 1000)),
    deliveries_per_s: Math.round((counts.deliveries_live - last.live) / ((now - last.at) / 1000)),
    delivery_p99_ms: delivery.percentile(99), open: tabs.filter((tab) => tab.open).length,
  };
  progress.push(line);
  process.stderr.write(`${JSON.stringify(line)}\n`);
  last = { at: now, live: counts.deliveries_live, acked: counts.acked };
}
running = false;
const runSeconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);

// Drain: every send answered, every tab back, every stored message at every member's sockets.
const drainEnd = performance.now() + plan.drainSeconds * 1000;
const settled = () => inFlight === 0 && tabs.every((tab) => tab.open) && uniqueDeliveries >= expectedDeliveries;
while (!settled() && performance.now() < drainEnd) await sleep(100);
await sleep(500); // a duplicate would come now
finished = true;
let lost = 0;
const lostByChat = {};
for (const message of acked) {
  for (const tab of socketsOf.get(message.chatId) || []) {
    if (tab !== message.senderTab && !tab.seen.has(message.id)) {
      lost += 1;
      lostByChat[message.chatId] = (lostByChat[message.chatId] || 0) + 1;
    }
  }
}
const restSummary = {};
for (const [endpoint, histogram] of Object.entries(rest)) restSummary[endpoint] = histogram.summary();
process.stdout.write(`${JSON.stringify({
  users: users.length, sockets: tabs.length, connect_seconds: Math.round(connectSeconds * 10) / 10,
  seconds: Math.round(runSeconds), counts, expected_deliveries: expectedDeliveries,
  unique_deliveries: uniqueDeliveries, lost, lost_by_chat: lostByChat,
  still_in_flight: inFlight, tabs_not_back: tabs.filter((tab) => !tab.open).length,
  delivery_ms: delivery.summary(), ack_ms: ackLatency.summary(), rest_ms: restSummary, errors,
  client_cpu_percent: Math.round(((cpu.user + cpu.system) / 1e6 / runSeconds) * 100), progress,
})}\n`);
for (const tab of tabs) tab.ws.terminate();
setTimeout(() => process.exit(0), 200);
