"""Muting a chat: per member, kept in the database, told live to the member's other tabs (SQLite and PostgreSQL)."""
import pytest

from tests.helpers import assert_error


def muted_of(server, token, chat_id):
    chats = {c["id"]: c for c in server.request("GET", "/api/chats", token).json()}
    return chats[chat_id]["muted"]


def test_mute_is_per_member_and_kept(server):
    admin, user1 = server.login("admin"), server.login("user1")
    general = server.chat_id(admin, "General")
    assert muted_of(server, admin, general) is False

    r = server.request("PATCH", f"/api/chats/{general}", admin, {"muted": True})
    assert r.status_code == 200 and r.json()["muted"] is True and r.json()["title"] == "General"
    assert muted_of(server, admin, general) is True
    assert server.request("GET", f"/api/chats/{general}", admin).json()["muted"] is True
    assert muted_of(server, user1, general) is False  # the others are not muted by it

    # Muted chats still count unread messages and mentions, and sort by activity as usual.
    direct = server.chat_id(admin, "User One")
    server.request("POST", f"/api/chats/{direct}/messages", user1, {"text": "older"})
    server.request("POST", f"/api/chats/{general}/messages", user1, {"text": "hi @admin"})
    chats = server.request("GET", "/api/chats", admin).json()
    assert [c["id"] for c in chats][:2] == [general, direct]
    assert chats[0]["unread_count"] == 1 and chats[0]["unread_mentions"] == 1 and chats[0]["muted"] is True

    r = server.request("PATCH", f"/api/chats/{general}", admin, {"muted": False})
    assert r.json()["muted"] is False and muted_of(server, admin, general) is False


def test_mute_reaches_every_tab_of_the_member_only(server):
    admin, user1 = server.login("admin"), server.login("user1")
    general = server.chat_id(admin, "General")
    tab_a, tab_b, other = server.connect(admin), server.connect(admin), server.connect(user1)
    for client in (tab_a, tab_b, other):
        assert client.recv()["type"] == "connected"
    server.request("PATCH", f"/api/chats/{general}", admin, {"muted": True})
    for tab in (tab_a, tab_b):
        assert tab.recv_type("chat_muted") == {"type": "chat_muted", "chat_id": general, "muted": True}
    other.nothing_of("chat_muted")  # published before the REST answer
    # Renaming and muting in one call: the rename goes to everyone, the mute to the caller.
    r = server.request("PATCH", f"/api/chats/{general}", admin, {"muted": False, "title": "All hands"})
    assert r.json()["title"] == "All hands" and r.json()["muted"] is False
    assert tab_a.recv_type("chat_updated")["title"] == "All hands"
    assert tab_a.recv_type("chat_muted")["muted"] is False
    assert other.recv_type("chat_updated")["title"] == "All hands"
    other.nothing_of("chat_muted")


@pytest.mark.parametrize("body, status, code", [
    ({}, 422, "missing_field"),
    ({"muted": None}, 422, "missing_field"),
    ({"muted": "yes"}, 422, "invalid_field"),
    ({"muted": 1}, 422, "invalid_field"),
    ([True], 400, "invalid_json"),
])
def test_bad_mute_requests_get_clear_errors(server, body, status, code):
    admin = server.login("admin")
    general = server.chat_id(admin, "General")
    assert_error(server.request("PATCH", f"/api/chats/{general}", admin, body), status, code)
    assert muted_of(server, admin, general) is False


def test_mute_checks_membership(server):
    admin, user2 = server.login("admin"), server.login("user2")
    direct = server.chat_id(admin, "User One")
    assert_error(server.request("PATCH", f"/api/chats/{direct}", user2, {"muted": True}), 403, "not_a_member")
    assert_error(server.request("PATCH", "/api/chats/999", user2, {"muted": True}), 404, "chat_not_found")
    assert muted_of(server, admin, direct) is False
    # A direct chat can be muted (only renaming needs a group), and a failed rename mutes nothing.
    assert server.request("PATCH", f"/api/chats/{direct}", admin, {"muted": True}).json()["muted"] is True
    general = server.chat_id(admin, "General")
    assert_error(server.request("PATCH", f"/api/chats/{general}", admin, {"muted": True, "title": ""}), 422)
    assert muted_of(server, admin, general) is False
