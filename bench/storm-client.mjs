// Reconnect-storm client for bench/storm.py: one event-driven Node process (the `ws` package) holding
// every socket, reconnecting each the way the browser does (static/js/socket.js: full jitter, a delay
// drawn between 0.5 s and min(30 s, 1 s × 2^attempt) but never under a `server_busy` frame's
// `retry_after`, the attempt count kept until a `connected` frame),
// then catching up from the last message id it saw, as the page does after a reconnect.
//
// Plan on stdin (one JSON line): {wsUrl, users: [{token, chatId}], perUser, parallel, timeoutSeconds}.
// Prints {"ready": n} once every socket is open, then {"all_back_at": epoch ms} once all reopened after
// closing (null after timeoutSeconds).  A later stdin line {"expect": {chatId: [ids]}} asks for
// the result: per socket, every expected message of its chat seen exactly once (by frame or catch-up).
// Result: sockets, back (all reopened), first close -> last reopen (ms, epoch ms of both), reconnect
// attempts, close codes, server_busy frames, messages missing and duplicated (the same id by live frame twice), catch-up and
// live frame overlaps (merged by id, as the page does), errors.
import readline from 'node:readline';
import WebSocket from 'ws';

const input = readline.createInterface({ input: process.stdin });
const lines = input[Symbol.asyncIterator]();
const plan = JSON.parse((await lines.next()).value);

const sockets = [];
let firstCloseAt = null;
let lastOpenAt = null;
let attemptsTotal = 0;
let errors = 0;
let busy = 0; // server_busy frames (each followed by close 1013)
let overlaps = 0; // a message that came both by catch-up and by live frame (merged, as the page does)
const closeCodes = {};
let ready = false;
let openCount = 0;

function delayFor(attempt, busyFor) {
  return Math.max(500, busyFor, Math.random() * Math.min(30_000, 1_000 * 2 ** attempt));
}

class StormSocket {
  constructor(user) {
    this.user = user;
    this.attempt = 0;
    this.busyFor = 0; // ms a server_busy frame asked to wait before the next attempt
    this.lastId = 0;
    this.seen = new Map(); // message id -> live frames of it (1 when it came by catch-up)
    this.caughtUp = new Set();
    this.everOpen = false;
    this.open = false;
  }

  connect(onOpen) {
    const ws = new WebSocket(`${plan.wsUrl}?token=${this.user.token}`, { perMessageDeflate: false });
    ws.on('message', (data) => this.frame(JSON.parse(data), ws, onOpen));
    ws.on('error', () => {}); // the close that follows decides
    ws.on('close', (code) => this.closed(code));
    this.ws = ws;
  }

  frame(f, ws, onOpen) {
    if (f.type === 'connected') {
      this.attempt = 0;
      this.open = true;
      if (this.everOpen) {
        lastOpenAt = Date.now();
        ws.send(JSON.stringify({ type: 'catch_up', after_id: this.lastId }));
        openCount += 1;
        if (openCount === sockets.length) {
          clearTimeout(giveUp);
          process.stdout.write(`${JSON.stringify({ all_back_at: lastOpenAt })}\n`);
        }
      }
      this.everOpen = true;
      if (onOpen) onOpen();
    } else if (f.type === 'new_message') {
      this.note(f.message);
    } else if (f.type === 'catch_up') {
      for (const m of f.messages) this.note(m, true);
    } else if (f.type === 'error' && f.code === 'server_busy') {
      this.busyFor = f.retry_after * 1000;
      busy += 1;
    } else if (f.type === 'error') {
      errors += 1;
    }
  }

  note(message, caughtUp = false) {
    if (message.chat_id !== this.user.chatId) return;
    if (caughtUp || this.caughtUp.has(message.id)) {
      // The page merges by id: a catch-up and a live frame of the same message show it once.
      if (caughtUp) this.caughtUp.add(message.id);
      if (this.seen.has(message.id)) { overlaps += 1; return; }
      this.seen.set(message.id, 1);
    } else {
      this.seen.set(message.id, (this.seen.get(message.id) || 0) + 1); // two live frames: a duplicate
    }
    this.lastId = Math.max(this.lastId, message.id);
  }

  closed(code) {
    closeCodes[code] = (closeCodes[code] || 0) + 1;
    if (this.open && firstCloseAt === null) firstCloseAt = Date.now();
    if (this.open) openCount -= 1;
    this.open = false;
    if (!ready) return;
    attemptsTotal += 1;
    setTimeout(() => this.connect(), delayFor(this.attempt, this.busyFor));
    this.busyFor = 0;
    this.attempt += 1;
  }
}

// Open everything, `parallel` handshakes at a time.
const all = [];
for (const user of plan.users) for (let k = 0; k < plan.perUser; k += 1) all.push(new StormSocket(user));
let next = 0;
await Promise.all(Array.from({ length: plan.parallel }, async () => {
  while (next < all.length) {
    const s = all[next]; next += 1;
    await new Promise((resolve) => { s.connect(resolve); });
    sockets.push(s);
  }
}));
ready = true;
openCount = sockets.length;
process.stdout.write(`${JSON.stringify({ ready: sockets.length })}\n`);
const giveUp = setTimeout(() => process.stdout.write(`${JSON.stringify({ all_back_at: null })}\n`),
  plan.timeoutSeconds * 1000);

const { expect } = JSON.parse((await lines.next()).value);
let missing = 0;
let duplicated = 0;
for (const s of sockets) {
  for (const id of expect[s.user.chatId] || []) {
    const times = s.seen.get(id) || 0;
    if (times === 0) missing += 1;
    if (times > 1) duplicated += 1;
  }
}
const back = sockets.filter((s) => s.open).length;
const result = {
  sockets: sockets.length, back, first_close_at: firstCloseAt, last_open_at: lastOpenAt,
  storm_ms: firstCloseAt && lastOpenAt ? lastOpenAt - firstCloseAt : null,
  reconnect_attempts: attemptsTotal, close_codes: closeCodes, server_busy: busy, missing, duplicated, overlaps, errors,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
for (const s of sockets) s.ws.terminate();
setTimeout(() => process.exit(0), 100);
