"""Who is connected, and delivery of events to them.

The hub keeps the open connections by user and the chat subscriptions of
connected users, and delivers each envelope a bus hands it (see ``bus.py``) to
the matching connections of this process.  It is touched only on the event
loop thread.
"""
import collections
import logging
import time

from tornado.ioloop import IOLoop

from handlers import close_reasons as closing
from handlers.realtime import events
from handlers.realtime.bus import encode

logger = logging.getLogger(__name__)
PRESENCE_SYNC_EXPIRY = 90.0  # seconds without news from a process before its users count as offline
# Codes counted by name (RFC 6455's registered ones and this product's own); a client may send any
# other number, and each would otherwise become a metric series of its own.
KNOWN_CLOSE_CODES = frozenset({*range(1000, 1004), *range(1005, 1016), closing.SLOW_CONSUMER,
                               closing.TOO_MANY_CONNECTIONS})


def close_code_label(code):
    """How a close code is counted: itself when known, else ``other``."""
    return str(code) if code in KNOWN_CLOSE_CODES else "other"


class RemotePresence:
    """The users online on one other process, and when that process was last heard from."""

    def __init__(self, user_ids=()):
        self.user_ids = set(user_ids)
        self.heard_at = time.monotonic()

    def is_silent(self, now):
        return now - self.heard_at > PRESENCE_SYNC_EXPIRY


class Hub:
    def __init__(self, bus, presence_grace=3.0, on_offline=None):
        self.bus = bus
        bus.hub = self
        self.presence_grace = presence_grace
        self.on_offline = on_offline  # callback(user_id) when a user goes offline
        self.by_user = collections.defaultdict(set)   # user_id -> connections
        self._connections = 0  # all of them: counted, since every attach and detach logs it
        self.chats_of = collections.defaultdict(set)  # user_id -> chat ids (connected users only)
        self.users_in = collections.defaultdict(set)  # chat_id -> connected user ids
        self.online = set()          # users with a connection here (or in their grace period)
        self.remote_online = {}      # other process id -> RemotePresence
        self._offline_timers = {}
        self.started_at = time.time()
        self.counters = collections.Counter()
        self.close_codes = collections.Counter()

    # --- connections -----------------------------------------------------------

    def connection_count(self):
        return self._connections

    def connections_of(self, user_id):
        return len(self.by_user.get(user_id, ()))

    def connections(self):
        return [c for conns in self.by_user.values() for c in conns]

    def attach(self, conn, chat_ids):
        """Register an authenticated connection and subscribe it to its chats."""
        user_id = conn.user_id
        first = not self.by_user.get(user_id)
        self.by_user[user_id].add(conn)
        self._connections += 1
        self.counters["connections_opened"] += 1
        logger.info("User %s connected. Total connections: %s", user_id, self.connection_count())
        for chat_id in chat_ids:
            self._subscribe(user_id, chat_id, log=True)
        timer = self._offline_timers.pop(user_id, None)
        if timer is not None:
            IOLoop.current().remove_timeout(timer)
        if first and user_id not in self.online:
            self.online.add(user_id)
            events.presence(self.bus, user_id, "online", sorted(self.chats_of[user_id]))

    def detach(self, conn, code=None):
        user_id = conn.user_id
        conns = self.by_user.get(user_id)
        if not conns or conn not in conns:
            return
        conns.discard(conn)
        self._connections -= 1
        self.count_close(code)
        logger.info("User %s disconnected. Total connections: %s (close code %s)",
                    user_id, self.connection_count(), code)
        if conns:
            return
        del self.by_user[user_id]
        chat_ids = sorted(self.chats_of.get(user_id, ()))
        for chat_id in list(self.chats_of.pop(user_id, ())):
            self.users_in[chat_id].discard(user_id)
            if not self.users_in[chat_id]:
                del self.users_in[chat_id]
            logger.info("Removed user %s from chat %s", user_id, chat_id)
        if self.presence_grace > 0:
            self._offline_timers[user_id] = IOLoop.current().call_later(
                self.presence_grace, self._go_offline, user_id, chat_ids)
        else:
            self._go_offline(user_id, chat_ids)

    def count_close(self, code):
        self.close_codes[close_code_label(code)] += 1

    def _go_offline(self, user_id, chat_ids):
        self._offline_timers.pop(user_id, None)
        if self.by_user.get(user_id) or user_id not in self.online:
            return
        self.online.discard(user_id)
        events.presence(self.bus, user_id, "offline", chat_ids)
        if self.on_offline:
            self.on_offline(user_id)

    def _subscribe(self, user_id, chat_id, log):
        if chat_id in self.chats_of[user_id]:
            return
        self.chats_of[user_id].add(chat_id)
        self.users_in[chat_id].add(user_id)
        if log:
            logger.info("Added user %s to chat %s", user_id, chat_id)

    def _unsubscribe(self, user_id, chat_id):
        if chat_id not in self.chats_of.get(user_id, ()):
            return
        self.chats_of[user_id].discard(chat_id)
        self.users_in[chat_id].discard(user_id)
        if not self.users_in[chat_id]:
            del self.users_in[chat_id]
        logger.info("Removed user %s from chat %s", user_id, chat_id)

    def is_member(self, user_id, chat_id):
        return chat_id in self.chats_of.get(user_id, ())

    def is_online(self, user_id):
        return user_id in self.online or self._online_elsewhere(user_id)

    def _online_elsewhere(self, user_id):
        return any(user_id in remote.user_ids for remote in self.remote_online.values())

    def online_among(self, user_ids):
        return sorted(uid for uid in user_ids if self.is_online(uid))

    def _presence_visible(self, event, origin):
        """Track other processes' presence; True when this event changes what this process shows."""
        user_id = event["user_id"]
        if origin is None:  # from this process: news only if no other process has the user
            return not self._online_elsewhere(user_id)
        was = self.is_online(user_id)
        remote = self.remote_online.setdefault(origin, RemotePresence())
        remote.heard_at = time.monotonic()
        (remote.user_ids.add if event["status"] == "online" else remote.user_ids.discard)(user_id)
        return was != self.is_online(user_id)

    def _sync_presence(self, origin, online):
        """Another process's full list of online users; forget processes silent for too long."""
        self.remote_online[origin] = RemotePresence(online)
        self.expire_silent_processes()

    def expire_silent_processes(self):
        now = time.monotonic()
        for other, remote in list(self.remote_online.items()):
            if remote.is_silent(now):
                del self.remote_online[other]

    # --- delivery ------------------------------------------------------------------

    def dispatch(self, envelope):
        """Apply an envelope's subscription changes, then deliver it to local connections."""
        event = envelope["event"]
        control = envelope.get("control")
        if control:
            self._apply_control(control, envelope.get("origin"))
        kind = event.get("type") if event else None
        if kind == "presence" and not self._presence_visible(event, envelope.get("origin")):
            return
        if kind == "chat_created":
            for uid in envelope["user_ids"]:
                if uid in self.by_user:
                    self._subscribe(uid, event["chat"]["id"], log=True)
        elif kind == "member_added":
            for uid in event["user_ids"]:
                if uid in self.by_user:
                    self._subscribe(uid, event["chat_id"], log=True)
        if event is not None:
            self._deliver(event, envelope)
        if kind == "member_removed":
            self._unsubscribe(event["user_id"], event["chat_id"])

    def _deliver(self, event, envelope):
        targets = set(envelope["user_ids"])
        for chat_id in envelope["chat_ids"]:
            targets |= self.users_in.get(chat_id, set())
        targets.discard(envelope.get("exclude_user"))
        text = None  # encoded once, only if someone here receives it
        exclude_conn = envelope.get("exclude_conn")
        sent = 0
        for uid in targets:
            for conn in list(self.by_user.get(uid, ())):
                if conn.conn_id == exclude_conn:
                    continue
                if text is None:
                    text = encode(event)
                sent += self.send(conn, text)
        if text is not None:
            self.counters["events_delivered"] += 1
            self.counters["frames_delivered"] += sent

    def send(self, conn, text):
        """Hand ``text`` to one connection; True when it took it.

        A connection that fails unexpectedly is logged (once: it is closed with
        1011 and leaves the hub at once), and the fan-out goes on to the others.
        """
        try:
            conn.send_text(text)
            return True
        except Exception:
            self.drop(conn)
            return False

    def drop(self, conn):
        """Log the error being handled, close ``conn`` with 1011 and take it out of the hub (even when
        closing fails too)."""
        logger.exception("Sending to user %s connection %s failed; closing it with %s",
                         conn.user_id, conn.conn_id, closing.INTERNAL_ERROR)
        try:
            conn.close(closing.INTERNAL_ERROR, closing.SEND_FAILED)
        except Exception as exc:  # its transport is broken: leaving the hub is what matters
            logger.debug("Closing connection %s failed too: %r", conn.conn_id, exc)
        self.detach(conn, closing.INTERNAL_ERROR)

    def _apply_control(self, control, origin):
        action = control.get("action")
        if action == "presence_sync":
            return self._sync_presence(origin, control["online"])
        for conn in self.connections():
            if (action == "close_user" and conn.user_id == control["user_id"]
                    and conn.session_id != control.get("spare_session")):
                conn.close(1008, control["reason"])
            elif action == "close_session" and conn.session_id == control["session_id"]:
                conn.close(1008, control["reason"])
            elif action == "set_locale" and conn.user_id == control["user_id"]:
                conn.set_locale(control["locale"])

    def close_all(self, code, reason):
        for conn in self.connections():
            conn.close(code, reason)

    def stats(self):
        return {
            "connections": self.connection_count(),
            "users_online": len(self.online),
            "chats_subscribed": len(self.users_in),
            "counters": dict(self.counters),
            "close_codes": dict(self.close_codes),
            "uptime_seconds": round(time.time() - self.started_at, 1),
        }
