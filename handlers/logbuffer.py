"""The last server log lines kept in memory for /diagnostics, with secrets redacted."""
import collections
import logging

from handlers.redact import redact


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then cuts tokens and passwords from the whole line (tracebacks included)."""

    def format(self, record):
        return redact(super().format(record))


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RingBufferHandler(logging.Handler):
    def __init__(self, capacity=200):
        super().__init__()
        self.lines = collections.deque(maxlen=capacity)
        self.setFormatter(RedactingFormatter(LOG_FORMAT))

    def emit(self, record):
        try:
            self.lines.append(self.format(record))
        except Exception:  # logging must never raise into the caller
            self.handleError(record)


ring_buffer = RingBufferHandler()


def install_ring_buffer():
    root = logging.getLogger()
    if ring_buffer not in root.handlers:
        root.addHandler(ring_buffer)
