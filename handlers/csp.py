"""Content-Security-Policy for every response: nothing is allowed that a page does not need.

Responses without scripts (error pages, JSON, static files) get ``NO_SCRIPTS``.
Pages running our ES modules allow scripts from this server only (plus the
nonce of their import map) and WebSockets to this host.  ``/diagnostics``,
which shows administrators the server log, gets the strictest policy that
still runs it: no inline script at all, no form submission, and WebSockets
only to this host and the ``--allowed-origins``.
"""

NO_SCRIPTS = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")


def _policy(*directives):
    return "; ".join(directives)


def app_page(host, nonce):
    return _policy("default-src 'self'", f"script-src 'self' 'nonce-{nonce}'", "style-src 'self'",
                   "img-src 'self' data:", f"connect-src 'self' ws://{host} wss://{host}",
                   "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'")


def diagnostics_page(host, allowed_origins):
    """The allowed origins also as ``ws(s)://`` addresses: the page may test a WebSocket through them."""
    sockets = ["ws" + origin[4:] for origin in allowed_origins if origin.startswith("http")]
    connect = " ".join(dict.fromkeys(["'self'", f"ws://{host}", f"wss://{host}", *allowed_origins, *sockets]))
    return _policy("default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'",
                   f"connect-src {connect}", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'")
