// For administrators: poll the server's live state (GET /api/admin/diagnostics) and show it.
import { duration } from './diagnostics-report.js';

const POLL_MS = 3000;

function fill(list, pairs) {
  list.replaceChildren();
  for (const [label, value] of pairs) {
    const term = document.createElement('dt');
    const detail = document.createElement('dd');
    term.textContent = label;
    detail.textContent = value;
    list.append(term, detail);
  }
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function localTime(iso) {
  return new Date(iso).toLocaleTimeString();
}

function bytes(n) {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`;
}

function mib(n) {
  return `${(n / 2 ** 20).toLocaleString(undefined, { maximumFractionDigits: 1 })} MiB`;
}

// Free space of each folder the server writes to; the warning says why the disk counts as full.
function diskSpace(storage) {
  const folders = storage.folders.map((d) => (d.error ? `${d.path}: ${d.error}`
    : `${d.path}: ${mib(d.free_bytes)} free of ${mib(d.total_bytes)}`)).join('; ');
  const verdict = storage.warning ? `WARNING, disk full: ${storage.warning}`
    : `ok (warns under ${mib(storage.min_free_bytes)})`;
  return `${folders} — ${verdict}`;
}

export class AdminView {
  constructor(root, apiPath, log, ownConnId) {
    this.root = root;
    this.apiPath = apiPath;
    this.log = log;
    this.ownConnId = ownConnId;
    this.timer = null;
    this.facts = null;
    this.announced = false;
  }

  start(token) {
    this.token = token;
    if (this.timer === null) {
      this.timer = setInterval(() => this.poll(), POLL_MS);
    }
    return this.poll();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  async poll() {
    const updated = this.root.querySelector('#admin-updated');
    let response;
    try {
      response = await fetch(this.apiPath, { headers: { Authorization: `Bearer ${this.token}` }, cache: 'no-store' });
    } catch (error) {
      updated.textContent = `Last refresh failed: ${error.message}`;
      return;
    }
    if (response.status === 401 || response.status === 403) {
      this.stop();
      this.root.hidden = true;
      this.facts = null;
      return;
    }
    if (!response.ok) {
      updated.textContent = `Last refresh failed: HTTP ${response.status}`;
      return;
    }
    this.facts = await response.json();
    this.root.hidden = false;
    this.render(this.facts);
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}.`;
    if (!this.announced) {
      this.announced = true;
      this.log('•', `You are an administrator: showing the server's live state, refreshed every ${POLL_MS / 1000} s`);
    }
  }

  render(f) {
    const migrations = f.migrations.applied === null ? 'unknown (database unreachable)'
      : `${f.migrations.applied.length} applied (${f.migrations.applied.join(', ')})` +
        (f.migrations.pending.length ? `; pending: ${f.migrations.pending.join(', ')}` : '; none pending');
    fill(this.root.querySelector('#server-facts'), [
      ['Version', f.version],
      ['Up for', `${duration(f.uptime_seconds)} (since ${new Date(f.started_at).toLocaleString()})`],
      ['Database', `${f.database.kind}: ${f.database.url}`],
      ['Database reachable', f.database.reachable ? 'yes' : `no: ${f.database.error}`],
      ['Migrations', migrations],
      ['Disk space', diskSpace(f.storage)],
      ['Message writer',
        `backlog ${f.writer.backlog}, ${f.writer.batches} batches, ${f.writer.committed} messages committed`],
      ['Event bus', f.bus.kind === 'local' ? 'local (this process only)'
        : `${f.bus.kind}: ${f.bus.sent} sent, ${f.bus.received} received from other processes, `
          + `${f.bus.listening ? 'listening' : 'NOT listening'}`],
      ['WebSocket', `${f.websocket.path}, server ping every ${f.websocket.ping_interval} s`],
      ['Extra allowed origins', f.websocket.allowed_origins.join(', ') || 'none (same host only)'],
      ['Runtime', `Python ${f.python}, Tornado ${f.tornado}, process ${f.pid}`],
    ]);
    const codes = Object.entries(f.counters.close_codes).map(([code, n]) => `${code} ×${n}`).join(', ');
    fill(this.root.querySelector('#server-counters'), [
      ['Connections', String(f.counters.connections)],
      ['Users online', String(f.counters.users_online)],
      ['Messages per second', String(f.counters.messages_per_second)],
      ['Events delivered per second', String(f.counters.events_per_second)],
      ['Frame errors', String(f.counters.errors)],
      ['Close codes seen', codes || 'none yet'],
    ]);
    const body = this.root.querySelector('#connections');
    body.replaceChildren();
    for (const c of f.connections) {
      const row = body.insertRow();
      row.dataset.connId = c.conn_id;
      cell(row, `${c.username} (user ${c.user_id})`);
      const id = cell(row, c.conn_id, 'diag-mono');
      if (c.conn_id === this.ownConnId()) {
        row.classList.add('diag-own');
        const badge = document.createElement('span');
        badge.className = 'diag-badge';
        badge.textContent = 'this page';
        id.append(' ', badge);
      }
      cell(row, `${localTime(c.connected_at)} (${duration(c.connected_seconds)})`);
      cell(row, c.remote_ip, 'diag-mono');
      cell(row, c.chat_ids.join(', ') || 'none');
      cell(row, `${duration(c.idle_seconds)} ago`);
      cell(row, bytes(c.outbox_bytes));
    }
    if (!f.connections.length) {
      cell(body.insertRow(), 'No open connections.').colSpan = 7;
    }
    const pre = this.root.querySelector('#server-log');
    const atBottom = pre.scrollHeight === 0 || pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    pre.textContent = f.log.join('\n') || '(no log lines kept yet)';
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }
}
