"""Public and private groups, topics, the channel directory, joining, default groups and archives
(issue 21; SQLite and PostgreSQL)."""
import pytest

from tests.helpers import assert_error, user_id


def connected(server, token):
    client = server.connect(token)
    client.recv_type("connected")
    return client


def group(server, token, title, **extra):
    response = server.request("POST", "/api/chats", token, {"type": "group", "title": title, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_demo_general_is_public_and_default_and_chats_carry_the_settings(server):
    admin = server.login("admin")
    chats = {c["title"]: c for c in server.request("GET", "/api/chats", admin).json()}
    general, direct = chats["General"], chats["User One"]
    assert (general["visibility"], general["topic"], general["archived"], general["default"]) == \
        ("public", "", False, True)
    assert (direct["visibility"], direct["topic"], direct["archived"], direct["default"]) == \
        ("private", "", False, False)
    plain = group(server, admin, "Plain")
    assert (plain["visibility"], plain["topic"], plain["archived"], plain["default"]) == \
        ("private", "", False, False)
    chosen = group(server, admin, "Chosen", visibility="public", topic="  Weekly plans ")
    assert (chosen["visibility"], chosen["topic"]) == ("public", "Weekly plans")
    for body, code in [({"visibility": "secret"}, "invalid_field"), ({"visibility": True}, "invalid_field"),
                       ({"topic": "x" * 251}, "topic_too_long"), ({"topic": "a\nb"}, "invalid_field")]:
        assert_error(server.request("POST", "/api/chats", admin, {"type": "group", "title": "T", **body}), 422, code)


def test_patch_settings_rights_and_the_chat_updated_frame(server):
    admin, user1, user2 = server.login("admin"), server.login("user1"), server.login("user2")
    ids = {name: user_id(server, token) for name, token in (("admin", admin), ("user1", user1), ("user2", user2))}
    chat = group(server, user1, "Ops", member_ids=[ids["admin"], ids["user2"]])
    path = f"/api/chats/{chat['id']}"
    watcher = connected(server, user2)
    # any member renames or sets the topic, as renaming always was
    answer = server.request("PATCH", path, user2, {"topic": "Deploys on Tuesday", "title": "Ops team"})
    assert answer.status_code == 200 and answer.json()["topic"] == "Deploys on Tuesday"
    frame = watcher.recv_type("chat_updated")
    assert frame == {"type": "chat_updated", "chat_id": chat["id"], "title": "Ops team",
                     "topic": "Deploys on Tuesday", "visibility": "private", "default": False, "archived": False}
    # visibility, default and archive: the owner or an administrator
    for body in ({"visibility": "public"}, {"archived": True}, {"default": False}):
        assert_error(server.request("PATCH", path, user2, body), 403, "not_allowed")
    assert_error(server.request("PATCH", path, user1, {"default": True}), 422, "default_not_public")
    made = server.request("PATCH", path, user1, {"visibility": "public", "default": True}).json()
    assert (made["visibility"], made["default"]) == ("public", True)
    assert watcher.recv_type("chat_updated")["default"] is True
    assert_error(server.request("PATCH", path, user1, {"visibility": "private"}), 422, "default_not_public")
    assert server.request("PATCH", path, admin, {"default": False, "visibility": "private"}).status_code == 200
    for body, status, code in [({}, 422, "missing_field"), ({"topic": 5}, 422, "invalid_field"),
                               ({"archived": "yes"}, 422, "invalid_field"), ({"topic": "x" * 251}, 422, "topic_too_long"),
                               ({"topic": "bell\x07"}, 422, "invalid_field")]:
        assert_error(server.request("PATCH", path, user1, body), status, code)
    direct = server.chat_id(admin, "User One")
    assert_error(server.request("PATCH", f"/api/chats/{direct}", admin, {"topic": "x"}), 422, "not_a_group")


def test_directory_lists_public_unarchived_groups_and_filters_in_any_script(server):
    admin, user1, user2 = server.login("admin"), server.login("user1"), server.login("user2")
    group(server, user1, "Secret plans")  # private: never listed
    design = group(server, user1, "Дизайн", visibility="public", topic="Макеты и ЛОГОТИПЫ")
    archived = group(server, user1, "Old news", visibility="public")
    server.request("PATCH", f"/api/chats/{archived['id']}", user1, {"archived": True})
    listed = server.request("GET", "/api/channels", user2).json()["channels"]
    general = server.chat_id(admin, "General")
    assert listed == [{"id": general, "title": "General", "topic": "", "member_count": 3, "is_member": True},
                      {"id": design["id"], "title": "Дизайн", "topic": "Макеты и ЛОГОТИПЫ", "member_count": 1,
                       "is_member": False}]
    for q, found in [("дИЗ", [design["id"]]), ("логотипы", [design["id"]]), ("GENER", [general]),
                     ("secret", []), ("old", []), ("  ", [general, design["id"]])]:
        answer = server.request("GET", "/api/channels", user2, params={"q": q}).json()["channels"]
        assert [c["id"] for c in answer] == found, q
    assert_error(server.request("GET", "/api/channels"), 401, "token_missing")


def test_join_reaches_every_tab_and_the_members_and_leave_stops_it(server):
    user1, user2 = server.login("user1"), server.login("user2")
    uid2 = user_id(server, user2)
    channel = group(server, user1, "Announcements", visibility="public")
    path = f"/api/channels/{channel['id']}/join"
    member, tab1, tab2 = connected(server, user1), connected(server, user2), connected(server, user2)
    joined = server.request("POST", path, user2)
    assert joined.status_code == 200
    assert joined.json()["id"] == channel["id"] and uid2 in {m["id"] for m in joined.json()["members"]}
    assert joined.json()["role"] == "member" and joined.json()["visibility"] == "public"
    for client in (member, tab1, tab2):
        frame = client.recv_type("member_added")
        assert frame["chat_id"] == channel["id"] and frame["user_ids"] == [uid2]
    member.send({"type": "send_message", "chat_id": channel["id"], "text": "welcome", "client_msg_id": "w1"})
    for tab in (tab1, tab2):
        assert tab.recv_type("new_message")["message"]["text"] == "welcome"
    again = server.request("POST", path, user2)  # idempotent: no second member_added
    assert again.status_code == 200 and again.json()["id"] == channel["id"]
    tab1.nothing_of("member_added", after=member)
    listed = server.request("GET", "/api/channels", user2).json()["channels"]
    assert next(c for c in listed if c["id"] == channel["id"])["is_member"] is True
    # leaving: the existing member removal, after which nothing more arrives
    assert server.request("DELETE", f"/api/chats/{channel['id']}/members/{uid2}", user2).status_code == 200
    for tab in (tab1, tab2):
        assert tab.recv_type("member_removed")["user_id"] == uid2
    member.send({"type": "send_message", "chat_id": channel["id"], "text": "gone?", "client_msg_id": "w2"})
    member.recv_type("message_ack")
    tab1.nothing_of("new_message")
    assert_error(server.request("GET", f"/api/chats/{channel['id']}", user2), 403, "not_a_member")


def test_join_refuses_private_unknown_and_archived_groups(server):
    user1, user2 = server.login("user1"), server.login("user2")
    private = group(server, user1, "Private")
    direct = server.request("POST", "/api/chats", user1, {"type": "direct", "user_id": user_id(server, user2)}).json()
    for chat_id in (private["id"], direct["id"], 999999):
        assert_error(server.request("POST", f"/api/channels/{chat_id}/join", user2), 404, "chat_not_found")
    closed = group(server, user1, "Closed", visibility="public")
    server.request("PATCH", f"/api/chats/{closed['id']}", user1, {"archived": True})
    assert_error(server.request("POST", f"/api/channels/{closed['id']}/join", user2), 409, "chat_archived")
    assert_error(server.request("POST", "/api/channels/99999999999/join", user2), 404, "not_found")


@pytest.mark.slow
def test_join_on_one_process_reaches_the_joiners_sockets_on_the_other(spawn, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("two processes share one PostgreSQL database")
    a, b = spawn(), spawn()
    user1, user2 = a.login("user1"), b.login("user2")
    channel = group(a, user1, "Cross", visibility="public")
    on_b, member_on_b = connected(b, user2), connected(b, user1)
    assert a.request("POST", f"/api/channels/{channel['id']}/join", user2).status_code == 200
    assert on_b.recv_type("member_added", 10)["chat_id"] == channel["id"]
    assert member_on_b.recv_type("member_added", 10)["user_ids"] == [user_id(a, user2)]
    a.request("POST", f"/api/chats/{channel['id']}/messages", user1, {"text": "across"})
    assert on_b.recv_type("new_message", 10)["message"]["text"] == "across"


def test_new_accounts_join_every_default_group_and_members_hear_of_it(server):
    admin, user1 = server.login("admin"), server.login("user1")
    extra = group(server, admin, "Handbook", visibility="public")
    server.request("PATCH", f"/api/chats/{extra['id']}", admin, {"default": True})
    closed = group(server, admin, "Closed default", visibility="public")
    server.request("PATCH", f"/api/chats/{closed['id']}", admin, {"default": True, "archived": True})
    group(server, admin, "Just public", visibility="public")
    watcher = connected(server, user1)
    created = server.request("POST", "/api/admin/users", admin, {"username": "carol", "password": "carolpass1"})
    assert created.status_code == 201
    frame = watcher.recv_type("member_added")
    assert frame["chat_id"] == server.chat_id(user1, "General") and frame["user_ids"] == [created.json()["id"]]
    carol = server.login("carol", "carolpass1")
    assert sorted(c["title"] for c in server.request("GET", "/api/chats", carol).json()) == ["General", "Handbook"]


def test_an_archived_group_is_read_only_until_reopened(server):
    user1, user2 = server.login("user1"), server.login("user2")
    chat = group(server, user1, "Project Zephyr", member_ids=[user_id(server, user2)])
    path = f"/api/chats/{chat['id']}"
    sent = server.request("POST", f"{path}/messages", user1, {"text": "zephyr kickoff notes"}).json()
    server.request("PUT", f"/api/messages/{sent['id']}/reactions/👍", user2)
    assert server.request("PATCH", path, user1, {"archived": True}).json()["archived"] is True
    assert_error(server.request("POST", f"{path}/messages", user1, {"text": "more"}), 409, "chat_archived")
    socket = connected(server, user1)
    socket.send({"type": "send_message", "chat_id": chat["id"], "text": "more", "client_msg_id": "a-1"})
    frame = socket.recv_type("error")
    assert (frame["code"], frame["client_msg_id"]) == ("chat_archived", "a-1")
    for method, url, body in [("PATCH", f"/api/messages/{sent['id']}", {"text": "edited"}),
                              ("DELETE", f"/api/messages/{sent['id']}", None),
                              ("PUT", f"/api/messages/{sent['id']}/reactions/🎉", None),
                              ("DELETE", f"/api/messages/{sent['id']}/reactions/👍", user2),
                              ("PUT", f"/api/messages/{sent['id']}/pin", None),
                              ("POST", f"{path}/members", {"user_ids": [1]})]:
        token = user2 if body == user2 else user1
        assert_error(server.request(method, url, token, None if body == user2 else body), 409, "chat_archived")
    history = server.request("GET", f"{path}/messages", user2).json()["messages"]
    assert [(m["text"], len(m["reactions"])) for m in history] == [("zephyr kickoff notes", 1)]
    found = server.request("GET", "/api/search", user2, params={"q": "zephyr"}).json()["results"]
    assert [r["message"]["id"] for r in found] == [sent["id"]]
    assert server.request("PATCH", path, user1, {"archived": False}).json()["archived"] is False
    socket.send({"type": "send_message", "chat_id": chat["id"], "text": "back", "client_msg_id": "a-2"})
    assert socket.recv_type("message_ack")["message"]["text"] == "back"
