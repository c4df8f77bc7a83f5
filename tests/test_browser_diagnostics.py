"""/diagnostics in Chromium: verdicts for a working setup and for the classic ways a WebSocket fails."""
import os
import re
import selectors
import socket
import threading
import time

import jwt
import pytest

from models.users import issue_access_token
from tests.browser import login_in_browser

pytestmark = pytest.mark.browser

VERDICT_DONE = "[data-testid=verdict][data-verdict=pass], [data-testid=verdict][data-verdict=fail]"


class CuttingProxy:
    """A reverse proxy on 127.0.0.1 with one of two classic faults, for 60 s at most.

    ``drop_upgrade``: plain HTTP is forwarded, but a request with ``Upgrade: websocket`` is dropped
    (a proxy without the Upgrade/Connection settings).  ``idle_cut=N``: everything is forwarded, but a
    connection quiet for N seconds is cut (a proxy idle timeout).
    """

    def __init__(self, target_port, drop_upgrade=False, idle_cut=None, lifetime=60.0):
        self.target_port = target_port
        self.drop_upgrade = drop_upgrade
        self.idle_cut = idle_cut
        self.deadline = time.monotonic() + lifetime
        self.upgrades_dropped = 0
        self.upgrades_cut = 0
        self._stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _running(self):
        return not self._stop.is_set() and time.monotonic() < self.deadline

    def _accept(self):
        with self.listener:
            while self._running():
                try:
                    client, _ = self.listener.accept()
                except socket.timeout:
                    continue
                threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        with client:
            client.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(65536)
                if not chunk:
                    return
                head += chunk
            headers, _, rest = head.partition(b"\r\n\r\n")
            upgrade = re.search(rb"(?im)^upgrade:\s*websocket", headers) is not None
            if upgrade and self.drop_upgrade:
                self.upgrades_dropped += 1
                return  # closed without an answer: the browser reports 1006
            if not upgrade:  # one request per connection keeps the forwarding simple
                lines = [line for line in headers.split(b"\r\n") if not line.lower().startswith(b"connection:")]
                headers = b"\r\n".join(lines + [b"Connection: close"])
            with socket.create_connection(("127.0.0.1", self.target_port), timeout=10) as upstream:
                upstream.sendall(headers + b"\r\n\r\n" + rest)
                if self._pipe(client, upstream) == "idle" and upgrade:
                    self.upgrades_cut += 1

    def _pipe(self, client, upstream):
        peers = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            last_traffic = time.monotonic()
            while self._running():
                ready = selector.select(timeout=0.1)
                for key, _ in ready:
                    try:
                        data = key.fileobj.recv(65536)
                    except BlockingIOError:
                        continue
                    except OSError:
                        return "error"
                    if not data:
                        return "closed"
                    peers[key.fileobj].setblocking(True)
                    peers[key.fileobj].sendall(data)
                    peers[key.fileobj].setblocking(False)
                    last_traffic = time.monotonic()
                if self.idle_cut and time.monotonic() - last_traffic > self.idle_cut:
                    return "idle"
        return "stopped"

    def stop(self):
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def proxy_factory():
    started = []

    def start(target_port, **kwargs):
        proxy = CuttingProxy(target_port, **kwargs)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


def screenshot(page, name, tmp_path):
    """Into docs/screenshots when CM_SCREENSHOT_DIR says so (to refresh the docs), else a temp folder."""
    folder = os.environ.get("CM_SCREENSHOT_DIR") or str(tmp_path)
    page.screenshot(path=os.path.join(folder, name), full_page=True)


def run_checks(page, timeout=30000):
    page.click("[data-testid=run-checks]")
    page.wait_for_selector(VERDICT_DONE, timeout=timeout)


def check(page, check_id):
    item = page.locator(f"[data-testid=check-{check_id}]")
    return {"status": item.get_attribute("data-status"), "value": item.locator("[data-testid=value]").inner_text(),
            "help": item.locator("[data-testid=help]").inner_text()}


def paste_token(page, token):
    page.click("[data-testid=credentials] summary")
    page.fill("[data-testid=token-input]", token)


def test_all_checks_pass_for_a_logged_in_user(ui_server, new_page, tmp_path, server_log):
    page = new_page()
    login_in_browser(page, ui_server, "admin", "admin123")
    token = page.evaluate("localStorage.getItem('access_token')")
    page.goto(ui_server.url + "/diagnostics")
    run_checks(page)
    assert page.get_attribute("[data-testid=verdict]", "data-verdict") == "pass"
    assert page.inner_text("[data-testid=verdict-title]") == "Everything works."
    for check_id in ("api", "health", "token", "url", "upgrade", "roundtrip", "echo"):
        assert check(page, check_id)["status"] == "pass", check(page, check_id)
    assert "Corporate Messenger API 1.0.0" in check(page, "api")["value"]
    assert "admin (administrator)" in check(page, "token")["value"] and "expires in" in check(page, "token")["value"]
    assert re.search(r"ws://127\.0\.0\.1:\d+/ws\?token=eyJhbGciOiJIUzI1NiIs\.\.\.", check(page, "url")["value"])
    assert re.search(r"connected as admin \(user 1\), added to chats 1, 2", check(page, "upgrade")["value"])
    assert re.search(r"20 of 20 answered; min [\d.]+ ms, median [\d.]+ ms, p95 [\d.]+ ms",
                     check(page, "roundtrip")["value"])
    assert "delivered back to this connection" in check(page, "echo")["value"]
    assert check(page, "idle")["status"] == "skip"
    page.wait_for_selector("[data-testid=connections] tr.diag-own")
    screenshot(page, "diagnostics-ok.png", tmp_path)

    # The page puts nothing in the global scope: the contract's console snippet runs as is.
    assert page.evaluate("() => ['token', 'ws'].filter((name) => name in window)") == []
    # Run as the DevTools console runs it: the page's CSP forbids inline scripts, not the console.
    result = page.context.new_cdp_session(page).send("Runtime.evaluate", {"expression": (
        "const token = localStorage.getItem('access_token');"
        "const ws = new WebSocket(`ws://${location.host}/ws?token=${token}`);"
        "ws.onmessage = (e) => { window.snippetFrame = JSON.parse(e.data).type; };")})
    assert "exceptionDetails" not in result, result
    page.wait_for_function("() => window.snippetFrame === 'connected'")  # a function: the CSP forbids eval

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui_server.url)
    page.click("[data-testid=copy-report]")
    page.wait_for_selector("#copy-status:has-text('Report copied')")
    report = page.evaluate("navigator.clipboard.readText()")
    assert report.startswith("Corporate Messenger diagnostics report")
    assert "Server version: 1.0.0" in report and "Browser: Mozilla/5.0" in report and "Time: 20" in report
    assert "Verdict: Everything works." in report
    assert "[PASS] 5. The real-time connection opens" in report and "[SKIP] 8." in report
    assert "Event log" in report and '"type":"connected"' in report
    assert "User 1 connected. Total connections:" in report  # the server log, for administrators
    assert token[:20] + "..." in report
    assert token not in report and token[:21] not in report
    assert page.console_errors == []


def test_garbage_token_fails_with_1008_explained(ui_server, new_page):
    page = new_page()
    page.goto(ui_server.url + "/diagnostics")
    paste_token(page, "this-is-not-a-token-at-all")
    run_checks(page)
    assert page.get_attribute("[data-testid=verdict]", "data-verdict") == "fail"
    assert page.inner_text("[data-testid=verdict-title]") == "The token is not valid."
    token = check(page, "token")
    assert token["status"] == "fail"
    assert "this-is-not-a-token-" in token["value"] and "is not a token: 1 part(s) instead of 3" in token["value"]
    assert "three base64url parts" in token["help"]
    upgrade = check(page, "upgrade")
    assert upgrade["status"] == "fail"
    assert re.search(r'closed \d+ ms after opening with 1008 \(Policy violation\): "Token is malformed: not a JWT"',
                     upgrade["value"]), upgrade
    assert "The token is missing, malformed, expired" in upgrade["help"]
    assert "What close code 1008 means" in upgrade["help"]
    assert check(page, "roundtrip")["status"] == "skip" and check(page, "echo")["status"] == "skip"
    page.click("text=What close code 1008 means, and its other causes")
    assert page.locator("#close-1008").is_visible()
    assert "origin not allowed" in page.inner_text("#close-1008").lower()
    assert "this-is-not-a-token-at-all" not in page.inner_text("[data-testid=event-log]")


def test_expired_token_is_called_expired_and_the_page_logs_in_again(ui_server, new_page):
    sid = jwt.decode(ui_server.login("admin"), options={"verify_signature": False})["sid"]
    expired = issue_access_token(ui_server.config["secret_key"], 1, sid, ttl=-10)
    page = new_page()
    page.goto(ui_server.url + "/diagnostics")
    paste_token(page, expired)
    run_checks(page)
    assert page.inner_text("[data-testid=verdict-title]") == "Your login has expired: log in again."
    token = check(page, "token")
    assert token["status"] == "fail"
    assert re.search(r"user id 1, expired \d+ s ago", token["value"]) and "token_expired" in token["value"]
    assert "has expired" in token["help"]
    assert "Token expired: log in again" in check(page, "upgrade")["value"]  # the server's own 1008 reason

    page.click("[data-testid=login-again]")
    page.fill("[data-testid=login-form] input[name=username]", "admin")
    page.fill("[data-testid=login-form] input[name=password]", "admin123")
    page.click("[data-testid=login-form] button[type=submit]")
    page.wait_for_selector("[data-testid=verdict][data-verdict=pass]", timeout=30000)
    assert "from the login form" in check(page, "token")["value"]
    assert page.input_value("[data-testid=token-input]") == ""


def test_expired_stored_token_is_renewed_with_the_session_cookie(ui_server, new_page):
    page = new_page()
    login_in_browser(page, ui_server, "user2", "user2pass")
    claims = jwt.decode(page.evaluate("localStorage.getItem('access_token')"), options={"verify_signature": False})
    expired = issue_access_token(ui_server.config["secret_key"], int(claims["sub"]), claims["sid"], ttl=-10)
    page.goto(ui_server.url + "/diagnostics")
    page.evaluate("(t) => localStorage.setItem('access_token', t)", expired)
    run_checks(page)
    assert page.get_attribute("[data-testid=verdict]", "data-verdict") == "pass"
    assert "user2, " in check(page, "token")["value"] and "renewed from your session" in check(page, "token")["value"]
    renewed = page.evaluate("localStorage.getItem('access_token')")
    assert renewed != expired and renewed.count(".") == 2  # the chat page in this browser gets the new token too
    assert "Renewed: new token" in page.inner_text("[data-testid=event-log]")


def test_websocket_not_forwarded_by_a_proxy_is_1006_explained(ui_server, new_page, proxy_factory, tmp_path,
                                                              server_log):
    proxy = proxy_factory(ui_server.port, drop_upgrade=True)
    page = new_page()
    page.goto(proxy.url + "/diagnostics")  # the browser's WebSocket URL goes through the proxy too
    paste_token(page, ui_server.login("admin"))
    run_checks(page)
    assert proxy.upgrades_dropped >= 1
    for check_id in ("api", "health", "token", "url"):
        assert check(page, check_id)["status"] == "pass", check(page, check_id)
    assert f"ws://127.0.0.1:{proxy.port}/ws?token=" in check(page, "url")["value"]
    upgrade = check(page, "upgrade")
    assert upgrade["status"] == "fail"
    assert "closed before it opened with 1006 (Abnormal closure)" in upgrade["value"]
    assert "reverse proxy in front of the server does not forward the WebSocket upgrade" in upgrade["help"]
    assert "proxy_set_header Upgrade $http_upgrade" in upgrade["help"]
    assert 'no "WebSocket connection attempt" line' in upgrade["help"]
    assert page.inner_text("[data-testid=verdict-title]") == (
        "Plain web requests work, but the real-time connection (WebSocket) never reaches the server.")
    assert "What to do: Forward the upgrade" in page.inner_text("[data-testid=verdict-detail]")
    page.wait_for_function("() => document.querySelector('[data-testid=server-log]').textContent"
                           ".includes('GET /api/me')")
    assert "WebSocket connection attempt" not in page.inner_text("[data-testid=server-log]")  # it never got there
    screenshot(page, "diagnostics-1006.png", tmp_path)
    page.click("text=What close code 1006 means, and its other causes")
    explainer = page.inner_text("#close-1006")
    for words in ("server is down", "Upgrade and Connection", "idle timeout", "TLS mismatch"):
        assert words in explainer


def test_server_gone_after_the_page_loaded(ui_server, new_page, proxy_factory):
    proxy = proxy_factory(ui_server.port)
    page = new_page()
    page.goto(proxy.url + "/diagnostics")
    paste_token(page, ui_server.login("user1"))
    proxy.stop()  # from the browser's side the server is now gone
    run_checks(page)
    assert page.inner_text("[data-testid=verdict-title]") == "The server does not answer."
    assert check(page, "api")["status"] == "fail" and "no answer" in check(page, "api")["value"]
    assert check(page, "health")["status"] == "skip"
    assert "not confirmed: the server does not answer" in check(page, "token")["value"]
    upgrade = check(page, "upgrade")
    assert upgrade["status"] == "fail" and "1006 (Abnormal closure)" in upgrade["value"]
    assert "The server is down or unreachable" in upgrade["help"]


def test_idle_timeout_in_a_proxy_is_found(ui_server, new_page, proxy_factory):
    proxy = proxy_factory(ui_server.port, idle_cut=1.5)
    page = new_page()
    page.goto(proxy.url + "/diagnostics")
    paste_token(page, ui_server.login("user2", "user2pass"))
    page.check("[data-testid=idle-enabled]")
    page.fill("[data-testid=idle-seconds]", "6")
    run_checks(page)
    for check_id in ("api", "health", "token", "url", "upgrade", "roundtrip", "echo"):
        assert check(page, check_id)["status"] == "pass", check(page, check_id)
    idle = check(page, "idle")
    assert idle["status"] == "fail" and "with 1006 (Abnormal closure)" in idle["value"]
    assert "idle timeout" in idle["help"] and "proxy_read_timeout" in idle["help"]
    assert "without traffic: an idle timeout in between" in page.inner_text("[data-testid=verdict-title]")
    assert proxy.upgrades_cut == 1


def test_quiet_connection_survives_without_a_proxy(ui_server, new_page):
    page = new_page()
    page.goto(ui_server.url + "/diagnostics")
    paste_token(page, ui_server.login("user1"))
    page.check("[data-testid=idle-enabled]")
    page.fill("[data-testid=idle-seconds]", "2")
    run_checks(page)
    assert check(page, "idle") == {"status": "pass", "value": "still open after 2 s without sending anything",
                                   "help": ""}
    assert "A quiet connection stayed open for 2 s." in page.inner_text("[data-testid=verdict-detail]")


def test_admin_sees_own_connection_and_the_server_log(ui_server, new_page, server_log):
    page = new_page()
    login_in_browser(page, ui_server, "admin", "admin123")
    token = page.evaluate("localStorage.getItem('access_token')")
    page.goto(ui_server.url + "/diagnostics")
    run_checks(page)
    own = page.locator("[data-testid=connections] tr.diag-own")
    own.wait_for()
    [conn_id] = ui_server.call(lambda: [c.conn_id for c in ui_server.hub.connections()])
    assert own.get_attribute("data-conn-id") == conn_id
    row = own.inner_text()
    assert "admin (user 1)" in row and "this page" in row and "127.0.0.1" in row and "1, 2" in row
    facts = page.inner_text("[data-testid=server-facts]")
    assert "sqlite: sqlite:///" in facts and "0001_initial" in facts and "Tornado" in facts
    assert "Connections\n1" in page.inner_text("[data-testid=server-counters]")
    log = page.locator("[data-testid=server-log]")
    page.wait_for_function("() => document.querySelector('[data-testid=server-log]').textContent"
                           ".includes('Added user 1 to chat 2')")
    text = log.inner_text()
    assert "WebSocket connection attempt with token: eyJhbGciOiJIUzI1NiIs..." in text
    assert re.search(r"User 1 connected\. Total connections: \d+", text)
    assert "Added user 1 to chat 1" in text
    assert token not in page.content() and token[:21] not in page.content()


def test_non_admin_never_sees_the_admin_section(ui_server, new_page):
    page = new_page()
    login_in_browser(page, ui_server, "user1", "user1pass")
    page.goto(ui_server.url + "/diagnostics")
    run_checks(page)
    assert page.get_attribute("[data-testid=verdict]", "data-verdict") == "pass"
    page.wait_for_timeout(500)
    assert page.locator("[data-testid=admin-section]").is_hidden()
    status = page.evaluate("""() => fetch('/api/admin/diagnostics', {headers: {Authorization:
        `Bearer ${localStorage.getItem('access_token')}`}}).then((r) => r.status)""")
    assert status == 403


def test_full_disk_is_named_on_the_page_and_for_admins(tmp_path, new_page):
    """Health says the disk is full (here: more free space demanded than the disk has): check 2 names
    the disk, not the database, and the admin section shows the free space with the warning."""
    from tests.harness import InProcessServer, config_argv
    server = InProcessServer(config_argv(tmp_path / "data", "sqlite:///" + str(tmp_path / "full.db"),
                                         disk_min_free_mb=2 ** 40))
    try:
        page = new_page()
        login_in_browser(page, server, "admin", "admin123")
        page.goto(server.url + "/diagnostics")
        run_checks(page)
        health = check(page, "health")
        assert health["status"] == "fail" and "the server's disk is full: disk full: only" in health["value"]
        assert "frees space in the data folder" in health["help"]
        assert page.inner_text("[data-testid=verdict-title]") == "The server's disk is full."
        page.wait_for_function("() => document.querySelector('[data-testid=server-facts]').textContent"
                               ".includes('Disk space')")
        facts = page.inner_text("[data-testid=server-facts]")
        assert str(tmp_path / "data") in facts and "MiB free of" in facts and "WARNING, disk full: only" in facts
        assert [e for e in page.console_errors if "status of 503" not in e] == []  # the browser logs the 503 itself
    finally:
        server.stop()
