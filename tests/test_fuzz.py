"""Property-based fuzzing (Hypothesis): whatever a client sends, never a 5xx and never a dropped connection.

Each field gets values that are mostly plausible (small ids, times, short
text) mixed with edge values (the inputs of past defects) and arbitrary JSON,
so that requests get past the first check and into the handlers; the inputs of
past defects are always tried (``@example``).  Bounded to
a few seconds per database: a fixed number of examples, no deadline (the
machine may be busy), no example database written into the worktree.
"""
import json

import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

EXAMPLES_PER_ENDPOINT = 12
FUZZ = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

EDGES = ["9" * 5000, "-1", "\x00", "\r\n", " user1 ", "😀" * 3, ""]  # inputs that once broke something
TIME_EDGES = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+14:00", "2026-13-01",
              "2026-01-01T00:00:00Z", "1970-01-01"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 63, 2 ** 63 - 1), st.floats(allow_nan=False),
                    st.text(max_size=40), st.sampled_from(EDGES + TIME_EDGES))
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
an_id = st.one_of(st.integers(0, 60), st.integers(-2 ** 63, 2 ** 63 - 1), anything)
a_time = st.one_of(st.sampled_from(TIME_EDGES), anything)
a_text = st.one_of(st.text(max_size=60), st.sampled_from(EDGES), anything)
FIELD = {"user_id": an_id, "message_id": an_id, "chat_id": an_id, "after_id": an_id, "id": an_id, "reply_to": an_id,
         "file_ids": st.one_of(st.lists(an_id, max_size=4), anything),
         "member_ids": st.one_of(st.lists(an_id, max_size=4), anything),
         "user_ids": st.one_of(st.lists(an_id, max_size=4), anything), "changed_since": a_time,
         "type": st.one_of(st.sampled_from(["direct", "group"]), anything),
         "is_admin": st.one_of(st.booleans(), anything), "is_active": st.one_of(st.booleans(), anything),
         "muted": st.one_of(st.booleans(), anything)}


def fields(*names):
    return st.fixed_dictionaries({}, optional={name: FIELD.get(name, a_text) for name in names})


def query(*names):
    value = st.one_of(st.sampled_from(["0", "1", "50", "abc", *EDGES, *TIME_EDGES]), st.text(max_size=30))
    return st.fixed_dictionaries({}, optional={name: value for name in names})


path_ids = st.one_of(st.integers(0, 60).map(str), st.text("0123456789", min_size=1, max_size=25),
                     st.sampled_from(["abc", "%00", "1e3", "\u0661", *EDGES]))
# (method, path, body fields, query parameters); logout is left out: it would end the session used throughout
ENDPOINTS = [
    ("POST", "/api/auth/login", ("username", "password"), ()),
    ("POST", "/api/auth/refresh", ("refresh_token",), ()),
    ("GET", "/api/me", (), ()),
    ("PATCH", "/api/me", ("locale", "display_name", "status_text", "status_emoji"), ()),
    ("POST", "/api/me/password", ("current_password", "new_password"), ()),
    ("DELETE", "/api/me/avatar", (), ()),
    ("GET", "/api/users/{}/avatar", (), ("v",)),
    ("GET", "/api/users", (), ("q", "limit")),
    ("POST", "/api/admin/users", ("username", "password", "display_name", "is_admin"), ()),
    ("PATCH", "/api/admin/users/{}", ("display_name", "is_admin", "is_active"), ()),
    ("GET", "/api/chats", (), ()),
    ("POST", "/api/chats", ("type", "user_id", "title", "member_ids", "visibility", "topic"), ()),
    ("GET", "/api/chats/{}", (), ()),
    ("PATCH", "/api/chats/{}", ("title", "muted", "topic", "visibility", "default", "archived"), ()),
    ("GET", "/api/channels", (), ("q",)),
    ("POST", "/api/channels/{}/join", (), ()),
    ("POST", "/api/chats/{}/members", ("user_ids",), ()),
    ("DELETE", "/api/chats/{}/members/{}", (), ()),
    ("GET", "/api/chats/{}/messages", (), ("before_id", "after_id", "limit")),
    ("POST", "/api/chats/{}/messages", ("text", "client_msg_id", "reply_to", "file_ids"), ()),
    ("POST", "/api/chats/{}/read", ("message_id",), ()),
    ("PATCH", "/api/messages/{}", ("text",), ()),
    ("DELETE", "/api/messages/{}", (), ()),
    ("GET", "/api/updates", (), ("after_id", "limit", "changed_since")),
    ("PUT", "/api/messages/{}/reactions/{}", (), ()),
    ("DELETE", "/api/messages/{}/reactions/{}", (), ()),
    ("GET", "/api/search", (), ("q", "chat_id", "limit")),
    ("POST", "/api/files", ("file",), ()),
    ("GET", "/api/files/{}", (), ()),
    ("GET", "/api/admin/diagnostics", (), ()),
    ("PUT", "/api/chats", (), ()),
    ("GET", "/api/{}", (), ()),
]


def test_json_endpoints_never_fail_with_5xx(server):
    token = server.login("user1")
    session = requests.Session()

    def check(method, template, body_fields, query_names):
        @settings(FUZZ, max_examples=EXAMPLES_PER_ENDPOINT)
        @example(["9" * 5000, "1"], "{}", {})  # past defects, tried on every endpoint
        @example(["1", "1"], '{"text": "x"}', {"after_id": "1", "changed_since": "9999-12-31T23:59:59-01:00"})
        @example(["1", "1"], "{}", {"after_id": "1", "changed_since": "0001-01-01T00:00:00Z"})
        @given(st.lists(path_ids, min_size=2, max_size=2),
               st.one_of(fields(*body_fields).map(json.dumps), anything.map(json.dumps), st.binary(max_size=300)),
               query(*query_names))
        def one(ids, body, params):
            path = template.format(*ids)
            try:
                r = session.request(method, server.url + path, params=params, data=body, timeout=15,
                                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            except requests.ConnectionError as exc:
                raise AssertionError(f"{method} {path}: connection dropped ({exc})")
            assert r.status_code < 500, (method, path, params, body, r.status_code, r.text[:300])
            answer = r.json()
            if r.status_code >= 400:
                assert set(answer) == {"error"} and answer["error"]["code"] and answer["error"]["message"], answer
        one()

    for endpoint in ENDPOINTS:
        check(*endpoint)
    assert server.request("GET", "/api/me", token).status_code == 200


FRAMES = {"ping": ("id",), "send_message": ("chat_id", "text", "client_msg_id", "reply_to", "file_ids"),
          "typing": ("chat_id",),
          "mark_read": ("chat_id", "message_id"), "catch_up": ("after_id", "changed_since"),
          "diagnostic_echo": ("nonce",), "auth": ("token",)}
frames = st.one_of(
    st.sampled_from(sorted(FRAMES)).flatmap(lambda kind: fields(*FRAMES[kind]).map(lambda f: {**f, "type": kind})),
    st.dictionaries(st.sampled_from(["type", "chat_id", "text", "after_id"]), anything, max_size=4),
    anything.map(json.dumps),
    st.text(max_size=100),
)


def test_websocket_frames_never_drop_the_connection(server):
    token = server.login("user1")
    client = server.connect(token)
    client.recv_type("connected")
    probe = iter(range(10 ** 9))

    @FUZZ
    @example({"type": "catch_up", "after_id": 1, "changed_since": "9999-12-31T23:59:59-01:00"})  # past defects
    @example({"type": "catch_up", "after_id": 1, "changed_since": "0001-01-01T00:00:00Z"})
    @example({"type": "send_message", "chat_id": 1, "text": "x", "client_msg_id": "\x00"})
    @given(frames)
    def check(frame):
        marker = next(probe)
        try:
            client.send(frame)
            client.send({"type": "ping", "id": marker})
            while True:
                answer = client.recv(10)
                if answer["type"] == "error":
                    assert answer["code"] != "internal_error" and answer["message"], (frame, answer)
                if answer["type"] == "pong" and answer.get("id") == marker:
                    break
        except (ConnectionClosed, TimeoutError) as exc:
            raise AssertionError(f"after {frame!r}: {exc!r}")

    check()
    client.close()


def test_binary_frames_are_refused_plainly(server):
    client = server.connect(server.login("user1"))
    client.recv_type("connected")
    for n, raw in enumerate([b"\xff\xfe", b"{}" * 3, b""]):
        client.conn.send(raw)
        assert client.recv_type("error")["code"] == "invalid_json"
        client.send({"type": "ping", "id": n})
        assert client.recv_type("pong")["id"] == n
    client.close()
