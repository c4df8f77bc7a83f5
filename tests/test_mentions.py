"""@mentions: members named in any case, non-members ignored, unread_mentions per chat (SQLite and PostgreSQL)."""
from tests.helpers import user_id


def send(server, token, chat_id, text):
    return server.request("POST", f"/api/chats/{chat_id}/messages", token, {"text": text}).json()


def chat_of(server, token, chat_id):
    return next(c for c in server.request("GET", "/api/chats", token).json() if c["id"] == chat_id)


def test_mentions_of_members_only(server):
    admin, user1, user2 = server.login("admin"), server.login("user1"), server.login("user2")
    ids = {name: user_id(server, t) for name, t in (("admin", admin), ("user1", user1), ("user2", user2))}
    general, direct = server.chat_id(admin, "General"), server.chat_id(admin, "User One")
    message = send(server, admin, general, "hi @USER1 and @user2. mail me at a@user1 or @nobody")
    assert message["mentions"] == sorted([ids["user1"], ids["user2"]])
    assert send(server, admin, direct, "@user2 is not here")["mentions"] == []
    assert send(server, admin, general, "no mentions")["mentions"] == []
    watcher = server.connect(user1)
    watcher.recv_type("connected")
    sent = send(server, admin, general, "ping @user1")
    assert watcher.recv_type("new_message")["message"]["mentions"] == [ids["user1"]]
    history = server.request("GET", f"/api/chats/{general}/messages", user1).json()["messages"]
    assert {m["id"]: m["mentions"] for m in history}[sent["id"]] == [ids["user1"]]
    edited = server.request("PATCH", f"/api/messages/{sent['id']}", admin, {"text": "ping @user2"}).json()
    assert edited["mentions"] == [ids["user2"]]
    watcher.close()


def test_unread_mentions_count_and_drop_on_read(server):
    admin, user1 = server.login("admin"), server.login("user1")
    general = server.chat_id(admin, "General")
    before = chat_of(server, user1, general)
    assert before["unread_mentions"] == 0
    send(server, admin, general, "@user1 one")
    send(server, admin, general, "plain")
    last = send(server, admin, general, "@User1 two")
    deleted = send(server, admin, general, "@user1 gone")
    server.request("DELETE", f"/api/messages/{deleted['id']}", admin)
    mine = chat_of(server, user1, general)
    assert mine["unread_mentions"] == 2 and mine["unread_count"] == before["unread_count"] + 3
    assert chat_of(server, admin, general)["unread_mentions"] == 0  # one's own messages are never unread
    client = server.connect(user1)
    client.recv_type("connected")
    client.send({"type": "mark_read", "chat_id": general, "message_id": last["id"]})
    receipt = client.recv_type("read")
    assert receipt["unread_mentions"] == 0 and receipt["unread_count"] == 0
    assert chat_of(server, user1, general)["unread_mentions"] == 0
    client.close()
