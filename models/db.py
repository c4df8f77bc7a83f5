"""Database connection, the executor that keeps queries off the event loop, and time helpers.

``db`` is a proxy bound at start-up from a URL (``sqlite:///path`` or
``postgresql://...``).  Every query runs through :func:`db_call`, which hands
the function to a worker thread, opens that thread's connection and wraps the
call in one transaction.  SQLite gets one worker (one writer, no lock
contention); PostgreSQL gets a small pool, each thread holding a pooled
connection.
"""
import asyncio
import datetime
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import peewee
from playhouse import db_url

from models.errors import AppError

logger = logging.getLogger(__name__)

db = peewee.DatabaseProxy()
_executor = None
_lock = threading.Lock()
_errors = 0  # calls that failed because the database was unreachable (see error_count)
_errors_lock = threading.Lock()  # not _lock: close_db holds that while waiting for the workers

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "full",
}


class DatabaseUnavailable(Exception):
    """The database could not be reached; the caller answers 503."""


def normalise_url(url):
    """Turn ``postgresql://`` into the pooled variant; leave other URLs alone."""
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres"):
        return urlunsplit(parts._replace(scheme="postgresql+pool"))
    return url


def is_sqlite():
    return isinstance(db.obj, peewee.SqliteDatabase)


def describe_url(url):
    """The URL with any password removed, for logs and diagnostics."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(":" + parts.password + "@", ":***@")))


def init_db(url, pool_size=8):
    """Bind the proxy to the database at ``url`` and start the executor."""
    global _executor
    url = normalise_url(url)
    if url.startswith("sqlite"):
        database = db_url.connect(url, pragmas=SQLITE_PRAGMAS, check_same_thread=False,
                                  returning_clause=True)  # SQLite 3.35+ (Debian 12 has 3.40)
        workers = 1
    else:
        database = db_url.connect(url, max_connections=pool_size + 2, stale_timeout=300,
                                  timeout=10, connect_timeout=5)
        workers = pool_size
    db.initialize(database)
    with _lock:
        if _executor is not None:
            _executor.shutdown(wait=True)
        _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="db")
    return database


def close_db():
    global _executor
    with _lock:
        if _executor is not None:
            _executor.shutdown(wait=True)
            _executor = None
    if db.obj is not None:
        if hasattr(db.obj, "close_all"):
            db.obj.close_all()
        elif not db.obj.is_closed():
            db.obj.close()


def run_in_transaction(fn, *args, **kwargs):
    """Run ``fn`` inside this thread's connection and one transaction."""
    try:
        with db.connection_context():
            with db.atomic():
                return fn(*args, **kwargs)
    except peewee.DataError as exc:
        # A value the database refuses (out of range, bad encoding): the caller's input, not a fault.
        raise AppError(400, "invalid_input", "The database refused a value in this request") from exc
    except (peewee.OperationalError, peewee.InterfaceError) as exc:
        # The pool drops a connection the server closed; the next call reconnects.
        _count_error()
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DatabaseUnavailable(first_line) from exc


def _count_error():
    global _errors
    with _errors_lock:
        _errors += 1


def error_count():
    """Database calls that failed with the database unreachable, since the process started."""
    return _errors


async def db_call(fn, *args, **kwargs):
    """Run a domain function on the database executor and await its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, lambda: run_in_transaction(fn, *args, **kwargs))


async def run_blocking(fn, *args):
    """CPU-heavy work (password hashing) on the default executor, not the DB one."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def ping():
    """The cheapest round trip to the database (health checks)."""
    db.execute_sql("SELECT 1")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def parse_iso(text):
    """The inverse of :func:`iso`: a naive UTC datetime (ValueError when it is not a time)."""
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment


def iso(dt):
    """Serialise a stored UTC datetime as ISO 8601 with a Z suffix."""
    if dt is None:
        return None
    if isinstance(dt, str):  # SQLite may hand back text for computed columns
        dt = datetime.datetime.fromisoformat(dt)
    return dt.replace(microsecond=(dt.microsecond // 1000) * 1000).isoformat(timespec="milliseconds") + "Z"
