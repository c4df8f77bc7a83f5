// Load client for bench/run.py: one event-driven Node process (the `ws` package), so that the client
// is not what limits a run.  Reads a plan as JSON on stdin, runs one workload against the messenger
// or bench/relay.py, prints the result as one JSON line on stdout, and exits.
//   w1: A sends one message at a time; latency = send -> new_message at B (and the ack at A).
//   w2: all members of one chat connected, `senders` of them sending, at most `inflight` unacked each,
//       for `seconds`; deliveries/s, latency, send -> ack, lost (acked but never delivered to an open member).
//       Prints {"phase": "sending"} and {"phase": "draining"} when the timed part starts and ends.
//   w3: `count` idle connections; prints {"ready": n} once all are open, holds them `holdSeconds`.
//   w5: `senders` sockets pipeline `perSender` messages each (at most `inflight` unacked); acked/s.
// Plan: {mode, wsUrl | wsUrls (one per token), tokens, chatId, ...the mode's numbers}.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const plan = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (chunk) => { text += chunk; });
  process.stdin.on('end', () => resolve(text));
}));

const BUCKET_MS = 0.05; // latency histogram: 50 µs buckets up to 20 s
const histogram = new Uint32Array(400000);
const record = (ms) => { histogram[Math.min(histogram.length - 1, Math.floor(ms / BUCKET_MS))] += 1; };
function percentile(p) {
  const total = histogram.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let i = 0; i < histogram.length; i += 1) {
    seen += histogram[i];
    if (total && seen >= (total * p) / 100) return Math.round((i + 1) * BUCKET_MS * 100) / 100;
  }
  return null;
}
const latency = () => ({ p50: percentile(50), p99: percentile(99) });
const middle = (times) => { // p50 and p99 of a list of ms
  const sorted = [...times].sort((x, y) => x - y);
  const at = (p) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 100) / 100;
  return { p50: at(50), p99: at(99) };
};
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
const urlFor = (i) => (plan.wsUrls ? plan.wsUrls[i % plan.wsUrls.length] : plan.wsUrl);
let errors = 0;

function connect(token, i, onFrame) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${urlFor(i)}?token=${token}`, { perMessageDeflate: false });
    ws.on('message', (data) => {
      const frame = JSON.parse(data);
      if (frame.type === 'connected') resolve(ws);
      else if (frame.type === 'error') errors += 1;
      else onFrame(frame);
    });
    ws.on('error', reject);
  });
}

const send = (ws, key, n) => ws.send(JSON.stringify({
  type: 'send_message', chat_id: plan.chatId, text: `benchmark message ${n}`, client_msg_id: key,
}));

async function w1() {
  const waiting = new Map(); // key -> {resolve, left}
  const done = (key) => { const w = waiting.get(key); if (w && --w.left === 0) { waiting.delete(key); w.resolve(); } };
  const arrivedAt = new Map();
  const a = await connect(plan.tokens[0], 0, (f) => { if (f.type === 'message_ack') done(f.client_msg_id); });
  await connect(plan.tokens[1], 1, (f) => {
    if (f.type === 'new_message') { arrivedAt.set(f.message.client_msg_id, performance.now()); done(f.message.client_msg_id); }
  });
  await sleep(300);
  const ackHist = [];
  for (let n = 0; n < plan.warmup + plan.count; n += 1) {
    const key = `w1-${n}-${Date.now()}`;
    const finished = new Promise((resolve) => { waiting.set(key, { resolve, left: 2 }); });
    const started = performance.now();
    send(a, key, n);
    await finished;
    if (n >= plan.warmup) { record(arrivedAt.get(key) - started); ackHist.push(performance.now() - started); }
    arrivedAt.delete(key);
  }
  return { messages: plan.count, delivery_ms: latency(), both_done_ms: middle(ackHist), errors };
}

async function fanout(senders, inflight, onAck, stopWhen) {
  // Members connect; the first `senders` send with at most `inflight` unacked each until stopWhen().
  const sentAt = new Map();
  const acked = new Map(); // message id -> sender index
  const ackTimes = []; // send -> message_ack, ms
  const run = Date.now(); // client_msg_ids of an earlier run on the same chat would be answered as retries
  const members = [];
  let deliveries = 0;
  let sent = 0;
  const pump = (m) => {
    while (m.open < inflight && !stopWhen(m)) {
      const key = `m${run}-${m.index}-${m.sent}`;
      sentAt.set(key, performance.now());
      send(m.ws, key, m.sent);
      m.sent += 1; m.open += 1; sent += 1;
    }
  };
  for (let i = 0; i < plan.tokens.length; i += 1) {
    const member = { index: i, received: new Set(), sent: 0, open: 0, acks: 0 };
    member.ws = await connect(plan.tokens[i], i, (f) => {
      if (f.type === 'new_message') {
        deliveries += 1;
        if (plan.trackLoss) member.received.add(f.message.id);
        const at = sentAt.get(f.message.client_msg_id);
        if (at !== undefined) record(performance.now() - at);
      } else if (f.type === 'message_ack') {
        acked.set(f.message.id, i);
        const at = sentAt.get(f.message.client_msg_id);
        if (at !== undefined) ackTimes.push(performance.now() - at);
        member.open -= 1; member.acks += 1;
        onAck();
        if (i < senders) pump(member);
      }
    });
    members.push(member);
  }
  await sleep(500); // presence frames of everyone connecting pass
  const started = performance.now();
  for (const m of members.slice(0, senders)) pump(m);
  return { members, started, stats: () => ({ sent, acked, deliveries, ackTimes }) };
}

async function w2() {
  let stop = false;
  const run = await fanout(plan.senders, plan.inflight, () => {}, () => stop);
  process.stdout.write(`${JSON.stringify({ phase: 'sending' })}\n`);
  await sleep(plan.seconds * 1000);
  stop = true;
  process.stdout.write(`${JSON.stringify({ phase: 'draining' })}\n`);
  const seconds = (performance.now() - run.started) / 1000;
  const { deliveries } = run.stats();
  const drainEnd = performance.now() + 20000;
  const expected = () => run.stats().acked.size * (run.members.length - 1);
  while ((run.stats().acked.size < run.stats().sent || run.stats().deliveries < expected())
         && performance.now() < drainEnd) await sleep(50);
  let lost = 0;
  for (const [id, sender] of run.stats().acked) {
    for (const m of run.members) if (m.index !== sender && !m.received.has(id)) lost += 1;
  }
  return { members: run.members.length, senders: plan.senders, inflight: plan.inflight, seconds: Math.round(seconds),
    sent: run.stats().sent, acked: run.stats().acked.size, deliveries_per_second: Math.round(deliveries / seconds),
    delivery_ms: latency(), ack_ms: middle(run.stats().ackTimes), lost, errors };
}

async function w5() {
  const total = plan.senders * plan.perSender;
  let acks = 0;
  let resolveDone;
  const done = new Promise((resolve) => { resolveDone = resolve; });
  const run = await fanout(plan.senders, plan.inflight, () => { acks += 1; if (acks === total) resolveDone(); },
    (m) => m.sent >= plan.perSender);
  await Promise.race([done, sleep(plan.timeoutSeconds * 1000)]);
  const seconds = (performance.now() - run.started) / 1000;
  return { senders: plan.senders, messages: total, acked: acks, seconds: Math.round(seconds * 1000) / 1000,
    acked_per_second: Math.round(acks / seconds), delivery_ms: latency(), errors };
}

async function w3() {
  const sockets = [];
  let next = 0;
  const opener = async () => {
    while (next < plan.count) {
      const i = next; next += 1;
      sockets.push(await connect(plan.tokens[i % plan.tokens.length], i, () => {}));
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: plan.parallel }, opener));
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ ready: sockets.length, connect_seconds: Math.round(seconds * 10) / 10 })}\n`);
  await sleep(plan.holdSeconds * 1000);
  const open = sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
  for (const ws of sockets) ws.terminate();
  return { connections: sockets.length, still_open: open, errors };
}

const result = await { w1, w2, w3, w5 }[plan.mode]();
process.stdout.write(`${JSON.stringify(result)}\n`);
setTimeout(() => process.exit(0), 100);
