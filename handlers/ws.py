"""GET /ws: authentication with explained 1008 closes, frames in, events out.

Events are written as soon as they are published; what the peer's socket
does not accept waits in the connection's buffer.  A reader that falls more
than ``ws_outbox_bytes`` behind is closed with 4000 so it reconnects and
catches up instead of growing server memory.
"""
import asyncio
import logging
import time
import uuid
from urllib.parse import urlsplit

import orjson
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from handlers.realtime import events
from handlers.base import SESSION_COOKIE, authenticate_token
from handlers.realtime.hub import encode
from models import memberships, messages, users
from models.clock import iso, parse_iso, utcnow
from models.db import DatabaseUnavailable, db_call
from models.errors import AppError, bad_request, invalid
from models.validate import check_id

logger = logging.getLogger(__name__)

CLOSE_POLICY = 1008
CLOSE_SLOW_CONSUMER = 4000
MAX_INFLIGHT_SENDS = 64
TYPING_INTERVAL = 2.0


def _ignore_closed(future):
    """Writes to a socket that closed meanwhile are expected; don't log them as unhandled."""
    if not future.cancelled():
        future.exception()


def _int_field(frame, name):
    return check_id(frame.get(name), name)


class ChatSocket(WebSocketHandler):
    def initialize(self):
        self.conn_id = uuid.uuid4().hex[:12]
        self.user = None
        self.user_id = None
        self.session_id = None
        self.connected_at = time.time()
        self.last_activity = self.connected_at
        self._closing = False
        self._auth_timer = None
        self._inflight = set()
        self._typing_sent = {}

    @property
    def state(self):
        return self.application.state

    def check_origin(self, origin):
        """Accept the handshake; ``open`` closes a foreign origin with an explained 1008 instead of a bare 403."""
        return True

    def _origin_allowed(self):
        origin = self.request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: no ambient credentials to hijack
        host = urlsplit(origin).netloc.lower()
        return host == self.request.host.lower() or origin.lower() in self.state.config["allowed_origins"]

    # --- handshake and authentication --------------------------------------------

    async def open(self):
        token = self.get_query_argument("token", None)
        scheme, _, bearer = self.request.headers.get("Authorization", "").partition(" ")
        if token is None and scheme.lower() == "bearer":
            token = bearer.strip()
        if token is not None:
            logger.info("WebSocket connection attempt with token: %s...", token[:20])
        else:
            logger.info("WebSocket connection attempt without token in the URL")
        if not self._origin_allowed():
            return self.refuse(f"origin not allowed: {self.request.headers.get('Origin')[:80]}")
        try:
            if token is not None:
                user = await authenticate_token(self.state.config["secret_key"], token)
            elif self.get_signed_cookie(SESSION_COOKIE):
                user = await db_call(users.session_for_refresh_token,
                                     self.get_signed_cookie(SESSION_COOKIE).decode())
            else:
                self._auth_timer = IOLoop.current().call_later(self.state.config["ws_auth_timeout"],
                                                               self._auth_timeout)
                return
        except AppError as exc:
            return self.refuse(exc.message)
        except DatabaseUnavailable:
            return self.close(1011, "database unavailable")
        await self._start(user)

    def _auth_timeout(self):
        self.refuse(f"missing token: pass ?token=, a session cookie, or an auth frame within "
                    f"{self.state.config['ws_auth_timeout']:g} s")

    def refuse(self, reason):
        logger.info("WebSocket refused with 1008: %s", reason)
        self.state.hub.close_codes[str(CLOSE_POLICY)] += 1
        self.close(CLOSE_POLICY, reason[:120])

    async def _start(self, user):
        try:
            chat_ids, peer_ids = await db_call(memberships.connection_bootstrap, user["id"])
        except DatabaseUnavailable:
            return self.close(1011, "database unavailable")
        if self.ws_connection is None or self.ws_connection.is_closing():
            return
        self.user, self.user_id, self.session_id = user, user["id"], user["session_id"]
        hub = self.state.hub
        hub.attach(self, chat_ids)
        self.send_event({
            "type": "connected", "user_id": user["id"], "username": user["username"],
            "display_name": user["display_name"], "chat_ids": chat_ids,
            "online_user_ids": hub.online_among([*peer_ids, user["id"]]),
            "server_time": iso(utcnow()), "connection_id": self.conn_id,
            "heartbeat_interval": self.state.config["ws_ping_interval"],
            "version": self.state.version,
        })

    # --- outgoing ------------------------------------------------------------------

    def send_event(self, event):
        self.send_text(encode(event))

    @property
    def outbox_bytes(self):
        """Bytes handed to this connection that the peer's socket has not accepted yet."""
        stream = self.ws_connection.stream if self.ws_connection is not None else None
        buffer = getattr(stream, "_write_buffer", None)  # tornado's IOStream keeps no public counter
        return len(buffer) if buffer is not None else 0

    def send_text(self, text):
        if self._closing or self.ws_connection is None:
            return
        try:
            self.write_message(text).add_done_callback(_ignore_closed)
        except WebSocketClosedError:
            return
        pending = self.outbox_bytes
        if pending > self.state.config["ws_outbox_bytes"]:
            logger.warning("User %s connection %s fell %s bytes behind; closing with %s",
                           self.user_id, self.conn_id, pending, CLOSE_SLOW_CONSUMER)
            self.close(CLOSE_SLOW_CONSUMER, "outgoing buffer overflow: reconnect and catch up")

    def close(self, code=None, reason=None):
        if not self._closing:
            self._closing = True
            if self.user_id is not None:
                self.state.hub.detach(self, code)
        super().close(code, reason)

    def on_close(self):
        self._closing = True
        if self._auth_timer is not None:
            IOLoop.current().remove_timeout(self._auth_timer)
        if self.user_id is not None:
            self.state.hub.detach(self, self.close_code or 1005)

    # --- incoming ------------------------------------------------------------------

    async def on_message(self, raw):
        self.last_activity = time.time()
        client_msg_id = None
        try:
            try:
                frame = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise bad_request("invalid_json", "Frame is not valid JSON")
            if not isinstance(frame, dict):
                raise bad_request("invalid_frame", "Frame must be a JSON object")
            client_msg_id = frame.get("client_msg_id") if isinstance(frame.get("client_msg_id"), str) else None
            kind = frame.get("type")
            if not isinstance(kind, str):
                raise bad_request("missing_type", "Frame needs a string 'type'")
            if self.user_id is None:
                return await self._authenticate_frame(kind, frame)
            handler = getattr(self, "on_" + kind, None) if kind in FRAME_TYPES else None
            if handler is None:
                raise bad_request("unknown_type", f"Unknown frame type {kind[:40]!r}")
            await handler(frame)
        except AppError as exc:
            self.send_error(exc, client_msg_id)
        except DatabaseUnavailable:
            self.send_error(AppError(503, "db_unavailable", "The database is unreachable; retry shortly"),
                            client_msg_id)
        except Exception:
            logger.exception("Frame from user %s failed", self.user_id)
            self.send_error(AppError(500, "internal_error", "The server failed to handle this frame"),
                            client_msg_id)

    def send_error(self, exc, client_msg_id=None):
        self.state.hub.counters["frame_errors"] += 1
        frame = {"type": "error", **exc.as_dict()}
        if client_msg_id is not None:
            frame["client_msg_id"] = client_msg_id
        self.send_event(frame)

    async def _authenticate_frame(self, kind, frame):
        if kind != "auth":
            return self.refuse("not authenticated: the first frame must be {\"type\":\"auth\",\"token\":...}")
        token = frame.get("token") if isinstance(frame.get("token"), str) else ""
        logger.info("WebSocket connection attempt with token: %s...", token[:20])
        try:
            user = await authenticate_token(self.state.config["secret_key"], token)
        except AppError as exc:
            return self.refuse(exc.message)
        except DatabaseUnavailable:
            return self.close(1011, "database unavailable")
        finally:
            if self._auth_timer is not None:
                IOLoop.current().remove_timeout(self._auth_timer)
                self._auth_timer = None
        await self._start(user)

    async def on_auth(self, frame):
        raise bad_request("already_authenticated", "This connection is already authenticated")

    async def on_ping(self, frame):
        self.send_event({"type": "pong", "server_time": iso(utcnow()), "id": frame.get("id")})

    async def on_send_message(self, frame):
        self.state.send_limiter.check(self.user_id)
        request = {"sender_id": self.user_id, "chat_id": _int_field(frame, "chat_id"),
                   "text": messages.clean_text(frame.get("text")),
                   "client_msg_id": messages.clean_client_msg_id(frame.get("client_msg_id"))}
        task = asyncio.ensure_future(self._send(request))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        if len(self._inflight) >= MAX_INFLIGHT_SENDS:
            await task  # stop reading this socket until the backlog shrinks

    async def _send(self, request):
        result = await self.state.writer.submit(request, origin=self)
        if "error" in result:
            self.send_error(result["error"], request["client_msg_id"])
        else:
            self.state.hub.counters["messages_received"] += 1

    async def on_typing(self, frame):
        chat_id = _int_field(frame, "chat_id")
        if not self.state.hub.is_member(self.user_id, chat_id):
            raise AppError(403, "not_a_member", f"You are not a member of chat {chat_id}", chat_id=chat_id)
        now = time.monotonic()
        if now - self._typing_sent.get(chat_id, 0) < TYPING_INTERVAL:
            return  # rate-limited: the others already know
        self._typing_sent[chat_id] = now
        self.state.bus.publish({"type": "typing", "chat_id": chat_id, "user_id": self.user_id,
                                "username": self.user["username"], "display_name": self.user["display_name"]},
                               chat_ids=[chat_id], exclude_user=self.user_id)

    async def on_mark_read(self, frame):
        chat_id = _int_field(frame, "chat_id")
        message_id = _int_field(frame, "message_id")
        receipt = await db_call(messages.mark_read, self.user_id, chat_id, message_id)
        events.read(self.state.bus, receipt)

    async def on_catch_up(self, frame):
        after_id = _int_field(frame, "after_id")
        changed_since = frame.get("changed_since")
        if changed_since is not None:
            try:
                changed_since = parse_iso(changed_since if isinstance(changed_since, str) else "")
            except ValueError:
                raise invalid("invalid_field", "changed_since must be an ISO 8601 time", field="changed_since")
        page = await db_call(messages.catch_up, self.user_id, after_id, 500, changed_since)
        self.send_event({"type": "catch_up", "after_id": after_id, **page})

    async def on_diagnostic_echo(self, frame):
        """A loop-back through the real fan-out path (bus and hub), stored nowhere."""
        nonce = frame.get("nonce")
        if not isinstance(nonce, str) or len(nonce) > 64:
            raise invalid("invalid_field", "nonce must be a string of at most 64 characters", field="nonce")
        self.state.bus.publish({"type": "diagnostic_echo", "nonce": nonce, "connection_id": self.conn_id,
                                "server_time": iso(utcnow())}, user_ids=[self.user_id])


FRAME_TYPES = {"auth", "ping", "send_message", "typing", "mark_read", "catch_up", "diagnostic_echo"}
