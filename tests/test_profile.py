"""Profiles: display name, status, avatar and password change (issue 21; SQLite and PostgreSQL)."""
import pytest

from tests.helpers import assert_error, user_id


def connected(server, token):
    client = server.connect(token)
    client.recv_type("connected")
    return client


def stranger(server, admin, name="dave"):
    """An account that shares no chat with anyone (it leaves the default General)."""
    made = server.request("POST", "/api/admin/users", admin, {"username": name, "password": name + "pass1"}).json()
    token = server.login(name, name + "pass1")
    server.request("DELETE", f"/api/chats/{server.chat_id(token, 'General')}/members/{made['id']}", token)
    return token


def test_profile_fields_are_saved_shown_everywhere_and_pushed_to_peers(server):
    admin, user1, user2 = server.login("admin"), server.login("user1"), server.login("user2")
    alone = stranger(server, admin)
    me = server.request("GET", "/api/me", user1).json()
    assert (me["status_text"], me["status_emoji"], me["avatar_url"]) == ("", "", None)
    peer, other_tab, outsider = connected(server, user2), connected(server, user1), connected(server, alone)
    answer = server.request("PATCH", "/api/me", user1, {"display_name": "  Ольга ", "status_text": "В отпуске",
                                                        "status_emoji": "🌴"})
    assert answer.status_code == 200
    assert {k: answer.json()[k] for k in ("display_name", "status_text", "status_emoji", "locale")} == \
        {"display_name": "Ольга", "status_text": "В отпуске", "status_emoji": "🌴", "locale": None}
    for client in (peer, other_tab):
        user = client.recv_type("user_updated")["user"]
        assert (user["id"], user["display_name"], user["status_emoji"]) == (me["id"], "Ольга", "🌴")
        assert "locale" not in user and "session_id" not in user
    outsider.nothing_of("user_updated", after=peer)
    members = server.request("GET", f"/api/chats/{server.chat_id(user2, 'General')}", user2).json()["members"]
    assert next(m for m in members if m["id"] == me["id"])["status_text"] == "В отпуске"
    found = server.request("GET", "/api/users", user2, params={"q": "user1"}).json()["users"]
    assert (found[0]["display_name"], found[0]["avatar_url"]) == ("Ольга", None)
    both = server.request("PATCH", "/api/me", user1, {"locale": "ru", "status_text": ""}).json()
    assert (both["locale"], both["status_text"], both["display_name"]) == ("ru", "", "Ольга")
    before = server.request("GET", "/api/me", user1).json()
    for body, code in [({}, "missing_field"), ({"display_name": "   "}, "invalid_field"),
                       ({"display_name": "x" * 65}, "display_name_too_long"), ({"display_name": "a\tb"}, "invalid_field"),
                       ({"display_name": 7}, "invalid_field"), ({"status_text": "x" * 101}, "status_text_too_long"),
                       ({"status_emoji": "😀" * 17}, "status_emoji_too_long"), ({"status_emoji": "\x1b"}, "invalid_field"),
                       ({"status_text": "ok", "locale": "fr"}, "invalid_field")]:
        assert_error(server.request("PATCH", "/api/me", user1, body), 422, code)
    assert server.request("GET", "/api/me", user1).json() == before  # nothing of a refused call was saved


def test_an_administrator_renaming_someone_tells_their_peers(server):
    admin, user2 = server.login("admin"), server.login("user2")
    peer = connected(server, user2)
    uid = user_id(server, server.login("user1"))
    assert server.request("PATCH", f"/api/admin/users/{uid}", admin, {"display_name": "Olga"}).status_code == 200
    frame = peer.recv_type("user_updated")
    assert (frame["user"]["id"], frame["user"]["display_name"]) == (uid, "Olga")
