"""Tornado's WebSocket protocol, changed in one place: an oversized frame reaches the client as 1009.

On a frame over ``websocket_max_message_size`` Tornado writes the 1009 close
frame and tears the connection down at once.  The rest of the frame is still
unread, so the kernel answers with a reset, and a client still busy sending
it fails before it reads the close frame: it reports 1006, the one code the
product promises never to leave unexplained.  Here the connection is kept
until the close frame has left, then half-closed and drained (bounded) until
the client closes (``handlers/linger.py``).
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
