"""Server-rendered pages: the chat UI, login and logout, error pages."""
import logging

import orjson

from handlers.base import SESSION_COOKIE, BaseHandler
from models import users
from models.db import DatabaseUnavailable, db_call
from models.errors import AppError

logger = logging.getLogger(__name__)


class PageHandler(BaseHandler):
    async def session_user(self):
        """The user of the browser session cookie, or None."""
        cookie = self.get_signed_cookie(SESSION_COOKIE)
        if not cookie:
            return None
        try:
            return await db_call(users.session_for_refresh_token, cookie.decode())
        except AppError:
            return None


class IndexHandler(PageHandler):
    async def get(self):
        if "text/html" not in self.request.headers.get("Accept", ""):
            self.set_header("Content-Type", "application/json")
            return self.finish(orjson.dumps({"message": "Corporate Messenger API", "version": self.state.version}))
        self.current_user = await self.session_user()
        if self.current_user is None:
            return self.redirect("/login")
        self.render_page("chat.html")


class LoginPage(PageHandler):
    def get(self):
        self.render_page("login.html", error=None, username="", next_url=self._next_url())

    async def post(self):
        username = self.get_body_argument("username", "")
        password = self.get_body_argument("password", "")
        wants_json = "application/json" in self.request.headers.get("Accept", "")
        try:
            payload = await self.log_in(username, password, set_cookie=True)
        except AppError as exc:
            self.set_status(exc.status)
            if exc.status == 429:
                self.set_header("Retry-After", str(exc.extra.get("retry_after", 60)))
            if wants_json:
                return self.finish({"error": exc.as_dict()})
            return self.render_page("login.html", error=exc.message, username=username, next_url=self._next_url())
        except DatabaseUnavailable:
            self.set_status(503)
            message = "The server cannot reach its database. Try again shortly."
            if wants_json:
                return self.finish({"error": {"code": "db_unavailable", "message": message}})
            return self.render_page("login.html", error=message, username=username, next_url=self._next_url())
        if wants_json:
            self.set_header("Content-Type", "application/json")
            return self.finish(orjson.dumps(payload))
        self.redirect(self._next_url())

    def _next_url(self):
        target = self.get_argument("next", "/")
        return target if target.startswith("/") and not target.startswith("//") else "/"


class LogoutPage(PageHandler):
    async def post(self):
        user = await self.session_user()
        if user is not None:
            await db_call(users.revoke_session, user["session_id"])
            from handlers import events
            events.close_session(self.state.bus, user["session_id"])
        self.clear_cookie(SESSION_COOKIE)
        self.redirect("/login")


class NotFoundPage(BaseHandler):
    def prepare(self):
        self.set_status(404)
        self.render_page("error.html", status_code=404, message="There is no page at this address.")


ROUTES = [
    (r"/", IndexHandler),
    (r"/login", LoginPage),
    (r"/logout", LogoutPage),
]
