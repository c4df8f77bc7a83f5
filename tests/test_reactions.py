"""Reactions: PUT/DELETE, the list on message objects, the live frame and catch-up (SQLite and PostgreSQL)."""
import json
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
    assert frames[-1] == {"type": "reactions", "chat_id": general, "message_id": message["id"], "reactions": got,
                          "change": {"user_id": admin_id, "emoji": "👍", "op": "add"}}
    assert [watcher.recv_type("reactions")["reactions"] for _ in range(3)][-1] == got
    other_tab.nothing_of("reactions")  # the idempotent repeat changed nothing and sent nothing
    history = server.request("GET", f"/api/chats/{general}/messages", user1).json()["messages"]
    assert next(m for m in history if m["id"] == message["id"])["reactions"] == got
    removed = react(server, user1, message["id"], "👍", "DELETE").json()["reactions"]
    # order of first use among the reactions that remain: admin's 👍 came after the family
    assert removed == [{"emoji": family, "count": 1, "user_ids": [admin_id]},
                       {"emoji": "👍", "count": 1, "user_ids": [admin_id]}]
    assert react(server, user1, message["id"], "👍", "DELETE").json()["reactions"] == removed
    assert watcher.recv_type("reactions") == {"type": "reactions", "chat_id": general, "message_id": message["id"],
                                              "reactions": removed,
                                              "change": {"user_id": user1_id, "emoji": "👍", "op": "remove"}}
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


def test_caps_per_message_and_per_user_bound_every_frame(server_factory):
    """At most 50 different emoji on a message and 20 reactions of one user on it: the 3,000 emoji one
    user once put on a message made each change push 64 KiB to every member."""
    server = server_factory(reaction_rate="0")
    tokens = {name: server.login(name) for name in ("admin", "user1", "user2")}
    general = server.chat_id(tokens["admin"], "General")
    message = server.request("POST", f"/api/chats/{general}/messages", tokens["admin"], {"text": "cap me"}).json()
    watcher = server.connect(tokens["user1"])
    watcher.recv_type("connected")
    for n in range(20):
        assert react(server, tokens["admin"], message["id"], f"a{n}").status_code == 200
    refused = assert_error(react(server, tokens["admin"], message["id"], "a20"), 422, "too_many_reactions")
    assert refused["message"] == "You can add at most 20 reactions to one message" and refused["limit"] == 20
    assert react(server, tokens["admin"], message["id"], "a0", "DELETE").status_code == 200  # room again
    assert react(server, tokens["admin"], message["id"], "a20").status_code == 200
    for n in range(20):
        assert react(server, tokens["user1"], message["id"], f"b{n}").status_code == 200
    for n in range(10):
        assert react(server, tokens["user2"], message["id"], f"c{n}").status_code == 200
    refused = assert_error(react(server, tokens["user2"], message["id"], "c10"), 422, "too_many_emoji")
    assert refused["message"] == "A message can have at most 50 different reactions" and refused["limit"] == 50
    joined = react(server, tokens["user2"], message["id"], "a1")  # a 51st reaction, but no 51st emoji
    assert joined.status_code == 200 and len(joined.json()["reactions"]) == 50
    ru = server.request("PUT", f"/api/messages/{message['id']}/reactions/c11", tokens["user2"],
                        headers={"Accept-Language": "ru"})
    assert assert_error(ru, 422, "too_many_emoji")["message"] == "У сообщения может быть не больше 50 разных реакций"
    frames = [watcher.recv_type("reactions") for _ in range(53)]  # 22 changes by admin, 20 by user1, 11 by user2
    assert frames[-1]["reactions"] == joined.json()["reactions"]
    biggest = max(len(json.dumps(f, ensure_ascii=False, separators=(",", ":")).encode()) for f in frames)
    assert biggest < 4096, biggest  # the whole list, bounded by the caps
    watcher.nothing_of("reactions")  # refusals send nothing
    assert server.request("GET", f"/api/chats/{general}/messages", tokens["user1"]).json()["messages"][-1][
        "reactions"] == joined.json()["reactions"]
    watcher.close()


def test_reaction_rate_limit(server_factory):
    server = server_factory(reaction_rate="0.5", reaction_burst="3")
    admin = server.login("admin")
    general = server.chat_id(admin, "General")
    message = server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "fast"}).json()
    assert [react(server, admin, message["id"], emoji).status_code for emoji in "xyz"] == [200] * 3
    response = react(server, admin, message["id"], "x", "DELETE")
    refused = assert_error(response, 429, "rate_limited")
    assert refused["message"] == "Changing reactions too fast. Try again in 2 seconds."
    assert response.headers["Retry-After"] == "2"
    assert len(react(server, server.login("user1"), message["id"], "w").json()["reactions"]) == 4  # per user
