"""Chats, membership checks, the chat list and unread counts (SQLite and PostgreSQL)."""
import logging
import threading

from tests.helpers import assert_error, user_id


def test_demo_chats(server):
    admin = server.login("admin")
    chats = server.request("GET", "/api/chats", admin).json()
    titles = {c["title"]: c for c in chats}
    assert set(titles) == {"General", "User One"}
    assert titles["General"]["type"] == "group" and len(titles["General"]["members"]) == 3
    assert titles["User One"]["type"] == "direct"
    assert titles["General"]["last_message"]["text"].startswith("Welcome")
    for chat in chats:
        assert {"id", "type", "title", "members", "last_message", "unread_count"} <= set(chat)
    user2 = server.login("user2")
    assert [c["title"] for c in server.request("GET", "/api/chats", user2).json()] == ["General"]


def test_membership_checked_on_every_read_and_write(server):
    admin, user2 = server.login("admin"), server.login("user2")
    direct = server.chat_id(admin, "User One")
    for method, path, body in [("GET", f"/api/chats/{direct}", None),
                               ("GET", f"/api/chats/{direct}/messages", None),
                               ("GET", f"/api/chats/{direct}/messages?after_id=0", None),
                               ("POST", f"/api/chats/{direct}/messages", {"text": "sneaky"}),
                               ("POST", f"/api/chats/{direct}/read", {"message_id": 0}),
                               ("POST", f"/api/chats/{direct}/members", {"user_ids": [3]})]:
        assert_error(server.request(method, path, user2, body), 403, "not_a_member")
    assert_error(server.request("GET", "/api/chats/999/messages", user2), 404, "chat_not_found")
    updates = server.request("GET", "/api/updates?after_id=0", user2).json()["messages"]
    assert all(m["chat_id"] != direct for m in updates)
    history = server.request("GET", f"/api/chats/{direct}/messages", admin).json()["messages"]
    assert all(m["text"] != "sneaky" for m in history)


def test_direct_chat_is_unique(server):
    user1, user2 = server.login("user1"), server.login("user2")
    user2_id = user_id(server, user2)
    first = server.request("POST", "/api/chats", user1, {"type": "direct", "user_id": user2_id})
    assert first.status_code == 201
    again = server.request("POST", "/api/chats", user1, {"type": "direct", "user_id": user2_id})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    reverse = server.request("POST", "/api/chats", user2, {"type": "direct", "user_id": user_id(server, user1)})
    assert reverse.json()["id"] == first.json()["id"] and reverse.json()["title"] == "User One"
    assert_error(server.request("POST", "/api/chats", user1, {"type": "direct", "user_id": 999}), 422, "unknown_user")
    assert_error(server.request("POST", "/api/chats", user1, {"type": "direct", "user_id": "2"}), 422)
    assert_error(server.request("POST", "/api/chats", user1, {"type": "channel"}), 422)


def test_group_lifecycle(server):
    admin, user1, user2 = server.login("admin"), server.login("user1"), server.login("user2")
    ids = {name: user_id(server, tok) for name, tok in (("admin", admin), ("user1", user1), ("user2", user2))}
    r = server.request("POST", "/api/chats", user1, {"type": "group", "title": "  Project X ", "member_ids": [ids["admin"]]})
    assert r.status_code == 201
    chat = r.json()
    assert chat["title"] == "Project X" and {m["id"] for m in chat["members"]} == {ids["user1"], ids["admin"]}
    assert_error(server.request("GET", f"/api/chats/{chat['id']}", user2), 403)
    r = server.request("POST", f"/api/chats/{chat['id']}/members", admin, {"user_ids": [ids["user2"]]})
    assert r.status_code == 200 and r.json()["added"] == [ids["user2"]]
    assert server.request("GET", f"/api/chats/{chat['id']}", user2).status_code == 200
    # only the owner (or an administrator) removes others; anyone may leave
    assert_error(server.request("DELETE", f"/api/chats/{chat['id']}/members/{ids['user1']}", user2), 403)
    assert server.request("DELETE", f"/api/chats/{chat['id']}/members/{ids['user2']}", user2).status_code == 200
    assert_error(server.request("GET", f"/api/chats/{chat['id']}/messages", user2), 403)
    r = server.request("PATCH", f"/api/chats/{chat['id']}", user1, {"title": "Project Y"})
    assert r.json()["title"] == "Project Y"
    assert_error(server.request("POST", "/api/chats", user1, {"type": "group", "title": ""}), 422)
    assert_error(server.request("POST", "/api/chats", user1, {"type": "group", "title": "x" * 101}), 422,
                 "title_too_long")
    assert_error(server.request("POST", "/api/chats", user1, {"type": "group", "title": "nul\x00"}), 422)
    assert_error(server.request("POST", "/api/chats", user1, {"type": "group", "title": "t", "member_ids": "1"}), 422)
    direct = server.chat_id(admin, "User One")
    assert_error(server.request("POST", f"/api/chats/{direct}/members", admin, {"user_ids": [ids["user2"]]}),
                 422, "not_a_group")


def test_chat_list_order_and_unread(server):
    admin, user1 = server.login("admin"), server.login("user1")
    general, direct = server.chat_id(admin, "General"), server.chat_id(admin, "User One")
    assert [c["id"] for c in server.request("GET", "/api/chats", user1).json()][0] == general
    for i in range(3):
        assert server.request("POST", f"/api/chats/{direct}/messages", admin, {"text": f"hi {i}"}).status_code == 201
    chats = server.request("GET", "/api/chats", user1).json()
    assert chats[0]["id"] == direct and chats[0]["unread_count"] == 3
    assert chats[0]["last_message"]["text"] == "hi 2"
    assert next(c for c in chats if c["id"] == general)["unread_count"] == 1  # the welcome message
    # the sender's own messages are never unread
    assert server.request("GET", "/api/chats", admin).json()[0]["unread_count"] == 0
    last_id = chats[0]["last_message"]["id"]
    r = server.request("POST", f"/api/chats/{direct}/read", user1, {"message_id": last_id - 1})
    assert r.json()["unread_count"] == 1
    r = server.request("POST", f"/api/chats/{direct}/read", user1, {"message_id": last_id})
    assert r.json()["unread_count"] == 0
    r = server.request("POST", f"/api/chats/{direct}/read", user1, {"message_id": last_id - 2})  # never back
    assert r.json()["message_id"] == last_id
    assert_error(server.request("POST", f"/api/chats/{direct}/read", user1, {"message_id": 10**9}), 404)
    assert_error(server.request("POST", f"/api/chats/{direct}/read", user1, {"message_id": "x"}), 422)
    server.request("POST", f"/api/chats/{general}/messages", user1, {"text": "bump"})
    assert server.request("GET", "/api/chats", admin).json()[0]["id"] == general


class QueryCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record):
        if record.thread != threading.get_ident():
            return  # the server's own threads keep working meanwhile
        sql = record.msg[0] if isinstance(record.msg, tuple) else str(record.msg)
        self.count += sql.lstrip().upper().startswith("SELECT")


def _count_list_queries(user):
    from models.chats import list_chats
    from models.db import db
    counter = QueryCounter()
    logger = logging.getLogger("peewee")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        with db.connection_context():
            chats = list_chats(user)
    finally:
        logger.removeHandler(counter)
        logger.setLevel(old_level)
    return len(chats), counter.count


def test_chat_list_has_constant_query_count(server_factory):
    server = server_factory(backplane="local")  # no backplane NOTIFYs logged meanwhile
    user1 = server.login("user1")
    me = user_id(server, user1)
    n_before, q_before = _count_list_queries(me)
    for i in range(15):
        chat = server.request("POST", "/api/chats", user1, {"type": "group", "title": f"g{i}", "member_ids": [1]}).json()
        server.request("POST", f"/api/chats/{chat['id']}/messages", user1, {"text": "x"})
    n_after, q_after = _count_list_queries(me)
    assert n_after == n_before + 15
    # memberships, members, last messages (their ids, then the rows, their reactions, mentions, files, and
    # quotes when they reply), unread counts, unread mentions
    assert q_after == q_before <= 10


def test_last_message_has_the_same_shape_as_messages_elsewhere(server):
    """The chat list's last_message is the whole message object (files, reply, reactions, mentions),
    equal to what history, catch-up and chat_created give for it, not a summary."""
    admin, user1 = server.login("admin"), server.login("user1")
    general = server.chat_id(admin, "General")
    first = server.request("POST", f"/api/chats/{general}/messages", user1, {"text": "plan?"}).json()
    upload = server.request("POST", "/api/files", admin, files={"file": ("plan.txt", b"step 1", "text/plain")}).json()
    last = server.request("POST", f"/api/chats/{general}/messages", admin,
                          {"text": "here @user1", "reply_to": first["id"], "file_ids": [upload["id"]]}).json()
    server.request("PUT", f"/api/messages/{last['id']}/reactions/%F0%9F%91%8D", user1)
    entry = server.request("GET", f"/api/chats/{general}", user1).json()["last_message"]
    history = server.request("GET", f"/api/chats/{general}/messages", user1).json()["messages"]
    updates = server.request("GET", "/api/updates?after_id=0", user1).json()["messages"]
    assert entry == history[-1] == updates[-1]
    assert entry["files"] == [upload] and entry["reply_to"]["id"] == first["id"]
    assert entry["reactions"] == [{"emoji": "\U0001f44d", "count": 1, "user_ids": [user_id(server, user1)]}]
    assert entry["mentions"] == [user_id(server, user1)]
    listed = next(c for c in server.request("GET", "/api/chats", user1).json() if c["id"] == general)
    assert listed["last_message"] == entry


def test_chat_creation_is_capped_per_hour(server_factory):
    """300 groups in 1.5 s used to be accepted; now ``chats_per_hour`` per user, racing requests included."""
    server = server_factory(chats_per_hour="5")
    user1, user2 = server.login("user1"), server.login("user2")
    admin_id, user2_id = user_id(server, server.login("admin")), user_id(server, user2)
    for n in range(4):
        assert server.request("POST", "/api/chats", user1, {"type": "group", "title": f"g{n}"}).status_code == 201
    assert server.request("POST", "/api/chats", user1, {"type": "direct", "user_id": user2_id}).status_code == 201
    refused = server.request("POST", "/api/chats", user1, {"type": "group", "title": "one too many"})
    error = assert_error(refused, 429, "too_many_chats")
    assert error["message"] == "You can create at most 5 chats an hour. Try again in 60 minutes."
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600 and error["limit"] == 5
    ru = server.request("POST", "/api/chats", user1, {"type": "group", "title": "x"}, headers={"Accept-Language": "ru"})
    assert assert_error(ru, 429)["message"] == "Можно создать не больше 5 чатов в час. Повторите через 60 минут."
    assert server.request("POST", "/api/chats", user1, {"type": "direct", "user_id": admin_id}).status_code == 200
    statuses = []

    def create(n):
        statuses.append(server.request("POST", "/api/chats", user2, {"type": "group", "title": f"race {n}"}).status_code)
    threads = [threading.Thread(target=create, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [201] * 5 + [429] * 7
    titles = [c["title"] for c in server.request("GET", "/api/chats", user2).json()]
    assert len([t for t in titles if t.startswith("race ")]) == 5
