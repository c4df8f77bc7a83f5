"""Why the server closes a WebSocket: the codes of its own and the reasons that name one cause, each
written once.  The server closes with them (``ws.py``, ``api.py``, ``realtime/``), the catalogs
translate them, and ``cli/doctor.py`` recognises them in any language the server speaks.

A reason with a parameter is a template here; ``reason.fill(name=value)`` makes the one to send.
"""
from models.i18n import N_
from models.users import DEACTIVATED

POLICY = 1008  # the credentials or the origin: the reason names which
INTERNAL_ERROR = 1011
TRY_AGAIN_LATER = 1013  # too many sockets waiting to be admitted: the ``server_busy`` frame says when
SLOW_CONSUMER = 4000
TOO_MANY_CONNECTIONS = 4001

ORIGIN_REFUSED = N_("origin not allowed: %(origin)s")
NO_CREDENTIALS = N_("missing token: pass ?token=, a session cookie, or an auth frame within %(seconds)s s")
NOT_AUTHENTICATED = N_('not authenticated: the first frame must be {"type":"auth","token":...}')
LOGGED_OUT = N_("token revoked (logged out)")
USER_DEACTIVATED = N_("user deactivated")
PASSWORD_RESET = N_("password was reset: log in again")
PASSWORD_CHANGED = N_("password changed in another session: log in again")
TOO_MANY = N_("too many connections: at most %(max)s per user; close another tab or device")
FELL_BEHIND = N_("outgoing buffer overflow: reconnect and catch up")
SEND_FAILED = N_("server error while sending: reconnect and catch up")
DB_UNAVAILABLE = N_("database unavailable")
SERVER_BUSY = N_("server busy: try again in %(seconds)s s")

# The reasons doctor turns into advice: the account can no longer connect, or nothing authenticated it.
ACCOUNT_CLOSED = (USER_DEACTIVATED, DEACTIVATED, PASSWORD_RESET, PASSWORD_CHANGED)
WITHOUT_CREDENTIALS = (NO_CREDENTIALS, NOT_AUTHENTICATED)
