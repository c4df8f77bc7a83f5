"""``python server.py doctor``: the /diagnostics checks from a terminal.

    python server.py doctor --url http://host:8000 --user admin

Runs checks 1, 2, 3, 5, 6 and 7 of the page (4 and 8 need a browser) against a
running server and prints PASS/FAIL/SKIP lines with causes and fixes.  The
explanations are the page's own, read from ``static/close-codes.json``.  Exit
code 0 when every check passes, 1 otherwise.
"""
import argparse
import asyncio
import base64
import datetime
import getpass
import json
import os
import secrets
import socket
import ssl
import statistics
import sys
import time
from urllib.parse import quote, urlsplit, urlunsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.iostream import StreamClosedError
from tornado.simple_httpclient import HTTPStreamClosedError, HTTPTimeoutError
from tornado.websocket import WebSocketClosedError, websocket_connect

from handlers.bundle import resource
from handlers.redact import preview

EXPLANATIONS = resource("static", "close-codes.json")
PINGS = 20


def load_explanations():
    with open(EXPLANATIONS, encoding="utf-8") as f:
        return json.load(f)


def network_problem(url, exc):
    """Why a connection to ``url`` failed, in words a person can act on."""
    if isinstance(exc, StreamClosedError) and exc.real_error is not None:
        exc = exc.real_error
    if isinstance(exc, ConnectionRefusedError):
        why = "connection refused — is the server running?"
    elif isinstance(exc, socket.gaierror):
        why = f"cannot resolve the host name {urlsplit(url).hostname!r} — is the address right?"
    elif isinstance(exc, ssl.SSLError):
        why = f"TLS handshake failed ({exc.reason or exc}) — is it http:// or https://?"
    elif isinstance(exc, (TimeoutError, asyncio.TimeoutError, HTTPTimeoutError)):
        why = "no answer in time — a firewall or a hung server?"
    elif isinstance(exc, (StreamClosedError, HTTPStreamClosedError)):
        why = "the connection was closed without an answer — a TLS port spoken to over plain http, or a proxy?"
    else:
        why = str(exc) or type(exc).__name__
    return f"cannot connect to {url}: {why}"


def token_claims(token):
    """The unverified JWT payload, or None when the token is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None


def ws_url_for(base_url):
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws", "", ""))


def disk_space(storage):
    """One line on the free space of the server's folders, with the warning threshold."""
    folders = "; ".join(f"{d['path']}: {d['error']}" if "error" in d else
                        f"{d['path']}: {d['free_bytes'] / 2 ** 20:,.1f} MiB free of {d['total_bytes'] / 2 ** 20:,.1f} MiB"
                        for d in storage["folders"])
    verdict = (f"WARNING, disk full: {storage['warning']}" if storage["warning"] else
               f"ok (warns under {storage['min_free_bytes'] / 2 ** 20:,.0f} MiB)")
    return f"disk space {folders} — {verdict}"


class Result:
    def __init__(self, status, value, cause=None, fix=None, tell=None):
        self.status, self.value, self.cause, self.fix, self.tell = status, value, cause, fix, tell


def passed(value):
    return Result("PASS", value)


def skipped(value):
    return Result("SKIP", value)


def failed(value, cause, fix, tell=None):
    return Result("FAIL", value, cause, fix, tell)


class Doctor:
    def __init__(self, url, username=None, password=None, token=None, timeout=10.0, out=sys.stdout):
        self.url = url.rstrip("/")
        self.username, self.password, self.token = username, password, token
        self.timeout = timeout
        self.out = out
        self.table = load_explanations()
        self.http = None
        self.reachable = False
        self.logged_in = False
        self.user = None
        self.conn = None
        self.hello = None
        self.failures = []

    def say(self, text=""):
        print(text, file=self.out, flush=True)

    async def request(self, method, path, body=None, token=None):
        """(status, JSON body or None, milliseconds); network failures raise."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = HTTPRequest(self.url + path, method=method, headers=headers,
                              body=json.dumps(body) if body is not None else ("" if method == "POST" else None),
                              connect_timeout=self.timeout, request_timeout=self.timeout, follow_redirects=False)
        started = time.perf_counter()
        response = await self.http.fetch(request, raise_error=False)
        if response.code == 599 and response.error is not None:
            raise response.error
        try:
            payload = json.loads(response.body or b"null")
        except ValueError:
            payload = None
        return response.code, payload, (time.perf_counter() - started) * 1000

    def report(self, number, title, result):
        self.say(f"{result.status}  {number}. {title}: {result.value}")
        for label, text in (("cause", result.cause), ("fix", result.fix), ("how to tell", result.tell)):
            if text:
                self.say(f"        {label}: {text}")
        if result.status == "FAIL":
            self.failures.append((number, title, result))

    # --- the checks -----------------------------------------------------------------

    async def check_api(self):
        try:
            status, body, ms = await self.request("GET", "/")
        except Exception as exc:
            return failed(network_problem(self.url, exc),
                          "Nothing answers at this address: the server is stopped, or the network or a proxy "
                          "in between does not let the request through.",
                          "Start the server (python server.py, or restart its container/service) and check the URL.")
        if status != 200 or not isinstance(body, dict) or body.get("message") != "Corporate Messenger API":
            return failed(f"HTTP {status}, not the messenger API",
                          "Something answers at this address, but not the Corporate Messenger server.",
                          "Point the URL (or the reverse proxy) at the messenger server; see docs/deployment.md.")
        self.reachable = True
        self.version = body.get("version")
        return passed(f"{body['message']} {self.version}, answered in {ms:.0f} ms")

    async def check_health(self):
        if not self.reachable:
            return skipped("the server does not answer (check 1)")
        status, body, _ = await self.request("GET", "/api/health")
        body = body if isinstance(body, dict) else {}
        if status == 200 and body.get("db") == "ok":
            return passed(f"database {body.get('database')} reachable; "
                          f"{body.get('connections')} real-time connection(s) open on the server")
        detail = f": {body['detail']}" if body.get("detail") else ""
        if body.get("db") == "ok" and body.get("disk") == "full":
            return failed(f"the server's disk is full{detail}",
                          "The server reaches its database, but its disk is full: new messages and logins are "
                          "refused (disk_full) until space is freed.",
                          "Free space in the data folder (or on the database server's disk); the server "
                          "recovers by itself.")
        return failed(f"database {'unreachable' if body.get('db') == 'error' else f'HTTP {status}'}{detail}",
                      "The server runs but cannot reach its database, so logins and messages fail.",
                      "Start the database or correct DATABASE_URL; the server reconnects by itself.")

    def token_failure(self, code, message, what):
        known = self.table["token_errors"].get(code, {"meaning": message, "fix": "Log in again."})
        return failed(f"{what}: {code} ({message})", known["meaning"], known["fix"])

    async def check_token(self):
        if not self.reachable:
            return skipped("the server does not answer (check 1)")
        if self.token is None:
            if not self.username:
                return failed("no credentials", "The doctor needs a login to test the real-time connection.",
                              "Pass --user NAME (the password is asked for), or --token TOKEN.")
            if self.password is None:
                return failed(f"no password for {self.username}", "No password was given and none can be asked for "
                              "(no terminal).", "Pass --password, or set CM_DOCTOR_PASSWORD.")
            status, body, _ = await self.request("POST", "/api/auth/login",
                                                 {"username": self.username, "password": self.password})
            if status != 200:
                error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
                return self.token_failure(error.get("code", f"http_{status}"), error.get("message", ""),
                                          f"login as {self.username} refused")
            self.token, self.logged_in = body["access_token"], True
        claims = token_claims(self.token)
        if claims is None:
            known = self.table["token_errors"]["token_malformed"]
            return failed(f"{preview(self.token)} is not a token (not three base64url parts with a JSON payload)",
                          known["meaning"], known["fix"])
        expires = claims.get("exp")
        when = "no expiry time" if not isinstance(expires, (int, float)) else (
            f"expired {int(time.time() - expires)} s ago" if expires < time.time()
            else f"expires in {int((expires - time.time()) // 60)} min")
        describe = f"token {preview(self.token)}, user id {claims.get('sub')}, {when}"
        status, body, _ = await self.request("GET", "/api/me", token=self.token)
        if status == 200:
            self.user = body
            return passed(f"{body['username']}{' (administrator)' if body.get('is_admin') else ''}, {describe}; "
                          "accepted by the server")
        error = body.get("error", {}) if isinstance(body, dict) else {}
        return self.token_failure(error.get("code", f"http_{status}"), error.get("message", ""),
                                  f"{describe}; refused by the server")

    def close_failure(self, code, reason, when):
        entry = self.table["close_codes"].get(str(code))
        name = entry["name"] if entry else "unknown code"
        value = f"closed {when} with {code} ({name})" + (f': "{reason}"' if reason else "")
        if not entry:
            return failed(value, "A close code the doctor does not know.", "Send this output to an administrator.")
        pick = entry["causes"][0]
        if code == 1008:
            lowered = (reason or "").lower()
            if lowered.startswith("origin"):
                pick = entry["causes"][2]
            elif "deactivated" in lowered or "password" in lowered:
                pick = entry["causes"][1]
            elif lowered.startswith(("missing", "not authenticated")):
                pick = entry["causes"][3]
        return failed(value, pick["cause"], pick["fix"], pick["check"])

    async def check_upgrade(self):
        if not self.reachable:
            return skipped("the server does not answer (check 1)")
        if not self.token:
            return skipped("no token to connect with (check 3)")
        url = ws_url_for(self.url)
        shown = f"{url}?token={preview(self.token)}"
        started = time.perf_counter()
        try:
            self.conn = await websocket_connect(HTTPRequest(f"{url}?token={quote(self.token)}",
                                                            connect_timeout=self.timeout,
                                                            request_timeout=self.timeout))
        except HTTPClientError as exc:
            if exc.code == 599:  # no HTTP answer at all
                return self.upgrade_lost(shown, url, exc)
            proxy = self.table["close_codes"]["1006"]["causes"][1]
            return failed(f"{shown}: the upgrade was refused with HTTP {exc.code} (a browser sees 1006)",
                          proxy["cause"], proxy["fix"], proxy["check"])
        except Exception as exc:
            return self.upgrade_lost(shown, url, exc)
        opened = (time.perf_counter() - started) * 1000
        hello = await self.next_frame(lambda f: f.get("type") == "connected")
        if hello is None:
            if self.conn.close_code is not None:
                return self.close_failure(self.conn.close_code, self.conn.close_reason, "right after opening")
            return failed(f"{shown}: opened, but no \"connected\" frame within {self.timeout:g} s",
                          "Something other than the messenger answers the WebSocket, or a proxy buffers frames.",
                          "Proxy /ws straight to the messenger server without buffering.")
        self.hello = hello
        chats = ", ".join(map(str, hello["chat_ids"])) or "none"
        return passed(f"{shown}; opened in {opened:.0f} ms; connected as {hello['username']} "
                      f"(user {hello['user_id']}), added to chats {chats}")

    def upgrade_lost(self, shown, url, exc):
        causes = self.table["close_codes"]["1006"]["causes"]
        # plain HTTP worked a moment ago, so a dropped upgrade points at what sits in between
        likely = causes[0] if isinstance(exc, ConnectionRefusedError) else causes[1]
        return failed(f"{shown}: {network_problem(url, exc)} (a browser sees 1006)",
                      likely["cause"], likely["fix"], likely["check"])

    async def next_frame(self, match, timeout=None):
        """The next frame that matches, skipping others; None on timeout or close."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                raw = await asyncio.wait_for(self.conn.read_message(), left)
            except asyncio.TimeoutError:
                return None
            if raw is None:
                return None
            frame = json.loads(raw)
            frame["received_at"] = time.perf_counter()
            if match(frame):
                return frame

    def connection_lost(self, when):
        if self.conn.close_code is not None:
            return self.close_failure(self.conn.close_code, self.conn.close_reason, when)
        return None

    async def check_round_trip(self):
        if self.hello is None:
            return skipped("needs an open connection (check 5)")
        times = []
        for ping_id in range(1, PINGS + 1):
            sent = time.perf_counter()
            try:
                await self.conn.write_message(json.dumps({"type": "ping", "id": ping_id}))
            except WebSocketClosedError:
                return self.connection_lost(f"after {ping_id - 1} pongs")
            pong = await self.next_frame(lambda f, i=ping_id: f.get("type") == "pong" and f.get("id") == i)
            if pong is None:
                return self.connection_lost(f"after {ping_id - 1} pongs") or failed(
                    f"{ping_id - 1} of {PINGS} pings answered; ping {ping_id} got no pong within {self.timeout:g} s",
                    "Frames reach the server slowly or not at all: an overloaded server or a buffering proxy.",
                    "Look at the server load and at the proxy settings for /ws.")
            times.append((pong["received_at"] - sent) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, -(-95 * len(times) // 100) - 1)]
        return passed(f"{PINGS} of {PINGS} answered; min {times[0]:.1f} ms, median {statistics.median(times):.1f} ms, "
                      f"p95 {p95:.1f} ms")

    async def check_echo(self):
        if self.hello is None:
            return skipped("needs an open connection (check 5)")
        nonce = secrets.token_hex(12)
        sent = time.perf_counter()
        await self.conn.write_message(json.dumps({"type": "diagnostic_echo", "nonce": nonce}))
        frame = await self.next_frame(lambda f: (f.get("type") == "diagnostic_echo" and f.get("nonce") == nonce)
                                      or f.get("type") == "error")
        if frame is not None and frame["type"] == "error":
            return failed(f"the server answered {frame.get('code')}: {frame.get('message')}",
                          "The server does not support the loop-back test (an older version?).",
                          "Update the server.")
        if frame is None:
            return self.connection_lost("while waiting for the loop-back message") or failed(
                f"not delivered within {self.timeout:g} s",
                "The server accepted the connection but did not deliver the loop-back message: its delivery path "
                "(message bus and hub) is not working.", "Send this output to an administrator.")
        return passed(f"delivered back in {(frame['received_at'] - sent) * 1000:.1f} ms through the server's "
                      "message bus and hub (stored nowhere)")

    async def server_summary(self):
        """For administrators: a few facts from GET /api/admin/diagnostics."""
        status, facts, _ = await self.request("GET", "/api/admin/diagnostics", token=self.token)
        if status != 200:
            return
        pending = facts["migrations"]["pending"]
        self.say(f"Server: version {facts['version']}, up {facts['uptime_seconds']:.0f} s, Python {facts['python']}, "
                 f"Tornado {facts['tornado']}")
        self.say(f"        database {facts['database']['url']}, migrations "
                 f"{'pending: ' + ', '.join(pending) if pending else 'all applied'}, "
                 f"event bus {facts.get('bus', {}).get('kind', 'unknown')}")
        self.say("        " + disk_space(facts["storage"]))
        counters = facts["counters"]
        self.say(f"        {counters['connections']} connection(s), writer backlog {facts['writer']['backlog']}, "
                 f"close codes seen {', '.join(f'{c} x{n}' for c, n in counters['close_codes'].items()) or 'none'}")

    async def run(self):
        self.http = AsyncHTTPClient(force_instance=True)
        self.say(f"Corporate Messenger doctor: {self.url} at "
                 f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC")
        checks = [
            (1, "The server answers", self.check_api),
            (2, "The server reaches its database", self.check_health),
            (3, "Login token", self.check_token),
            (5, "The real-time connection opens", self.check_upgrade),
            (6, f"Round trip ({PINGS} pings)", self.check_round_trip),
            (7, "A message goes through the server and comes back", self.check_echo),
        ]
        try:
            for number, title, check in checks:
                try:
                    result = await check()
                except Exception as exc:
                    result = failed(network_problem(self.url, exc) if isinstance(exc, OSError) else
                                    f"the check itself failed: {type(exc).__name__}: {exc}",
                                    "An unexpected error while talking to the server.",
                                    "Run again; if it repeats, send this output to an administrator.")
                self.report(number, title, result)
            if self.user and self.user.get("is_admin"):
                try:
                    await self.server_summary()
                except Exception as exc:  # informational only: never turns a passing run into a crash
                    self.say(f"Server: facts unavailable ({type(exc).__name__}: {exc})")
        finally:
            await self.cleanup()
        self.say("(Checks 4 and 8 need a browser: open " + self.url + "/diagnostics)")
        if self.failures:
            number, title, result = self.failures[0]
            self.say(f"Verdict: FAILED at check {number} ({title}). {result.cause or ''} Fix: {result.fix or ''}")
            return 1
        self.say("Verdict: everything works.")
        return 0

    async def cleanup(self):
        if self.conn is not None:
            self.conn.close(1000, "doctor finished")
            await asyncio.sleep(0.05)  # let the close frame go out
        if self.logged_in:
            try:  # do not leave the doctor's session behind
                await self.request("POST", "/api/auth/logout", token=self.token)
            except Exception:
                pass
        self.http.close()


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python server.py doctor",
                                     description="Check a running Corporate Messenger server like /diagnostics does.")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server's address (default %(default)s)")
    parser.add_argument("--user", help="log in as this user (the password is asked for)")
    parser.add_argument("--password", help="the password (visible to other local users; prefer the prompt or "
                                           "CM_DOCTOR_PASSWORD)")
    parser.add_argument("--token", help="use this access token instead of logging in")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer")
    return parser.parse_args(argv)


def ask_password(args):
    if args.token or not args.user:
        return None
    password = args.password or os.environ.get("CM_DOCTOR_PASSWORD")
    if password is None and sys.stdin is not None and sys.stdin.isatty():
        try:
            password = getpass.getpass(f"Password for {args.user}: ")
        except (EOFError, KeyboardInterrupt):
            return None
    return password


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if urlsplit(args.url).scheme not in ("http", "https"):
        print(f"--url must start with http:// or https:// (got {args.url!r})", file=sys.stderr)
        return 2
    doctor = Doctor(args.url, args.user, ask_password(args), args.token, args.timeout)
    return asyncio.run(doctor.run())
