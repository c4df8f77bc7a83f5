"""The /ws endpoint with real WebSocket clients against a real server (SQLite and PostgreSQL)."""
import json
import logging
import socket
import sqlite3
import threading
import time

import psycopg2
import pytest
from websockets.exceptions import ConnectionClosed

from tests.helpers import expired_token, user_id


def closed_with(client, timeout=5):
    """Read until the server closes; return (code, reason)."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            client.recv(deadline - time.monotonic())
    except ConnectionClosed:
        return client.close_code, client.close_reason
    raise AssertionError("server did not close the connection")


def raw_handshake(server, token, receive_buffer=None):
    """A WebSocket that upgrades and then never reads or answers anything."""
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall((f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    return sock


def connected(server, token):
    client = server.connect(token)
    hello = client.recv()
    assert hello["type"] == "connected", hello
    return client, hello


# --- authentication --------------------------------------------------------------

def test_connected_frame_and_log_lines(server, caplog):
    token = server.login("admin")
    with caplog.at_level(logging.INFO):
        client, hello = connected(server, token)
        chats = server.request("GET", "/api/chats", token).json()
        assert hello["user_id"] == user_id(server, token) and hello["username"] == "admin"
        assert sorted(hello["chat_ids"]) == sorted(c["id"] for c in chats)
        assert hello["server_time"].endswith("Z")
        client.close()
        deadline = time.monotonic() + 5
        while not any(r.getMessage().startswith("User 1 disconnected") for r in caplog.records):
            assert time.monotonic() < deadline, "no disconnect line"
            time.sleep(0.02)
    lines = [r.getMessage() for r in caplog.records]
    assert f"WebSocket connection attempt with token: {token[:20]}..." in lines
    assert "User 1 connected. Total connections: 1" in lines
    for chat in chats:
        assert f"Added user 1 to chat {chat['id']}" in lines
    assert any(line.startswith("User 1 disconnected. Total connections: 0") for line in lines)
    assert not any(token in line for line in lines), "a whole token reached the log"


def test_access_log_never_holds_whole_token(server, caplog):
    token = server.login("admin")
    with caplog.at_level(logging.INFO, logger="tornado.access"):
        client, _ = connected(server, token)
        client.close()
        server.request("GET", "/api/health?token=" + token)
    assert all(token not in r.getMessage() for r in caplog.records)
    assert any(token[:20] + "..." in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("case", ["missing", "garbage", "forged", "expired", "revoked", "deactivated"])
def test_bad_tokens_close_with_1008_and_a_reason(server, case):
    admin = server.login("admin")
    user1 = server.login("user1")
    token = {"missing": None, "garbage": "not-a-token", "expired": expired_token(server, user1),
             "forged": user1[:-4] + ("AAAA" if not user1.endswith("AAAA") else "BBBB")}.get(case, user1)
    if case == "revoked":
        server.request("POST", "/api/auth/logout", user1)
    if case == "deactivated":
        server.request("PATCH", f"/api/admin/users/{user_id(server, user1)}", admin, {"is_active": False})
    client = server.connect(token)  # the handshake itself succeeds: a browser sees 1008, not 1006
    code, reason = closed_with(client)
    assert code == 1008
    expected = {"missing": "missing token", "garbage": "malformed", "expired": "expired", "forged": "signature",
                "revoked": "revoked", "deactivated": "deactivated"}[case]
    assert expected in reason.lower()


def test_auth_frame_and_bearer_header(server):
    token = server.login("user1")
    client = server.connect()
    client.send({"type": "auth", "token": token})
    assert client.recv()["type"] == "connected"
    client.close()
    client = server.connect(additional_headers={"Authorization": f"Bearer {token}"})
    assert client.recv()["type"] == "connected"
    client.close()
    client = server.connect()
    client.send({"type": "ping"})
    code, reason = closed_with(client)
    assert code == 1008 and "auth" in reason


def test_session_cookie_authenticates(server):
    server.http.get(server.url + "/login")
    xsrf = server.http.cookies["_xsrf"]
    r = server.http.post(server.url + "/login", data={"username": "user2", "password": "user2pass", "_xsrf": xsrf},
                         allow_redirects=False)
    assert r.status_code == 302
    cookie = "; ".join(f"{k}={v}" for k, v in server.http.cookies.items())
    client = server.connect(additional_headers={"Cookie": cookie})
    assert client.recv()["username"] == "user2"
    client.close()


def test_foreign_origin_refused(server_factory):
    server = server_factory(allowed_origins="https://chat.example.com")
    token = server.login("admin")
    client = server.connect(token, origin="https://evil.example.org")
    code, reason = closed_with(client)
    assert code == 1008 and "origin" in reason
    client = server.connect(token, origin="https://chat.example.com")
    assert client.recv()["type"] == "connected"
    client = server.connect(token, origin=server.url)
    assert client.recv()["type"] == "connected"


def test_logout_and_deactivation_close_open_sockets(server):
    admin, user1 = server.login("admin"), server.login("user1")
    client, _ = connected(server, user1)
    server.request("POST", "/api/auth/logout", user1)
    assert closed_with(client)[0] == 1008
    user2 = server.login("user2")
    client, _ = connected(server, user2)
    server.request("PATCH", f"/api/admin/users/{user_id(server, user2)}", admin, {"is_active": False})
    code, reason = closed_with(client)
    assert code == 1008 and "deactivated" in reason


# --- messages ----------------------------------------------------------------------

def test_ack_after_commit_and_fan_out(server):
    admin, user1, user2 = server.login("admin"), server.login("user1"), server.login("user2")
    direct = server.chat_id(admin, "User One")
    tab1, _ = connected(server, admin)
    tab2, _ = connected(server, admin)
    u1, _ = connected(server, user1)
    u2, _ = connected(server, user2)
    tab1.send({"type": "send_message", "chat_id": direct, "text": "hello user1", "client_msg_id": "m-1"})
    ack = tab1.recv_type("message_ack")
    assert ack["client_msg_id"] == "m-1" and ack["message"]["text"] == "hello user1"
    history = server.request("GET", f"/api/chats/{direct}/messages", admin).json()["messages"]
    assert history[-1]["id"] == ack["message"]["id"]  # acked means committed
    for other in (tab2, u1):
        got = other.recv_type("new_message")["message"]
        assert got == ack["message"]
        for key in ("id", "chat_id", "sender_id", "sender_name", "text", "created_at", "client_msg_id"):
            assert key in got
    tab1.nothing_of("new_message")  # the sending tab gets the ack instead
    u2.nothing_of("new_message")    # not a member (the fan-out was done before the ack)


def test_rest_send_fans_out_like_ws(server):
    admin, user1 = server.login("admin"), server.login("user1")
    general = server.chat_id(admin, "General")
    client, _ = connected(server, user1)
    mine, _ = connected(server, admin)
    sent = server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "via REST"}).json()
    assert client.recv_type("new_message")["message"] == sent
    assert mine.recv_type("new_message")["message"] == sent


def test_retry_with_same_client_msg_id_stores_once(server):
    admin, user1 = server.login("admin"), server.login("user1")
    general = server.chat_id(admin, "General")
    sender, _ = connected(server, admin)
    receiver, _ = connected(server, user1)
    frame = {"type": "send_message", "chat_id": general, "text": "once", "client_msg_id": "retry-1"}
    sender.send(frame)
    first = sender.recv_type("message_ack")["message"]
    sender.close()
    sender, _ = connected(server, admin)  # a reconnect, then the retry
    sender.send(frame)
    second = sender.recv_type("message_ack")["message"]
    assert first["id"] == second["id"]
    assert receiver.recv_type("new_message")["message"]["id"] == first["id"]
    receiver.nothing_of("new_message")
    texts = [m["text"] for m in server.request("GET", f"/api/chats/{general}/messages", admin).json()["messages"]]
    assert texts.count("once") == 1


def test_order_of_1000_messages_from_4_concurrent_senders(server):
    tokens = [server.login(name) for name in ("admin", "user1", "user2")]
    general = server.chat_id(tokens[0], "General")
    watcher, _ = connected(server, tokens[0])
    per_sender, senders = 250, [connected(server, tokens[i % 3])[0] for i in range(4)]
    acks = [[] for _ in senders]

    def run(index, client):
        for n in range(per_sender):
            client.send({"type": "send_message", "chat_id": general, "text": f"s{index}-{n}",
                         "client_msg_id": f"s{index}-{n}"})
        while len(acks[index]) < per_sender:
            frame = client.recv(20)
            if frame["type"] == "message_ack":
                acks[index].append(frame["message"]["id"])

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(senders)]
    for t in threads:
        t.start()
    received = []
    deadline = time.monotonic() + 60
    while len(received) < 750 and time.monotonic() < deadline:  # admin's own two sockets send 500 it sees as acks
        frame = watcher.recv(20)
        if frame["type"] == "new_message":
            received.append(frame["message"]["id"])
    for t in threads:
        t.join(60)
    assert all(len(a) == per_sender for a in acks)
    assert all(a == sorted(a) for a in acks)  # each sender's acks arrive in id order
    assert received == sorted(received) and len(set(received)) == len(received)
    all_ids = sorted(i for a in acks for i in a)
    assert len(set(all_ids)) == 1000
    page = server.request("GET", f"/api/chats/{general}/messages?after_id={all_ids[0] - 1}&limit=200",
                          tokens[1]).json()
    stored = []
    while True:
        stored += [m["id"] for m in page["messages"]]
        if not page["has_more"]:
            break
        page = server.request("GET", f"/api/chats/{general}/messages?after_id={stored[-1]}&limit=200",
                              tokens[1]).json()
    assert stored == all_ids


# --- presence, typing, read receipts, membership --------------------------------------

def test_presence_without_flapping(server):
    admin, user1 = server.login("admin"), server.login("user1")
    watcher, hello = connected(server, admin)
    uid1 = user_id(server, user1)
    assert uid1 not in hello["online_user_ids"]
    tab, _ = connected(server, user1)
    assert watcher.recv_type("presence") == {"type": "presence", "user_id": uid1, "status": "online"}
    tab.close()  # a reload: close and reconnect within the grace period
    tab, hello1 = connected(server, user1)
    watcher.quiet_for("presence", 0.6)  # twice the grace period: "offline" would have come by now
    assert uid1 in connected(server, admin)[1]["online_user_ids"]
    tab.close()
    assert watcher.recv_type("presence", 3) == {"type": "presence", "user_id": uid1, "status": "offline"}


def test_typing_is_relayed_and_rate_limited(server):
    admin, user1, user2 = server.login("admin"), server.login("user1"), server.login("user2")
    direct = server.chat_id(admin, "User One")
    a, _ = connected(server, admin)
    b, _ = connected(server, user1)
    c, _ = connected(server, user2)
    b.send({"type": "typing", "chat_id": direct})
    typing = a.recv_type("typing")
    assert typing["chat_id"] == direct and typing["user_id"] == user_id(server, user1)
    b.send({"type": "typing", "chat_id": direct})
    a.nothing_of("typing", after=b)  # b's second frame was handled before b's pong
    b.nothing_of("typing")
    c.nothing_of("typing")
    c.send({"type": "typing", "chat_id": direct})
    assert c.recv_type("error")["code"] == "not_a_member"


def test_read_receipts_and_unread_on_other_tabs(server):
    admin, user1 = server.login("admin"), server.login("user1")
    direct = server.chat_id(admin, "User One")
    sender, _ = connected(server, admin)
    tab1, _ = connected(server, user1)
    tab2, _ = connected(server, user1)
    ids = []
    for i in range(3):
        sender.send({"type": "send_message", "chat_id": direct, "text": f"r{i}", "client_msg_id": f"r{i}"})
        ids.append(sender.recv_type("message_ack")["message"]["id"])
    tab1.send({"type": "mark_read", "chat_id": direct, "message_id": ids[-1]})
    other_tab = tab2.recv_type("read")
    assert other_tab["unread_count"] == 0 and other_tab["message_id"] == ids[-1]
    receipt = sender.recv_type("read")
    assert receipt["user_id"] == user_id(server, user1) and receipt["message_id"] == ids[-1]
    assert "unread_count" not in receipt
    chats = server.request("GET", "/api/chats", user1).json()
    assert next(c for c in chats if c["id"] == direct)["unread_count"] == 0


def test_user_added_while_connected_receives_at_once(server):
    admin, user2 = server.login("admin"), server.login("user2")
    listener, _ = connected(server, user2)
    chat = server.request("POST", "/api/chats", admin, {"type": "group", "title": "Later", "member_ids": []}).json()
    listener.nothing_of("chat_created")  # published before the REST answer
    server.request("POST", f"/api/chats/{chat['id']}/members", admin, {"user_ids": [user_id(server, user2)]})
    added = listener.recv_type("member_added")
    assert added["chat_id"] == chat["id"]
    server.request("POST", f"/api/chats/{chat['id']}/messages", admin, {"text": "welcome aboard"})
    assert listener.recv_type("new_message")["message"]["text"] == "welcome aboard"
    listener.send({"type": "typing", "chat_id": chat["id"]})
    # and a brand-new chat with them in it arrives too
    user1 = server.login("user1")
    created = server.request("POST", "/api/chats", user1,
                             {"type": "group", "title": "Fresh", "member_ids": [user_id(server, user2)]}).json()
    assert listener.recv_type("chat_created")["chat"]["id"] == created["id"]
    server.request("POST", f"/api/chats/{created['id']}/messages", user1, {"text": "first"})
    assert listener.recv_type("new_message")["message"]["chat_id"] == created["id"]
    server.request("DELETE", f"/api/chats/{created['id']}/members/{user_id(server, user2)}", user1)
    assert listener.recv_type("member_removed")["chat_id"] == created["id"]
    server.request("POST", f"/api/chats/{created['id']}/messages", user1, {"text": "after leaving"})
    listener.nothing_of("new_message")


def test_catch_up_after_disconnect(server):
    admin, user2 = server.login("admin"), server.login("user2")
    general = server.chat_id(admin, "General")
    client, _ = connected(server, user2)
    server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "seen"})
    last_seen = client.recv_type("new_message")["message"]["id"]
    client.close()
    missed = [server.request("POST", f"/api/chats/{general}/messages", admin, {"text": f"missed {i}"}).json()["id"]
              for i in range(5)]
    client, hello = connected(server, user2)
    server.request("PATCH", f"/api/messages/{last_seen}", admin, {"text": "seen, then edited"})
    client.send({"type": "catch_up", "after_id": last_seen, "changed_since": hello["server_time"]})
    frame = client.recv_type("catch_up")
    assert [m["id"] for m in frame["messages"]] == missed and frame["has_more"] is False
    assert [m["text"] for m in frame["changed"]] == ["seen, then edited"]
    client.send({"type": "catch_up", "after_id": last_seen, "changed_since": "soon"})
    assert client.recv_type("error")["code"] == "invalid_field"
    rest = server.request("GET", f"/api/updates?after_id={last_seen}", user2).json()
    assert [m["id"] for m in rest["messages"]] == missed


# --- bad frames, limits, back-pressure ---------------------------------------------------

@pytest.mark.parametrize("frame,code", [
    ("not json", "invalid_json"),
    ("[1, 2]", "invalid_frame"),
    ({"no": "type"}, "missing_type"),
    ({"type": "launch_rockets"}, "unknown_type"),
    ({"type": "send_message", "chat_id": "1", "text": "x", "client_msg_id": "e1"}, "invalid_field"),
    ({"type": "send_message", "chat_id": 1, "text": "   ", "client_msg_id": "e2"}, "text_empty"),
    ({"type": "send_message", "chat_id": 1, "text": "y" * 10_001, "client_msg_id": "e3"}, "text_too_long"),
    ({"type": "send_message", "chat_id": 1, "text": 42, "client_msg_id": "e4"}, "invalid_field"),
    ({"type": "send_message", "chat_id": 9999, "text": "x", "client_msg_id": "e5"}, "chat_not_found"),
    ({"type": "send_message", "chat_id": "DIRECT", "text": "x", "client_msg_id": "e6"}, "not_a_member"),
    ({"type": "mark_read", "chat_id": 1, "message_id": None}, "invalid_field"),
    ({"type": "auth", "token": "x"}, "already_authenticated"),
])
def test_bad_frames_get_error_and_connection_survives(server, frame, code):
    user2 = server.login("user2")
    direct = server.chat_id(server.login("admin"), "User One")
    if isinstance(frame, dict) and frame.get("chat_id") == "DIRECT":
        frame["chat_id"] = direct
    client, _ = connected(server, user2)
    client.send(frame)
    error = client.recv_type("error")
    assert error["code"] == code and error["message"]
    if isinstance(frame, dict) and "client_msg_id" in frame:
        assert error["client_msg_id"] == frame["client_msg_id"]
    client.send({"type": "ping", "id": 7})
    assert client.recv_type("pong")["id"] == 7


def test_oversized_frame_closes_with_1009(server):
    client, _ = connected(server, server.login("user1"))
    client.send(json.dumps({"type": "ping", "pad": "x" * (70 * 1024)}))
    assert closed_with(client)[0] == 1009


def test_stalled_reader_is_cut_off_while_others_keep_receiving(server_factory):
    server = server_factory(ws_outbox_bytes=64 * 1024)
    admin, user1 = server.login("admin"), server.login("user1")
    general = server.chat_id(admin, "General")
    healthy, _ = connected(server, user1)
    stalled = raw_handshake(server, admin, receive_buffer=4096)
    deadline = time.monotonic() + 5
    while server.call(lambda: server.hub.connection_count()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.call(lambda: server.hub.connection_count()) == 2
    sender, _ = connected(server, user1)
    received = []

    acks = []

    def read(client, kind, into):
        while len(into) < count:
            frame = client.recv(10)
            if frame["type"] == kind:
                into.append(frame["message"]["id"])

    count, text = 600, "z" * 9000  # 5.4 MB: more than the kernel's 4 MB send buffer can hide
    readers = [threading.Thread(target=read, args=(healthy, "new_message", received)),
               threading.Thread(target=read, args=(sender, "message_ack", acks))]
    for reader in readers:
        reader.start()
    for i in range(count):
        sender.send({"type": "send_message", "chat_id": general, "text": text, "client_msg_id": f"b{i}"})
    for reader in readers:
        reader.join(30)
    assert len(received) == count and received == sorted(received) and received == acks
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and server.call(lambda: len(server.hub.by_user.get(1, ()))) > 0:
        time.sleep(0.1)
    assert server.call(lambda: len(server.hub.by_user.get(1, ()))) == 0  # the stalled admin socket was dropped
    assert server.call(lambda: server.hub.close_codes.get("4000", 0)) == 1
    stalled.close()


def test_diagnostic_echo_loops_back_through_the_hub(server):
    client, _ = connected(server, server.login("user1"))
    client.send({"type": "diagnostic_echo", "nonce": "abc"})
    assert client.recv_type("diagnostic_echo")["nonce"] == "abc"


def test_silent_peer_is_dropped_by_server_pings(server_factory):
    server = server_factory(ws_ping_interval=1, ws_ping_timeout=1)
    token = server.login("user1")
    silent = raw_handshake(server, token)
    answering, _ = connected(server, server.login("user2"))  # the websockets client answers pings itself
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and server.call(lambda: len(server.hub.by_user.get(2, ()))) == 0:
        time.sleep(0.05)
    assert server.call(lambda: len(server.hub.by_user.get(2, ()))) == 1
    while time.monotonic() < deadline and server.call(lambda: len(server.hub.by_user.get(2, ()))) == 1:
        time.sleep(0.1)
    assert server.call(lambda: len(server.hub.by_user.get(2, ()))) == 0, "a peer that never pongs was kept"
    answering.send({"type": "ping", "id": 1})
    assert answering.recv_type("pong")["id"] == 1
    silent.close()


def test_send_rate_limit(server_factory):
    server = server_factory(message_rate=1, message_burst=3)
    token = server.login("user1")
    general = server.chat_id(token, "General")
    client, _ = connected(server, token)
    for n in range(4):
        client.send({"type": "send_message", "chat_id": general, "text": f"r{n}", "client_msg_id": f"rl{n}"})
    frames = [client.recv() for _ in range(4)]  # the refusal may come before the acks, which wait for the commit
    assert [f["client_msg_id"] for f in frames if f["type"] == "message_ack"] == ["rl0", "rl1", "rl2"]
    error = next(f for f in frames if f["type"] == "error")
    assert error["code"] == "rate_limited" and error["client_msg_id"] == "rl3" and error["retry_after"] >= 1
    r = server.request("POST", f"/api/chats/{general}/messages", token, {"text": "via REST"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1
    texts = [m["text"] for m in server.request("GET", f"/api/chats/{general}/messages", token).json()["messages"]]
    assert "r3" not in texts and "via REST" not in texts


# --- protocol-level control frames ------------------------------------------------------

def test_frame_handlers_cannot_override_websocket_handler_methods():
    """Our frame handlers live in their own namespace: a frame type can never replace a Tornado hook
    (``on_ping`` once did, and every protocol PING then dropped the connection with 1006; ``send_error``
    shadowed RequestHandler.send_error).  Deliberate overrides are listed here."""
    from tornado.websocket import WebSocketHandler

    from handlers.ws import FRAME_HANDLERS, ChatSocket
    assert set(FRAME_HANDLERS) == {"auth", "ping", "send_message", "typing", "mark_read", "catch_up",
                                   "diagnostic_echo"}
    inherited = set(dir(WebSocketHandler))
    overridden = {name for name in vars(ChatSocket) if name in inherited}
    assert overridden <= {"initialize", "open", "on_message", "on_close", "close", "check_origin",
                          "set_default_headers", "get_websocket_protocol",  # CSP; 1009 reaches the client
                          "get_user_locale",  # the saved language once authenticated (handlers/i18n.py)
                          "__init__", "__module__", "__doc__"}, overridden
    for kind, method in FRAME_HANDLERS.items():
        assert method not in inherited, f"the handler of {kind!r} frames collides with WebSocketHandler.{method}"
        assert callable(getattr(ChatSocket, method))


def test_protocol_ping_keeps_the_connection(server):
    """A PING control frame (what websockets, browsers' libraries and mobile stacks send) gets its PONG
    and the connection goes on working."""
    client, _ = connected(server, server.login("user1"))
    pong = client.conn.ping(b"are you there")
    assert pong.wait(5)
    client.send({"type": "ping", "id": 3})
    assert client.recv_type("pong")["id"] == 3
    client.conn.ping().wait(5)
    time.sleep(0.2)
    client.send({"type": "ping", "id": 4})
    assert client.recv_type("pong")["id"] == 4
    assert client.close_code is None


def answers(client, ids, found=None, until=None):
    """{client_msg_id: its message_ack or error frame} for each of ``ids``; with ``until`` (a monotonic
    time) what came by then.  The client keeps reading, so it keeps answering the server's pings."""
    found = {} if found is None else found
    while (time.monotonic() < until) if until else set(ids) - set(found):
        try:
            frame = client.recv(until - time.monotonic() if until else 20)
        except TimeoutError:
            continue
        if frame["type"] in ("message_ack", "error") and frame.get("client_msg_id") in ids:
            found[frame["client_msg_id"]] = frame
    return found


def test_pipelining_sender_survives_a_slow_database(server_factory, database_url):
    """64 sends in flight make the server stop reading the socket (back-pressure); the peer's pongs then
    wait unread behind its sends, and the server's own keepalive must not drop the sender for that
    while commits are slow.  Every send is acked (on SQLite a blocked commit may be refused with the
    retryable db_unavailable instead: sent again, it is stored)."""
    server = server_factory(ws_ping_interval=1, ws_ping_timeout=1)
    token = server.login("user1")
    general = server.chat_id(token, "General")
    client, _ = connected(server, token)
    ids = [f"s{n}" for n in range(100)]
    if database_url.startswith("sqlite"):
        blocker = sqlite3.connect(database_url[len("sqlite:///"):], timeout=10)
        blocker.execute("BEGIN EXCLUSIVE")
    else:
        blocker = psycopg2.connect(database_url)
        blocker.cursor().execute("LOCK TABLE messages IN EXCLUSIVE MODE")
    try:
        for cid in ids:
            client.send({"type": "send_message", "chat_id": general, "text": f"slow {cid}", "client_msg_id": cid})
        first = {}
        answers(client, ids, first, until=time.monotonic() + 3.5)  # blocked for longer than the ping timeout
    finally:
        blocker.commit()
        blocker.close()
    answers(client, ids, first)
    refused = [cid for cid in ids if first[cid]["type"] == "error"]
    assert {first[cid]["code"] for cid in refused} <= {"db_unavailable"}
    if not database_url.startswith("sqlite"):  # PostgreSQL waits for the lock; SQLite may refuse at once
        assert refused == []
    for _ in range(3):
        for cid in refused:
            client.send({"type": "send_message", "chat_id": general, "text": f"slow {cid}", "client_msg_id": cid})
        again = answers(client, refused)
        refused = [cid for cid in refused if again[cid]["type"] == "error"]
    assert refused == []
    assert client.close_code is None
    history = server.request("GET", f"/api/chats/{general}/messages?limit=200", token).json()["messages"]
    assert sorted(m["text"] for m in history if m["text"].startswith("slow ")) == sorted(f"slow {c}" for c in ids)


def test_connections_per_user_are_capped_with_4001(server_factory):
    """600 sockets of one user used to be accepted; now ``ws_max_per_user``, refused with an explained 4001."""
    server = server_factory(ws_max_per_user="3")
    token = server.login("user1")
    held = [connected(server, token)[0] for _ in range(3)]
    assert closed_with(server.connect(token)) == (
        4001, "too many connections: at most 3 per user; close another tab or device")
    server.request("PATCH", "/api/me", token, {"locale": "ru"})
    assert closed_with(server.connect(token)) == (4001, "слишком много подключений: не больше 3; закройте вкладку")
    other, _ = connected(server, server.login("user2"))  # a cap per user, not per server
    held.pop().close()
    deadline, uid = time.monotonic() + 5, user_id(server, token)
    while server.call(lambda: server.hub.connections_of(uid)) > 2:
        assert time.monotonic() < deadline, "the closed connection was never released"
        time.sleep(0.02)
    held.append(connected(server, token)[0])  # a free place again
    assert server.call(lambda: server.hub.close_codes["4001"]) == 2
    assert server.call(lambda: server.hub.connection_count()) == 4
    for client in [*held, other]:
        client.close()
