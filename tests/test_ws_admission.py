"""Admitting WebSockets in batches (``handlers/realtime/batching.py``), and ``server_busy`` + 1013 when too
many wait: real servers, real sockets, SQLite and PostgreSQL."""
import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest

from models import admission, users
from models.db import db_call, run_in_transaction
from models.errors import AppError
from tests.test_ws import closed_with


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def wait_until(check, timeout=10):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_sockets_arriving_together_are_admitted_each_with_their_own_chats(server):
    admin = server.login("admin")
    tokens = {"admin": admin, "user1": server.login("user1"), "user2": server.login("user2")}
    for n in range(3):
        name = f"crowd{n}"
        assert server.request("POST", "/api/admin/users", admin, {"username": name, "password": "crowd-pass"}).ok
        tokens[name] = server.login(name, "crowd-pass")
        server.request("POST", "/api/chats", tokens[name], {"type": "group", "title": name, "member_ids": []})
    logged_out = server.login("user1")
    server.request("POST", "/api/auth/logout", logged_out)
    expected = {name: sorted(c["id"] for c in server.request("GET", "/api/chats", token).json())
                for name, token in tokens.items()}
    plan = [(name, token) for name, token in tokens.items() for _ in range(4)] + [(None, logged_out)] * 3
    start = threading.Barrier(len(plan))

    def open_one(item):
        name, token = item
        start.wait()
        client = server.connect(token)
        try:
            return name, (closed_with(client) if name is None else client.recv_type("connected"))
        finally:
            client.close()

    with ThreadPoolExecutor(len(plan)) as pool:
        answers = list(pool.map(open_one, plan))
    for name, answer in answers:
        if name is None:
            assert answer[0] == 1008 and "revoked" in answer[1].lower()
        else:
            assert answer["username"] == name
            assert sorted(answer["chat_ids"]) == expected[name]
            assert answer["user_id"] in answer["online_user_ids"]


def test_one_batch_answers_each_token_for_itself(database):
    def setup():
        ids = [users.create_user(f"batch{n}", "x")["id"] for n in range(3)]
        sessions = [users.open_session(uid, "test", 3600)["session_id"] for uid in ids]
        extra = users.open_session(ids[0], "test", 3600)["session_id"]
        users.revoke_session(extra)
        users.set_active(ids[2], False)
        from models import chats
        chat = chats.create_group_chat(ids[0], "Pair", [ids[1]])["id"]
        return ids, sessions, extra, chat
    (a, b, c), (sa, sb, sc), revoked, chat = run_in_transaction(setup)
    claims = [{"sid": sa, "sub": str(a)}, {"sid": sb, "sub": str(b)}, {"sid": revoked, "sub": str(a)},
              {"sid": sc, "sub": str(c)}, {"sid": 999999, "sub": str(a)}, {"sid": sb, "sub": str(a)},
              {"sid": sa, "sub": str(a)}]
    answers = run_in_transaction(admission.admit_sockets, [(each,) for each in claims])
    for n in (0, 6):
        user, chat_ids, peers = answers[n]
        assert (user["id"], user["username"], user["session_id"], chat_ids, peers) == (a, "batch0", sa, [chat], [b])
    user, chat_ids, peers = answers[1]
    assert (user["username"], chat_ids, peers) == ("batch1", [chat], [a])
    assert [getattr(answer, "code", None) for answer in answers[2:6]] == [
        "token_revoked", "user_deactivated", "token_invalid", "token_invalid"]
    assert all(isinstance(answer, AppError) for answer in answers[2:6])


@pytest.fixture
def stalled(server_factory):
    """A server admitting at most one waiting socket, with one database thread, and a way to hold that
    thread (a call that waits for ``release``) so that sockets queue up behind it."""
    server = server_factory(ws_admission_queue=1, db_pool_size=1)
    gate = threading.Event()

    def stall():
        server.call(lambda: asyncio.ensure_future(db_call(gate.wait, 15)))

    def queue_two(token):
        """Sockets A (in flight behind the held thread) and B (waiting): the queue is full."""
        admissions = server.app.state.admissions
        first = server.connect(token)
        wait_until(lambda: server.call(lambda: admissions.batches) >= 1 and server.call(admissions.waiting) == 0)
        second = server.connect(token)
        wait_until(lambda: server.call(admissions.waiting) == 1)
        return first, second

    yield server, stall, queue_two, gate.set
    gate.set()


def test_too_many_waiting_sockets_get_server_busy_and_1013(stalled):
    server, stall, queue_two, release = stalled
    token = server.login("user1")
    stall()
    first, second = queue_two(token)
    english = server.connect(token)
    busy = english.recv()
    assert busy["type"] == "error" and busy["code"] == "server_busy"
    assert busy["retry_after"] in range(1, 6)
    assert busy["message"] == f"server busy: try again in {busy['retry_after']} s"
    assert closed_with(english) == (1013, busy["message"])
    russian = server.connect(token, additional_headers={"Accept-Language": "ru"})
    busy = russian.recv()
    assert busy["code"] == "server_busy"
    assert closed_with(russian) == (1013, f"сервер занят: повторите через {busy['retry_after']} с")
    release()
    for client in (first, second):  # the ones already waiting are admitted as usual
        assert client.recv_type("connected", 10)["username"] == "user1"
    assert server.call(lambda: server.hub.close_codes["1013"]) == 2
    metrics = server.http.get(server.url + "/metrics").text
    assert 'code="1013"} 2.0' in metrics


def test_token_verified_once_is_still_refused_once_it_expires(server_factory):
    server = server_factory(access_token_ttl=2)
    token = server.login("user1")
    client = server.connect(token)
    assert client.recv_type("connected")["username"] == "user1"  # its signature is remembered now
    client.close()
    expires = claims_of(token)["exp"]
    while time.time() <= expires + 0.05:
        time.sleep(0.05)
    code, reason = closed_with(server.connect(token))
    assert code == 1008 and "expired" in reason.lower()
    assert server.request("GET", "/api/me", token).json()["error"]["code"] == "token_expired"
