"""Several processes on one PostgreSQL enforce one login throttle and one send and upload rate, not one each."""
import pytest

from tests.helpers import assert_error

pytestmark = pytest.mark.slow


@pytest.fixture
def two_processes(spawn, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serves one process, which keeps its limits in memory")
    settings = {"login_max_failures": 5, "message_rate": 0.2, "message_burst": 4, "upload_rate": 0.01,
                "upload_burst": 3}
    return spawn(**settings), spawn(**settings)


def test_failed_logins_count_across_processes(two_processes):
    a, b = two_processes
    for n in range(5):  # the test limit, spread over both processes and spellings
        server, name = (a, "user2") if n % 2 else (b, " USER2")
        r = server.request("POST", "/api/auth/login", json_body={"username": name, "password": "wrong"})
        assert_error(r, 401, "invalid_credentials")
    for server in (a, b):
        r = server.request("POST", "/api/auth/login", json_body={"username": "user2", "password": "user2pass"})
        assert_error(r, 429, "too_many_attempts")
        assert int(r.headers["Retry-After"]) > 0
    assert a.login("user1") and b.login("user1")
    # a success clears the name's count for every process
    for _ in range(4):
        a.request("POST", "/api/auth/login", json_body={"username": "user1", "password": "wrong"})
    assert b.login("user1")
    for _ in range(2):  # without the shared reset these would be the 5th and 6th failures on A
        r = a.request("POST", "/api/auth/login", json_body={"username": "user1", "password": "wrong"})
        assert_error(r, 401, "invalid_credentials")


def test_send_rate_is_one_bucket_across_processes(two_processes):
    a, b = two_processes
    token = a.login("user1")
    general = a.chat_id(token, "General")
    for n, server in enumerate([a, b, a, b]):  # the burst of 4, half on each process
        r = server.request("POST", f"/api/chats/{general}/messages", token, {"text": f"burst {n}"})
        assert r.status_code == 201, r.text
    r = a.request("POST", f"/api/chats/{general}/messages", token, {"text": "one too many"})
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1
    client = b.connect(token)
    assert client.recv_type("connected")
    client.send({"type": "send_message", "chat_id": general, "text": "and over the socket", "client_msg_id": "s5"})
    error = client.recv_type("error")
    assert error["code"] == "rate_limited" and error["client_msg_id"] == "s5" and error["retry_after"] >= 1
    client.close()
    other = b.login("user2")  # per user: someone else still sends
    assert b.request("POST", f"/api/chats/{general}/messages", other, {"text": "hi"}).status_code == 201


def test_upload_rate_is_one_bucket_across_processes(two_processes):
    a, b = two_processes
    token = a.login("user1")

    def upload(server):
        return server.request("POST", "/api/files", token, files={"file": ("n.txt", b"note", "text/plain")})

    for server in (a, b, a):  # the burst of 3, on both processes
        assert upload(server).status_code == 201
    refused = assert_error(upload(b), 429, "rate_limited")
    assert refused["message"].startswith("Uploading too fast") and refused["retry_after"] >= 1
    assert a.request("POST", "/api/files", a.login("user2"),
                     files={"file": ("n.txt", b"note", "text/plain")}).status_code == 201  # per user
