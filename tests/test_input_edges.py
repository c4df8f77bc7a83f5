"""Edge values found by probing: huge ids in paths, times at the ends of the calendar, other people's messages."""
from tests.helpers import assert_error

HUGE = "9" * 5000  # past Python's 4,300-digit int() limit


def test_huge_ids_in_paths_are_json_404_logged_once(server, server_log):
    token = server.login("admin")
    requests_made = [
        ("GET", f"/api/chats/{HUGE}", None),
        ("GET", f"/api/chats/{HUGE}/messages", None),
        ("POST", f"/api/chats/{HUGE}/messages", {"text": "hi"}),
        ("POST", f"/api/chats/{HUGE}/read", {"message_id": 1}),
        ("PATCH", f"/api/messages/{HUGE}", {"text": "x"}),
        ("DELETE", f"/api/messages/{HUGE}", None),
        ("DELETE", f"/api/chats/1/members/{HUGE}", None),
        ("PATCH", f"/api/admin/users/{HUGE}", {"display_name": "x"}),
        ("GET", "/api/chats/1" + "0" * 19, None),  # 20 digits
        ("GET", "/api/chats/" + "0" * 21 + "1", None),  # leading zeros count too
    ]
    for method, path, body in requests_made:
        assert_error(server.request(method, path, token, body), 404, "not_found")
    lines = list(server_log.lines)
    assert not [line for line in lines if "Uncaught exception" in line or "Traceback" in line]
    assert not [line for line in lines if HUGE[:1000] in line], "a huge URL went into the log"
    assert sum("/api/messages/999" in line for line in lines) == 2  # one access line per request, no more


def test_extreme_changed_since(server):
    token = server.login("admin")
    client = server.connect(token)
    client.recv_type("connected")
    cases = [
        ("0001-01-01T00:00:00Z", True),  # "every change ever": allowed
        ("0001-01-01T00:00:00.000+00:00", True),
        ("9999-12-31T23:59:59Z", True),
        ("9999-12-31T23:59:59-01:00", False),  # year 10000 in UTC
        ("0001-01-01T00:00:00+14:00", False),  # year 0 in UTC
        ("0001-01-01", True),
        ("99999-01-01T00:00:00Z", False),
        ("2026-13-01T00:00:00Z", False),
    ]
    for value, representable in cases:
        r = server.request("GET", "/api/updates", token, params={"after_id": 1, "changed_since": value})
        client.send({"type": "catch_up", "after_id": 1, "changed_since": value})
        frame = client.recv_type("catch_up") if representable else client.recv_type("error")
        if representable:
            assert r.status_code == 200 and "changed" in r.json(), (value, r.text)
            assert "changed" in frame
        else:
            assert assert_error(r, 400, "invalid_query")["field"] == "changed_since"
            assert frame["code"] == "invalid_field" and frame["field"] == "changed_since", frame
    client.send({"type": "ping"})
    assert client.recv_type("pong")  # still open
    client.close()


def test_someone_elses_message_outside_your_chats_is_simply_not_found(server):
    admin, user1, user2 = server.login("admin"), server.login("user1"), server.login("user2")
    direct = server.chat_id(admin, "User One")  # admin and user1 only
    message = server.request("POST", f"/api/chats/{direct}/messages", admin, {"text": "private"}).json()
    for method, body in (("PATCH", {"text": "mine now"}), ("DELETE", None)):
        error = assert_error(server.request(method, f"/api/messages/{message['id']}", user2, body),
                             404, "message_not_found")
        assert str(direct) not in error["message"].replace(str(message["id"]), "") and "chat" not in error
        # a member who did not write it is told so
        assert_error(server.request(method, f"/api/messages/{message['id']}", user1, body), 403, "not_allowed")
    assert server.request("GET", f"/api/chats/{direct}/messages", admin).json()["messages"][-1]["text"] == "private"
