"""GET /metrics: Prometheus text exposition of this process.

Nearly everything is read at scrape time from counters the hub, the writer,
the login throttle, the bus and ``models.db`` already keep (``StateCollector``);
only the two histograms are fed as batches commit (``MessageWriter.on_commit``).
Each app has its own registry, so several servers in one test process do not
collide.  No metric carries a per-user label.

Who may read it: a direct request from a loopback address, or anyone with
``Authorization: Bearer <--metrics-token>``.  A request that came through a
proxy (it carries X-Forwarded-For, X-Real-IP or Forwarded) is not "direct",
even when the proxy connects from 127.0.0.1.  Everyone else gets the same 404
as an unknown page.
"""
import hmac

import tornado.web
from prometheus_client import CollectorRegistry, GCCollector, Histogram, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import choose_encoder

from handlers.base import NO_PAGE, BaseHandler, direct_from_loopback
from handlers.bundle import build_commit
from models.db import error_count

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _counter(name, documentation, value):
    family = CounterMetricFamily(name, documentation)
    family.add_metric([], value)
    return family


def _gauge(name, documentation, value):
    return GaugeMetricFamily(name, documentation, value=value)


class StateCollector:
    """The app's live counters, read when Prometheus scrapes."""

    def __init__(self, state):
        self.state = state
        self.commit = build_commit()  # asks git once, not per scrape

    def collect(self):
        state = self.state
        hub, writer, counters = state.hub, state.writer, state.hub.counters
        info = GaugeMetricFamily("messenger_build_info", "Version and git commit of this build",
                                 labels=["version", "commit"])
        info.add_metric([state.version, self.commit], 1)
        yield info
        yield _gauge("messenger_connections_open", "WebSocket connections open in this process",
                     hub.connection_count())
        yield _gauge("messenger_users_online", "Users with a connection to this process", len(hub.online))
        yield _counter("messenger_connections_opened", "Authenticated WebSocket connections opened",
                       counters["connections_opened"])
        closed = CounterMetricFamily("messenger_connections_closed",
                                     "WebSocket connections closed, by close code (refused handshakes included)",
                                     labels=["code"])
        for code, count in sorted(hub.close_codes.items()):
            closed.add_metric([code], count)
        yield closed
        yield _counter("messenger_messages_committed", "Messages stored (acked only after commit)",
                       writer.committed)
        yield _counter("messenger_write_batches", "Message batches committed", writer.batches)
        yield _gauge("messenger_writer_backlog", "Messages queued for the next commit", writer.backlog())
        yield _counter("messenger_events_delivered", "Events that reached at least one local connection",
                       counters["events_delivered"])
        yield _counter("messenger_deliveries", "Frames handed to local connections by the fan-out",
                       counters["frames_delivered"])
        yield _counter("messenger_frame_errors", "Error frames sent back for bad WebSocket frames",
                       counters["frame_errors"])
        yield _counter("messenger_database_errors", "Database calls that failed with the database unreachable",
                       error_count())
        yield _counter("messenger_login_failures", "Failed logins (wrong password or unknown user)",
                       state.throttle.failures_total)
        bus = state.bus.stats()
        if "sent" in bus:
            yield _counter("messenger_bus_sent", "Events sent to other processes", bus["sent"])
            yield _counter("messenger_bus_received", "Events received from other processes", bus["received"])


def make_registry(state):
    """A registry for one app; hooks the writer's commits into the histograms."""
    registry = CollectorRegistry()
    registry.register(StateCollector(state))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    sizes = Histogram("messenger_commit_batch_size", "Messages per committed batch",
                      buckets=BATCH_BUCKETS, registry=registry)
    latency = Histogram("messenger_commit_seconds", "Time to commit one batch (queue to the database included)",
                        buckets=LATENCY_BUCKETS, registry=registry)

    def observe(size, seconds):
        sizes.observe(size)
        latency.observe(seconds)

    state.writer.on_commit = observe
    return registry


class MetricsHandler(BaseHandler):
    quiet_access_log = True  # scraped every few seconds; see log_request in handlers/app.py

    def get(self):
        if not (self._has_token() or direct_from_loopback(self.request)):
            raise tornado.web.HTTPError(404, NO_PAGE)
        encode, content_type = choose_encoder(self.request.headers.get("Accept"))  # text or OpenMetrics
        self.set_header("Content-Type", content_type)
        self.set_header("Cache-Control", "no-store")
        self.finish(encode(self.state.metrics))

    def _has_token(self):
        expected = self.config["metrics_token"]
        scheme, _, given = self.request.headers.get("Authorization", "").partition(" ")
        return bool(expected) and scheme.lower() == "bearer" and \
            hmac.compare_digest(given.strip().encode(), expected.encode())
