"""Whole-process behaviour: kill -9 durability, clean shutdown, demo-data safety (subprocesses)."""
import subprocess

import pytest
from websockets.exceptions import ConnectionClosed

from tests.harness import ROOT, SubprocessServer, server_command

pytestmark = [pytest.mark.slow, pytest.mark.subprocess]


def test_acked_message_survives_kill_9(spawn):
    server = spawn()
    token = server.login("admin")
    general = server.chat_id(token, "General")
    client = server.connect(token)
    client.recv_type("connected")
    acked = []
    for i in range(20):
        client.send({"type": "send_message", "chat_id": general, "text": f"durable {i}", "client_msg_id": f"d{i}"})
    for _ in range(20):
        acked.append(client.recv_type("message_ack")["message"]["id"])
    server.kill9()  # no shutdown, no flush: only what was committed can come back
    restarted = spawn(port=server.port)
    token = restarted.login("admin")
    stored = [m["id"] for m in restarted.request("GET", f"/api/chats/{general}/messages", token).json()["messages"]]
    assert set(acked) <= set(stored)


def test_sigterm_closes_websockets_with_1001(spawn):
    server = spawn()
    client = server.connect(server.login("user1"))
    client.recv_type("connected")
    assert server.terminate() == 0
    with pytest.raises(ConnectionClosed):
        client.recv(5)
    assert client.close_code == 1001


def test_demo_passwords_refused_on_public_address(tmp_path):
    argv = [*server_command(), "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path),
            "--secret-key", "s" * 40]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "demo accounts" in result.stderr and "--allow-demo-on-public" in result.stderr


def test_demo_passwords_refused_behind_a_trusted_proxy(tmp_path):
    """On loopback but with --trust-proxy-headers every client is another machine: no start with demo passwords."""
    settings = ["--port", "0", "--secret-key", "s" * 40, "--trust-proxy-headers"]
    try:
        result = subprocess.run([*server_command(), *settings, "--data-dir", str(tmp_path / "demo")], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the server started behind a proxy with the demo passwords working")
    assert result.returncode != 0
    assert "behind a proxy" in result.stderr and "demo accounts admin, user1, user2" in result.stderr
    assert "--allow-demo-on-public" in result.stderr
    started = SubprocessServer([*settings, "--data-dir", str(tmp_path / "empty"), "--demo-data", "false"])
    try:
        assert started.request("GET", "/api/health").status_code == 200
    finally:
        started.stop()


def test_help_lists_every_setting():
    import server
    result = subprocess.run([*server_command(), "--help"], cwd=ROOT, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0
    for name, *_ in server.SETTINGS:
        assert "--" + name.replace("_", "-") in result.stdout


def test_secret_is_generated_once_and_never_in_code(tmp_path):
    import server
    first = server.load_or_create_secret(str(tmp_path))
    assert len(first) >= 40 and server.load_or_create_secret(str(tmp_path)) == first
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_server_log_never_holds_a_whole_token(spawn):
    server = spawn()
    token = server.login("admin")
    server.request("GET", "/api/chats?token=" + token, token)
    server.request("GET", "/no-such-page?access_token=" + token)
    client = server.connect(token)
    client.recv_type("connected")
    client.close()
    server.terminate()
    log = server.log()
    assert "WebSocket connection attempt with token: " + token[:20] + "..." in log
    assert token not in log and token[:40] not in log
