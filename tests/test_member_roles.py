"""Owners of a group: PATCH /api/chats/{id}/members/{user_id} with a role, and the member_role frame
(issue 21; SQLite and PostgreSQL)."""
from tests.helpers import assert_error, user_id


def connected(server, token):
    client = server.connect(token)
    client.recv_type("connected")
    return client


def roles(server, token, chat_id):
    chat = server.request("GET", f"/api/chats/{chat_id}", token).json()
    return {m["id"]: m["role"] for m in chat["members"]}


def ops_group(server):
    """The demo's three accounts, their ids, and a group "Ops" of user1 (its owner) and user2."""
    tokens = server.login("admin"), server.login("user1"), server.login("user2")
    ids = {name: user_id(server, token) for name, token in zip(("admin", "user1", "user2"), tokens)}
    chat = server.request("POST", "/api/chats", tokens[1], {"type": "group", "title": "Ops",
                                                            "member_ids": [ids["user2"]]}).json()
    return tokens, ids, chat


def test_owners_make_owners_members_hear_of_it_and_the_last_owner_stays(server):
    (_, user1, user2), ids, chat = ops_group(server)
    member = f"/api/chats/{chat['id']}/members/{{}}"
    watcher = connected(server, user2)
    # a plain member may not; the owner may, and every member hears of it
    assert_error(server.request("PATCH", member.format(ids["user2"]), user2, {"role": "owner"}), 403, "not_allowed")
    answer = server.request("PATCH", member.format(ids["user2"]), user1, {"role": "owner"})
    assert answer.status_code == 200, answer.text
    assert {m["id"]: m["role"] for m in answer.json()["members"]} == {ids["user1"]: "owner", ids["user2"]: "owner"}
    assert watcher.recv_type("member_role") == {"type": "member_role", "chat_id": chat["id"],
                                                "user_id": ids["user2"], "role": "owner"}
    # the new owner has the owner's rights: archiving, and demoting the first owner
    assert server.request("PATCH", member.format(ids["user1"]), user2, {"role": "member"}).status_code == 200
    assert watcher.recv_type("member_role")["role"] == "member"
    assert server.request("GET", f"/api/chats/{chat['id']}", user2).json()["role"] == "owner"
    # the last owner cannot step down; asking for the role one has already changes nothing and tells nobody
    assert_error(server.request("PATCH", member.format(ids["user2"]), user2, {"role": "member"}), 409, "last_owner")
    assert server.request("PATCH", member.format(ids["user1"]), user2, {"role": "member"}).status_code == 200
    watcher.nothing_of("member_role")
    assert roles(server, user1, chat["id"]) == {ids["user1"]: "member", ids["user2"]: "owner"}


def test_an_administrator_who_is_a_member_may_and_bad_requests_get_clear_errors(server):
    (admin, user1, user2), ids, chat = ops_group(server)
    member = f"/api/chats/{chat['id']}/members/{{}}"
    # an administrator outside the group is no member of it
    assert_error(server.request("PATCH", member.format(ids["user2"]), admin, {"role": "owner"}), 403, "not_a_member")
    server.request("POST", f"/api/chats/{chat['id']}/members", user1, {"user_ids": [ids["admin"]]})
    assert server.request("PATCH", member.format(ids["user2"]), admin, {"role": "owner"}).status_code == 200
    for body, status, code in [({}, 422, "missing_field"), ({"role": 1}, 422, "invalid_field"),
                               ({"role": "admin"}, 422, "invalid_field")]:
        assert_error(server.request("PATCH", member.format(ids["user2"]), user1, body), status, code)
    assert_error(server.request("PATCH", member.format(999), user1, {"role": "owner"}), 404, "member_not_found")
    assert_error(server.request("PATCH", f"/api/chats/999/members/{ids['user2']}", user1, {"role": "owner"}),
                 404, "chat_not_found")
    direct = server.chat_id(admin, "User One")
    assert_error(server.request("PATCH", f"/api/chats/{direct}/members/{ids['user1']}", admin, {"role": "owner"}),
                 422, "not_a_group")
    assert server.request("PATCH", f"/api/chats/{chat['id']}", user1, {"archived": True}).status_code == 200
    assert_error(server.request("PATCH", member.format(ids["user2"]), user1, {"role": "member"}), 409, "chat_archived")
    assert roles(server, user1, chat["id"])[ids["user2"]] == "owner"


def test_when_the_last_owner_leaves_the_members_hear_who_became_owner(server):
    (_, user1, user2), ids, chat = ops_group(server)
    watcher = connected(server, user2)
    assert server.request("DELETE", f"/api/chats/{chat['id']}/members/{ids['user1']}", user1).status_code == 200
    assert watcher.recv_type("member_role") == {"type": "member_role", "chat_id": chat["id"],
                                                "user_id": ids["user2"], "role": "owner"}
