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
