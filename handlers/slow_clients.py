"""Slow clients: a request's head must arrive, and its body keep arriving, within ``--http-timeout``.

Tornado bounds the wait for a request's head with ``idle_connection_timeout``
(a kept-alive connection that sends no next request is closed after it too),
but waits an hour by default, and it bounds a body only as a whole
(``body_timeout``), which would also cut a large upload on a slow line.  So,
as nginx does with ``client_header_timeout`` and ``client_body_timeout``: the
head must be complete within the timeout, and a body may pause for at most the
timeout between two reads.  A WebSocket, once upgraded, is no HTTP request any
more and is not touched (its pings watch it).
"""
import logging

import tornado.httpserver
import tornado.httputil
import tornado.ioloop

logger = logging.getLogger(__name__)


class HTTPServer(tornado.httpserver.HTTPServer):
    """Tornado's server with one ``timeout`` (seconds) for a request's head and for each pause in its body."""

    def initialize(self, request_callback, timeout, **kwargs):
        self.timeout = timeout
        super().initialize(request_callback, idle_connection_timeout=timeout, **kwargs)

    def start_request(self, server_conn, request_conn):
        return BodyWatch(super().start_request(server_conn, request_conn), request_conn, self.timeout)


def declares_body(headers):
    return headers.get("Content-Length", "0") != "0" or "Transfer-Encoding" in headers


class BodyWatch(tornado.httputil.HTTPMessageDelegate):
    """Passes one request on to ``delegate``; closes the connection when its body stalls for ``timeout`` s.

    The clock starts once the handler is ready for the body (after ``prepare``)
    and stops when the body is complete or the connection has closed.
    """

    def __init__(self, delegate, connection, timeout):
        self.delegate, self.connection, self.timeout = delegate, connection, timeout
        self.loop = tornado.ioloop.IOLoop.current()
        self.last_read = self.timer = None
        self.done = False

    def headers_received(self, start_line, headers):
        ready = self.delegate.headers_received(start_line, headers)
        if declares_body(headers):
            if ready is None:
                self._watch()
            else:
                ready.add_done_callback(lambda _: self._watch())
        return ready

    def data_received(self, chunk):
        self.last_read = self.loop.time()
        return self.delegate.data_received(chunk)

    def finish(self):
        self._stop()
        return self.delegate.finish()

    def on_connection_close(self):
        self._stop()
        return self.delegate.on_connection_close()

    def _watch(self):
        if not self.done:
            self.last_read = self.loop.time()
            self.timer = self.loop.call_later(self.timeout, self._check)

    def _check(self):
        if self.done or self.connection.stream is None:  # finished, or handed over (a WebSocket)
            return
        quiet = self.loop.time() - self.last_read
        if quiet < self.timeout:
            self.timer = self.loop.call_later(self.timeout - quiet, self._check)
            return
        logger.info("Closing a connection from %s: its request body stalled for %s s",
                    self.connection.context.remote_ip, self.timeout)
        self.connection.close()

    def _stop(self):
        self.done = True
        if self.timer is not None:
            self.loop.remove_timeout(self.timer)
