"""Real servers for tests: in-process on a random port, or as a subprocess (for restarts and kill -9)."""
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import requests
from websockets.sync.client import connect as ws_connect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://messenger:messenger@127.0.0.1:5432/postgres")
# CM_TEST_SERVER=dist/corporate-messenger: subprocess servers are the one-file binary instead of python server.py.
SERVER_BINARY = os.environ.get("CM_TEST_SERVER") and os.path.join(ROOT, os.environ["CM_TEST_SERVER"])


def server_command():
    """The command that starts a server process: the binary under test, else ``python -u server.py``."""
    if SERVER_BINARY:
        return [SERVER_BINARY]
    return [sys.executable, "-u", os.path.join(ROOT, "server.py")]

TEST_SETTINGS = {
    "presence_grace": "0.3",
    "ws_ping_interval": "20",
    "login_max_failures": "5",
    "login_max_failures_per_address": "1000",
    "login_window": "60",
    "ws_auth_timeout": "1",
    "message_rate": "0",  # the load tests send far faster than a person; test_send_rate_limit turns it on
}


def run_server_command(*args, stdin_text="", cwd=ROOT, env=None, command=None, timeout=120):
    """Run ``server.py ARGS`` (or the binary) to completion; returns the CompletedProcess (text)."""
    return subprocess.run([*(command or server_command()), *map(str, args)], input=stdin_text, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def config_argv(data_dir, database_url, **overrides):
    settings = {**TEST_SETTINGS, "data_dir": str(data_dir), "database_url": database_url,
                "port": "0", "secret_key": "test-secret-" + "x" * 40, **overrides}
    argv = []
    for name, value in settings.items():
        argv += ["--" + name.replace("_", "-"), str(value)]
    return argv


class Client:
    """HTTP and WebSocket helpers bound to one server."""

    def __init__(self, base_url):
        self.url = base_url
        self.ws_url = base_url.replace("http://", "ws://") + "/ws"
        self.http = requests.Session()

    def request(self, method, path, token=None, json_body=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.url + path, json=json_body, headers=headers, timeout=15, **kwargs)

    def login(self, username, password=None):
        password = password or {"admin": "admin123"}.get(username, f"{username}pass")
        response = self.request("POST", "/api/auth/login", json_body={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def connect(self, token=None, query=None, **kwargs):
        url = self.ws_url + (f"?token={token}" if token is not None else "") + (query or "")
        return WsClient(ws_connect(url, open_timeout=10, max_size=2 ** 22, **kwargs))

    def chat_id(self, token, title):
        chats = self.request("GET", "/api/chats", token).json()
        return next(c["id"] for c in chats if c["title"] == title)


class WsClient:
    """A synchronous WebSocket client that reads JSON frames with timeouts."""

    def __init__(self, conn):
        self.conn = conn
        self.seen = []

    def send(self, frame):
        self.conn.send(frame if isinstance(frame, str) else json.dumps(frame))

    def recv(self, timeout=5):
        frame = json.loads(self.conn.recv(timeout=timeout))
        self.seen.append(frame)
        return frame

    def recv_type(self, kind, timeout=5):
        """The next frame of ``kind``, skipping others (presence, typing...)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {kind!r} frame within {timeout} s; saw {self.seen[-5:]}")
            frame = self.recv(left)
            if frame["type"] == kind:
                return frame

    def quiet_for(self, kind, seconds):
        """Assert no frame of ``kind`` arrives within ``seconds``: only for what a timer would send (the
        presence grace period); everything else is checked with :meth:`nothing_of`, which waits for nothing."""
        try:
            frame = self.recv_type(kind, seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected {kind} frame: {frame}")

    _barriers = 0

    def settle(self, timeout=5):
        """Frames the server had queued for this connection before it read a new ping: a ``pong`` answers
        the ping after everything queued earlier (one connection's frames keep their order)."""
        self._barriers += 1
        mark = f"settle-{self._barriers}"
        self.send({"type": "ping", "id": mark})
        frames = []
        while True:
            frame = self.recv(timeout)
            if frame["type"] == "pong" and frame.get("id") == mark:
                return frames
            frames.append(frame)

    def nothing_of(self, kind, after=None):
        """Assert no frame of ``kind`` has come by the time this connection is settled.  The event that must
        not arrive has to be decided before that: after an answer that follows it (an ack, a REST reply)
        or, for an action on another connection, after ``after`` (that connection) is settled first."""
        if after is not None:
            after.settle()
        unexpected = [frame for frame in self.settle() if frame["type"] == kind]
        assert not unexpected, f"unexpected {kind} frame: {unexpected[0]}"

    def close(self):
        self.conn.close()

    @property
    def close_code(self):
        return self.conn.close_code

    @property
    def close_reason(self):
        return self.conn.close_reason


class InProcessServer(Client):
    """``make_app`` on a random port in a thread with its own event loop."""

    def __init__(self, argv):
        import server as server_module
        self.config = server_module.parse_config(argv, env={})
        server_module.prepare_database(self.config)
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self._loop)

            async def boot():
                self.http_server, self.app, self.port = await server_module.start(self.config)
                ready.set()
            self._loop.run_until_complete(boot())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert ready.wait(15), "server did not start"
        super().__init__(f"http://127.0.0.1:{self.port}")

    def call(self, fn, *args):
        """Run ``fn`` on the server's loop thread and return its result."""
        async def wrapper():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(10)

    @property
    def hub(self):
        return self.app.state.hub

    def stop(self):
        import server as server_module
        from models.db import close_db
        try:
            asyncio.run_coroutine_threadsafe(server_module.shutdown(self.http_server, self.app, 1.0),
                                             self._loop).result(15)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            close_db()


class SubprocessServer(Client):
    """A server as its own process (``server_command()``), for restarts, signals and kill -9.

    It runs in a session of its own: the one-file binary is two processes (a
    bootloader and the server it starts), and kill -9 must hit both.
    """

    def __init__(self, argv, port=0, log_path=None, env=None, command=None, cwd=ROOT):
        argv = list(argv)
        if port:
            argv[argv.index("--port") + 1] = str(port)
        self.log_path = log_path
        self._log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        command = command or server_command()
        env = dict(os.environ if env is None else env)
        if command[0] != sys.executable and log_path:
            env["TMPDIR"] = os.path.dirname(log_path)  # what the binary unpacks, and leaves after kill -9
        self.proc = subprocess.Popen([*command, *argv], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                     stderr=self._log, start_new_session=True)
        line = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line or line.startswith(b"Listening on"):
                break
        match = re.search(rb"http://[\d.]+:(\d+)", line)
        if not match:
            self.kill9()
            raise RuntimeError(f"server did not start: {line!r}; log at {log_path}")
        self.port = int(match.group(1))
        super().__init__(f"http://127.0.0.1:{self.port}")

    def kill9(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def terminate(self):
        self.proc.terminate()
        return self.proc.wait(20)

    def stop(self):
        if self.proc.poll() is None:
            self.terminate()

    def log(self):
        if not self.log_path:
            return ""
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()
