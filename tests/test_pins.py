"""Pins: PUT/DELETE /api/messages/{id}/pin, GET /api/chats/{id}/pins, the live frame, catch-up and the cap
(SQLite and PostgreSQL)."""
import pytest

from models.pins import MAX_PINS
from tests.helpers import assert_error, user_id


def pin(server, token, message_id, method="PUT"):
    return server.request(method, f"/api/messages/{message_id}/pin", token)


def pins_of(server, token, chat_id):
    response = server.request("GET", f"/api/chats/{chat_id}/pins", token)
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["pins"]]


@pytest.fixture
def setup(server):
    admin, user1 = server.login("admin"), server.login("user1")
    general = server.chat_id(admin, "General")
    sent = [server.request("POST", f"/api/chats/{general}/messages", admin, {"text": f"note {n}"}).json()
            for n in range(3)]
    return admin, user1, general, sent


def test_any_member_pins_live_newest_pin_first_and_idempotent(server, setup):
    admin, user1, general, sent = setup
    assert all(m["pinned"] is False for m in sent)
    watcher = server.connect(admin)
    watcher.recv_type("connected")
    first = pin(server, user1, sent[0]["id"])
    assert first.status_code == 200
    assert first.json()["id"] == sent[0]["id"] and first.json()["pinned"] is True
    assert watcher.recv_type("message_pinned") == {"type": "message_pinned", "chat_id": general,
                                                   "message_id": sent[0]["id"], "pinned": True,
                                                   "user_id": user_id(server, user1)}
    assert pin(server, user1, sent[0]["id"]).json()["pinned"] is True  # again: nothing changes, nothing sent
    watcher.nothing_of("message_pinned")
    pin(server, admin, sent[2]["id"])
    assert pins_of(server, user1, general) == [sent[2]["id"], sent[0]["id"]]  # the newest pin first
    history = server.request("GET", f"/api/chats/{general}/messages", user1).json()["messages"]
    assert {m["id"]: m["pinned"] for m in history if m["id"] in {s["id"] for s in sent}} == {
        sent[0]["id"]: True, sent[1]["id"]: False, sent[2]["id"]: True}
    # anyone may unpin, also what someone else pinned
    unpinned = pin(server, admin, sent[0]["id"], "DELETE")
    assert unpinned.status_code == 200 and unpinned.json()["pinned"] is False
    assert watcher.recv_type("message_pinned")["message_id"] == sent[2]["id"]
    assert watcher.recv_type("message_pinned")["pinned"] is False
    assert pin(server, admin, sent[0]["id"], "DELETE").json()["pinned"] is False
    assert pins_of(server, admin, general) == [sent[2]["id"]]
    watcher.close()


def test_pins_come_back_with_catch_up_and_leave_with_a_deleted_message(server, setup):
    admin, user1, general, sent = setup
    mark = server.request("GET", f"/api/updates?after_id={sent[-1]['id']}", user1).json()
    pin(server, admin, sent[1]["id"])
    got = server.request("GET", f"/api/updates?after_id={sent[-1]['id']}&changed_since={mark['server_time']}",
                         user1).json()
    changed = {m["id"]: m for m in got["changed"]}
    assert changed[sent[1]["id"]]["pinned"] is True
    assert changed[sent[1]["id"]]["edited_at"] is None  # a pin is no edit
    server.request("DELETE", f"/api/messages/{sent[1]['id']}", admin)
    assert pins_of(server, user1, general) == []
    assert_error(pin(server, user1, sent[1]["id"]), 404, "message_not_found")


def test_only_members_see_and_change_pins(server, setup):
    admin, _, general, _ = setup
    user2 = server.login("user2")
    direct = server.chat_id(admin, "User One")
    private = server.request("POST", f"/api/chats/{direct}/messages", admin, {"text": "private"}).json()
    assert_error(pin(server, user2, private["id"]), 404, "message_not_found")
    assert_error(pin(server, user2, private["id"], "DELETE"), 404, "message_not_found")
    assert_error(server.request("GET", f"/api/chats/{direct}/pins", user2), 403, "not_a_member")
    assert_error(server.request("GET", f"/api/chats/{2 ** 31 - 1}/pins", admin), 404)
    assert_error(pin(server, admin, 2 ** 31 - 1), 404)
    assert_error(server.request("PUT", f"/api/messages/{private['id']}/pin"), 401)
    assert pins_of(server, admin, direct) == []


def test_a_chat_holds_at_most_max_pins(server_factory):
    server = server_factory(reaction_rate="0")  # pins share the reactions' rate: off here
    admin = server.login("admin")
    general = server.chat_id(admin, "General")
    ids = [server.request("POST", f"/api/chats/{general}/messages", admin, {"text": f"p{n}"}).json()["id"]
           for n in range(MAX_PINS + 1)]
    for message_id in ids[:MAX_PINS]:
        assert pin(server, admin, message_id).status_code == 200
    assert assert_error(pin(server, admin, ids[-1]), 409, "too_many_pins")["limit"] == MAX_PINS
    pin(server, admin, ids[0], "DELETE")
    assert pin(server, admin, ids[-1]).status_code == 200
    assert len(pins_of(server, admin, general)) == MAX_PINS


def test_pins_share_the_reaction_rate(server_factory):
    server = server_factory(reaction_rate="0.5", reaction_burst="2")
    admin = server.login("admin")
    general = server.chat_id(admin, "General")
    message = server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "flip"}).json()
    assert pin(server, admin, message["id"]).status_code == 200
    assert server.request("PUT", f"/api/messages/{message['id']}/reactions/%F0%9F%91%8D", admin).status_code == 200
    assert assert_error(pin(server, admin, message["id"], "DELETE"), 429, "rate_limited")["retry_after"] > 0
    assert pins_of(server, admin, general) == [message["id"]]
