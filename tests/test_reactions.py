"""Reactions: PUT/DELETE, the list on message objects, the live frame and catch-up (SQLite and PostgreSQL)."""
from urllib.parse import quote

import pytest

from tests.helpers import assert_error, user_id


def react(server, token, message_id, emoji, method="PUT"):
    return server.request(method, f"/api/messages/{message_id}/reactions/{quote(emoji, safe='')}", token)


@pytest.fixture
def setup(server):
    admin, user1 = server.login("admin"), server.login("user1")
    general = server.chat_id(admin, "General")
    message = server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "react to me"}).json()
    return admin, user1, general, message


def test_reactions_toggle_live_and_in_order_of_first_use(server, setup):
    admin, user1, general, message = setup
    admin_id, user1_id = user_id(server, admin), user_id(server, user1)
    assert message["reactions"] == []
    other_tab, watcher = server.connect(admin), server.connect(user1)
    other_tab.recv_type("connected")
    watcher.recv_type("connected")
    family = "\U0001F468\u200D\U0001F469\u200D\U0001F467"  # one emoji built with joiners
    first = react(server, user1, message["id"], "👍")
    assert first.status_code == 200
    assert first.json() == {"chat_id": general, "message_id": message["id"],
                            "reactions": [{"emoji": "👍", "count": 1, "user_ids": [user1_id]}]}
    assert react(server, user1, message["id"], "👍").json() == first.json()  # idempotent
    react(server, admin, message["id"], family)
    got = react(server, admin, message["id"], "👍").json()["reactions"]
    assert got == [{"emoji": "👍", "count": 2, "user_ids": [user1_id, admin_id]},
                   {"emoji": family, "count": 1, "user_ids": [admin_id]}]
    frames = [other_tab.recv_type("reactions") for _ in range(3)]
    assert frames[-1] == {"type": "reactions", "chat_id": general, "message_id": message["id"], "reactions": got}
    assert [watcher.recv_type("reactions")["reactions"] for _ in range(3)][-1] == got
    other_tab.nothing_of("reactions")  # the idempotent repeat changed nothing and sent nothing
    history = server.request("GET", f"/api/chats/{general}/messages", user1).json()["messages"]
    assert next(m for m in history if m["id"] == message["id"])["reactions"] == got
    removed = react(server, user1, message["id"], "👍", "DELETE").json()["reactions"]
    # order of first use among the reactions that remain: admin's 👍 came after the family
    assert removed == [{"emoji": family, "count": 1, "user_ids": [admin_id]},
                       {"emoji": "👍", "count": 1, "user_ids": [admin_id]}]
    assert react(server, user1, message["id"], "👍", "DELETE").json()["reactions"] == removed
    assert watcher.recv_type("reactions")["reactions"] == removed
    other_tab.close()
    watcher.close()


def test_reactions_come_back_with_catch_up(server, setup):
    admin, user1, general, message = setup
    mark = server.request("GET", f"/api/updates?after_id={message['id']}", user1).json()
    react(server, admin, message["id"], "🎉")
    got = server.request("GET", f"/api/updates?after_id={message['id']}&changed_since={mark['server_time']}",
                         user1).json()
    changed = {m["id"]: m for m in got["changed"]}
    assert changed[message["id"]]["reactions"][0]["emoji"] == "🎉"
    assert changed[message["id"]]["edited_at"] is None  # a reaction is no edit
    client = server.connect(user1)
    client.recv_type("connected")
    client.send({"type": "catch_up", "after_id": message["id"], "changed_since": mark["server_time"]})
    frame = client.recv_type("catch_up")
    assert [m["reactions"] for m in frame["changed"] if m["id"] == message["id"]][0][0]["emoji"] == "🎉"
    client.close()


@pytest.mark.parametrize("emoji", ["", "a b", "x" * 33, "tab\there", "new\nline", "\x7f"])
def test_bad_emoji_refused(server, setup, emoji):
    admin, _, _, message = setup
    response = react(server, admin, message["id"], emoji)
    if emoji == "":
        assert_error(response, 404)  # no emoji in the path: no such endpoint
    else:
        assert_error(response, 422, "invalid_emoji")


def test_undecodable_emoji_is_a_clear_error(server, setup):
    admin, _, _, message = setup
    assert_error(server.request("PUT", f"/api/messages/{message['id']}/reactions/%FF", admin), 400)


def test_only_members_react(server, setup):
    admin, _, _, _ = setup
    user2 = server.login("user2")
    direct = server.chat_id(admin, "User One")
    private = server.request("POST", f"/api/chats/{direct}/messages", admin, {"text": "private"}).json()
    assert_error(react(server, user2, private["id"], "👍"), 404, "message_not_found")
    assert_error(react(server, user2, private["id"], "👍", "DELETE"), 404, "message_not_found")
    assert_error(react(server, admin, 2 ** 31 - 1, "👍"), 404)
    server.request("DELETE", f"/api/messages/{private['id']}", admin)
    assert_error(react(server, admin, private["id"], "👍"), 404, "message_not_found")
    assert react(server, admin, private["id"], "👍", "DELETE").status_code == 404
