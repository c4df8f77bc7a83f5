"""Request bodies read as they stream in, so that one over the limit gets the JSON 413 whatever its size.

Left to itself, Tornado buffers a body up to the server's ``max_body_size``
and answers anything bigger with a bare 400 and a closed connection.  A
handler with this mixin (decorated with ``@tornado.web.stream_request_body``)
checks the declared ``Content-Length`` before reading a byte, counts the
bytes of a chunked body as they arrive, and answers 413 in JSON either way.
An answer given before the whole body is in (that 413, or a 401 from
``prepare``) is followed by a lingering close, so that a client still busy
sending reads the answer instead of a reset (``handlers/linger.py``).
"""
import asyncio
import sys

from handlers.linger import drain_and_close, keep_open
from models.errors import AppError
from models.i18n import N_

LINGER_BYTES = 128 * 1024 * 1024  # the most a refused client may still send us (discarded)...
LINGER_SECONDS = 10.0  # ...and for how long


class StreamedBody:
    def body_limit(self):
        """The largest body this endpoint takes."""
        return self.config["max_body_bytes"]

    def initialize(self):
        self._chunks, self._received = [], 0
        self._answer_early = True  # an answer now comes before the body is read: Tornado then closes
        self.request.connection.set_max_body_size(sys.maxsize)  # counted here instead, answered in JSON

    def check_declared_length(self):
        """First thing in ``prepare``: refuse a declared length over the limit before reading anything."""
        declared = self.request.headers.get("Content-Length", "")
        if declared.isdigit() and (len(declared) > 18 or int(declared) > self.body_limit()):
            raise self._too_large()

    def body_accepted(self):
        """Last thing in a successful ``prepare``: the body will now be read in full before the method runs."""
        self._answer_early = False

    def data_received(self, chunk):
        self._received += len(chunk)
        if self._received > self.body_limit():
            self._chunks = []
            self._answer_early = True
            exc = self._too_large()
            self.send_error(exc.status, exc_info=(type(exc), exc, None))
        else:
            self._chunks.append(chunk)

    def body_bytes(self):
        return b"".join(self._chunks)

    def finish(self, chunk=None):
        sock = None
        if self._answer_early and not self._finished:
            self.set_header("Connection", "close")  # so that no client reuses the connection Tornado closes
            if self._declares_body():
                sock = keep_open(self.request.connection.stream)
        flushed = super().finish(chunk)
        if sock is not None:
            asyncio.ensure_future(drain_and_close(sock, LINGER_BYTES, LINGER_SECONDS, flushed))
        return flushed

    def _declares_body(self):
        headers = self.request.headers
        return headers.get("Content-Length", "0") != "0" or "chunked" in headers.get("Transfer-Encoding", "").lower()

    def _too_large(self):
        limit = self.body_limit()
        return AppError(413, "body_too_large", N_("Request body is over %(limit)s bytes", limit=limit), limit=limit)
