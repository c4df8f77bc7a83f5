"""Sending, deduplication, history paging and catch-up over REST (SQLite and PostgreSQL)."""
import pytest

from tests.helpers import assert_error


@pytest.fixture
def chat(server):
    token = server.login("admin")
    return token, server.chat_id(token, "General")


def send(server, token, chat_id, text, **extra):
    return server.request("POST", f"/api/chats/{chat_id}/messages", token, {"text": text, **extra})


def test_send_and_dedupe(server, chat):
    token, chat_id = chat
    r = send(server, token, chat_id, "  hello  ", client_msg_id="c-1")
    assert r.status_code == 201
    message = r.json()
    assert message["text"] == "hello" and message["client_msg_id"] == "c-1"
    assert {"id", "chat_id", "sender_id", "sender_name", "text", "created_at", "client_msg_id"} <= set(message)
    retry = send(server, token, chat_id, "hello", client_msg_id="c-1")
    assert retry.status_code == 200 and retry.json()["id"] == message["id"]
    texts = [m["text"] for m in server.request("GET", f"/api/chats/{chat_id}/messages", token).json()["messages"]]
    assert texts.count("hello") == 1


@pytest.mark.parametrize("body,status,code", [
    ({"text": "   "}, 422, "text_empty"),
    ({"text": ""}, 422, "text_empty"),
    ({"text": "x" * 10_001}, 422, "text_too_long"),
    ({"text": 5}, 422, "invalid_field"),
    ({}, 422, "missing_field"),
    ({"text": "nul \x00 byte"}, 422, "invalid_field"),
    ({"text": "ok", "client_msg_id": 7}, 422, "invalid_field"),
    ({"text": "ok", "client_msg_id": "x" * 65}, 422, "invalid_field"),
])
def test_bad_messages_refused(server, chat, body, status, code):
    token, chat_id = chat
    assert_error(server.request("POST", f"/api/chats/{chat_id}/messages", token, body), status, code)
    messages = server.request("GET", f"/api/chats/{chat_id}/messages", token).json()["messages"]
    assert len(messages) == 1  # only the welcome message: nothing half-written


def test_client_msg_id_reused_in_another_chat_is_refused(server, chat):
    token, chat_id = chat
    direct = server.chat_id(token, "User One")
    assert send(server, token, chat_id, "first", client_msg_id="same").status_code == 201
    assert_error(send(server, token, direct, "second", client_msg_id="same"), 409, "client_msg_id_reused")


def test_out_of_range_ids_are_not_found(server, chat):
    token, chat_id = chat
    huge = "99999999999999999999999"
    assert_error(server.request("GET", f"/api/chats/{huge}/messages", token), 404)
    assert_error(server.request("GET", f"/api/chats/{chat_id}/messages?after_id={huge}", token), 400)
    assert_error(server.request("POST", f"/api/chats/{chat_id}/read", token, {"message_id": 2 ** 63}), 422)
    assert_error(server.request("POST", f"/api/chats/{chat_id}", token, {}), 405)


def test_text_limit_is_after_trimming(server, chat):
    token, chat_id = chat
    assert send(server, token, chat_id, "  " + "y" * 10_000 + "  ").status_code == 201


def test_history_pages(server, chat):
    token, chat_id = chat
    sent = [send(server, token, chat_id, f"m{i}").json()["id"] for i in range(25)]
    page = server.request("GET", f"/api/chats/{chat_id}/messages?limit=10", token).json()
    assert [m["id"] for m in page["messages"]] == sent[-10:] and page["has_more"]
    seen = [m["id"] for m in page["messages"]]
    # new messages arriving between page requests never shift the older pages
    send(server, token, chat_id, "late arrival")
    while page["has_more"]:
        page = server.request("GET", f"/api/chats/{chat_id}/messages?limit=10&before_id={page['next_before_id']}",
                              token).json()
        ids = [m["id"] for m in page["messages"]]
        assert ids == sorted(ids)
        seen = ids + seen
    assert seen[1:] == sent and len(set(seen)) == len(seen)
    after = server.request("GET", f"/api/chats/{chat_id}/messages?after_id={sent[19]}", token).json()
    assert [m["id"] for m in after["messages"]][:5] == sent[20:]
    assert after["messages"][-1]["text"] == "late arrival"
    for bad in ("limit=0", "before_id=abc", "after_id=-1", "before_id=1&after_id=1"):
        assert_error(server.request("GET", f"/api/chats/{chat_id}/messages?{bad}", token), 400)


def test_updates_catch_up_across_chats(server):
    admin, user1 = server.login("admin"), server.login("user1")
    general, direct = server.chat_id(admin, "General"), server.chat_id(admin, "User One")
    start = send(server, admin, general, "before").json()["id"]
    ids = [send(server, admin, chat, f"x{i}").json()["id"] for i, chat in enumerate([general, direct, general])]
    got = server.request("GET", f"/api/updates?after_id={start}", user1).json()
    assert [m["id"] for m in got["messages"]] == ids and not got["has_more"]
    user2 = server.login("user2")
    got = server.request("GET", f"/api/updates?after_id={start}", user2).json()
    assert [m["id"] for m in got["messages"]] == [ids[0], ids[2]]


def test_edit_and_delete_own_messages(server, chat):
    token, chat_id = chat
    message = send(server, token, chat_id, "typo").json()
    r = server.request("PATCH", f"/api/messages/{message['id']}", token, {"text": "fixed"})
    assert r.status_code == 200 and r.json()["text"] == "fixed" and r.json()["edited_at"]
    other = server.login("user1")
    assert_error(server.request("PATCH", f"/api/messages/{message['id']}", other, {"text": "mine"}), 403)
    assert_error(server.request("DELETE", f"/api/messages/{message['id']}", other), 403)
    assert server.request("DELETE", f"/api/messages/{message['id']}", token).json()["deleted"] is True
    ids = [m["id"] for m in server.request("GET", f"/api/chats/{chat_id}/messages", token).json()["messages"]]
    assert message["id"] not in ids
    assert_error(server.request("DELETE", f"/api/messages/{message['id']}", token), 404)


def test_catch_up_reports_edits_and_deletions_since_a_server_time(server):
    admin, user1 = server.login("admin"), server.login("user1")
    general = server.chat_id(admin, "General")
    kept, edited, deleted = (send(server, admin, general, t).json() for t in ("kept", "to edit", "to delete"))
    mark = server.request("GET", f"/api/updates?after_id={deleted['id']}&limit=0", user1).json()
    assert mark["messages"] == [] and mark["server_time"].endswith("Z")
    server.request("PATCH", f"/api/messages/{edited['id']}", admin, {"text": "edited while away"})
    server.request("DELETE", f"/api/messages/{deleted['id']}", admin)
    got = server.request("GET", f"/api/updates?after_id={deleted['id']}&changed_since={mark['server_time']}",
                         user1).json()
    changes = {m["id"]: m for m in got["changed"]}
    assert changes[edited["id"]]["text"] == "edited while away" and changes[edited["id"]]["edited_at"]
    assert changes[deleted["id"]]["deleted"] is True and changes[deleted["id"]]["text"] == ""
    assert kept["id"] not in changes or not changes[kept["id"]]["edited_at"]
    assert_error(server.request("GET", "/api/updates?changed_since=yesterday", user1), 400, "invalid_query")
    user2 = server.login("user2")  # a member of General too; someone outside the chat sees nothing
    direct = server.chat_id(admin, "User One")
    secret = send(server, admin, direct, "private").json()
    server.request("PATCH", f"/api/messages/{secret['id']}", admin, {"text": "still private"})
    got = server.request("GET", f"/api/updates?after_id={secret['id']}&changed_since={mark['server_time']}",
                         user2).json()
    assert secret["id"] not in {m["id"] for m in got["changed"]}


def test_a_new_message_has_one_shape_in_the_post_answer_the_ack_the_frame_and_history(server, chat):
    """Every way a message reaches a client builds it through one function: the REST answer, the
    sender's ack, the other members' frame and the history entry are the same object, with a reply
    quote, a mention and a file filled in."""
    token, chat_id = chat
    quoted = send(server, token, chat_id, "the original").json()
    upload = server.request("POST", "/api/files", token, files={"file": ("notes.txt", b"hi", "text/plain")}).json()
    body = {"text": "see @user1 above", "reply_to": quoted["id"], "file_ids": [upload["id"]]}
    posted = send(server, token, chat_id, client_msg_id="rest-1", **body)
    assert posted.status_code == 201, posted.text
    sender, other = server.connect(token), server.connect(server.login("user1"))
    try:
        sender.recv_type("connected"), other.recv_type("connected")
        upload = server.request("POST", "/api/files", token, files={"file": ("b.txt", b"b", "text/plain")}).json()
        sender.send({"type": "send_message", "chat_id": chat_id, **body, "file_ids": [upload["id"]],
                     "client_msg_id": "ws-1"})
        acked = sender.recv_type("message_ack")["message"]
        pushed = other.recv_type("new_message")["message"]
    finally:
        sender.close(), other.close()
    history = {m["id"]: m for m in server.request("GET", f"/api/chats/{chat_id}/messages", token).json()["messages"]}
    assert posted.json() == history[posted.json()["id"]]
    assert acked == pushed == history[acked["id"]]
    assert acked["reply_to"]["id"] == quoted["id"] and acked["mentions"] and acked["files"][0]["name"] == "b.txt"
