"""One error path: REST answers, pages and WebSocket frames carry the same {"code", "message", ...} body.

REST: ``{"error": body}`` with the status; pages: the body's message (or the
same JSON when asked for JSON); frames: ``{"type": "error", **body}``.
"""
import logging

import pytest

from tests.helpers import assert_error, database_unreachable


def frame_error(client, frame):
    """Send ``frame`` and return the error frame without its type (the body)."""
    client.send(frame)
    error = client.recv_type("error")
    return {k: v for k, v in error.items() if k not in ("type", "client_msg_id")}


def login_page(server, accept, password):
    """POST the browser login form (with its XSRF token) as a page would."""
    server.http.get(server.url + "/login")
    return server.http.post(server.url + "/login", headers={"Accept": accept},
                            data={"username": "admin", "password": password,
                                  "_xsrf": server.http.cookies.get("_xsrf")})


def test_rest_errors_have_one_shape_and_log_no_traceback(server, caplog):
    token = server.login("admin")
    chat_id = server.chat_id(token, "General")
    cases = [
        (server.request("GET", "/api/nowhere", token), 404, "not_found"),
        (server.request("GET", "/api/chats"), 401, "token_missing"),
        (server.request("GET", "/api/chats", "not-a-jwt"), 401, "token_malformed"),
        (server.request("POST", "/api/chats", token, data=b"{nope"), 400, "invalid_json"),
        (server.request("POST", "/api/chats", token, {"type": "group"}), 422, "missing_field"),
        (server.request("GET", f"/api/chats/{chat_id}/messages?limit=x", token), 400, "invalid_query"),
        (server.request("PUT", "/api/chats", token), 405, "method_not_allowed"),
        (server.request("POST", "/api/chats", token, data=b"{" + b" " * (1024 * 1024 + 1) + b"}"),
         413, "body_too_large"),
    ]
    with caplog.at_level(logging.WARNING):
        for response, status, code in cases:
            assert_error(response, status, code)
            assert response.headers["Content-Type"].startswith("application/json")
            assert response.headers["Cache-Control"] == "no-store"
    assert not [r for r in caplog.records if r.exc_info], "an answered error was logged with a traceback"


def test_frames_carry_the_rest_body(server_factory):
    server = server_factory(message_rate="0.01", message_burst="4")
    token = server.login("admin")
    chat_id = server.chat_id(token, "General")
    client = server.connect(token)
    client.recv_type("connected")

    too_long = "x" * 10_001
    rest = assert_error(server.request("POST", f"/api/chats/{chat_id}/messages", token, {"text": too_long}), 422)
    frame = frame_error(client, {"type": "send_message", "chat_id": chat_id, "text": too_long})
    assert frame == rest and rest["code"] == "text_too_long" and rest["limit"] == 10_000

    rest = assert_error(server.request("GET", "/api/chats/999999", token), 404)
    frame = frame_error(client, {"type": "mark_read", "chat_id": 999999, "message_id": 1})
    assert frame == rest and rest["code"] == "chat_not_found"

    # Every send attempt above took from the burst of 4 too (the rate is checked first);
    # two more pass, then the REST send and the frame are refused alike.
    assert server.request("POST", f"/api/chats/{chat_id}/messages", token, {"text": "one"}).status_code == 201
    client.send({"type": "send_message", "chat_id": chat_id, "text": "two", "client_msg_id": "c-2"})
    client.recv_type("message_ack")
    response = server.request("POST", f"/api/chats/{chat_id}/messages", token, {"text": "three"})
    rest = assert_error(response, 429, "rate_limited")
    assert response.headers["Retry-After"] == str(rest["retry_after"])
    client.send({"type": "send_message", "chat_id": chat_id, "text": "four", "client_msg_id": "c-4"})
    error = client.recv_type("error")
    assert error.pop("client_msg_id") == "c-4" and error.pop("type") == "error"
    assert error["code"] == "rate_limited" and set(error) == set(rest)
    client.close()


def test_pages_show_the_same_error(server):
    page = server.http.get(server.url + "/no/such/page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
    assert "There is no page at this address." in page.text

    api = assert_error(server.request("POST", "/api/auth/login",
                                      json_body={"username": "admin", "password": "wrong-password"}), 401)
    as_json = login_page(server, "application/json", "wrong-password")
    assert as_json.status_code == 401 and as_json.json() == {"error": api}
    as_page = login_page(server, "text/html", "wrong-password")
    assert as_page.status_code == 401 and api["message"] in as_page.text


def test_database_unavailable_is_one_body_everywhere(server, database_url, caplog):
    if database_url.startswith("sqlite"):
        pytest.skip("an embedded SQLite file cannot become unreachable while the process runs")
    token = server.login("admin")
    client = server.connect(token)
    client.recv_type("connected")
    with database_unreachable(database_url), caplog.at_level(logging.WARNING):
        rest = assert_error(server.request("GET", "/api/chats", token), 503, "db_unavailable")
        frame = frame_error(client, {"type": "catch_up", "after_id": 0})
        page = login_page(server, "application/json", "admin123")
    assert page.status_code == 503 and page.json() == {"error": rest}
    assert frame == rest
    assert any("Database unavailable during GET /api/chats" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.exc_info], "an unreachable database is one line, not a traceback"
    client.close()
