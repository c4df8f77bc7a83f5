"""--http-timeout: half-sent heads, stalled bodies and idle kept-alive connections are closed, with real sockets;
a slow but steady body, a large upload and an open WebSocket are not cut."""
import http.client
import os
import shutil
import socket
import subprocess
import time

import pytest

from tests.harness import InProcessServer, config_argv

TIMEOUT = 1.0
SLACK = 4.0  # a loaded test machine may run the server's timer late


@pytest.fixture
def timed_server(tmp_path):
    server = InProcessServer(config_argv(tmp_path / "data", "sqlite:///" + str(tmp_path / "t.db"),
                                         http_timeout=str(TIMEOUT)))
    yield server
    server.stop()


def raw_socket(server):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.setblocking(False)
    return sock


def is_closed(sock):
    """True once the server has closed ``sock`` (it reads the end of the stream, or a reset)."""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def trickle(sock, data):
    """Send a little more of a request that never ends; a closed connection refuses it."""
    try:
        sock.send(data)
    except OSError:
        pass


def wait_until_closed(socks, deadline, keep_sending=None):
    """Poll until every socket is closed or ``deadline`` passes; returns those still open."""
    open_socks = list(socks)
    while open_socks and time.monotonic() < deadline:
        open_socks = [s for s in open_socks if not is_closed(s)]
        for sock in open_socks:
            if keep_sending:
                trickle(sock, keep_sending)
        time.sleep(0.2)
    return open_socks


def test_half_sent_heads_and_idle_connections_are_closed_within_the_timeout(timed_server):
    kept_alive = raw_socket(timed_server)
    kept_alive.send(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    silent = raw_socket(timed_server)
    slowloris = [raw_socket(timed_server) for _ in range(30)]
    for sock in slowloris:
        sock.send(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    started = time.monotonic()
    everyone = [kept_alive, silent, *slowloris]
    try:
        assert wait_until_closed(everyone, started + TIMEOUT / 2, b"X-Slow: 1\r\n") == everyone  # not at once
        left = wait_until_closed(everyone, started + TIMEOUT + SLACK, b"X-Slow: 1\r\n")
        assert not left, f"{len(left)} of {len(everyone)} connections still open after {TIMEOUT + SLACK} s"
    finally:
        for sock in everyone:
            sock.close()
    assert timed_server.request("GET", "/api/health").status_code == 200


def test_a_stalled_body_is_closed_but_a_slow_steady_one_is_answered(timed_server):
    stalled = raw_socket(timed_server)
    stalled.send(b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{\"username\":")
    started = time.monotonic()
    try:
        assert not wait_until_closed([stalled], started + TIMEOUT + SLACK), "a stalled body kept its connection"
    finally:
        stalled.close()

    body = b'{"username": "user1", "password": "user1pass"}' + b" " * 200
    pieces = [body[i:i + 31] for i in range(0, len(body), 31)]  # 8 pieces, 0.4 s apart: over 3 s in all
    response = send_slowly(timed_server, "/api/auth/login", {"Content-Type": "application/json"}, pieces, 0.4)
    assert response.status == 200 and b"access_token" in response.read()


def test_a_large_upload_taking_longer_than_the_timeout_succeeds(timed_server):
    token = timed_server.login("user1")
    boundary = "slowupload"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    data = os.urandom(4 * 1024 * 1024)
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    pieces = [body[i:i + len(body) // 12 + 1] for i in range(0, len(body), len(body) // 12 + 1)]
    started = time.monotonic()
    response = send_slowly(timed_server, "/api/files", {"Authorization": f"Bearer {token}",
                                                       "Content-Type": f"multipart/form-data; boundary={boundary}"},
                           pieces, 0.3)
    assert time.monotonic() - started > 2 * TIMEOUT
    assert response.status == 201, response.read()[:300]


def send_slowly(server, path, headers, pieces, pause):
    """POST ``pieces`` (with their total Content-Length) ``pause`` seconds apart; returns the response."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest("POST", path)
    for name, value in {**headers, "Content-Length": str(sum(map(len, pieces)))}.items():
        conn.putheader(name, value)
    conn.endheaders()
    for piece in pieces:
        conn.send(piece)
        time.sleep(pause)
    return conn.getresponse()


def test_an_open_websocket_is_not_cut_by_the_timeout(timed_server):
    token = timed_server.login("user1")
    ws = timed_server.connect(token)
    try:
        ws.recv_type("connected")
        time.sleep(3 * TIMEOUT)  # quiet for longer than the timeout (pings come every 20 s here)
        admin = timed_server.login("admin")
        general = timed_server.chat_id(admin, "General")
        sent = timed_server.request("POST", f"/api/chats/{general}/messages", admin, json_body={"text": "still here?"})
        assert ws.recv_type("new_message", 10)["message"]["id"] == sent.json()["id"]
    finally:
        ws.close()


def test_the_listen_queue_holds_a_reconnect_storm(tmp_path):
    """The listening socket's accept queue is --listen-backlog long, not Tornado's 128: after a restart every
    client comes back at once, and the kernel drops what does not fit (each dropped client then waits out
    TCP's retransmission timer).  ``ss`` shows a listening socket's queue limit as its Send-Q."""
    if shutil.which("ss") is None:
        pytest.skip("ss (iproute2) is not installed")
    with open("/proc/sys/net/core/somaxconn") as f:
        limit = min(1500, int(f.read()))
    server = InProcessServer(config_argv(tmp_path / "data", "sqlite:///" + str(tmp_path / "t.db"),
                                         listen_backlog=limit))
    try:
        listening = subprocess.run(["ss", "-Hltn", f"sport = :{server.port}"], capture_output=True, text=True,
                                   check=True).stdout.split()
    finally:
        server.stop()
    assert int(listening[2]) == limit, listening
