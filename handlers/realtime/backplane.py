"""PostgreSQL LISTEN/NOTIFY backplane: several processes on one database share every event.

``PostgresBus.publish`` delivers to this process's hub at once, in order, and
queues the envelope for NOTIFY; a single sender task sends queued envelopes in
one transaction per round, so NOTIFY order is publish order.  A dedicated
listening connection, watched by the event loop (never blocking it), hands
other processes' envelopes to the hub in the order PostgreSQL delivers them.
Envelopes too large for NOTIFY travel by reference through ``bus_spill``.

New messages are NOTIFYed inside the transaction that stores them, followed
by a small marker naming the writer's batch.  PostgreSQL delivers
notifications in commit order, and a chat's commit order is its id order
(writers hold the chat's lock).  The writer's own batch goes to this
process's sockets as soon as it is back from the database when this process
has already handed the hub each chat's message before the batch (the store
reads that id under the chat's lock): nothing of those chats can still be on
its way here (``deliver_in_order``).  Otherwise (the first batch to a chat
since this process started, or another process's message before it not read
yet) it waits until the listener has handed over that message or read the
batch's marker, whichever comes first.  The listener, reading the marker of a
batch the writer has not handed over yet, waits for it before reading on, so
a later commit of another process never overtakes it.  Delivering at once
after the commit, without either check, let a receiver here see id 280
before another process's 259.
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
        self._delivered_token = 0  # highest batch of ours handed to the hub
        self._heard = {}  # chat id -> highest id of the chat's messages handed to the hub here
        self._settle_waiters = []  # (token, future, deliver, chats), in token order
        self._arrivals = {}  # marker token -> future the listener awaits until its batch is handed over
        self.sent = self.received = 0
        self.batches_at_once = self.batches_waited = 0

    # --- sending -------------------------------------------------------------------

    def announcement(self, pairs, token):
        """The statement that NOTIFYs ``(event, user_ids)`` pairs and then the batch marker ``token``, for
        the caller's transaction (a database thread) to run.

        PostgreSQL delivers notifications when that transaction commits, so the
        other processes see new messages in commit order, which per chat is id order.
        """
        payloads = [self._encode(make_envelope(event, user_ids)) for event, user_ids in pairs]
        return bus_spill.notify_statement(CHANNEL, [*payloads, self._encode({"settled": token})])

    def next_batch_token(self):
        self._batch_token += 1
        return self._batch_token

    async def deliver_in_order(self, token, deliver, chats):
        """Run ``deliver`` (publishing our committed batch ``token``) after everything committed before it
        was handed to the hub, and before anything committed after it.

        ``chats``: {chat id: (id of the chat's message before the batch or None, the batch's newest id in
        it)}.  When this process has handed over each of those previous messages, it delivers at once;
        else when the listener has, or reads the batch's marker.  Without a listener (reconnecting) or
        after ``SETTLE_TIMEOUT`` it gives up and delivers at once, as a single process would.
        """
        if not self._settle_waiters and (self._listener is None or self._settled_token >= token
                                         or self._has_heard(chats)):
            self.batches_at_once += 1
            return self._hand_over(token, deliver, chats)
        self.batches_waited += 1
        future = asyncio.get_running_loop().create_future()
        self._settle_waiters.append((token, future, deliver, chats))
        arrival = self._arrivals.get(token)
        if arrival is not None and not arrival.done():  # the listener read the marker first and waits for us
            arrival.set_result(None)
        try:
            await asyncio.wait_for(asyncio.shield(future), SETTLE_TIMEOUT)
        except asyncio.TimeoutError:
            if future.done():  # handed over in the same turn as the timeout: not twice
                return
            self._settle_waiters = [w for w in self._settle_waiters if w[1] is not future]
            logger.warning("Backplane marker %s not heard back within %s s; delivering its batch anyway",
                           token, SETTLE_TIMEOUT)
            self._hand_over(token, deliver, chats)

    def _has_heard(self, chats):
        """True when every chat's message before the batch has been handed to the hub here."""
        return all(previous is None or self._heard.get(chat_id, 0) >= previous
                   for chat_id, (previous, _) in chats.items())

    def _hand_over(self, token, deliver, chats):
        """Deliver our batch ``token`` and note its chats' newest ids; a listener waiting for it reads on."""
        for chat_id, (_, newest) in chats.items():
            self._heard[chat_id] = max(self._heard.get(chat_id, 0), newest)
        self._delivered_token = max(self._delivered_token, token)
        arrival = self._arrivals.get(token)
        if arrival is not None and not arrival.done():
            arrival.set_result(None)
        deliver()

    async def _await_waiter(self, token):
        """Our marker ``token`` was read: its batch committed.  When the writer is not back from the
        database thread with that batch yet (the listener can be quicker), wait for it, briefly: whatever
        the listener reads next was committed later and must not reach the hub first."""
        if token <= self._delivered_token or any(w[0] == token for w in self._settle_waiters):
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
        """Our marker ``token`` arrived: the batches up to it can go."""
        self._settled_token = max(self._settled_token, token)
        self._deliver_ready()

    def _deliver_ready(self):
        """Hand over the waiting batches that may go now, synchronously and in order (stopping at the first
        that may not, so that our own batches keep their order)."""
        while self._settle_waiters:
            token, future, deliver, chats = self._settle_waiters[0]
            if token > self._settled_token and not self._has_heard(chats):
                return
            self._settle_waiters.pop(0)
            try:  # one batch failing does not hold up the ones after it
                self._hand_over(token, deliver, chats)
            except Exception:
                logger.exception("Delivering message batch %s failed", token)
            finally:
                future.set_result(None)

    def _heard_message(self, envelope):
        """Another process's event is about to reach the hub: note a new message's id, and hand over a batch
        of ours that waited for it."""
        event = envelope["event"]
        if event is None or event.get("type") != "new_message":
            return
        message = event["message"]
        self._heard[message["chat_id"]] = max(self._heard.get(message["chat_id"], 0), message["id"])
        if self._settle_waiters:
            self._deliver_ready()

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
                self._heard_message(envelope)
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
                "listening": self._listener is not None, "batches_at_once": self.batches_at_once,
                "batches_waited": self.batches_waited}
