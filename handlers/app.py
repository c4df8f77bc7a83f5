"""make_app: the one Tornado application serving pages, REST, WebSocket and static files."""
import asyncio
import logging
import os
import types

import jinja2
import tornado.web

from handlers import api, diagnostics, files, i18n, metrics, pages, profile, ws
from handlers.bundle import ROOT, VERSION
from handlers.base import StaticFiles
from handlers.realtime.backplane import PostgresBus
from handlers.realtime.bus import LocalBus
from handlers.realtime.batching import Admissions, Batcher
from handlers.realtime.hub import Hub
from handlers.realtime.writer import MessageWriter
from handlers.redact import loggable_uri
from jobs.sweeper import OrphanSweeper
from handlers.throttle import make_limiters
from models import messages, users
from models.db import db_call

access_log = logging.getLogger("tornado.access")
logger = logging.getLogger(__name__)


def log_request(handler):
    status = handler.get_status()
    level = access_log.info if status < 400 else access_log.warning if status < 500 else access_log.error
    if status < 400 and getattr(handler, "quiet_access_log", False):
        level = access_log.debug  # polled endpoints would crowd real lines out of the log buffer
    level("%d %s %s (%s) %.2fms", status, handler.request.method, loggable_uri(handler.request.uri),
          handler.request.remote_ip, 1000.0 * handler.request.request_time())


def on_postgres(config):
    """Several processes may share this database (only PostgreSQL serves more than one)."""
    return config["database_url"].startswith(("postgres://", "postgresql"))


def make_bus(config):
    """In-process delivery, or PostgreSQL LISTEN/NOTIFY when processes share a PostgreSQL database."""
    kind = config["backplane"]
    if kind == "postgres" or (kind == "auto" and on_postgres(config)):
        if not on_postgres(config):
            raise SystemExit("--backplane postgres needs a PostgreSQL DATABASE_URL")
        return PostgresBus(config["database_url"])
    if kind not in ("auto", "local"):
        raise SystemExit(f"--backplane must be auto, local or postgres, not {kind!r}")
    return LocalBus()


def make_app(config):
    """Build the application from a settings dict (see ``server.SETTINGS``)."""
    bus = make_bus(config)
    hub = Hub(bus, presence_grace=config["presence_grace"], on_offline=_record_last_seen)
    limiters = make_limiters(config, shared=on_postgres(config))
    state = types.SimpleNamespace(
        config=config, version=VERSION, bus=bus, hub=hub,
        admissions=Admissions(config["ws_admission_queue"]), catch_ups=Batcher(messages.catch_up_many),
        writer=MessageWriter(bus, limiters.send, config["write_batch_max"]),
        throttle=limiters.login,
        upload_limiter=limiters.upload,
        reaction_limiter=limiters.reaction,
        sweeper=OrphanSweeper(config["orphan_upload_grace"]),
        jinja=i18n.install(jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(ROOT, "templates")),
                                              autoescape=True)),
    )
    routes = pages.ROUTES + diagnostics.ROUTES + [
        (r"/ws", ws.ChatSocket),
        (r"/metrics", metrics.MetricsHandler),
        (r"/api/health", api.HealthHandler),
        (r"/api/auth/login", api.LoginHandler),
        (r"/api/auth/refresh", api.RefreshHandler),
        (r"/api/auth/logout", api.LogoutHandler),
        (r"/api/me", api.MeHandler),
        (r"/api/me/avatar", profile.AvatarHandler),
        (r"/api/me/password", profile.PasswordHandler),
        (r"/api/users", api.UsersHandler),
        (r"/api/users/(\d+)/avatar", profile.UserAvatarHandler),
        (r"/api/admin/users", api.AdminUsersHandler),
        (r"/api/admin/users/(\d+)", api.AdminUserHandler),
        (r"/api/admin/users/(\d+)/password", api.AdminPasswordHandler),
        (r"/api/chats", api.ChatsHandler),
        (r"/api/chats/(\d+)", api.ChatHandler),
        (r"/api/chats/(\d+)/members", api.MembersHandler),
        (r"/api/chats/(\d+)/members/(\d+)", api.MemberHandler),
        (r"/api/chats/(\d+)/messages", api.MessagesHandler),
        (r"/api/chats/(\d+)/read", api.ReadHandler),
        (r"/api/channels", api.ChannelsHandler),
        (r"/api/channels/(\d+)/join", api.ChannelJoinHandler),
        (r"/api/messages/(\d+)", api.MessageHandler),
        (r"/api/messages/(\d+)/reactions/([^/]+)", api.ReactionHandler),
        (r"/api/messages/(\d+)/pin", api.PinHandler),
        (r"/api/chats/(\d+)/pins", api.PinsHandler),
        (r"/api/updates", api.UpdatesHandler),
        (r"/api/search", api.SearchHandler),
        (r"/api/files", files.UploadHandler),
        (r"/api/files/(\d+)", files.FileHandler),
        (r"/api/files/(\d+)/thumbnail", files.ThumbnailHandler),
        (r"/api/.*", api.NotFoundHandler),
    ]
    app = tornado.web.Application(
        routes,
        static_path=os.path.join(ROOT, "static"),
        static_handler_class=StaticFiles,
        cookie_secret=config["secret_key"],
        xsrf_cookies=True,
        xsrf_cookie_kwargs={"samesite": "Strict"},
        websocket_ping_interval=config["ws_ping_interval"],
        websocket_ping_timeout=config["ws_ping_timeout"],
        websocket_max_message_size=config["ws_max_frame_bytes"],
        log_function=log_request,
        default_handler_class=pages.NotFoundPage,
        compress_response=True,
    )
    state.metrics = metrics.make_registry(state)
    app.state = state
    return app


def _record_last_seen(user_id):
    """Store "last seen" when a user goes offline, without holding up the hub."""
    async def write():
        try:
            await db_call(users.touch_last_seen, user_id)
        except Exception as exc:  # presence bookkeeping must never take the loop down
            logger.warning("Could not record last seen for user %s: %s", user_id, exc)
    asyncio.ensure_future(write())
