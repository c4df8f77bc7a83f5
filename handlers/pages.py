"""Server-rendered pages: the chat UI, login and logout, the admin page, error pages."""
import base64
import logging
import os
import secrets
from urllib.parse import urlencode

import orjson
import tornado.httputil
import tornado.web

from handlers import csp, i18n
from handlers.base import NO_PAGE, SESSION_COOKIE, BaseHandler, session_cookie
from handlers.body import StreamedBody
from handlers.bundle import resource
from handlers.realtime import events
from models import chats, messages, users
from models.db import DatabaseUnavailable, db_call
from models.errors import AppError, bad_request
from models.i18n import N_, render

logger = logging.getLogger(__name__)
JS_DIR = resource("static", "js")
APP_MODULES = sorted(n for n in os.listdir(JS_DIR) if n.endswith(".js") and not n.startswith("diagnostics"))
VENDOR_MODULES = ("markdown-it",)  # static/vendor/<name>.js, imported as ``from 'markdown-it'``
NEXT_PAGES = frozenset({"/", "/admin", "/diagnostics"})  # where the login page may send the browser on


def safe_next(target):
    """The page to open after logging in: one of ``NEXT_PAGES`` (query and fragment dropped), else "/".

    An allow-list rather than "any local path": browsers read ``/\\host`` as
    ``//host``, skip tabs and newlines, and a CR/LF cannot go into a header.
    """
    path = target.split("?", 1)[0].split("#", 1)[0]
    return path if path in NEXT_PAGES else "/"


def page_limits(config):
    """Limits the server enforces, for the pages' ``data-`` attributes: the browser keeps no copy of them."""
    return {"max_text": messages.MAX_TEXT, "max_client_msg_id": messages.MAX_CLIENT_MSG_ID,
            "max_title": chats.MAX_TITLE, "min_password": users.MIN_PASSWORD,
            "max_upload_bytes": config["max_upload_bytes"]}


class PageHandler(BaseHandler):
    async def session_user(self):
        """The user of the browser session cookie, or None."""
        cookie = session_cookie(self)
        if not cookie:
            return None
        try:
            return await db_call(users.session_for_refresh_token, cookie)
        except AppError:
            return None

    def render_app_page(self, template, **context):
        """A page running our ES modules: a strict CSP and an import map of cache-busted module URLs."""
        nonce = base64.b64encode(secrets.token_bytes(16)).decode()
        self.set_header("Content-Security-Policy", csp.app_page(self.request.host, nonce))
        self.set_header("Cache-Control", "no-store")
        self.render_page(template, csp_nonce=nonce, import_map=self.import_map(), limits=page_limits(self.config), **context)

    def import_map(self):
        """``/static/js/x.js`` -> ``static_url('js/x.js')`` so modules imported by modules are cache-busted too;
        the vendored libraries (``make vendor``) by their package names."""
        imports = {f"/static/js/{n}": self.static_url(f"js/{n}") for n in APP_MODULES}
        imports.update((name, self.static_url(f"vendor/{name}.js")) for name in VENDOR_MODULES)
        return {"imports": imports}


@tornado.web.stream_request_body
class FormPage(StreamedBody, PageHandler):
    """A page that takes a form post, its body read like the API's (``handlers/body.py``): one over
    ``max_body_bytes`` gets a 413 error page (JSON when asked for), not Tornado's bare 400."""

    def check_xsrf_cookie(self):
        """Tornado calls this before a streamed body has arrived; ``read_form`` checks once it has."""

    def prepare(self):
        self.check_declared_length()
        self.body_accepted()

    def read_form(self):
        """Parse the streamed form into the request's arguments, then check its XSRF token."""
        request = self.request
        try:
            tornado.httputil.parse_body_arguments(request.headers.get("Content-Type", ""), self.body_bytes(),
                                                  request.body_arguments, request.files, request.headers)
        except tornado.httputil.HTTPInputError:
            raise bad_request("invalid_form", N_("The form data could not be read: send the form again"))
        for name, values in request.body_arguments.items():
            request.arguments.setdefault(name, []).extend(values)
        BaseHandler.check_xsrf_cookie(self)

    def wants_json(self):
        return "application/json" in self.request.headers.get("Accept", "")

    def errors_in_json(self):
        return self.wants_json()


class IndexHandler(PageHandler):
    async def get(self):
        if "text/html" not in self.request.headers.get("Accept", ""):
            self.set_header("Content-Type", "application/json")
            return self.finish(orjson.dumps({"message": "Corporate Messenger API", "version": self.state.version}))
        self.current_user = await self.session_user()
        if self.current_user is None:
            return self.redirect("/login")
        self.render_app_page("chat.html")


class LoginPage(FormPage):
    def get(self):
        """``?lang=ru`` (the page's language links) keeps the choice in the ``cm_locale`` cookie, no script needed."""
        code = self.get_query_argument("lang", None)
        if code in i18n.LOCALES:
            i18n.remember(self, code)
            self.locale = i18n.get(code)
        self.render_form(error=None, username="")

    def render_form(self, error, username):
        next_url = self._next_url()
        links = [{"code": code, "name": i18n.NAMES[code],
                  "url": "/login?" + urlencode({"lang": code, **({"next": next_url} if next_url != "/" else {})})}
                 for code in i18n.LOCALES]
        self.render_app_page("login.html", error=error, username=username, next_url=next_url, language_links=links)

    async def post(self):
        self.read_form()
        username = self.get_body_argument("username", "")
        password = self.get_body_argument("password", "")
        wants_json = self.wants_json()
        try:
            payload = await self.log_in(username, password, set_cookie=True)
        except (AppError, DatabaseUnavailable) as exc:
            body = self.set_error_status(exc)
            if wants_json:
                return self.finish_error_json(body)
            return self.render_form(error=body["message"], username=username)
        if wants_json:
            self.set_header("Content-Type", "application/json")
            return self.finish(orjson.dumps(payload))
        self.redirect(self._next_url())

    def _next_url(self):
        return safe_next(self.get_argument("next", "/"))


class LogoutPage(FormPage):
    async def post(self):
        self.read_form()
        user = await self.session_user()
        if user is not None:
            await db_call(users.revoke_session, user["session_id"])
            events.close_session(self.state.bus, user["session_id"])
        self.clear_cookie(SESSION_COOKIE)
        self.redirect("/login")


class AdminPage(PageHandler):
    """User management for administrators; everyone else gets 403."""

    async def get(self):
        self.current_user = await self.session_user()
        if self.current_user is None:
            return self.redirect("/login?next=/admin")
        if not self.current_user.get("is_admin"):
            raise tornado.web.HTTPError(403, N_("Only administrators can manage users."))
        self.render_app_page("admin.html")


class NotFoundPage(BaseHandler):
    def prepare(self):
        self.set_status(404)
        self.render_page("error.html", status_code=404, message=render(NO_PAGE, self.locale))


ROUTES = [
    (r"/", IndexHandler),
    (r"/login", LoginPage),
    (r"/logout", LogoutPage),
    (r"/admin", AdminPage),
]
