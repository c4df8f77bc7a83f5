"""A request body over ``max_body_bytes`` gets the JSON 413 at any size, and the client gets to read it."""
import json
import selectors
import socket

import requests

from tests.helpers import assert_error

MIB = 1024 * 1024
BLOCK = b"x" * 65536


def stream_post(server, path, total, chunked, token=None, extra=()):
    """Announce ``total`` bytes, send them block by block until the server answers, and read the answer.

    Returns (status, body, bytes sent): a client that listens while it sends, as curl and browsers do.
    """
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Content-Type: application/json",
            "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    head += extra
    pending = ("\r\n".join(head) + "\r\n\r\n").encode()
    sent, answer, ended = 0, b"", not chunked
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock, \
            selectors.DefaultSelector() as selector:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
        while True:
            events = dict((key.fd, mask) for key, mask in selector.select(timeout=15))
            assert events, f"no answer after {sent} bytes"
            if events[sock.fileno()] & selectors.EVENT_READ:
                data = sock.recv(65536)
                answer += data
                if not data or _complete(answer):
                    break
                continue
            if not pending and sent < total:
                block = BLOCK[:total - sent]
                pending = (b"%x\r\n%s\r\n" % (len(block), block)) if chunked else block
                sent += len(block)
            elif not pending and not ended:
                pending, ended = b"0\r\n\r\n", True
            if pending:
                try:
                    pending = pending[sock.send(pending):]
                except BlockingIOError:
                    pass
            elif sent >= total and ended:
                selector.modify(sock, selectors.EVENT_READ)
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body), sent


def _complete(answer):
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    return len(body) >= length


def test_any_size_over_the_limit_is_answered_413_early(server):
    token = server.login("admin")
    chat = server.chat_id(token, "General")
    for total in (17 * MIB, 100 * MIB):
        for chunked in (False, True):
            for path, auth in ((f"/api/chats/{chat}/messages", token), ("/api/auth/login", None)):
                status, body, sent = stream_post(server, path, total, chunked, auth)
                assert status == 413 and body["error"]["code"] == "body_too_large", (total, chunked, path, body)
                assert body["error"]["limit"] == MIB
                # answered before the client was done: only what the socket buffers took (a few MiB) went out
                assert sent < total, f"the client had to send all {sent} bytes before the answer"
    # the server is unharmed, and a chunked body within the limit is read in full
    status, body, _ = stream_post(server, "/api/auth/login", 0, True)
    assert status == 400 and body["error"]["code"] == "invalid_json"
    r = server.request("POST", f"/api/chats/{chat}/messages", token,
                       data=iter([b'{"text": "sent in ', b'chunks"}']), headers={"Content-Type": "application/json"})
    assert r.status_code == 201 and r.json()["text"] == "sent in chunks"


def test_a_client_that_sends_everything_first_still_reads_the_413(server):
    """requests writes the whole body before it reads: the server keeps reading (and discarding) meanwhile."""
    token = server.login("admin")
    chat = server.chat_id(token, "General")
    url = f"/api/chats/{chat}/messages"
    assert_error(server.request("POST", url, token, data=b"x" * (17 * MIB)), 413, "body_too_large")
    chunks = (BLOCK for _ in range(17 * MIB // len(BLOCK)))
    assert_error(server.request("POST", url, token, data=chunks), 413, "body_too_large")
    # an early 401 with a large body is read as well
    assert_error(server.request("POST", url, "not-a-token", data=b"{" + b" " * (MIB - 10) + b"}"),
                 401, "token_malformed")
    assert server.request("GET", "/api/chats", token).status_code == 200


def test_login_and_logout_forms_over_the_limit_get_a_clear_413(server):
    """The page forms read their body like the API: a 413 page (JSON when asked for) instead of Tornado's
    bare 400, however the body comes, and a form within the limit still logs in."""
    session = requests.Session()
    session.get(server.url + "/login", timeout=15)
    xsrf = session.cookies["_xsrf"]
    form = {"_xsrf": xsrf, "username": "user1", "password": "user1pass", "pad": "x" * (2 * MIB)}
    for path in ("/login", "/logout"):
        r = session.post(server.url + path, data=form, allow_redirects=False, timeout=30)
        assert r.status_code == 413 and r.headers["Content-Type"].startswith("text/html"), (path, r.text[:200])
        assert "Request body is over 1048576 bytes" in r.text
        r = session.post(server.url + path, data=form, headers={"Accept": "application/json"}, timeout=30)
        assert assert_error(r, 413, "body_too_large")["limit"] == MIB
        chunks = (BLOCK for _ in range(17 * MIB // len(BLOCK)))
        r = session.post(server.url + path, data=chunks, timeout=30,
                         headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"})
        assert_error(r, 413, "body_too_large")
    status, body, sent = stream_post(server, "/login", 100 * MIB, False, extra=["Accept: application/json"])
    assert status == 413 and body["error"]["code"] == "body_too_large" and sent < 100 * MIB
    del form["pad"]
    r = session.post(server.url + "/login", data=form, allow_redirects=False, timeout=15)
    assert r.status_code == 302 and r.headers["Location"] == "/" and "cm_session" in session.cookies
    # The XSRF check still applies, once the streamed form is in.
    r = requests.post(server.url + "/login", data={"username": "user1", "password": "user1pass"},
                      allow_redirects=False, timeout=15)
    assert r.status_code == 403 and "_xsrf" in r.text
