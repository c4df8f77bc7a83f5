"""``python server.py doctor``: the /diagnostics checks from a terminal.

    python server.py doctor --url http://host:8000 --user admin

Runs checks 1, 2, 3, 5, 6 and 7 of the page (4 and 8 need a browser) against a
running server and prints PASS/FAIL/SKIP lines with causes and fixes.  The
explanations are the page's own, read from ``static/close-codes.json``.  Exit
code 0 when every check passes, 1 otherwise.

Output is in English or Russian: ``--lang``, else the usual locale variables
(``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``).  PASS/FAIL/SKIP and error
codes stay English, so scripts can read any output; the server is asked to
answer (error messages, close reasons) in the same language.
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

from handlers import close_reasons as closing, i18n
from handlers.bundle import program_name, resource
from handlers.redact import preview
from models.i18n import N_, NP_, render

EXPLANATIONS = resource("static", "close-codes.json")
PINGS = 20
NO_SERVER = N_("the server does not answer (check 1)")
NO_CONNECTION = N_("needs an open connection (check 5)")
SEND_OUTPUT = N_("Send this output to an administrator.")
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")  # gettext's order


def load_explanations():
    with open(EXPLANATIONS, encoding="utf-8") as f:
        return json.load(f)


def network_problem(url, exc):
    """Why a connection to ``url`` failed, in words a person can act on."""
    if isinstance(exc, StreamClosedError) and exc.real_error is not None:
        exc = exc.real_error
    if isinstance(exc, ConnectionRefusedError):
        why = N_("connection refused — is the server running?")
    elif isinstance(exc, socket.gaierror):
        why = N_("cannot resolve the host name '%(host)s' — is the address right?", host=urlsplit(url).hostname)
    elif isinstance(exc, ssl.SSLError):
        why = N_("TLS handshake failed (%(detail)s) — is it http:// or https://?", detail=exc.reason or exc)
    elif isinstance(exc, (TimeoutError, asyncio.TimeoutError, HTTPTimeoutError)):
        why = N_("no answer in time — a firewall or a hung server?")
    elif isinstance(exc, (StreamClosedError, HTTPStreamClosedError)):
        why = N_("the connection was closed without an answer — a TLS port spoken to over plain http, or a proxy?")
    else:
        why = str(exc) or type(exc).__name__
    return N_("cannot connect to %(url)s: %(why)s", url=url, why=why)


def reason_is(reason, *message_ids):
    """Whether a close reason is one of these server messages, in any language the server speaks.

    Compared up to the first parameter (and within what a cut reason still holds).
    """
    for message_id in message_ids:
        for code in i18n.LOCALES:
            prefix = i18n.get(code).translate(message_id).split("%(")[0][:40]
            if reason and reason.startswith(prefix):
                return True
    return False


def language(argument, environ):
    """``--lang``, else the first locale variable that names a language we speak (``ru_RU.UTF-8`` is ``ru``)."""
    if argument:
        return argument
    for name in LOCALE_VARIABLES:
        for entry in environ.get(name, "").split(":"):
            code = entry.split("_")[0].split(".")[0].lower()
            if code in i18n.LOCALES:
                return code
            if entry:
                return i18n.DEFAULT  # set, but to a language we do not speak (or C/POSIX): English
    return i18n.DEFAULT


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


def disk_space(storage, locale=None):
    """One line on the free space of the server's folders, with the warning threshold."""
    folders = "; ".join(f"{d['path']}: {d['error']}" if "error" in d else
                        render(N_("%(path)s: %(free)s MiB free of %(total)s MiB", path=d["path"],
                                  free=format(d["free_bytes"] / 2 ** 20, ",.1f"),
                                  total=format(d["total_bytes"] / 2 ** 20, ",.1f")),
                               locale)
                        for d in storage["folders"])
    verdict = (N_("WARNING, disk full: %(detail)s", detail=storage["warning"]) if storage["warning"] else
               N_("ok (warns under %(limit)s MiB)", limit=format(storage["min_free_bytes"] / 2 ** 20, ",.0f")))
    return N_("disk space %(folders)s — %(verdict)s", folders=folders, verdict=verdict)


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
    def __init__(self, url, username=None, password=None, token=None, timeout=10.0, out=sys.stdout, lang="en"):
        self.url = url.rstrip("/")
        self.locale = i18n.get(lang)
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
        print(render(text, self.locale), file=self.out, flush=True)

    async def request(self, method, path, body=None, token=None):
        """(status, JSON body or None, milliseconds); network failures raise."""
        headers = {"Accept": "application/json", "Accept-Language": self.locale.code}
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
        self.say(f"{result.status}  {number}. {render(title, self.locale)}: {render(result.value, self.locale)}")
        for label, text in ((N_("cause"), result.cause), (N_("fix"), result.fix), (N_("how to tell"), result.tell)):
            if text:
                self.say(f"        {render(label, self.locale)}: {render(text, self.locale)}")
        if result.status == "FAIL":
            self.failures.append((number, title, result))

    # --- the checks -----------------------------------------------------------------

    async def check_api(self):
        try:
            status, body, ms = await self.request("GET", "/")
        except Exception as exc:
            return failed(network_problem(self.url, exc),
                          N_("Nothing answers at this address: the server is stopped, or the network or a proxy "
                             "in between does not let the request through."),
                          N_("Start the server (python server.py, or restart its container/service) and check the "
                             "URL."))
        if status != 200 or not isinstance(body, dict) or body.get("message") != "Corporate Messenger API":
            return failed(N_("HTTP %(status)s, not the messenger API", status=status),
                          N_("Something answers at this address, but not the Corporate Messenger server."),
                          N_("Point the URL (or the reverse proxy) at the messenger server; see docs/deployment.md."))
        self.reachable = True
        self.version = body.get("version")
        return passed(N_("%(api)s %(version)s, answered in %(ms)s ms", api=body["message"], version=self.version,
                         ms=format(ms, ".0f")))

    async def check_health(self):
        if not self.reachable:
            return skipped(NO_SERVER)
        status, body, _ = await self.request("GET", "/api/health")
        body = body if isinstance(body, dict) else {}
        if status == 200 and body.get("db") == "ok":
            return passed(NP_("database %(db)s reachable; %(num)d real-time connection open on the server",
                              "database %(db)s reachable; %(num)d real-time connections open on the server",
                              body.get("connections") or 0, db=body.get("database")))
        detail = f": {body['detail']}" if body.get("detail") else ""
        if body.get("db") == "ok" and body.get("disk") == "full":
            return failed(N_("the server's disk is full%(detail)s", detail=detail),
                          N_("The server reaches its database, but its disk is full: new messages and logins are "
                             "refused (disk_full) until space is freed."),
                          N_("Free space in the data folder (or on the database server's disk); the server "
                             "recovers by itself."))
        return failed(N_("database unreachable%(detail)s", detail=detail) if body.get("db") == "error" else
                      N_("database HTTP %(status)s%(detail)s", status=status, detail=detail),
                      N_("The server runs but cannot reach its database, so logins and messages fail."),
                      N_("Start the database or correct DATABASE_URL; the server reconnects by itself."))

    def token_failure(self, code, message, what):
        known = self.table["token_errors"].get(code, {"meaning": message, "fix": N_("Log in again.")})
        return failed(N_("%(what)s: %(code)s (%(message)s)", what=what, code=code, message=message),
                      known["meaning"], known["fix"])

    async def check_token(self):
        if not self.reachable:
            return skipped(NO_SERVER)
        if self.token is None:
            if not self.username:
                return failed(N_("no credentials"), N_("The doctor needs a login to test the real-time connection."),
                              N_("Pass --user NAME (the password is asked for), or --token TOKEN."))
            if self.password is None:
                return failed(N_("no password for %(user)s", user=self.username),
                              N_("No password was given: none on stdin, and no terminal to ask at."),
                              N_("Pipe it in (the first line of stdin), set CM_DOCTOR_PASSWORD, or pass --password."))
            status, body, _ = await self.request("POST", "/api/auth/login",
                                                 {"username": self.username, "password": self.password})
            if status != 200:
                error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
                return self.token_failure(error.get("code", f"http_{status}"), error.get("message", ""),
                                          N_("login as %(user)s refused", user=self.username))
            self.token, self.logged_in = body["access_token"], True
        claims = token_claims(self.token)
        if claims is None:
            known = self.table["token_errors"]["token_malformed"]
            return failed(N_("%(token)s is not a token (not three base64url parts with a JSON payload)",
                             token=preview(self.token)), known["meaning"], known["fix"])
        expires = claims.get("exp")
        when = N_("no expiry time") if not isinstance(expires, (int, float)) else (
            N_("expired %(seconds)s s ago", seconds=int(time.time() - expires)) if expires < time.time()
            else N_("expires in %(minutes)s min", minutes=int((expires - time.time()) // 60)))
        describe = N_("token %(token)s, user id %(id)s, %(when)s", token=preview(self.token), id=claims.get("sub"),
                      when=when)
        status, body, _ = await self.request("GET", "/api/me", token=self.token)
        if status == 200:
            self.user = body
            who = N_("%(user)s (administrator)", user=body["username"]) if body.get("is_admin") else body["username"]
            return passed(N_("%(who)s, %(token)s; accepted by the server", who=who, token=describe))
        error = body.get("error", {}) if isinstance(body, dict) else {}
        return self.token_failure(error.get("code", f"http_{status}"), error.get("message", ""),
                                  N_("%(token)s; refused by the server", token=describe))

    def close_failure(self, code, reason, when):
        entry = self.table["close_codes"].get(str(code))
        name = render(entry["name"], self.locale) if entry else render(N_("unknown code"), self.locale)
        value = (N_('closed %(when)s with %(code)s (%(name)s): "%(reason)s"', when=when, code=code, name=name,
                    reason=reason) if reason else
                 N_("closed %(when)s with %(code)s (%(name)s)", when=when, code=code, name=name))
        if not entry:
            return failed(value, N_("A close code the doctor does not know."), SEND_OUTPUT)
        pick = entry["causes"][0]
        if code == 1008:
            if reason_is(reason, closing.ORIGIN_REFUSED):
                pick = entry["causes"][2]
            elif reason_is(reason, *closing.ACCOUNT_CLOSED):
                pick = entry["causes"][1]
            elif reason_is(reason, *closing.WITHOUT_CREDENTIALS):
                pick = entry["causes"][3]
        return failed(value, pick["cause"], pick["fix"], pick["check"])

    async def check_upgrade(self):
        if not self.reachable:
            return skipped(NO_SERVER)
        if not self.token:
            return skipped(N_("no token to connect with (check 3)"))
        url = ws_url_for(self.url)
        shown = f"{url}?token={preview(self.token)}"
        started = time.perf_counter()
        try:
            self.conn = await websocket_connect(HTTPRequest(f"{url}?token={quote(self.token)}",
                                                            headers={"Accept-Language": self.locale.code},
                                                            connect_timeout=self.timeout,
                                                            request_timeout=self.timeout))
        except HTTPClientError as exc:
            if exc.code == 599:  # no HTTP answer at all
                return self.upgrade_lost(shown, url, exc)
            proxy = self.table["close_codes"]["1006"]["causes"][1]
            return failed(N_("%(url)s: the upgrade was refused with HTTP %(status)s (a browser sees 1006)",
                             url=shown, status=exc.code), proxy["cause"], proxy["fix"], proxy["check"])
        except Exception as exc:
            return self.upgrade_lost(shown, url, exc)
        opened = (time.perf_counter() - started) * 1000
        hello = await self.next_frame(lambda f: f.get("type") == "connected")
        if hello is None:
            if self.conn.close_code is not None:
                return self.close_failure(self.conn.close_code, self.conn.close_reason,
                                          N_("right after opening"))
            return failed(N_('%(url)s: opened, but no "connected" frame within %(seconds)s s', url=shown,
                             seconds=format(self.timeout, "g")),
                          N_("Something other than the messenger answers the WebSocket, or a proxy buffers frames."),
                          N_("Proxy /ws straight to the messenger server without buffering."))
        self.hello = hello
        chats = ", ".join(map(str, hello["chat_ids"])) or N_("none")
        return passed(N_("%(url)s; opened in %(ms)s ms; connected as %(user)s (user %(id)s), added to chats %(chats)s",
                         url=shown, ms=format(opened, ".0f"), user=hello["username"], id=hello["user_id"],
                         chats=chats))

    def upgrade_lost(self, shown, url, exc):
        causes = self.table["close_codes"]["1006"]["causes"]
        # plain HTTP worked a moment ago, so a dropped upgrade points at what sits in between
        likely = causes[0] if isinstance(exc, ConnectionRefusedError) else causes[1]
        return failed(N_("%(url)s: %(problem)s (a browser sees 1006)", url=shown, problem=network_problem(url, exc)),
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
            return skipped(NO_CONNECTION)
        times = []
        for ping_id in range(1, PINGS + 1):
            sent = time.perf_counter()
            after = NP_("after %(num)d pong", "after %(num)d pongs", ping_id - 1)
            try:
                await self.conn.write_message(json.dumps({"type": "ping", "id": ping_id}))
            except WebSocketClosedError:
                return self.connection_lost(after)
            pong = await self.next_frame(lambda f, i=ping_id: f.get("type") == "pong" and f.get("id") == i)
            if pong is None:
                return self.connection_lost(after) or failed(
                    N_("%(answered)s of %(total)s pings answered; ping %(id)s got no pong within %(seconds)s s",
                       answered=ping_id - 1, total=PINGS, id=ping_id, seconds=format(self.timeout, "g")),
                    N_("Frames reach the server slowly or not at all: an overloaded server or a buffering proxy."),
                    N_("Look at the server load and at the proxy settings for /ws."))
            times.append((pong["received_at"] - sent) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, -(-95 * len(times) // 100) - 1)]
        return passed(N_("%(total)s of %(total)s answered; min %(min)s ms, median %(median)s ms, p95 %(p95)s ms",
                         total=PINGS, min=format(times[0], ".1f"), median=format(statistics.median(times), ".1f"),
                         p95=format(p95, ".1f")))

    async def check_echo(self):
        if self.hello is None:
            return skipped(NO_CONNECTION)
        nonce = secrets.token_hex(12)
        sent = time.perf_counter()
        await self.conn.write_message(json.dumps({"type": "diagnostic_echo", "nonce": nonce}))
        frame = await self.next_frame(lambda f: (f.get("type") == "diagnostic_echo" and f.get("nonce") == nonce)
                                      or f.get("type") == "error")
        if frame is not None and frame["type"] == "error":
            return failed(N_("the server answered %(code)s: %(message)s", code=frame.get("code"),
                             message=frame.get("message")),
                          N_("The server does not support the loop-back test (an older version?)."),
                          N_("Update the server."))
        if frame is None:
            return self.connection_lost(N_("while waiting for the loop-back message")) or failed(
                N_("not delivered within %(seconds)s s", seconds=format(self.timeout, "g")),
                N_("The server accepted the connection but did not deliver the loop-back message: its delivery "
                   "path (message bus and hub) is not working."), SEND_OUTPUT)
        return passed(N_("delivered back in %(ms)s ms through the server's message bus and hub (stored nowhere)",
                         ms=format((frame["received_at"] - sent) * 1000, ".1f")))

    async def server_summary(self):
        """For administrators: a few facts from GET /api/admin/diagnostics."""
        status, facts, _ = await self.request("GET", "/api/admin/diagnostics", token=self.token)
        if status != 200:
            return
        pending = facts["migrations"]["pending"]
        self.say(N_("Server: version %(version)s, up %(seconds)s s, Python %(python)s, Tornado %(tornado)s",
                    version=facts["version"], seconds=format(facts["uptime_seconds"], ".0f"), python=facts["python"],
                    tornado=facts["tornado"]))
        migrations = N_("pending: %(names)s", names=", ".join(pending)) if pending else N_("all applied")
        self.say("        " + render(N_("database %(url)s, migrations %(migrations)s, event bus %(bus)s",
                                        url=facts["database"]["url"], migrations=migrations,
                                        bus=facts.get("bus", {}).get("kind", "unknown")), self.locale))
        self.say("        " + render(disk_space(facts["storage"], self.locale), self.locale))
        counters = facts["counters"]
        seen = ", ".join(f"{c} x{n}" for c, n in counters["close_codes"].items()) or N_("none")
        self.say("        " + render(NP_("%(num)d connection, writer backlog %(backlog)s, close codes seen %(seen)s",
                                         "%(num)d connections, writer backlog %(backlog)s, close codes seen %(seen)s",
                                         counters["connections"], backlog=facts["writer"]["backlog"], seen=seen),
                                     self.locale))

    async def run(self):
        self.http = AsyncHTTPClient(force_instance=True)
        self.say(N_("Corporate Messenger doctor: %(url)s at %(time)s UTC", url=self.url,
                    time=format(datetime.datetime.now(datetime.timezone.utc), "%Y-%m-%d %H:%M:%S")))
        checks = [
            (1, N_("The server answers"), self.check_api),
            (2, N_("The server reaches its database"), self.check_health),
            (3, N_("Login token"), self.check_token),
            (5, N_("The real-time connection opens"), self.check_upgrade),
            (6, NP_("Round trip (%(num)d ping)", "Round trip (%(num)d pings)", PINGS), self.check_round_trip),
            (7, N_("A message goes through the server and comes back"), self.check_echo),
        ]
        try:
            for number, title, check in checks:
                try:
                    result = await check()
                except Exception as exc:
                    result = failed(network_problem(self.url, exc) if isinstance(exc, OSError) else
                                    N_("the check itself failed: %(error)s: %(detail)s", error=type(exc).__name__,
                                       detail=exc),
                                    N_("An unexpected error while talking to the server."),
                                    N_("Run again; if it repeats, send this output to an administrator."))
                self.report(number, title, result)
            if self.user and self.user.get("is_admin"):
                try:
                    await self.server_summary()
                except Exception as exc:  # informational only: never turns a passing run into a crash
                    self.say(N_("Server: facts unavailable (%(error)s: %(detail)s)", error=type(exc).__name__,
                                detail=exc))
        finally:
            await self.cleanup()
        self.say(N_("(Checks 4 and 8 need a browser: open %(url)s/diagnostics)", url=self.url))
        if self.failures:
            number, title, result = self.failures[0]
            self.say(N_("Verdict: FAILED at check %(number)s (%(title)s). %(cause)s Fix: %(fix)s", number=number,
                        title=title, cause=render(result.cause or "", self.locale),
                        fix=render(result.fix or "", self.locale)))
            return 1
        self.say(N_("Verdict: everything works."))
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
    parser = argparse.ArgumentParser(prog=f"{program_name()} doctor",
                                     description="Check a running Corporate Messenger server like /diagnostics does.")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server's address (default %(default)s)")
    parser.add_argument("--user", help="log in as this user (the password is asked for, or read from stdin)")
    parser.add_argument("--password", help="the password (visible to other local users; prefer the prompt or "
                                           "CM_DOCTOR_PASSWORD)")
    parser.add_argument("--token", help="use this access token instead of logging in")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer")
    parser.add_argument("--lang", choices=i18n.LOCALES, help="language of the output (default: from LANG)")
    return parser.parse_args(argv)


def ask_password(args, locale):
    """``--password``, else ``CM_DOCTOR_PASSWORD``, else a prompt at a terminal, else the first line of stdin
    (as ``create-user`` reads it)."""
    if args.token or not args.user:
        return None
    password = args.password or os.environ.get("CM_DOCTOR_PASSWORD")
    if password is not None or sys.stdin is None:
        return password
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n") or None
    try:
        return getpass.getpass(render(N_("Password for %(user)s: ", user=args.user), locale))
    except (EOFError, KeyboardInterrupt):
        return None


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    lang = language(args.lang, os.environ)
    if urlsplit(args.url).scheme not in ("http", "https"):
        print(render(N_("--url must start with http:// or https:// (got '%(url)s')", url=args.url), i18n.get(lang)),
              file=sys.stderr)
        return 2
    doctor = Doctor(args.url, args.user, ask_password(args, i18n.get(lang)), args.token, args.timeout, lang=lang)
    return asyncio.run(doctor.run())
