"""When a process hands its own message batches to its sockets on PostgreSQL (handlers/realtime/backplane.py).

In-process, below the server: the real PostgresBus (listening on the test database), hub, writer and
store, with sockets stood in by objects that keep the frames they are given.  A second process is
played by NOTIFYing its envelopes from another connection, which is all a process sees of another.
"""
import asyncio
import time

import orjson
import psycopg2
import pytest

from handlers.realtime import backplane, events
from handlers.realtime.backplane import PostgresBus
from handlers.realtime.bus import make_envelope
from handlers.realtime.hub import Hub
from handlers.realtime.writer import MessageWriter
from handlers.throttle import RateLimiter
from models import chats, message_send, users
from models.db import is_sqlite, run_in_transaction

pytestmark = pytest.mark.slow


class Socket:
    """Stands in for a WebSocket connection: keeps the frames the hub hands it."""

    def __init__(self, user_id):
        self.user_id, self.conn_id, self.session_id = user_id, f"socket-{user_id}", None
        self.frames = []

    def send_text(self, text):
        self.frames.append(orjson.loads(text))

    def close(self, code, reason):
        pass

    def message_ids(self):
        return [f["message"]["id"] for f in self.frames if f["type"] == "new_message"]


@pytest.fixture
def group(database):
    if is_sqlite():
        pytest.skip("the backplane shares events through PostgreSQL; SQLite serves one process")

    def make():
        ids = [users.create_user(name, "not-a-real-hash", name.title())["id"] for name in ("ann", "bob", "cid")]
        return ids, chats.create_group_chat(ids[0], "Team", ids[1:])["id"]
    return database, *run_in_transaction(make)


async def until(condition, what, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.01)


async def listening_process(database_url, user_id, chat_id):
    """A bus listening on the database, its hub with one socket of ``user_id`` in ``chat_id``, a writer."""
    bus = PostgresBus(database_url)
    hub, socket = Hub(bus, presence_grace=0), Socket(user_id)
    bus.start()
    await until(lambda: bus.stats()["listening"], "the bus never listened")
    hub.attach(socket, [chat_id])
    return bus, socket, MessageWriter(bus, RateLimiter(0, 1))


def notify_from_another_process(database_url, message, member_ids):
    """What another process's writer NOTIFYs for a message it stored."""
    payload = {**make_envelope(events.new_message(message), member_ids), "origin": "another-process"}
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_notify(%s, %s)", (backplane.CHANNEL, orjson.dumps(payload).decode()))
    conn.close()


def test_batches_after_messages_this_process_has_seen_go_out_without_waiting(group):
    async def scenario():
        bus, socket, writer = await listening_process(database_url, ids[1], chat_id)
        try:
            sent = [await (await writer.send(ids[0], chat_id, f"m{n}")) for n in range(3)]
            assert socket.message_ids() == [r["message"]["id"] for r in sent]
            # the chat's first message and the two after this process's own: no marker waited for
            assert bus.stats()["batches_at_once"] == 3 and bus.stats()["batches_waited"] == 0
        finally:
            bus.stop()
    database_url, ids, chat_id = group
    asyncio.run(scenario())


def test_a_batch_after_a_message_not_seen_here_waits_for_it_or_for_its_own_marker(group, monkeypatch):
    monkeypatch.setattr(backplane, "SETTLE_TIMEOUT", 60)  # only the listener may hand the batches over

    async def scenario():
        before = run_in_transaction(message_send.store_messages, [
            {"sender_id": ids[2], "chat_id": chat_id, "text": "old", "client_msg_id": None}])[0]
        bus, socket, writer = await listening_process(database_url, ids[1], chat_id)
        try:
            # committed before this process listened: it never hears of it, so its marker is waited for
            first = await (await writer.send(ids[0], chat_id, "first"))
            assert first["previous_id"] == before["message"]["id"]
            assert bus.stats()["batches_waited"] == 1 and socket.message_ids() == [first["message"]["id"]]

            # another process's message committed just before this batch and not read here yet: the
            # batch waits for it (its marker is never sent here), and goes right after it
            remote = {**first["message"], "id": first["message"]["id"] + 1000, "client_msg_id": None}
            own = {**remote, "id": remote["id"] + 1}
            handed = asyncio.ensure_future(bus.deliver_in_order(
                10_000, lambda: socket.send_text(orjson.dumps(events.new_message(own)).decode()),
                {chat_id: (remote["id"], own["id"])}))
            await asyncio.sleep(0)
            assert not handed.done() and socket.message_ids() == [first["message"]["id"]]
            notify_from_another_process(database_url, remote, ids)
            await until(handed.done, "the batch was not handed over after the message before it")
            assert socket.message_ids() == [first["message"]["id"], remote["id"], own["id"]]
            assert bus.stats()["batches_waited"] == 2
        finally:
            bus.stop()
    database_url, ids, chat_id = group
    asyncio.run(scenario())
