"""Replies over REST and WebSocket: the quoted original, its deletion, and refusals (SQLite and PostgreSQL)."""
from tests.helpers import assert_error


def send(server, token, chat_id, text, **extra):
    return server.request("POST", f"/api/chats/{chat_id}/messages", token, {"text": text, **extra})


def test_reply_carries_the_quote_everywhere(server):
    admin, user1 = server.login("admin"), server.login("user1")
    general = server.chat_id(admin, "General")
    original = send(server, admin, general, "x" * 250).json()
    assert original["reply_to"] is None
    watcher = server.connect(user1)
    watcher.recv_type("connected")
    reply = send(server, user1, general, "answer", reply_to=original["id"])
    assert reply.status_code == 201
    quote = {"id": original["id"], "sender_id": original["sender_id"],
             "sender_name": original["sender_name"], "text": "x" * 200}
    assert reply.json()["reply_to"] == quote
    history = server.request("GET", f"/api/chats/{general}/messages", admin).json()["messages"]
    assert history[-1]["reply_to"] == quote
    last = next(c for c in server.request("GET", "/api/chats", admin).json() if c["id"] == general)
    assert last["last_message"]["reply_to"] == quote
    # over the WebSocket: the ack and every other member's copy carry it too
    client = server.connect(admin)
    client.recv_type("connected")
    client.send({"type": "send_message", "chat_id": general, "text": "again", "client_msg_id": "r-1",
                 "reply_to": reply.json()["id"]})
    ack = client.recv_type("message_ack")
    assert ack["message"]["reply_to"]["text"] == "answer"
    assert watcher.recv_type("new_message")["message"]["id"] == reply.json()["id"]  # its own REST send
    assert watcher.recv_type("new_message")["message"]["reply_to"]["id"] == reply.json()["id"]
    # the original deleted: the quote stays, with empty text
    server.request("DELETE", f"/api/messages/{original['id']}", admin)
    history = server.request("GET", f"/api/chats/{general}/messages", admin).json()["messages"]
    assert next(m for m in history if m["id"] == reply.json()["id"])["reply_to"]["text"] == ""
    client.close()
    watcher.close()


def test_reply_to_another_chat_or_unknown_is_refused(server):
    admin = server.login("admin")
    general, direct = server.chat_id(admin, "General"), server.chat_id(admin, "User One")
    elsewhere = send(server, admin, direct, "private").json()
    assert_error(send(server, admin, general, "x", reply_to=elsewhere["id"]), 422, "invalid_reply_to")
    assert_error(send(server, admin, general, "x", reply_to=2 ** 31 - 1), 422, "invalid_reply_to")
    assert_error(send(server, admin, general, "x", reply_to="1"), 422, "invalid_field")
    client = server.connect(admin)
    client.recv_type("connected")
    client.send({"type": "send_message", "chat_id": general, "text": "x", "client_msg_id": "bad-reply",
                 "reply_to": elsewhere["id"]})
    error = client.recv_type("error")
    assert error["code"] == "invalid_reply_to" and error["client_msg_id"] == "bad-reply"
    client.send({"type": "ping"})
    assert client.recv_type("pong")  # the connection stays open
    texts = [m["text"] for m in server.request("GET", f"/api/chats/{general}/messages", admin).json()["messages"]]
    assert "x" not in texts
    client.close()
