"""Tornado's WebSocket protocol, changed in four places: an oversized frame reaches the client as
1009, outgoing text frames are written without a task each and coalesced per event loop turn
(:meth:`DrainingProtocol.send_text`), keepalive pings come from a timer, not a task per connection,
and the keepalive does not drop a peer whose pongs we are not reading.

On a frame over ``websocket_max_message_size`` Tornado writes the 1009 close
frame and tears the connection down at once.  The rest of the frame is still
unread, so the kernel answers with a reset, and a client still busy sending
it fails before it reads the close frame: it reports 1006, the one code the
product promises never to leave unexplained.  Here the connection is kept
until the close frame has left, then half-closed and drained (bounded) until
the client closes (``handlers/linger.py``).

Back-pressure: a connection with 64 sends waiting for their commit is not
read until one is stored (``ChatSocket.frame_send_message``).  The peer's pong
then waits unread behind its own frames, and Tornado's keepalive, which
closes with "ping timed out" when no pong was read within the timeout, would
drop every fast sender whenever commits are slow.  So a ping that is
outstanding while reads are paused counts as answered; once reading resumes,
the next ping is judged as usual.

These changes reach into Tornado's private attributes (``_received_pong``, ``start_pinging``,
``_abort``, ``_write_buffer`` and the frame counters): setup.cfg pins the minor version they were
checked against, and tests/test_tornado_internals.py names the part an upgrade changed.
"""
import asyncio
import struct

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError, WebSocketProtocol13

from handlers import i18n
from handlers.linger import drain_and_close, keep_open
from models.i18n import N_

CLOSE_TOO_BIG = 1009
DRAIN_BYTES = 16 * 1024 * 1024
DRAIN_SECONDS = 5.0
# Tornado's own close reasons, here for the catalogs: close() translates every reason.
TORNADO_REASONS = (N_("message too big"), N_("message too big after decompression"), N_("ping timed out"))
FLUSH_BYTES = 16 * 1024  # frames waiting for the end of the event loop's turn are written out beyond this


def _retrieve(future):
    """A write to a socket that closed meanwhile is expected: don't log it as never retrieved."""
    if not future.cancelled():
        future.exception()


class DrainingProtocol(WebSocketProtocol13):
    _drain_on_abort = False
    _draining = None
    _reads_paused = False
    _pong_or_paused = False

    @property
    def _received_pong(self):
        """Tornado sets this False when it pings and True when a pong is read (see the module docstring)."""
        return self._pong_or_paused

    @_received_pong.setter
    def _received_pong(self, value):
        self._pong_or_paused = value or self._reads_paused

    def pause_keepalive(self):
        """The handler stops reading: the outstanding ping (and any sent meanwhile) counts as answered."""
        self._reads_paused = self._pong_or_paused = True

    def resume_keepalive(self):
        self._reads_paused = False

    _pending = None  # frames sent since the last flush, written to the stream in one piece
    _pending_bytes = 0
    _flush_due = False

    def send_text(self, text):
        """``write_message`` for a text frame, made cheap for fan-out: no task per frame (Tornado wraps
        every write in one), and the frames sent during one turn of the event loop reach the socket in
        one write (one system call for a whole batch of messages instead of one each).  A write that
        fails later (peer gone) is dropped quietly.  WebSocketClosedError when closing."""
        if self.is_closing():
            raise WebSocketClosedError()
        data = text.encode() if isinstance(text, str) else text
        self._message_bytes_out += len(data)
        first = self.FIN | 0x1  # a whole text frame; a server never masks
        if self._compressor:
            data = self._compressor.compress(data)
            first |= self.RSV1
        size = len(data)
        if size < 126:
            header = struct.pack("!BB", first, size)
        elif size <= 0xFFFF:
            header = struct.pack("!BBH", first, 126, size)
        else:
            header = struct.pack("!BBQ", first, 127, size)
        if not self._flush_due:
            self._flush_due = True
            self.stream.io_loop.add_callback(self._end_of_turn)
        if self._pending is None:
            self._pending = []
        self._pending += (header, data)
        self._pending_bytes += len(header) + size
        if self._pending_bytes >= FLUSH_BYTES:  # the socket takes it now: what waits here stays small
            self._flush()

    def _end_of_turn(self):
        self._flush_due = False
        try:
            self._flush()
        except Exception:  # outside any fan-out: the hub closes this one connection, as it does inside one
            self.handler.state.hub.drop(self.handler)

    def _flush(self):
        frames, self._pending, self._pending_bytes = self._pending, None, 0
        if not frames or self.stream.closed():
            return
        data = b"".join(frames)
        self._wire_bytes_out += len(data)
        try:
            self.stream.write(data).add_done_callback(_retrieve)
        except StreamClosedError:
            pass

    def outbox_bytes(self):
        """Bytes sent to this connection that the peer's socket has not accepted yet."""
        buffer = getattr(self.stream, "_write_buffer", None)  # tornado's IOStream keeps no public counter
        return self._pending_bytes + (len(buffer) if buffer is not None else 0)

    _ping_timer = None
    _pinged_at = 0.0

    def start_pinging(self):
        """Tornado's keepalive (a ping every interval; no pong within the timeout closes), driven by a
        timer instead of a task per connection: 1.8 KiB less for every idle connection."""
        if self._ping_timer is None and self.ping_interval > 0:
            self._ping_timer = self.stream.io_loop.call_later(self.ping_interval, self._ping)

    def _ping(self):
        if self.is_closing():
            return
        self._received_pong = False
        self._pinged_at = self.stream.io_loop.time()
        try:
            self.write_ping(b"")
        except StreamClosedError:
            return
        if self.ping_timeout > 0:
            self._ping_timer = self.stream.io_loop.call_later(self.ping_timeout, self._check_pong)
        else:
            self._ping_timer = self.stream.io_loop.call_later(self.ping_interval, self._ping)

    def _check_pong(self):
        if self.is_closing():
            return
        if not self._received_pong:
            self.close(reason="ping timed out")
            return
        wait = max(0.0, self._pinged_at + self.ping_interval - self.stream.io_loop.time())
        self._ping_timer = self.stream.io_loop.call_later(wait, self._ping)

    def close(self, code=None, reason=None):
        if self._ping_timer is not None:
            self.stream.io_loop.remove_timeout(self._ping_timer)
            self._ping_timer = None
        self._flush()  # what was sent before the close goes out before the close frame
        if code == CLOSE_TOO_BIG and not self.server_terminated:
            self._drain_on_abort = True  # Tornado calls _abort() right after this
            self.handler.sent_close_code = code
        if reason:
            reason = i18n.close_reason(reason, self.handler.locale)
        super().close(code, reason)

    def _abort(self):
        if not self._drain_on_abort or self.stream is None or self.stream.closed():
            return super()._abort()
        if self._draining is None:  # later calls (the handler's close bookkeeping) find it under way
            self.client_terminated = self.server_terminated = True  # stops the frame loop
            if self._waiting is not None:
                self.stream.io_loop.remove_timeout(self._waiting)
                self._waiting = None
            self._draining = asyncio.ensure_future(self._drain(self.stream))

    @staticmethod
    async def _drain(stream):
        try:
            await stream.write(b"")  # resolves once the close frame has left
        except StreamClosedError:
            return
        sock = keep_open(stream)
        stream.close()
        if sock is not None:
            await drain_and_close(sock, DRAIN_BYTES, DRAIN_SECONDS)
