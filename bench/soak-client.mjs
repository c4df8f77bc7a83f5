// Load client for bench/soak.py: every member of one group chat on its own WebSocket, some of them
// sending at a steady total rate; counts deliveries, lost messages and delivery latency.
// Reads its plan as JSON on stdin: {wsUrl, chatId, tokens:[…], senders, rate, seconds, drainSeconds}.
// Prints a progress line to stderr every 10 s and the result as JSON on stdout, then exits.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const plan = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (chunk) => { text += chunk; });
  process.stdin.on('end', () => resolve(text));
}));

const HIST_MS = 10000; // latency histogram in 1 ms buckets; slower deliveries land in the last one
const histogram = new Uint32Array(HIST_MS + 1);
const sentAt = new Map(); // client_msg_id -> performance.now()
const acked = new Map(); // message id -> index of the sending member
const members = [];
let deliveries = 0;
let errors = 0;
const closedEarly = []; // {member, code, reason}: the server closed a socket during the run
let finished = false;

function connect(token, index) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${plan.wsUrl}?token=${token}`, { perMessageDeflate: false });
    const member = { ws, index, received: new Set() };
    ws.on('message', (data) => {
      const frame = JSON.parse(data);
      if (frame.type === 'new_message') {
        const now = performance.now();
        member.received.add(frame.message.id);
        deliveries += 1;
        const started = sentAt.get(frame.message.client_msg_id);
        if (started !== undefined) histogram[Math.min(HIST_MS, Math.floor(now - started))] += 1;
      } else if (frame.type === 'message_ack') {
        acked.set(frame.message.id, index);
      } else if (frame.type === 'error') {
        errors += 1;
      } else if (frame.type === 'connected') {
        resolve(member);
      }
    });
    ws.on('close', (code, reason) => {
      if (!finished) closedEarly.push({ member: index, code, reason: reason.toString() });
    });
    ws.on('error', reject);
  });
}

function percentile(p) {
  const total = histogram.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let ms = 0; ms <= HIST_MS; ms += 1) {
    seen += histogram[ms];
    if (seen >= total * p / 100) return ms;
  }
  return null;
}

for (let i = 0; i < plan.tokens.length; i += 1) members.push(await connect(plan.tokens[i], i));
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
await sleep(1000); // let the presence frames of everyone connecting pass

const TICK_MS = 10;
const started = performance.now();
const cpuStart = process.cpuUsage();
let sent = 0; // send slots offered so far
let sentCount = 0; // frames actually sent (a slot whose socket was closed sends nothing)
let lastReport = { at: started, deliveries: 0 };
const progress = [];
while (performance.now() - started < plan.seconds * 1000) {
  const due = Math.floor(((performance.now() - started) / 1000) * plan.rate);
  for (; sent < due; sent += 1) {
    const member = members[sent % plan.senders];
    if (member.ws.readyState !== WebSocket.OPEN) continue; // counted in closed_early, not as sent
    const key = `soak-${sent}`;
    sentAt.set(key, performance.now());
    member.ws.send(JSON.stringify({ type: 'send_message', chat_id: plan.chatId, text: `soak message ${sent}`,
      client_msg_id: key }));
    sentCount += 1;
  }
  const now = performance.now();
  if (now - lastReport.at >= 10000) {
    const rate = (deliveries - lastReport.deliveries) / ((now - lastReport.at) / 1000);
    progress.push({ t: Math.round((now - started) / 1000), deliveries_per_second: Math.round(rate) });
    process.stderr.write(`t=${Math.round((now - started) / 1000)}s sent=${sentCount} acked=${acked.size} `
      + `deliveries/s=${Math.round(rate)}\n`);
    lastReport = { at: now, deliveries };
  }
  await sleep(TICK_MS);
}
const sendSeconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);

// Drain: every acked message must reach every other member.
const expected = () => acked.size * (members.length - 1);
const drainEnd = performance.now() + plan.drainSeconds * 1000;
while ((acked.size < sentCount || deliveries < expected()) && performance.now() < drainEnd) await sleep(100);
// Lost: an acked message that a member whose socket stayed open never received.
const open = members.filter((member) => member.ws.readyState === WebSocket.OPEN);
let lost = 0;
for (const [id, senderIndex] of acked) {
  for (const member of open) {
    if (member.index !== senderIndex && !member.received.has(id)) lost += 1;
  }
}
finished = true;
for (const member of members) member.ws.close(1000, 'soak finished');
process.stdout.write(`${JSON.stringify({
  members: members.length, senders: plan.senders, offered_rate: plan.rate, seconds: Math.round(sendSeconds),
  sent: sentCount, acked: acked.size, unacked: sentCount - acked.size, error_frames: errors, deliveries,
  deliveries_per_second: Math.round(deliveries / sendSeconds), lost_deliveries: lost,
  sockets_closed_early: closedEarly, latency_ms: { p50: percentile(50), p99: percentile(99), max_bucket: HIST_MS },
  client_cpu_percent: Math.round(((cpu.user + cpu.system) / 1e6 / sendSeconds) * 100), progress,
})}\n`);
setTimeout(() => process.exit(0), 500);
