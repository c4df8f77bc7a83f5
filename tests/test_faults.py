"""Real clients and real faults, bounded in time: protocol keepalive pings, PostgreSQL stopped and
started under load, the data folder's disk filling up.  Marked slow; they run in CI (as root)."""
import logging
import os
import sqlite3
import threading
import time

import psycopg2
import pytest

from tests.harness import InProcessServer, config_argv
from tests.throwaway import SmallDisk, ThrowawayPostgres

pytestmark = pytest.mark.slow


def test_keepalive_pings_keep_a_standard_client_connected(server):
    """The websockets library pings every 20 s by default; at one ping a second for 10 s the connection
    must stay open and keep working (a colliding handler once dropped it at the first PING)."""
    client = server.connect(server.login("user1"), ping_interval=1, ping_timeout=5)
    assert client.recv_type("connected")
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < 10:
        n += 1
        client.send({"type": "ping", "id": n})
        assert client.recv_type("pong")["id"] == n
        time.sleep(1)
    assert client.close_code is None
    assert client.conn.latency > 0, "no keepalive PING was answered"
    assert server.call(lambda: server.hub.connection_count()) == 1
    client.close()


# --- PostgreSQL stopped and started under sends ---------------------------------------------

@pytest.fixture
def throwaway_pg():
    pg = ThrowawayPostgres()
    pg.start()
    yield pg
    pg.remove()


class Sender(threading.Thread):
    """One WebSocket client sending to a chat one message at a time and retrying a refused send
    with the same client_msg_id (as the UI does), until told to stop."""

    def __init__(self, client, chat_id, name):
        super().__init__(daemon=True)
        self.client, self.chat_id, self.name = client, chat_id, name
        self.acked, self.refusals, self.failure = {}, [], None
        self.stopping = threading.Event()

    def run(self):
        n = 0
        try:
            while not self.stopping.is_set():
                key = f"{self.name}-{n}"
                self.client.send({"type": "send_message", "chat_id": self.chat_id, "text": key, "client_msg_id": key})
                frame = self.answer(key)
                if frame["type"] == "message_ack":
                    self.acked[key] = frame["message"]["id"]
                    n += 1
                else:
                    self.refusals.append((time.monotonic(), frame["code"]))
                    time.sleep(0.05)
        except Exception as exc:  # reported by the test, not lost in the thread
            self.failure = exc

    def answer(self, key):
        while True:
            frame = self.client.recv(30)
            if frame["type"] in ("message_ack", "error") and frame.get("client_msg_id") == key:
                return frame


def test_postgresql_stopped_and_started_under_sends(throwaway_pg, tmp_path):
    server = InProcessServer(config_argv(tmp_path / "data", throwaway_pg.url))
    try:
        general = server.chat_id(server.login("admin"), "General")
        senders = []
        for i, name in enumerate(["admin", "user1", "user2", "admin", "user1", "user2"]):
            client = server.connect(server.login(name))
            client.recv_type("connected")
            senders.append(Sender(client, general, f"{name}{i}"))
        for sender in senders:
            sender.start()
        time.sleep(2)
        before_stop = sum(len(s.acked) for s in senders)
        throwaway_pg.stop()
        stopped_at = time.monotonic()
        time.sleep(4)
        throwaway_pg.start()
        during = sum(len(s.acked) for s in senders)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(len(s.acked) for s in senders) < during + 60:
            time.sleep(0.2)
        for sender in senders:
            sender.stopping.set()
        for sender in senders:
            sender.join(35)
            assert sender.failure is None, f"{sender.name}: {sender.failure!r}"
        assert before_stop > 0
        assert sum(len(s.acked) for s in senders) >= during + 60, "sends did not resume after PostgreSQL came back"
        refusals = [code for s in senders for moment, code in s.refusals if moment >= stopped_at]
        assert refusals and set(refusals) == {"db_unavailable"}, set(refusals)
        assert all(s.client.close_code is None for s in senders), "a socket was dropped"
        assert server.call(lambda: server.hub.connection_count()) == len(senders)
        acked = {key: message_id for s in senders for key, message_id in s.acked.items()}
    finally:
        for sender in senders:
            sender.stopping.set()
        server.stop()
    conn = psycopg2.connect(throwaway_pg.url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT client_msg_id, count(*), min(id) FROM messages WHERE client_msg_id IS NOT NULL "
                    "GROUP BY client_msg_id")
        stored = {key: (count, message_id) for key, count, message_id in cur.fetchall()}
    conn.close()
    assert all(count == 1 for count, _ in stored.values()), "a message was stored twice"
    assert {key: stored.get(key, (0, None))[1] for key in acked} == acked, "an acked message is missing"


# --- the data folder's disk fills up ----------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    disk = SmallDisk(tmp_path / "small", "16m")
    yield disk
    disk.unmount()


def send_until_refused(client, chat_id, limit=3000):
    """Send 10,000-character messages until one is refused; returns (acked {key: id}, the error frame)."""
    acked = {}
    for n in range(limit):
        key = f"fill-{n}"
        client.send({"type": "send_message", "chat_id": chat_id, "text": f"{n} " + "x" * 9990, "client_msg_id": key})
        while True:
            frame = client.recv(30)
            if frame.get("client_msg_id") == key and frame["type"] in ("message_ack", "error"):
                break
        if frame["type"] == "error":
            return acked, frame
        acked[key] = frame["message"]["id"]
    raise AssertionError(f"{limit} messages of 10 kB fitted on a full 16 MB disk")


def test_full_disk_is_named_and_the_server_recovers(small_disk, caplog):
    data = os.path.join(small_disk.path, "data")
    database = os.path.join(data, "messenger.db")
    server = InProcessServer(config_argv(data, "sqlite:///" + database, disk_min_free_mb=1))
    try:
        token = server.login("user1")
        general = server.chat_id(token, "General")
        health = server.request("GET", "/api/health")
        assert health.status_code == 200 and health.json()["disk"] == "ok", health.text
        client = server.connect(token)
        client.recv_type("connected")

        small_disk.fill()
        health = server.request("GET", "/api/health")
        assert health.status_code == 503 and health.json()["disk"] == "full", health.text
        assert "free" in health.json()["detail"] and health.json()["db"] == "ok"
        with caplog.at_level(logging.WARNING):
            acked, refusal = send_until_refused(client, general)
        assert refusal["code"] == "disk_full", refusal
        assert refusal["message"] == "The server's disk is full; message not stored"
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "database or disk is full" in logged and "cannot rollback" not in logged
        r = server.request("POST", f"/api/chats/{general}/messages", token, {"text": "via REST"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "disk_full", r.text
        assert client.close_code is None

        small_disk.free()
        client.send({"type": "send_message", "chat_id": general, "text": "after", "client_msg_id": "after"})
        acked["after"] = client.recv_type("message_ack", 15)["message"]["id"]
        health = server.request("GET", "/api/health")
        assert health.status_code == 200 and health.json()["disk"] == "ok", health.text
    finally:
        server.stop()
    check = sqlite3.connect(database)
    assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    stored = dict(check.execute("SELECT client_msg_id, id FROM messages WHERE client_msg_id IS NOT NULL"))
    check.close()
    assert {key: stored.get(key) for key in acked} == acked, "an acked message was lost"


def test_postgresql_disk_full_refusal_is_named(server, database_url):
    """PostgreSQL refuses the INSERT with SQLSTATE 53100 (disk_full), as it does when it cannot extend a
    table file; a trigger raises exactly that error.  The server names it and recovers on the next store."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's full disk is the tmpfs test above")
    token = server.login("user1")
    general = server.chat_id(token, "General")
    client = server.connect(token)
    client.recv_type("connected")
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("""CREATE FUNCTION refuse_for_lack_of_space() RETURNS trigger AS $$ BEGIN
                         RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device'
                           USING ERRCODE = 'disk_full';
                       END $$ LANGUAGE plpgsql""")
        cur.execute("CREATE TRIGGER full_disk BEFORE INSERT ON messages "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_for_lack_of_space()")
    try:
        client.send({"type": "send_message", "chat_id": general, "text": "no room", "client_msg_id": "room-1"})
        refusal = client.recv_type("error", 15)
        assert (refusal["code"], refusal["client_msg_id"]) == ("disk_full", "room-1"), refusal
        assert refusal["message"] == "The server's disk is full; message not stored"
        r = server.request("POST", f"/api/chats/{general}/messages", token, {"text": "no room either"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "disk_full", r.text
        health = server.request("GET", "/api/health").json()
        assert health["disk"] == "full" and "No space left on device" in health["detail"], health
        facts = server.request("GET", "/api/admin/diagnostics", server.login("admin")).json()["storage"]
        assert "No space left on device" in facts["last_disk_full"]["error"] and facts["warning"]
    finally:
        with conn.cursor() as cur:
            cur.execute("DROP TRIGGER full_disk ON messages")
    conn.close()
    client.send({"type": "send_message", "chat_id": general, "text": "room again", "client_msg_id": "room-1"})
    assert client.recv_type("message_ack", 15)["message"]["text"] == "room again"
    health = server.request("GET", "/api/health")
    assert health.status_code == 200 and health.json()["disk"] == "ok", health.text
    assert client.close_code is None
