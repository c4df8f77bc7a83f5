"""Corporate Messenger: one process serving pages, REST, WebSocket and /diagnostics.

    python server.py [--host H] [--port P] ...     run the server
    python server.py --version                     version and git commit
    python server.py doctor --url URL --user NAME  check a running server from a terminal
    python server.py create-user NAME [--admin]    operator commands (see cli/commands.py):
    python server.py set-password NAME             passwords come from a prompt or stdin
    python server.py migrate
    python server.py backup --to FILE

The one-file binary (``make binary``) takes exactly the same arguments.

Every setting comes from a flag, else an environment variable, else its default
(see SETTINGS, or ``python server.py --help``).
"""
import argparse
import asyncio
import ipaddress
import logging
import os
import secrets
import signal
import socket
import sys

import tornado.netutil

logger = logging.getLogger("messenger")


def _bool(value):
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _list(value):
    return [v.strip().lower() for v in str(value).split(",") if v.strip()]


# name, environment variable, default, type, help
SETTINGS = [
    ("host", "CM_HOST", "127.0.0.1", str, "address to listen on"),
    ("port", "CM_PORT", 8000, int, "port to listen on (0 picks a free one)"),
    ("trust_proxy_headers", "CM_TRUST_PROXY_HEADERS", False, _bool,
     "behind a reverse proxy: take the client address and scheme from X-Forwarded-For/-Proto (X-Real-IP)"),
    ("data_dir", "CM_DATA_DIR", "data", str, "folder for the SQLite database and the generated secret"),
    ("database_url", "DATABASE_URL", "", str,
     "sqlite:///path or postgresql://user:pass@host/db (default: SQLite in the data folder)"),
    ("secret_key", "SECRET_KEY", "", str, "signing key for tokens and cookies (default: generated once into the data folder)"),
    ("log_level", "CM_LOG_LEVEL", "INFO", str, "DEBUG, INFO, WARNING or ERROR"),
    ("demo_data", "CM_DEMO_DATA", True, _bool, "create demo accounts and chats in a brand-new database"),
    ("allow_demo_on_public", "CM_ALLOW_DEMO_ON_PUBLIC", False, _bool,
     "let the published demo passwords work from other machines: start on a public address or behind a "
     "proxy (--trust-proxy-headers) with them, and accept them in forwarded requests"),
    ("allowed_origins", "CM_ALLOWED_ORIGINS", "", _list,
     "extra WebSocket origins allowed besides the server's own (comma separated, e.g. https://chat.example.com)"),
    ("access_token_ttl", "CM_ACCESS_TOKEN_TTL", 900, int, "access token lifetime, seconds"),
    ("refresh_token_ttl", "CM_REFRESH_TOKEN_TTL", 30 * 86400, int, "refresh token and session cookie lifetime, seconds"),
    ("login_max_failures", "CM_LOGIN_MAX_FAILURES", 10, int, "failed logins per username per window before 429"),
    ("login_max_failures_per_address", "CM_LOGIN_MAX_FAILURES_PER_ADDRESS", 50, int,
     "failed logins per client address per window before 429"),
    ("login_window", "CM_LOGIN_WINDOW", 300, int, "login throttling window, seconds"),
    ("message_rate", "CM_MESSAGE_RATE", 5.0, float,
     "messages a user may send per second on average (0 = unlimited); over it: rate_limited"),
    ("message_burst", "CM_MESSAGE_BURST", 30, int, "messages a user may send at once before message_rate applies"),
    ("reaction_rate", "CM_REACTION_RATE", 2.0, float,
     "reactions a user may add or remove per second on average (0 = unlimited); over it: rate_limited"),
    ("reaction_burst", "CM_REACTION_BURST", 20, int, "reactions a user may change at once before reaction_rate applies"),
    ("chats_per_hour", "CM_CHATS_PER_HOUR", 60, int,
     "chats (groups and new direct chats) a user may create per hour (0 = unlimited); over it: 429 too_many_chats"),
    ("presence_grace", "CM_PRESENCE_GRACE", 3.0, float, "seconds a user stays online after the last tab closes"),
    ("ws_ping_interval", "CM_WS_PING_INTERVAL", 20, int, "seconds between server pings on each WebSocket"),
    ("ws_ping_timeout", "CM_WS_PING_TIMEOUT", 20, int, "seconds to wait for a pong before dropping a peer"),
    ("ws_outbox_bytes", "CM_WS_OUTBOX_BYTES", 1024 * 1024, int,
     "bytes queued for one slow WebSocket reader before it is closed with 4000"),
    ("ws_max_per_user", "CM_WS_MAX_PER_USER", 20, int,
     "WebSockets one user may hold open on this process (0 = unlimited); more close with 4001"),
    ("ws_auth_timeout", "CM_WS_AUTH_TIMEOUT", 5.0, float,
     "seconds a WebSocket without a token may take to send its auth frame before 1008"),
    ("ws_admission_queue", "CM_WS_ADMISSION_QUEUE", 10000, int,
     "WebSockets that may wait at once for their session and chats to be read (0 = no bound); more are told "
     "server_busy with retry_after and closed with 1013"),
    ("ws_max_frame_bytes", "CM_WS_MAX_FRAME_BYTES", 64 * 1024, int, "largest incoming frame; bigger closes with 1009"),
    ("listen_backlog", "CM_LISTEN_BACKLOG", 4096, int,
     "connections the kernel queues before the server accepts them (capped by net.core.somaxconn); "
     "every client reconnecting at once after a restart needs more than Tornado's 128"),
    ("http_timeout", "CM_HTTP_TIMEOUT", 30.0, float,
     "seconds a client may take to send a request's headers, or pause while sending its body; "
     "an idle kept-alive connection closes after it too"),
    ("max_body_bytes", "CM_MAX_BODY_BYTES", 1024 * 1024, int, "largest JSON request body; bigger gets 413"),
    ("orphan_upload_grace", "CM_ORPHAN_UPLOAD_GRACE", 86400, int,
     "seconds an uploaded file may stay unattached to any message before it is deleted"),
    ("max_upload_bytes", "CM_MAX_UPLOAD_BYTES", 25 * 1024 * 1024, int,
     "largest file upload (POST /api/files); bigger gets 413"),
    ("max_unattached_bytes", "CM_MAX_UNATTACHED_BYTES", 256 * 1024 * 1024, int,
     "bytes of uploads one user may keep that no message carries yet; more gets 429 upload_quota_exceeded"),
    ("upload_rate", "CM_UPLOAD_RATE", 1.0, float,
     "uploads a user may make per second on average (0 = unlimited); over it: 429 rate_limited"),
    ("upload_burst", "CM_UPLOAD_BURST", 20, int, "uploads a user may make at once before upload_rate applies"),
    ("thumbnail_max_pixels", "CM_THUMBNAIL_MAX_PIXELS", 24_000_000, int,
     "largest image, in pixels decoded (a JPEG at down to 1/8 scale), that gets a thumbnail; larger ones are "
     "kept as files"),
    ("write_batch_max", "CM_WRITE_BATCH_MAX", 256, int, "most messages committed in one transaction"),
    ("backplane", "CM_BACKPLANE", "auto", str,
     "how processes share events: auto (postgres on PostgreSQL), local (this process only) or postgres"),
    ("db_pool_size", "CM_DB_POOL_SIZE", 8, int, "database worker threads (PostgreSQL; SQLite uses one)"),
    ("metrics_token", "CM_METRICS_TOKEN", "", str,
     "bearer token that lets other addresses than loopback read /metrics (default: loopback only)"),
    ("disk_min_free_mb", "CM_DISK_MIN_FREE_MB", 100, int,
     "free space of the data folder (MiB) under which /api/health answers 503, /diagnostics warns and "
     "uploads get 507"),
]


class _VersionAction(argparse.Action):
    """``--version``: print the version and the build's git commit, then exit."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        from handlers.bundle import version_line
        print(version_line())
        parser.exit()


def settings_parser(listed=None, **kwargs):
    """An argument parser holding every setting as a ``--flag``; ``--help`` lists those named in ``listed``
    (all by default), the others are taken but not listed."""
    parser = argparse.ArgumentParser(**kwargs)
    for name, var, default, kind, help_text in SETTINGS:
        flag = "--" + name.replace("_", "-")
        shown = f"{help_text} (env {var}, default {default if kind is _bool else repr(default)})"
        if listed is not None and name not in listed:
            shown = argparse.SUPPRESS
        if kind is _bool:
            parser.add_argument(flag, dest=name, default=None, nargs="?", const="true", help=shown)
        else:
            parser.add_argument(flag, dest=name, default=None, help=shown)
    return parser


def parse_config(argv=None, env=None, parser=None):
    """Settings dict from flags, then environment, then defaults.

    ``parser`` (from ``settings_parser``) may carry a subcommand's own arguments;
    their values join the dict under their names.
    """
    from handlers.bundle import program_name

    env = os.environ if env is None else env
    if parser is None:
        parser = settings_parser(prog=program_name(), description="Corporate Messenger server",
                                 epilog="commands: doctor, create-user, set-password, migrate, backup "
                                        "(COMMAND --help for each)")
        parser.add_argument("--version", action=_VersionAction)
    args = parser.parse_args(argv)
    config = dict(vars(args))
    for name, var, default, kind, _ in SETTINGS:
        raw = getattr(args, name)
        if raw is None:
            raw = env.get(var, default)
        config[name] = kind(raw) if not isinstance(raw, list) else raw
    os.makedirs(config["data_dir"], exist_ok=True)
    if not config["database_url"]:
        config["database_url"] = "sqlite:///" + os.path.abspath(os.path.join(config["data_dir"], "messenger.db"))
    if not config["secret_key"]:
        config["secret_key"] = load_or_create_secret(config["data_dir"])
    return config


def load_or_create_secret(data_dir):
    """The secret kept in the data folder, generated on first start (mode 0600)."""
    path = os.path.join(data_dir, "secret_key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    with open(path) as f:
        return f.read().strip()


def setup_logging(level):
    """Log to stderr and to the diagnostics ring buffer; every line passes through token redaction."""
    from handlers.logbuffer import LOG_FORMAT, RedactingFormatter, install_ring_buffer
    console = logging.StreamHandler()
    console.setFormatter(RedactingFormatter(LOG_FORMAT))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[console])
    install_ring_buffer()


def prepare_database(config):
    """Connect, migrate, and seed demo data into a brand-new database."""
    from models import demo, migrations, users
    from models.db import db, describe_url, init_db

    init_db(config["database_url"], config["db_pool_size"])
    logger.info("Database: %s", describe_url(config["database_url"]))
    migrations.migrate()
    if config["demo_data"]:
        with db.connection_context():
            if not users.User.select().exists():
                hashes = {name: users.hash_password(pw) for name, pw, _, _ in demo.DEMO_ACCOUNTS}
                with db.atomic():
                    if demo.seed_if_empty(hashes):
                        logger.info("Created demo accounts admin, user1, user2 and chats")


def check_demo_exposure(config):
    """Refuse to serve working demo passwords to other machines unless told to: on a non-loopback
    address, or behind a proxy (``--trust-proxy-headers``), which makes a loopback address public.

    Requests forwarded by a proxy the server does not trust are refused those passwords at login
    (``BaseHandler.check_demo_password``)."""
    from models import demo
    from models.db import db

    if config["allow_demo_on_public"]:
        return
    if not _is_loopback(config["host"]):
        refusal = f"Refusing to listen on {config['host']}"
    elif config["trust_proxy_headers"]:
        refusal = "Refusing to start behind a proxy (--trust-proxy-headers)"
    else:
        return
    with db.connection_context():
        live = demo.demo_passwords_live()
    if live:
        raise SystemExit(f"{refusal}: demo accounts {', '.join(live)} still have their published passwords. "
                         "Change them (set-password), start with --demo-data false on a new database, "
                         "or pass --allow-demo-on-public.")


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def start(config, sockets=None):
    """Build the app and start listening; returns (http_server, app, port)."""
    from handlers.app import make_app
    from handlers.slow_clients import HTTPServer

    app = make_app(config)
    app.state.bus.start()
    app.state.sweeper.start()
    # Bodies Tornado buffers itself (none expected); API handlers and the login/logout forms stream theirs.
    server = HTTPServer(app, timeout=config["http_timeout"], xheaders=config["trust_proxy_headers"],
                        max_body_size=config["max_body_bytes"])
    if sockets is None:
        sockets = tornado.netutil.bind_sockets(config["port"], config["host"], backlog=config["listen_backlog"],
                                               family=socket.AF_INET if ":" not in config["host"] else socket.AF_UNSPEC)
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    return server, app, port


async def shutdown(server, app, grace=1.0):
    """Stop accepting, close WebSockets with 1001, finish queued writes."""
    from models.i18n import N_

    server.stop()
    app.state.sweeper.stop()
    app.state.hub.close_all(1001, N_("server shutting down"))
    await app.state.writer.flush()
    await app.state.bus.flush()
    app.state.bus.stop()
    await asyncio.sleep(0.2)  # let the close frames reach the clients
    try:
        await asyncio.wait_for(server.close_all_connections(), timeout=grace)
    except asyncio.TimeoutError:
        logger.warning("Some connections did not close within %s s", grace)


async def serve(config):
    server, app, port = await start(config)
    logger.info("Corporate Messenger %s listening on http://%s:%s", app.state.version, config["host"], port)
    print(f"Listening on http://{config['host']}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    logger.info("Shutting down: closing %s WebSocket connection(s)", app.state.hub.connection_count())
    await shutdown(server, app)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "doctor":
        from cli.doctor import main as doctor_main
        return doctor_main(argv[1:])
    from cli import commands
    if argv and argv[0] in commands.COMMANDS:
        return commands.main(argv, settings_parser, parse_config)
    config = parse_config(argv)
    setup_logging(config["log_level"])
    prepare_database(config)
    check_demo_exposure(config)
    try:
        asyncio.run(serve(config))
    finally:
        from models.db import close_db
        close_db()
    return 0


if __name__ == "__main__":
    sys.exit(main())
