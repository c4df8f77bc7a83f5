"""Base handlers: JSON bodies with a size limit, bearer auth, one error path, Jinja rendering."""
import http.client
import ipaddress
import logging
from urllib.parse import urlsplit

import orjson
import tornado.web

from handlers import csp, i18n, xsrf
from handlers.body import StreamedBody
from models import demo, users
from models.clock import parse_iso
from models.db import DatabaseUnavailable, db_call, run_blocking, unavailable_error
from models.errors import AppError, bad_request
from models.i18n import N_, NP_, render
from models.validate import MAX_ID, check_id

logger = logging.getLogger(__name__)
SESSION_COOKIE = "cm_session"
NO_PAGE = N_("There is no page at this address.")
MAX_PATH_ID_DIGITS = 19  # more digits than any 64-bit id: not found, whatever the value
PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


def error_body(exc, status=500, locale=None):
    """The one error shape: ``(HTTP status, {"code", "message", ...})`` for any exception.

    REST answers ``{"error": body}``, pages show ``body["message"]`` and the
    WebSocket sends ``{"type": "error", **body}``.  ``status`` is Tornado's
    status for exceptions that carry none.  The message is in ``locale``'s
    language (a ``tornado.locale.Locale``; English without one), the code in English.
    """
    if isinstance(exc, AppError):
        return exc.status, exc.as_dict(locale)
    if isinstance(exc, DatabaseUnavailable):
        return 503, unavailable_error(exc, N_("retry shortly")).as_dict(locale)
    message = None
    if isinstance(exc, tornado.web.HTTPError):
        status, message = exc.status_code, exc.log_message
    message = message or http.client.responses.get(status, "Error")
    return status, {"code": _status_code_name(status), "message": render(message, locale)}


def _status_code_name(status):
    return {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 413: "body_too_large", 429: "rate_limited",
            503: "unavailable"}.get(status, "internal_error")


def direct_from_loopback(request):
    """The request comes from this machine and not through a proxy (it carries no forwarding header),
    even a proxy that connects from 127.0.0.1."""
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.remote_ip).is_loopback
    except ValueError:
        return False


def bearer_token(request):
    """The token of an ``Authorization: Bearer`` header ("" when it is empty), or None without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def session_cookie_parts(handler):
    """``(session id or None, refresh token or None)`` from the signed session cookie."""
    value = (handler.get_signed_cookie(SESSION_COOKIE) or b"").decode()
    session_id, _, refresh = value.rpartition(":")  # a cookie set before it held the session id: token only
    return (int(session_id) if session_id.isdigit() else None), (refresh or None)


def session_cookie(handler):
    """The browser session's refresh token, from its signed cookie, or None."""
    return session_cookie_parts(handler)[1]


def origin_allowed(request, allowed_origins):
    """A browser's Origin is this server's own or an allowed one; no Origin (not a browser) passes."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower() or origin.lower() in allowed_origins


def set_security_headers(handler):
    """On every response (error pages too: Tornado sets them again when it clears a response for an error).

    Pages that run scripts replace the Content-Security-Policy with their own.
    """
    handler.set_header("X-Content-Type-Options", "nosniff")
    handler.set_header("Referrer-Policy", "same-origin")
    handler.set_header("X-Frame-Options", "DENY")
    handler.set_header("Content-Security-Policy", csp.NO_SCRIPTS)


class StaticFiles(tornado.web.StaticFileHandler):
    """``/static/``, ``/favicon.ico`` and ``/robots.txt``, with the same headers as everything else."""

    def set_default_headers(self):
        set_security_headers(self)


async def authenticate_token(secret, token):
    """The live user behind an access token, or AppError(401) saying why not."""
    claims = users.decode_access_token(secret, token)
    user = await db_call(users.resolve_session, claims)
    return {**user, "token_expires_at": claims["exp"]}


class BaseHandler(tornado.web.RequestHandler):
    """Shared by pages and the API: rendering and error pages."""

    @property
    def state(self):
        """The process-wide objects built in ``make_app`` (hub, bus, writer, settings...)."""
        return self.application.state

    @property
    def config(self):
        return self.application.state.config

    def render_page(self, template, **context):
        env = self.application.state.jinja
        context.update(static_url=self.static_url, xsrf_form_html=self.xsrf_form_html,
                       xsrf_token=self.xsrf_token.decode(), current_user=self.current_user,
                       version=self.application.state.version, request=self.request,
                       locale=self.locale.code)
        i18n.keep_users_choice(self, self.current_user)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(env.get_template(template).render(**context))

    async def log_in(self, username, password, set_cookie=False):
        """Check credentials (throttled), open a session, return the token payload."""
        address = self.request.remote_ip
        await self.check_password_throttle(username)
        candidate = await db_call(users.find_login_candidate, username)
        valid = await run_blocking(users.verify_password, candidate and candidate["password_hash"], password)
        if not (candidate and valid):
            await self.state.throttle.failed(address, username)
            logger.warning("Failed login for %r from %s", username[:32], address)
            raise AppError(401, "invalid_credentials", N_("Wrong username or password"))
        if not candidate["is_active"]:
            raise AppError(401, "user_deactivated", users.DEACTIVATED)
        self.check_demo_password(candidate["username"], password)
        await self.state.throttle.succeeded(username)
        session = await db_call(users.open_session, candidate["id"],
                                self.request.headers.get("User-Agent", ""), self.config["refresh_token_ttl"])
        if set_cookie:
            self.set_session_cookie(session["session_id"], session["refresh_token"])
            i18n.keep_users_choice(self, candidate)  # a first page that never looks the session up
        return self.token_payload(session)

    async def check_password_throttle(self, username):
        """429 ``too_many_attempts`` while this address or username has had too many wrong passwords
        (logins and password changes count alike)."""
        wait = await self.state.throttle.retry_after(self.request.remote_ip, username)
        if wait:
            raise AppError(429, "too_many_attempts", NP_("Too many failed logins. Try again in %(num)d second.",
                                                         "Too many failed logins. Try again in %(num)d seconds.",
                                                         wait), retry_after=wait)

    def check_demo_password(self, username, password):
        """A published demo password signs in only from this machine, not through a proxy or from
        elsewhere, unless ``--allow-demo-on-public`` says otherwise."""
        if self.config["allow_demo_on_public"] or direct_from_loopback(self.request):
            return
        if demo.is_published_password(username, password):
            logger.warning("Refused the published demo password of %r from %s", username, self.request.remote_ip)
            raise AppError(403, "demo_password_refused",
                           N_("%(username)s still has the published demo password, which works only on the "
                              "server's own machine: set a new one there (set-password or the admin page)",
                              username=username))

    def token_payload(self, session):
        ttl = self.config["access_token_ttl"]
        token = users.issue_access_token(self.config["secret_key"], session["user"]["id"],
                                         session["session_id"], ttl)
        return {"access_token": token, "token_type": "bearer", "expires_in": ttl,
                "refresh_token": session["refresh_token"],
                "refresh_expires_in": self.config["refresh_token_ttl"], "user": session["user"]}

    def set_session_cookie(self, session_id, refresh_token):
        self.set_signed_cookie(SESSION_COOKIE, f"{session_id}:{refresh_token}", httponly=True, samesite="Lax",
                               secure=self.request.protocol == "https",
                               expires_days=self.config["refresh_token_ttl"] / 86400)
        self._issue_xsrf(str(session_id))  # the token of the new session, for the page's next posts

    # --- XSRF: a token bound to the session (see handlers/xsrf.py) --------------------

    @property
    def xsrf_token(self):
        """This session's token, masked afresh; the ``_xsrf`` cookie is (re)set when it holds another."""
        if getattr(self, "_xsrf_value", None) is None:
            binding = self._xsrf_binding()
            if xsrf.matches(self.config["secret_key"], binding, self.get_cookie(xsrf.COOKIE)):
                self._xsrf_value = xsrf.issue(self.config["secret_key"], binding)
            else:
                self._issue_xsrf(binding)
        return self._xsrf_value.encode()

    def _issue_xsrf(self, binding):
        self._xsrf_value = xsrf.issue(self.config["secret_key"], binding)
        self.set_cookie(xsrf.COOKIE, self._xsrf_value, **self.settings.get("xsrf_cookie_kwargs", {}))

    def _xsrf_binding(self):
        return str(session_cookie_parts(self)[0] or "")

    def check_xsrf_cookie(self):
        """A cookie-authenticated post must come from this site: an Origin of ours (when the browser sends
        one) and this session's token in the ``_xsrf`` field or the ``X-XSRFToken`` header."""
        if not origin_allowed(self.request, self.config["allowed_origins"]):
            raise tornado.web.HTTPError(403, N_("Cross-site request refused (Origin %(origin)s)",
                                                origin=self.request.headers["Origin"][:80]))
        token = (self.get_argument("_xsrf", None) or self.request.headers.get("X-Xsrftoken")
                 or self.request.headers.get("X-Csrftoken"))
        if not token:
            raise tornado.web.HTTPError(403, N_("'_xsrf' argument missing from POST"))
        if not xsrf.matches(self.config["secret_key"], self._xsrf_binding(), token):
            raise tornado.web.HTTPError(403, N_("XSRF token does not belong to this session: reload the page"))

    def set_default_headers(self):
        set_security_headers(self)

    def get_user_locale(self):
        """The saved or the cookie's language; None lets Tornado read ``Accept-Language``."""
        return i18n.chosen(self, self.current_user)

    def write_error(self, status_code, **kwargs):
        """Every uncaught exception ends here: JSON under /api/, the error page elsewhere."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        body = self.set_error_status(exc, status_code)
        if self.errors_in_json():
            self.finish_error_json(body)
        else:
            self.render_page("error.html", status_code=self.get_status(), message=body["message"])

    def errors_in_json(self):
        """Whether this request's errors are answered as JSON (the REST API) rather than a page."""
        return self.request.path.startswith("/api/")

    def finish_error_json(self, body):
        """The one JSON error answer, ``{"error": {"code", "message", …}}`` (``body`` from ``set_error_status``)."""
        self.set_header("Content-Type", "application/json")
        self.finish(orjson.dumps({"error": body}))

    def set_error_status(self, exc, status_code=500):
        """Set the status (and ``Retry-After``) that ``exc`` calls for; return its error body."""
        status, body = error_body(exc, status_code, self.locale)
        self.set_status(status)
        if "retry_after" in body:
            self.set_header("Retry-After", str(body["retry_after"]))
        return body

    def log_exception(self, typ, value, tb):
        """An AppError is an answer, not a fault; an unreachable database is one warning line."""
        if isinstance(value, AppError):
            return
        if isinstance(value, DatabaseUnavailable):
            logger.warning("Database unavailable during %s %s: %s", self.request.method, self.request.path, value)
            return
        super().log_exception(typ, value, tb)


@tornado.web.stream_request_body
class ApiHandler(StreamedBody, BaseHandler):
    """JSON in, JSON out, bearer-token auth; bodies streamed in and size-checked (``handlers/body.py``)."""

    auth_required = True

    def check_xsrf_cookie(self):
        """Bearer tokens are not ambient credentials; cookie-based calls check XSRF themselves."""

    def set_default_headers(self):
        super().set_default_headers()
        self.set_header("Cache-Control", "no-store")

    async def prepare(self):
        self.check_declared_length()
        if self.auth_required:
            token = bearer_token(self.request)
            if not token:
                raise AppError(401, "token_missing", N_("Send Authorization: Bearer <access_token>"))
            self.current_user = await authenticate_token(self.config["secret_key"], token)
        self.body_accepted()

    def json_body(self, required=True):
        raw = self.body_bytes()
        if not raw.strip():
            if required:
                raise bad_request("invalid_json", N_("Request body must be a JSON object"))
            return {}
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise bad_request("invalid_json", N_("Request body is not valid JSON: %(detail)s", detail=exc))
        if not isinstance(body, dict):
            raise bad_request("invalid_json", N_("Request body must be a JSON object"))
        return body

    def field(self, body, name, kind, required=True, default=None):
        """One typed field of a JSON body (bool is not accepted as int)."""
        if name not in body or body[name] is None:
            if required:
                raise AppError(422, "missing_field", N_("Field '%(name)s' is required", name=name), field=name)
            return default
        value = body[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise AppError(422, "invalid_field", N_("Field '%(name)s' must be %(kind)s", name=name,
                                                    kind=kind.__name__), field=name)
        if kind is int:
            check_id(value, name)
        return value

    def query_int(self, name, default=None, minimum=0):
        raw = self.get_query_argument(name, None)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request("invalid_query", N_("Query parameter '%(name)s' must be an integer", name=name),
                              field=name)
        if not minimum <= value <= MAX_ID:
            raise bad_request("invalid_query", N_("Query parameter '%(name)s' must be between %(min)s and %(max)s",
                                                 name=name, min=minimum, max=MAX_ID), field=name)
        return value

    def query_time(self, name):
        """An ISO 8601 UTC time from the query string (a ``server_time`` the server gave out)."""
        raw = self.get_query_argument(name, None)
        if raw in (None, ""):
            return None
        try:
            return parse_iso(raw)
        except ValueError:
            raise bad_request("invalid_query", N_("Query parameter '%(name)s' must be an ISO 8601 time in years "
                                                  "1-9999 UTC", name=name), field=name)

    def path_id(self, raw):
        """An id from the URL; one beyond any stored id simply does not exist.

        The length is checked first: ``int()`` refuses strings of over 4,300 digits.
        """
        if len(raw) > MAX_PATH_ID_DIGITS or int(raw) > MAX_ID:
            raise AppError(404, "not_found", N_("No object with id %(id)s", id=raw[:20]))
        return int(raw)

    def require_admin(self):
        if not self.current_user.get("is_admin"):
            raise AppError(403, "admin_only", N_("Only administrators may do this"))

    def send_json(self, payload, status=200):
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(orjson.dumps(payload))
