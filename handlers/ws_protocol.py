"""Tornado's WebSocket protocol, changed in two places: an oversized frame reaches the client as 1009,
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
"""
import asyncio

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketProtocol13

from handlers import i18n
from handlers.linger import drain_and_close, keep_open
from models.i18n import N_

CLOSE_TOO_BIG = 1009
DRAIN_BYTES = 16 * 1024 * 1024
DRAIN_SECONDS = 5.0
# Tornado's own close reasons, here for the catalogs: close() translates every reason.
TORNADO_REASONS = (N_("message too big"), N_("message too big after decompression"), N_("ping timed out"))


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

    def close(self, code=None, reason=None):
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
