// For administrators: poll the server's live state (GET /api/admin/diagnostics) and show it.
import { duration } from './diagnostics-report.js';
import { formatDate, formatNumber, lang, t } from './i18n.js';

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
  return formatDate(new Date(iso), 'clock');
}

function bytes(n) {
  return n < 1024 ? t('admin.bytes', { n }) : t('admin.kib', { n: formatNumber(n / 1024, 1) });
}

function mib(n) {
  return t('admin.mib', { n: (n / 2 ** 20).toLocaleString(lang, { maximumFractionDigits: 1 }) });
}

// Free space of each folder the server writes to; the warning says why the disk counts as full.
function diskSpace(storage) {
  const folders = storage.folders.map((d) => (d.error ? `${d.path}: ${d.error}`
    : `${d.path}: ${t('admin.free', { free: mib(d.free_bytes), total: mib(d.total_bytes) })}`)).join('; ');
  const verdict = storage.warning ? t('admin.diskFull', { warning: storage.warning })
    : t('admin.diskOk', { min: mib(storage.min_free_bytes) });
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
      updated.textContent = t('admin.refreshFailed', { reason: error.message });
      return;
    }
    if (response.status === 401 || response.status === 403) {
      this.stop();
      this.root.hidden = true;
      this.facts = null;
      return;
    }
    if (!response.ok) {
      updated.textContent = t('admin.refreshFailed', { reason: `HTTP ${response.status}` });
      return;
    }
    this.facts = await response.json();
    this.root.hidden = false;
    this.render(this.facts);
    updated.textContent = t('admin.updated', { time: formatDate(new Date(), 'clock') });
    if (!this.announced) {
      this.announced = true;
      this.log('•', t('log.admin', { count: POLL_MS / 1000 }));
    }
  }

  render(f) {
    const { applied, pending } = f.migrations;
    const migrations = applied === null ? t('admin.migrationsUnknown')
      : t('admin.migrationsApplied', { count: applied.length, names: applied.join(', ') }) + '; '
        + (pending.length ? t('admin.migrationsPending', { names: pending.join(', ') }) : t('admin.migrationsNone'));
    const bus = f.bus.kind === 'local' ? t('admin.busLocal') : t('admin.bus', {
      kind: f.bus.kind, sent: f.bus.sent, received: f.bus.received,
      listening: f.bus.listening ? t('admin.listening') : t('admin.notListening'),
    });
    fill(this.root.querySelector('#server-facts'), [
      [t('admin.f.version'), f.version],
      [t('admin.f.up'), t('admin.upSince', { up: duration(f.uptime_seconds), since: formatDate(new Date(f.started_at), 'dateTime') })],
      [t('admin.f.database'), `${f.database.kind}: ${f.database.url}`],
      [t('admin.f.reachable'), f.database.reachable ? t('admin.yes') : t('admin.no', { reason: f.database.error })],
      [t('admin.f.migrations'), migrations],
      [t('admin.f.disk'), diskSpace(f.storage)],
      [t('admin.f.writer'), t('admin.writer', { backlog: f.writer.backlog, batches: f.writer.batches, committed: f.writer.committed })],
      [t('admin.f.bus'), bus],
      ['WebSocket', t('admin.ws', { path: f.websocket.path, count: f.websocket.ping_interval })],
      [t('admin.f.origins'), f.websocket.allowed_origins.join(', ') || t('admin.noOrigins')],
      [t('admin.f.runtime'), t('admin.runtime', { python: f.python, tornado: f.tornado, pid: f.pid })],
    ]);
    const codes = Object.entries(f.counters.close_codes).map(([code, n]) => `${code} ×${n}`).join(', ');
    fill(this.root.querySelector('#server-counters'), [
      [t('admin.c.connections'), String(f.counters.connections)],
      [t('admin.c.users'), String(f.counters.users_online)],
      [t('admin.c.messages'), String(f.counters.messages_per_second)],
      [t('admin.c.events'), String(f.counters.events_per_second)],
      [t('admin.c.errors'), String(f.counters.errors)],
      [t('admin.c.codes'), codes || t('admin.noCodes')],
    ]);
    const body = this.root.querySelector('#connections');
    body.replaceChildren();
    for (const c of f.connections) {
      const row = body.insertRow();
      row.dataset.connId = c.conn_id;
      cell(row, t('admin.conn.user', { name: c.username, id: c.user_id }));
      const id = cell(row, c.conn_id, 'diag-mono');
      if (c.conn_id === this.ownConnId()) {
        row.classList.add('diag-own');
        const badge = document.createElement('span');
        badge.className = 'diag-badge';
        badge.textContent = t('admin.conn.thisPage');
        id.append(' ', badge);
      }
      cell(row, `${localTime(c.connected_at)} (${duration(c.connected_seconds)})`);
      cell(row, c.remote_ip, 'diag-mono');
      cell(row, c.chat_ids.join(', ') || t('admin.conn.none'));
      cell(row, t('admin.conn.ago', { time: duration(c.idle_seconds) }));
      cell(row, bytes(c.outbox_bytes));
    }
    if (!f.connections.length) {
      cell(body.insertRow(), t('admin.conn.empty')).colSpan = 7;
    }
    const pre = this.root.querySelector('#server-log');
    const atBottom = pre.scrollHeight === 0 || pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    pre.textContent = f.log.join('\n') || t('admin.noLog');
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }
}
