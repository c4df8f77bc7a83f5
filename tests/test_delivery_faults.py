"""A failure on the delivery path stays with its connection or message (SQLite and PostgreSQL).

The failing socket is a real client's connection whose server-side stream (Tornado's ``IOStream``,
not our code) fails its next write with an unexpected error; the failing batch is a real batch that
the database refuses because of one message (a trigger), retried message by message.
"""
import asyncio
import logging
import sqlite3
import threading
import time

import psycopg2
import pytest

from models.db import db_call
from tests.test_ws import closed_with, connected

BIG = "я" * 9000  # 18 KB of UTF-8: its frame is written to the socket at once, inside the fan-out
SEND_FAILED = "server error while sending: reconnect and catch up"


def break_next_write(server, conn_id):
    """The next write to the socket of connection ``conn_id`` fails as a broken transport would."""
    def arm():
        stream = next(c for c in server.hub.connections() if c.conn_id == conn_id).ws_connection.stream
        real_write = stream.write

        def failing_write(data):
            stream.write = real_write
            raise MemoryError("injected: the write to this socket failed")
        stream.write = failing_write
    server.call(arm)


def post_in_background(server, token, chat_id, text):
    """POST a message from a thread; the answer (or the exception) lands in the returned dict."""
    outcome = {}

    def post():
        try:
            outcome["response"] = server.http.post(f"{server.url}/api/chats/{chat_id}/messages", json={"text": text},
                                                   headers={"Authorization": f"Bearer {token}"}, timeout=10)
        except Exception as exc:  # reported by the test
            outcome["error"] = exc
    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    outcome["thread"] = thread
    return outcome


def answered(outcome):
    outcome["thread"].join(12)
    assert "response" in outcome, f"the REST send never answered: {outcome.get('error')!r}"
    return outcome["response"]


def failures_logged(caplog):
    return [r for r in caplog.records if r.getMessage().startswith("Sending to user")]


@pytest.mark.parametrize("text", [BIG, "small"], ids=["written-in-the-fan-out", "written-at-the-end-of-the-turn"])
def test_a_failing_receiver_socket_does_not_stop_the_fan_out(server, caplog, text):
    tokens = {name: server.login(name) for name in ("admin", "user1", "user2")}
    general = server.chat_id(tokens["admin"], "General")
    bad, hello = connected(server, tokens["admin"])
    watcher, _ = connected(server, tokens["user2"])
    break_next_write(server, hello["connection_id"])
    with caplog.at_level(logging.INFO):
        posted = answered(post_in_background(server, tokens["user1"], general, text))
        assert posted.status_code == 201, posted.text
        assert watcher.recv_type("new_message")["message"]["text"] == text
        assert closed_with(bad) == (1011, SEND_FAILED)
        again = server.request("POST", f"/api/chats/{general}/messages", tokens["user1"], {"text": "and on"})
        assert again.status_code == 201
        assert watcher.recv_type("new_message")["message"]["text"] == "and on"
    assert len(failures_logged(caplog)) == 1
    assert server.call(lambda: server.hub.connection_count()) == 1
    assert server.call(lambda: server.hub.close_codes["1011"]) == 1
    watcher.close()


def poison(database_url):
    """A trigger that refuses to store any message whose text is "poison": its batch fails as a whole."""
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(database_url[len("sqlite:///"):], timeout=10)
        conn.execute("CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.text = 'poison'"
                     " BEGIN SELECT RAISE(ABORT, 'poisoned message'); END")
        conn.commit()
    else:
        conn = psycopg2.connect(database_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("""CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN
                             IF NEW.text = 'poison' THEN RAISE EXCEPTION 'poisoned message'; END IF;
                             RETURN NEW;
                           END $$ LANGUAGE plpgsql""")
            cur.execute("CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_poison()")
    conn.close()


class HeldCommits:
    """Keep the server's commits waiting, so that sends queue up into one batch, until ``release()``.

    PostgreSQL: a lock on the messages table.  SQLite refuses a locked write at once, so there the one
    database thread is kept busy instead, as a long query would."""

    def __init__(self, server, database_url):
        self.gate = threading.Event()
        if database_url.startswith("sqlite"):
            self.blocker = None
            self.busy = asyncio.run_coroutine_threadsafe(db_call(self.gate.wait, 20), server._loop)
        else:
            self.blocker = psycopg2.connect(database_url)
            self.blocker.cursor().execute("LOCK TABLE messages IN EXCLUSIVE MODE")

    def release(self):
        self.gate.set()
        if self.blocker is not None:
            self.blocker.commit()
            self.blocker.close()


def test_a_failing_batch_with_a_failing_sender_acks_everyone_else(server, database_url, caplog):
    """One batch holds a message the database refuses and one whose sender's socket fails: the batch is
    retried message by message, and every other message is stored, published and acked."""
    tokens = {name: server.login(name) for name in ("admin", "user1", "user2")}
    general, direct = server.chat_id(tokens["admin"], "General"), server.chat_id(tokens["admin"], "User One")
    good, _ = connected(server, tokens["user1"])  # sends to its direct chat with admin
    bad, hello = connected(server, tokens["user2"])  # its first frame from now on is its ack
    poison(database_url)
    break_next_write(server, hello["connection_id"])
    keys = [f"g{n}" for n in range(15)]
    writer = server.app.state.writer
    batches = server.call(lambda: writer.batches)
    held = HeldCommits(server, database_url)
    try:
        good.send({"type": "send_message", "chat_id": direct, "text": "first, alone", "client_msg_id": "g-first"})
        poll(lambda: server.call(lambda: writer.batches) > batches)  # its commit waits; the rest queue behind it
        for key in keys[:5]:
            good.send({"type": "send_message", "chat_id": direct, "text": key, "client_msg_id": key})
        good.send({"type": "send_message", "chat_id": direct, "text": "poison", "client_msg_id": "g-poison"})
        for key in keys[5:10]:
            good.send({"type": "send_message", "chat_id": direct, "text": key, "client_msg_id": key})
        poll(lambda: server.call(writer.backlog) == 11)
        bad.send({"type": "send_message", "chat_id": general, "text": BIG, "client_msg_id": "big"})
        poll(lambda: server.call(writer.backlog) == 12)
        for key in keys[10:]:
            good.send({"type": "send_message", "chat_id": direct, "text": key, "client_msg_id": key})
        poll(lambda: server.call(writer.backlog) == 17)
        rest = post_in_background(server, tokens["user2"], general, "over REST")
    finally:
        held.release()
    with caplog.at_level(logging.INFO):
        assert answered(rest).status_code == 201
        frames = {}
        while {*keys, "g-poison"} - set(frames):
            frame = good.recv(10)
            if frame["type"] in ("message_ack", "error") and frame.get("client_msg_id") in {*keys, "g-poison"}:
                frames[frame["client_msg_id"]] = frame
        assert {k: frames[k]["type"] for k in keys} == {k: "message_ack" for k in keys}
        assert (frames["g-poison"]["type"], frames["g-poison"]["code"]) == ("error", "internal_error")
        assert closed_with(bad)[0] == 1011
    texts = {m["text"] for chat_id in (general, direct) for m in server.request(
        "GET", f"/api/chats/{chat_id}/messages?limit=100", tokens["admin"]).json()["messages"]}
    assert {*keys, BIG, "over REST"} <= texts and "poison" not in texts
    assert len(failures_logged(caplog)) == 1
    good.close()


def poll(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the sends never reached the writer"
        time.sleep(0.02)
