"""PostgreSQL LISTEN/NOTIFY backplane: several processes on one database share every event.

``PostgresBus.publish`` delivers to this process's hub at once, in order, and
queues the envelope for NOTIFY; a single sender task sends queued envelopes in
one transaction per round, so NOTIFY order is publish order.  A dedicated
listening connection, watched by the event loop (never blocking it), hands
other processes' envelopes to the hub in the order PostgreSQL delivers them.
Envelopes too large for NOTIFY travel by reference through ``bus_spill``.

New messages are NOTIFYed inside the transaction that stores them, followed
by a small marker naming the writer's batch.  PostgreSQL delivers
notifications in commit order, so when this process's listener reads its own
marker it has already handed every earlier commit of the other processes to
the hub, and it delivers the writer's batch right there, before reading on
(``deliver_in_order``).
Delivering at once after the commit let a receiver here see id 280 before
another process's 259.
"""
import asyncio
import logging
import uuid
from urllib.parse import urlsplit, urlunsplit

import orjson
import psycopg2
from tornado.ioloop import IOLoop, PeriodicCallback

from handlers.realtime import events
from handlers.realtime.bus import LocalBus, make_envelope
from models import bus_spill
from models.db import db_call

logger = logging.getLogger(__name__)
CHANNEL = "cm_events"
RECONNECT_SECONDS = 2.0
SETTLE_TIMEOUT = 2.0  # seconds the writer waits for its own marker before delivering anyway
PRESENCE_SYNC_SECONDS = 30


def libpq_url(database_url):
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(scheme="postgresql"))


class PostgresBus(LocalBus):
    def __init__(self, database_url):
        super().__init__()
        self.dsn = libpq_url(database_url)
        self.origin = uuid.uuid4().hex
        self._own_suffix = f',"origin":"{self.origin}"}}'  # how _encode ends every payload of ours
        self._outgoing = []
        self._sender = None
        self._incoming = asyncio.Queue()
        self._listener = None
        self._listener_fd = None
        self._receiver = None
        self._presence_timer = None
        self._batch_token = 0
        self._settled_token = 0  # highest batch marker of ours the listener has read
        self._settle_waiters = []  # (token, future, deliver)
        self._arrivals = {}  # marker token -> future the listener awaits until its batch's waiter is there
        self.sent = self.received = 0

    # --- sending -------------------------------------------------------------------

    def announce_in_transaction(self, pairs, token):
        """NOTIFY ``(event, user_ids)`` pairs and then the batch marker ``token`` from inside the
        caller's transaction (a database thread).

        PostgreSQL delivers notifications when that transaction commits, so the
        other processes see new messages in commit order, which per chat is id order.
        """
        payloads = [self._encode(make_envelope(event, user_ids)) for event, user_ids in pairs]
        bus_spill.notify_all(CHANNEL, [*payloads, self._encode({"settled": token})])

    def next_batch_token(self):
        self._batch_token += 1
        return self._batch_token

    async def deliver_in_order(self, token, deliver):
        """Run ``deliver`` when the listener reads our marker ``token``: after everything committed
        before it was handed to the hub, and before anything committed after it.

        Without a listener (reconnecting) or after ``SETTLE_TIMEOUT`` it gives up
        and delivers at once, as a single process would.
        """
        if self._settled_token >= token or self._listener is None:
            return deliver()
        future = asyncio.get_running_loop().create_future()
        self._settle_waiters.append((token, future, deliver))
        arrival = self._arrivals.get(token)
        if arrival is not None and not arrival.done():  # the listener read the marker first and waits for us
            arrival.set_result(None)
        try:
            await asyncio.wait_for(asyncio.shield(future), SETTLE_TIMEOUT)
        except asyncio.TimeoutError:
            self._settle_waiters = [w for w in self._settle_waiters if w[1] is not future]
            logger.warning("Backplane marker %s not heard back within %s s; delivering its batch anyway",
                           token, SETTLE_TIMEOUT)
            deliver()

    async def _await_waiter(self, token):
        """Our marker ``token`` was read: its batch committed.  When the writer is not back from the
        database thread with that batch yet (the listener can be quicker), wait for it, briefly: whatever
        the listener reads next was committed later and must not reach the hub first."""
        if token <= self._settled_token or any(w[0] == token for w in self._settle_waiters):
            return
        arrival = self._arrivals[token] = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(arrival, SETTLE_TIMEOUT)
        except asyncio.TimeoutError:
            logger.warning("Backplane marker %s read, but its batch was not handed over within %s s",
                           token, SETTLE_TIMEOUT)
        finally:
            self._arrivals.pop(token, None)

    def _mark_settled(self, token):
        """Our marker ``token`` arrived: deliver the batches waiting for it, synchronously and in order."""
        self._settled_token = max(self._settled_token, token)
        ready = [w for w in self._settle_waiters if w[0] <= self._settled_token]
        self._settle_waiters = [w for w in self._settle_waiters if w[0] > self._settled_token]
        for waiting, future, deliver in ready:  # one batch failing does not hold up the ones after it
            try:
                deliver()
            except Exception:
                logger.exception("Delivering message batch %s failed", waiting)
            finally:
                future.set_result(None)

    def _encode(self, envelope):
        return orjson.dumps({**envelope, "origin": self.origin}).decode()

    def relay(self, envelope):
        """Queue for NOTIFY; one sender task keeps publish order."""
        self._outgoing.append(self._encode(envelope))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.ensure_future(self._send_queued())

    async def _send_queued(self):
        while self._outgoing:
            batch, self._outgoing = self._outgoing, []
            try:
                await db_call(bus_spill.notify_all, CHANNEL, batch)
                self.sent += len(batch)
            except Exception as exc:  # other processes miss these; their clients catch up on reconnect
                logger.warning("Could not NOTIFY %s event(s) to other processes: %s", len(batch), exc)

    # --- receiving -----------------------------------------------------------------

    def start(self):
        self._receiver = asyncio.ensure_future(self._receive_in_order())
        self._listen()
        self._presence_timer = PeriodicCallback(self._announce_presence, PRESENCE_SYNC_SECONDS * 1000)
        self._presence_timer.start()

    def _announce_presence(self, online=None):
        """Tell the other processes who is online here, so a crashed process's users expire."""
        self.hub.expire_silent_processes()
        online = sorted(self.hub.online) if online is None else online
        self.relay(make_envelope(None, control=events.presence_sync(online)))

    async def flush(self):
        """At shutdown: say that nobody is online here any more, then send what is queued."""
        self._announce_presence(online=[])
        while self._sender is not None and not self._sender.done():
            await asyncio.shield(self._sender)

    def _listen(self):
        try:
            conn = psycopg2.connect(self.dsn, connect_timeout=5)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"LISTEN {CHANNEL}")
        except psycopg2.Error as exc:
            logger.warning("Backplane cannot listen (%s); retrying in %s s", str(exc).strip(), RECONNECT_SECONDS)
            IOLoop.current().call_later(RECONNECT_SECONDS, self._listen)
            return
        self._listener, self._listener_fd = conn, conn.fileno()
        IOLoop.current().add_handler(self._listener_fd, self._on_readable, IOLoop.READ)
        logger.info("Backplane listening on PostgreSQL channel %s", CHANNEL)

    def _on_readable(self, fd, events):
        conn = self._listener
        try:
            conn.poll()
        except psycopg2.Error as exc:
            logger.warning("Backplane connection lost (%s); reconnecting", str(exc).strip())
            self._drop_listener()
            IOLoop.current().call_later(RECONNECT_SECONDS, self._listen)
            return
        while conn.notifies:
            self._incoming.put_nowait(conn.notifies.pop(0).payload)

    def _drop_listener(self):
        if self._listener is not None:
            IOLoop.current().remove_handler(self._listener_fd)
            self._listener.close()
            self._listener = None

    async def _receive_in_order(self):
        while True:
            payload = await self._incoming.get()
            try:
                if payload.startswith("ref:"):
                    payload = await db_call(bus_spill.read_spilled, int(payload[4:]))
                    if payload is None:
                        continue
                if payload.endswith(self._own_suffix) and not payload.startswith('{"settled":'):
                    continue  # our own event, already delivered here: not worth parsing
                envelope = orjson.loads(payload)
                if envelope.get("origin") == self.origin:
                    if "settled" in envelope:
                        await self._await_waiter(envelope["settled"])
                        self._mark_settled(envelope["settled"])
                    continue
                if "settled" in envelope:
                    continue  # another process's batch marker
                self.received += 1
                self.hub.dispatch(envelope)
            except Exception:
                logger.exception("Dropping a backplane event that could not be delivered")

    def stop(self):
        if self._presence_timer is not None:
            self._presence_timer.stop()
        if self._receiver is not None:
            self._receiver.cancel()
        if self._listener is not None:
            self._drop_listener()

    def stats(self):
        return {"kind": "postgresql", "sent": self.sent, "received": self.received,
                "listening": self._listener is not None}
