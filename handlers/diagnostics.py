"""/diagnostics: connection checks for everyone, the server's live state for admins.

``server_facts`` is the one function that gathers what an administrator used to
collect by hand (version, database, migrations, sockets, counters, the last log
lines); ``GET /api/admin/diagnostics`` returns it as JSON and the page shows it.
"""
import collections
import os
import platform
import time
import weakref

import tornado

from handlers import csp
from handlers.base import ApiHandler, BaseHandler
from handlers.logbuffer import ring_buffer
from models import disk_space, migrations
from models.clock import iso
from models.db import DatabaseUnavailable, db_call, describe_url, is_sqlite

API_PATH = "/api/admin/diagnostics"
IDLE_TEST_SECONDS = 65  # past the 60 s idle timeout many proxies use by default
RATE_WINDOW = 60.0


class RateMeter:
    """Per-second rates of ever-growing counters, from samples taken whenever someone asks."""

    def __init__(self, started_at):
        self.samples = collections.deque([(started_at, {})])

    def rates(self, now, **counts):
        while len(self.samples) > 1 and now - self.samples[0][0] > RATE_WINDOW:
            self.samples.popleft()
        then, before = self.samples[0]
        self.samples.append((now, counts))
        elapsed = max(now - then, 1e-3)
        return {name: round((value - before.get(name, 0)) / elapsed, 2) for name, value in counts.items()}


_meters = weakref.WeakKeyDictionary()  # hub -> RateMeter


def recent_log_lines():
    """A copy of the in-memory log ring buffer (already redacted), without this API's own polling."""
    ring_buffer.acquire()
    try:
        lines = list(ring_buffer.lines)
    finally:
        ring_buffer.release()
    own_poll = f" 200 GET {API_PATH} "
    return [line for line in lines if own_poll not in line]


def connection_row(conn, hub, now):
    return {
        "conn_id": conn.conn_id,
        "user_id": conn.user_id,
        "username": (conn.user or {}).get("username"),
        "connected_at": iso(conn.connected_at),
        "connected_seconds": round(now - conn.connected_at, 1),
        "last_activity": iso(conn.last_activity),
        "idle_seconds": round(now - conn.last_activity, 1),
        "remote_ip": conn.request.remote_ip,
        "chat_ids": sorted(hub.chats_of.get(conn.user_id, ())),
        "outbox_bytes": conn.outbox_bytes,
    }


async def server_facts(state):
    """Everything /diagnostics shows an administrator about this process, as one dict."""
    hub, writer, config = state.hub, state.writer, state.config
    available = migrations.available()
    try:
        applied, db_error = await db_call(migrations.applied), None
    except DatabaseUnavailable as exc:
        applied, db_error = None, str(exc)
    now = time.time()
    stats = hub.stats()
    counters = stats["counters"]
    meter = _meters.get(hub) or _meters.setdefault(hub, RateMeter(hub.started_at))
    rates = meter.rates(now, messages=writer.committed, events=counters.get("events_delivered", 0))
    return {
        "server_time": iso(now),
        "version": state.version,
        "python": platform.python_version(),
        "tornado": tornado.version,
        "pid": os.getpid(),
        "started_at": iso(hub.started_at),
        "uptime_seconds": stats["uptime_seconds"],
        "database": {"kind": "sqlite" if is_sqlite() else "postgresql",
                     "url": describe_url(config["database_url"]),
                     "reachable": db_error is None, "error": db_error},
        "migrations": {"applied": applied, "available": available,
                       "pending": None if applied is None else [m for m in available if m not in applied]},
        "writer": {"backlog": writer.backlog(), "batches": writer.batches, "committed": writer.committed},
        "storage": disk_space.facts(config),
        "bus": state.bus.stats(),
        "websocket": {"path": "/ws", "ping_interval": config["ws_ping_interval"],
                      "ping_timeout": config["ws_ping_timeout"], "outbox_limit_bytes": config["ws_outbox_bytes"],
                      "max_frame_bytes": config["ws_max_frame_bytes"],
                      "allowed_origins": list(config["allowed_origins"])},
        "counters": {"connections": stats["connections"], "users_online": stats["users_online"],
                     "messages_per_second": rates["messages"], "events_per_second": rates["events"],
                     "errors": counters.get("frame_errors", 0), "close_codes": stats["close_codes"],
                     "totals": counters},
        "connections": [connection_row(c, hub, now)
                        for c in sorted(hub.connections(), key=lambda c: c.connected_at)],
        "log": recent_log_lines(),
    }


class DiagnosticsPage(BaseHandler):
    def get(self):
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Security-Policy",
                        csp.diagnostics_page(self.request.host, self.config["allowed_origins"]))
        self.render_page("diagnostics.html", ws_path="/ws", admin_api=API_PATH,
                         close_codes_url=self.static_url("close-codes.json"),
                         ping_interval=self.config["ws_ping_interval"], idle_seconds=IDLE_TEST_SECONDS)


class AdminDiagnosticsHandler(ApiHandler):
    quiet_access_log = True  # polled every few seconds; see log_request in handlers/app.py

    async def get(self):
        self.require_admin()
        self.send_json(await server_facts(self.state))


ROUTES = [
    (r"/diagnostics", DiagnosticsPage),
    (API_PATH, AdminDiagnosticsHandler),
]
