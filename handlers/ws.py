"""GET /ws: authentication with explained 1008 closes, frames in, events out.

Events are written as soon as they are published; what the peer's socket
does not accept waits in the connection's buffer.  A reader that falls more
than ``ws_outbox_bytes`` behind is closed with 4000 so it reconnects and
catches up instead of growing server memory.
"""
import asyncio
import functools
import logging
import time
import uuid

import orjson
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from handlers import close_reasons as closing, i18n
from handlers.base import (bearer_token, error_body, origin_allowed, session_cookie,
                           set_security_headers)
from handlers.realtime import events
from handlers.realtime.bus import encode
from handlers.redact import preview
from handlers.ws_protocol import DrainingProtocol
from models import memberships, messages, users
from models.clock import parse_iso
from models.db import DatabaseUnavailable, db_call
from models.errors import AppError, bad_request, invalid
from models.i18n import N_
from models.memberships import not_member_message
from models.validate import check_id

logger = logging.getLogger(__name__)

MAX_INFLIGHT_SENDS = 64
TYPING_INTERVAL = 2.0


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
        self.sent_close_code = None  # set when the protocol itself closed the connection (1009)
        self._auth_timer = None
        self._inflight = set()
        self._typing_sent = {}

    @property
    def state(self):
        return self.application.state

    def set_default_headers(self):
        set_security_headers(self)  # a plain GET without the upgrade gets an HTML 400 page

    def get_websocket_protocol(self):
        """Tornado's protocol, except that an oversized frame reaches the client as 1009 (see ws_protocol)."""
        protocol = super().get_websocket_protocol()
        return protocol and DrainingProtocol(self, False, protocol.params)

    def get_user_locale(self):
        """The user's saved language once authenticated, else the cookie's; else ``Accept-Language``."""
        return i18n.chosen(self, self.user)

    def set_locale(self, code):
        """The user chose a language (or None: back to the browser's) while this connection is open."""
        self.user = {**self.user, "locale": code}
        self.locale = i18n.for_request(self, self.user)

    def check_origin(self, origin):
        """Accept the handshake; ``open`` closes a foreign origin with an explained 1008 instead of a bare 403."""
        return True

    # --- handshake and authentication --------------------------------------------

    async def open(self):
        token = self.get_query_argument("token", None)
        # The handshake is answered and logged: keep no copies of the token (four of them, a
        # kilobyte and a half for as long as the connection lives).
        self.request.uri, self.request.query = self.request.path, ""
        self.request.arguments, self.request.query_arguments = {}, {}
        if token is None:
            token = bearer_token(self.request)
        if token is not None:
            logger.info("WebSocket connection attempt with token: %s", preview(token))
        else:
            logger.info("WebSocket connection attempt without token in the URL")
        if not origin_allowed(self.request, self.state.config["allowed_origins"]):
            return self.refuse(closing.ORIGIN_REFUSED.fill(origin=self.request.headers.get("Origin")[:80]))
        if token is not None:
            await self._admit(self._by_token(token))
        elif cookie := session_cookie(self):
            await self._admit(self._by_cookie(cookie))
        else:
            self._auth_timer = IOLoop.current().call_later(self.state.config["ws_auth_timeout"], self._auth_timeout)

    def _auth_timeout(self):
        self.refuse(closing.NO_CREDENTIALS.fill(seconds="%g" % self.state.config["ws_auth_timeout"]))

    def refuse(self, reason, code=closing.POLICY):
        logger.info("WebSocket refused with %s: %s", code, reason)
        self.state.hub.count_close(code)
        self.close(code, reason)

    async def _by_token(self, token):
        """An access token: its signature and expiry checked here, its session and chats read in a batch
        with the other sockets arriving now (``realtime/batching.py``)."""
        claims = users.decode_access_token(self.state.config["secret_key"], token)
        user, chat_ids, peer_ids = await self.state.admissions.call(claims)
        return {**user, "token_expires_at": claims["exp"]}, chat_ids, peer_ids

    async def _by_cookie(self, cookie):
        """A browser's session cookie: rare enough (the page sends a token) to be read on its own."""
        user = await db_call(users.session_for_refresh_token, cookie)
        return (user, *await db_call(memberships.connection_bootstrap, user["id"]))

    async def _admit(self, lookup):
        """Finish authenticating, whichever way the credentials came: ``lookup`` (a coroutine) gives the
        user of the token or cookie, their chats and the people in them; then the connection joins the hub.
        Refused credentials close with 1008 and the reason that names the cause, an unreachable database with
        1011; when too many sockets already wait to be admitted, the socket is told to come back later (1013)."""
        retry_after = self.state.admissions.busy()
        if retry_after is not None:
            lookup.close()
            return self._busy(retry_after)
        try:
            user, chat_ids, peer_ids = await lookup
        except AppError as exc:
            return self.refuse(exc.message)
        except DatabaseUnavailable:
            return self.close(closing.INTERNAL_ERROR, closing.DB_UNAVAILABLE)
        if self.ws_connection is None or self.ws_connection.is_closing():
            return
        self.locale = i18n.for_request(self, user)  # the saved language, now that the user is known
        hub, most = self.state.hub, self.state.config["ws_max_per_user"]
        if most and hub.connections_of(user["id"]) >= most:
            return self.refuse(closing.TOO_MANY.fill(max=most), closing.TOO_MANY_CONNECTIONS)
        self.user, self.user_id, self.session_id = user, user["id"], user["session_id"]
        hub.attach(self, chat_ids)
        self.send_event(events.connected(user, self.conn_id, chat_ids, hub.online_among([*peer_ids, user["id"]]),
                                         self.state.config["ws_ping_interval"], self.state.version))

    def _busy(self, retry_after):
        """``server_busy`` with the seconds to wait, then close 1013 (try again later)."""
        reason = closing.SERVER_BUSY.fill(seconds=retry_after)
        busy = AppError(503, "server_busy", reason, retry_after=retry_after)
        self.send_event(events.error(error_body(busy, locale=self.locale)[1]))
        self.refuse(reason, closing.TRY_AGAIN_LATER)

    # --- outgoing ------------------------------------------------------------------

    def send_event(self, event):
        self.send_text(encode(event))

    @property
    def outbox_bytes(self):
        """Bytes handed to this connection that the peer's socket has not accepted yet."""
        return self.ws_connection.outbox_bytes() if self.ws_connection is not None else 0

    def send_text(self, text):
        if self._closing or self.ws_connection is None:
            return
        try:
            self.ws_connection.send_text(text)
        except WebSocketClosedError:
            return
        pending = self.outbox_bytes
        if pending > self.state.config["ws_outbox_bytes"]:
            logger.warning("User %s connection %s fell %s bytes behind; closing with %s",
                           self.user_id, self.conn_id, pending, closing.SLOW_CONSUMER)
            self.close(closing.SLOW_CONSUMER, closing.FELL_BEHIND)

    def close(self, code=None, reason=None):
        """Close once; the protocol sends ``reason`` (marked or plain) in this connection's language, cut to fit."""
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
            self.state.hub.detach(self, self.close_code or self.sent_close_code or 1005)

    # --- incoming ------------------------------------------------------------------

    async def on_message(self, raw):
        self.last_activity = time.time()
        client_msg_id = None
        try:
            try:
                frame = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise bad_request("invalid_json", N_("Frame is not valid JSON"))
            if not isinstance(frame, dict):
                raise bad_request("invalid_frame", N_("Frame must be a JSON object"))
            client_msg_id = frame.get("client_msg_id") if isinstance(frame.get("client_msg_id"), str) else None
            kind = frame.get("type")
            if not isinstance(kind, str):
                raise bad_request("missing_type", N_("Frame needs a string 'type'"))
            if self.user_id is None:
                return await self._authenticate_frame(kind, frame)
            if kind not in FRAME_HANDLERS:
                raise bad_request("unknown_type", N_("Unknown frame type '%(type)s'", type=kind[:40]))
            await getattr(self, FRAME_HANDLERS[kind])(frame)
        except Exception as exc:
            if not isinstance(exc, (AppError, DatabaseUnavailable)):
                logger.exception("Frame from user %s failed", self.user_id)
            self.send_error_frame(exc, client_msg_id)

    def send_error_frame(self, exc, client_msg_id=None):
        """An ``error`` frame for ``exc``; the connection stays open."""
        self.state.hub.counters["frame_errors"] += 1
        self.send_event(events.error(error_body(exc, locale=self.locale)[1], client_msg_id))

    async def _authenticate_frame(self, kind, frame):
        if kind != "auth":
            return self.refuse(closing.NOT_AUTHENTICATED)
        if self._auth_timer is not None:  # the frame came in time, whatever it holds
            IOLoop.current().remove_timeout(self._auth_timer)
            self._auth_timer = None
        token = frame.get("token") if isinstance(frame.get("token"), str) else ""
        logger.info("WebSocket connection attempt with token: %s", preview(token))
        await self._admit(self._by_token(token))

    async def frame_auth(self, frame):
        raise bad_request("already_authenticated", N_("This connection is already authenticated"))

    async def frame_ping(self, frame):
        self.send_event(events.pong(frame.get("id")))

    async def frame_send_message(self, frame):
        client_msg_id = frame.get("client_msg_id")
        stored = await self.state.writer.send(self.user_id, frame.get("chat_id"), frame.get("text"),
                                              client_msg_id, origin=self,
                                              reply_to=frame.get("reply_to"), file_ids=frame.get("file_ids"))
        self._inflight.add(stored)
        stored.add_done_callback(functools.partial(self._stored, client_msg_id))  # a callback, not a task each
        if len(self._inflight) >= MAX_INFLIGHT_SENDS:  # stop reading this socket until the backlog shrinks
            self.ws_connection.pause_keepalive()
            try:
                await asyncio.wait([stored])
            finally:
                if self.ws_connection is not None:
                    self.ws_connection.resume_keepalive()

    def _stored(self, client_msg_id, stored):
        """The writer acks a stored message itself, in order; a refusal becomes an error frame here."""
        self._inflight.discard(stored)
        if stored.cancelled():  # the server is stopping
            return
        result = stored.result()
        if "error" in result:
            self.send_error_frame(result["error"], client_msg_id)
        else:
            self.state.hub.counters["messages_received"] += 1

    async def frame_typing(self, frame):
        chat_id = _int_field(frame, "chat_id")
        if not self.state.hub.is_member(self.user_id, chat_id):
            raise AppError(403, "not_a_member", not_member_message(chat_id), chat_id=chat_id)
        now = time.monotonic()
        if now - self._typing_sent.get(chat_id, 0) < TYPING_INTERVAL:
            return  # rate-limited: the others already know
        self._typing_sent[chat_id] = now
        events.typing(self.state.bus, chat_id, self.user)

    async def frame_mark_read(self, frame):
        chat_id = _int_field(frame, "chat_id")
        message_id = _int_field(frame, "message_id")
        receipt = await db_call(messages.mark_read, self.user_id, chat_id, message_id)
        events.read(self.state.bus, receipt)

    async def frame_catch_up(self, frame):
        after_id = _int_field(frame, "after_id")
        changed_since = frame.get("changed_since")
        if changed_since is not None:
            try:
                changed_since = parse_iso(changed_since if isinstance(changed_since, str) else "")
            except ValueError:
                raise invalid("invalid_field", N_("changed_since must be an ISO 8601 time in years 1-9999 UTC"),
                              field="changed_since")
        page = await self.state.catch_ups.call(self.user_id, after_id, 500, changed_since)  # gathered: see batching.py
        self.send_event(events.catch_up(after_id, page))

    async def frame_diagnostic_echo(self, frame):
        """A loop-back through the real fan-out path (bus and hub), stored nowhere."""
        nonce = frame.get("nonce")
        if not isinstance(nonce, str) or len(nonce) > 64:
            raise invalid("invalid_field", N_("nonce must be a string of at most 64 characters"), field="nonce")
        events.diagnostic_echo(self.state.bus, self, nonce)


FRAME_TYPES = ("auth", "ping", "send_message", "typing", "mark_read", "catch_up", "diagnostic_echo")
# Frame type -> method.  The ``frame_`` prefix keeps them apart from WebSocketHandler's own hooks:
# a handler named ``on_ping`` once replaced Tornado's PING callback and dropped every pinging client.
FRAME_HANDLERS = {kind: "frame_" + kind for kind in FRAME_TYPES}
