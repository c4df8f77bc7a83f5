"""The external contract against a server process (``python server.py``, or the binary under CM_TEST_SERVER):
HTTP, WebSocket frames and closes, and the server's log lines."""
import pytest
from websockets.exceptions import ConnectionClosed


def test_http_websocket_and_log_lines_of_a_server_process(spawn):
    server = spawn()
    assert server.http.get(server.url + "/", timeout=10).json() == {"message": "Corporate Messenger API",
                                                                     "version": "1.0.0"}
    assert server.http.get(server.url + "/", headers={"Accept": "text/html"}, allow_redirects=False,
                           timeout=10).headers["Location"] == "/login"
    assert server.request("GET", "/api/health").json()["db"] == "ok"
    wrong = server.request("POST", "/api/auth/login", json_body={"username": "admin", "password": "nope"})
    assert wrong.status_code == 401 and set(wrong.json()["error"]) == {"code", "message"}
    assert server.request("GET", "/api/chats").status_code == 401
    admin_token, user1_token = server.login("admin"), server.login("user1")
    chats = server.request("GET", "/api/chats", admin_token).json()
    general = next(c["id"] for c in chats if c["title"] == "General")

    refused = server.connect("garbage")
    with pytest.raises(ConnectionClosed):
        refused.recv(5)
    assert refused.close_code == 1008 and refused.close_reason

    admin = server.connect(admin_token)
    connected = admin.recv_type("connected")
    assert connected["user_id"] == 1 and sorted(connected["chat_ids"]) == sorted(c["id"] for c in chats)
    user1 = server.connect(user1_token)
    user1.recv_type("connected")
    admin.send({"type": "send_message", "chat_id": general, "text": "over the socket", "client_msg_id": "c1"})
    ack = admin.recv_type("message_ack")
    assert ack["client_msg_id"] == "c1" and user1.recv_type("new_message")["message"]["id"] == ack["message"]["id"]
    posted = server.request("POST", f"/api/chats/{general}/messages", user1_token, json_body={"text": "over REST"})
    assert posted.status_code == 201
    assert admin.recv_type("new_message")["message"]["id"] == posted.json()["id"]
    admin.send({"type": "no_such_frame"})
    assert admin.recv_type("error")["code"] == "unknown_type"
    admin.send({"type": "ping"})
    admin.recv_type("pong")  # still open after a bad frame
    metrics = server.http.get(server.url + "/metrics", timeout=10)
    assert metrics.status_code == 200 and "messenger_messages_committed_total 2.0" in metrics.text
    admin.send("x" * (64 * 1024 + 1))
    with pytest.raises(ConnectionClosed):
        admin.recv_type("never")
    assert admin.close_code == 1009
    user1.close()

    assert server.terminate() == 0
    log = server.log()
    assert f"WebSocket connection attempt with token: {admin_token[:20]}..." in log
    assert "User 1 connected. Total connections: 1" in log
    assert "User 2 connected. Total connections: 2" in log
    assert f"Added user 1 to chat {general}" in log
    assert "User 1 disconnected. Total connections: 1" in log
    assert admin_token not in log and user1_token not in log
