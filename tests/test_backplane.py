"""Several server processes on one PostgreSQL database share every event (LISTEN/NOTIFY)."""
import time

import pytest
from websockets.exceptions import ConnectionClosed

from tests.helpers import user_id

pytestmark = pytest.mark.slow


@pytest.fixture
def two_processes(spawn, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("the backplane shares events through PostgreSQL; SQLite serves one process")
    return spawn(), spawn()


def connected(server, token):
    client = server.connect(token)
    assert client.recv_type("connected")["type"] == "connected"
    return client


def test_messages_typing_and_membership_cross_processes(two_processes):
    a, b = two_processes
    admin, user1, user2 = b.login("admin"), a.login("user1"), a.login("user2")
    direct = a.chat_id(admin, "User One")
    on_a = connected(a, user1)
    on_b = connected(b, admin)
    on_b.send({"type": "send_message", "chat_id": direct, "text": "across", "client_msg_id": "x1"})
    ack = on_b.recv_type("message_ack")["message"]
    assert on_a.recv_type("new_message", 10)["message"] == ack
    big = "b" * 9000  # larger than a NOTIFY payload: travels by reference
    on_b.send({"type": "send_message", "chat_id": direct, "text": big, "client_msg_id": "x2"})
    assert on_a.recv_type("new_message", 10)["message"]["text"] == big
    on_a.send({"type": "typing", "chat_id": direct})
    assert on_b.recv_type("typing", 10)["user_id"] == user_id(a, user1)
    # a chat created on one process reaches a member connected to the other at once
    user2_on_b = connected(b, user2)
    chat = a.request("POST", "/api/chats", user1, {"type": "group", "title": "Cross",
                                                   "member_ids": [user_id(a, user2)]}).json()
    assert user2_on_b.recv_type("chat_created", 10)["chat"]["id"] == chat["id"]
    a.request("POST", f"/api/chats/{chat['id']}/messages", user1, {"text": "hello from A"})
    assert user2_on_b.recv_type("new_message", 10)["message"]["text"] == "hello from A"


def test_logout_on_one_process_closes_sockets_on_the_other(two_processes):
    a, b = two_processes
    token = a.login("user1")
    on_b = connected(b, token)
    a.request("POST", "/api/auth/logout", token)
    with pytest.raises(ConnectionClosed):
        while True:
            on_b.recv(10)
    assert on_b.close_code == 1008


def test_token_logged_out_on_one_process_is_refused_by_the_other(two_processes):
    a, b = two_processes
    token = a.login("user1")
    connected(b, token).close()
    a.request("POST", "/api/auth/logout", token)
    refused = b.connect(token)
    with pytest.raises(ConnectionClosed):
        while True:
            refused.recv(10)
    assert refused.close_code == 1008 and "revoked" in refused.close_reason


def test_presence_is_shared_without_flapping(two_processes):
    a, b = two_processes
    admin, user1 = b.login("admin"), a.login("user1")
    uid1 = user_id(a, user1)
    watcher = connected(b, admin)
    tab_a = connected(a, user1)
    assert watcher.recv_type("presence", 10) == {"type": "presence", "user_id": uid1, "status": "online"}
    users = b.request("GET", "/api/users?q=user1", admin).json()["users"]
    assert users[0]["online"] is True  # process B knows user1 is online on process A
    tab_b = connected(b, user1)
    watcher.nothing_of("presence")  # already online: no second "online" (B decided while connecting)
    tab_a.close()
    # A takes user1 offline once its grace period ends, then records last_seen_at: wait for that, then
    # send a marker through A's event queue (NOTIFY order is A's publish order): B has handled A's
    # "offline" before the watcher reads the marker.
    deadline = time.monotonic() + 10
    while a.request("GET", "/api/users?q=user1", user1).json()["users"][0]["last_seen_at"] is None:
        assert time.monotonic() < deadline, "process A never took user1 offline"
        time.sleep(0.05)
    marker = connected(a, a.login("user2"))
    marker.send({"type": "typing", "chat_id": a.chat_id(user1, "General")})
    frames = []
    while not frames or frames[-1]["type"] != "typing":
        frames.append(watcher.recv(10))
    assert [f for f in frames if f["type"] == "presence" and f["user_id"] == uid1] == []  # still online on B
    tab_b.close()
    assert watcher.recv_type("presence", 10)["status"] == "offline"


def test_stopped_process_users_go_offline_elsewhere(two_processes):
    a, b = two_processes
    user1 = a.login("user1")
    connected(a, user1)
    admin = b.login("admin")
    deadline = time.monotonic() + 10
    while not b.request("GET", "/api/users?q=user1", admin).json()["users"][0]["online"]:
        assert time.monotonic() < deadline, "process B never learned that user1 is online on A"
        time.sleep(0.1)
    assert b.request("GET", "/api/users?q=user1", admin).json()["users"][0]["online"] is True
    assert a.terminate() == 0
    assert b.request("GET", "/api/users?q=user1", admin).json()["users"][0]["online"] is False


def test_concurrent_senders_on_two_processes_reach_a_receiver_in_id_order(two_processes):
    a, b = two_processes
    admin, user1 = a.login("admin"), b.login("user1")
    general = a.chat_id(admin, "General")
    receiver = connected(a, a.login("user2"))
    senders = [connected(a, admin), connected(b, user1)]
    count = 150
    for n in range(count):
        for index, sender in enumerate(senders):
            sender.send({"type": "send_message", "chat_id": general, "text": f"p{index}-{n}",
                         "client_msg_id": f"p{index}-{n}"})
    received = []
    while len(received) < 2 * count:
        frame = receiver.recv(20)
        if frame["type"] == "new_message":
            received.append(frame["message"]["id"])
    assert received == sorted(received) and len(set(received)) == 2 * count


def test_language_change_and_russian_close_reason_cross_processes(two_processes):
    """The locale control and the close reason travel as JSON; the other process still speaks Russian."""
    a, b = two_processes
    token = a.login("user2")
    on_b = connected(b, token)
    assert a.request("PATCH", "/api/me", token, {"locale": "ru"}).status_code == 200
    deadline = time.monotonic() + 10
    while True:  # the change arrives through NOTIFY, a moment after the PATCH answered
        on_b.send({"type": "typing", "chat_id": 999999})
        message = on_b.recv_type("error", 10)["message"]
        if message == "Вы не участник чата 999999" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert message == "Вы не участник чата 999999"
    a.request("POST", "/api/auth/logout", token)
    with pytest.raises(ConnectionClosed):
        while True:
            on_b.recv(10)
    assert (on_b.close_code, on_b.close_reason) == (1008, "токен отозван (выход из системы)")
