"""Database connection, the model base class, and the executor that keeps queries off the event loop.

``db`` is a proxy bound at start-up from a URL (``sqlite:///path`` or
``postgresql://...``).  Every query runs through :func:`db_call`, which hands
the function to a worker thread, opens that thread's connection and wraps the
call in one transaction.  SQLite gets one worker (one writer, no lock
contention) that keeps its connection open: closing the last connection
deletes the WAL index, and re-creating it fails on a full disk, so that even
reads would fail.  PostgreSQL gets a small pool of workers, each holding one
connection from peewee's pool for as long as it works: a call that fails for
want of the database drops that thread's connection, and the thread's next
call connects again.
"""
import contextlib
import asyncio
import errno
import logging
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import peewee
from playhouse import db_url

from models import disk_space
from models.errors import AppError
from models.i18n import N_

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


class BaseModel(peewee.Model):
    """Every table's model: bound to ``db``, whichever database it points at."""

    class Meta:
        database = db


class DatabaseUnavailable(Exception):
    """The database could not be reached; the caller answers 503."""


class DiskFull(DatabaseUnavailable):
    """The database refused a write for lack of disk space (SQLite SQLITE_FULL, PostgreSQL 53100)."""


def unavailable_error(exc, consequence):
    """The 503 a client gets for ``exc``, naming the cause: ``consequence`` says what happened to its request."""
    if isinstance(exc, DiskFull):
        return AppError(503, "disk_full", N_("The server's disk is full; %(consequence)s", consequence=consequence))
    return AppError(503, "db_unavailable", N_("The database is unreachable; %(consequence)s", consequence=consequence))


def _causes(exc):
    """``exc`` and the errors it was raised while handling, newest first."""
    chain = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def _is_disk_full(exc):
    exc = getattr(exc, "orig", None) or exc  # peewee keeps the driver's exception here
    return (getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or getattr(exc, "pgcode", None) == "53100"
            or getattr(exc, "errno", None) == errno.ENOSPC
            or "database or disk is full" in str(exc) or "No space left on device" in str(exc))


def _first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def normalise_url(url):
    """Turn ``postgresql://`` into the pooled variant; leave other URLs alone."""
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres"):
        return urlunsplit(parts._replace(scheme="postgresql+pool"))
    return url


def in_params(values):
    """Placeholders for ``IN (...)`` and their parameters, for plain SQL on either database."""
    values = list(values)
    return ", ".join([db.param] * len(values)), values


def is_sqlite():
    return isinstance(db.obj, peewee.SqliteDatabase)


# PostgreSQL advisory locks, all in one table so that no two uses share a key: the first key names what
# is locked, the second whose (SQLite needs none: it has one writer).
LOCK_STARTUP = 72_001  # migrations at start-up, one process at a time (a single-key lock)
LOCK_CHAT = 72_002  # writes to one chat: commit order is id order (settled_message_id reads these)
LOCK_CHAT_CREATION = 72_003  # one user's chat creations: the hourly cap holds under races
LOCK_UPLOADS = 72_004  # one user's uploads: the unattached-bytes quota holds under races


def lock_until_commit(space, key):
    """Wait for and hold the advisory lock ``(space, key)`` until the transaction ends (PostgreSQL only)."""
    for sql, params in lock_statements(space, [key]):
        db.execute_sql(sql, params)


def lock_statements(space, keys):
    """The statements that take the advisory locks ``(space, key)`` for ``keys`` until the transaction ends,
    to be run with the statement after them (:func:`execute_together`); none on SQLite."""
    return [] if is_sqlite() else [("SELECT pg_advisory_xact_lock(%s, %s)", (space, key)) for key in keys]


def execute_together(statements):
    """Run ``(sql, params)`` statements in order and return the cursor of the last one.  On PostgreSQL they
    travel as one string, so they cost one round trip (the answer is the last statement's); SQLite, which
    has no network to save and takes one statement at a time, runs them one by one."""
    if is_sqlite():
        for sql, params in statements:
            cursor = db.execute_sql(sql, params)
        return cursor
    return db.execute_sql("; ".join(sql for sql, _ in statements), [p for _, params in statements for p in params])


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
    disk_space.clear_refusal()
    with _lock:
        if _executor is not None:
            _executor.shutdown(wait=True)
        _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="db")
    return database


def close_db():
    global _executor
    with _lock:
        if _executor is not None:
            if is_sqlite():
                _executor.submit(db.close).result()  # the worker's long-lived connection
            _executor.shutdown(wait=True)
            _executor = None
    if db.obj is not None:
        if hasattr(db.obj, "close_all"):
            db.obj.close_all()
        elif not db.obj.is_closed():
            db.obj.close()


def _drop_connection():
    """Forget this thread's PostgreSQL connection after a failure, so that the next call connects anew
    (SQLite keeps its connection: see the module docstring)."""
    if not is_sqlite() and not db.is_closed():
        with contextlib.suppress(Exception):
            db.manual_close()  # closed, not handed back to the pool


def run_in_transaction(fn, *args, **kwargs):
    """Run ``fn`` inside this thread's connection (opened on first use) and one transaction."""
    try:
        db.connect(reuse_if_open=True)
        with db.atomic():
            return fn(*args, **kwargs)
    except peewee.DataError as exc:
        # A value the database refuses (out of range, bad encoding): the caller's input, not a fault.
        raise AppError(400, "invalid_input", N_("The database refused a value in this request")) from exc
    except (peewee.OperationalError, peewee.InterfaceError) as exc:
        # A connection the server closed is dropped; the next call reconnects.  When the database
        # aborted the transaction itself (SQLite does on SQLITE_FULL), peewee's rollback fails too and
        # hides the real error: name the one that started it.
        _count_error()
        _drop_connection()
        causes = _causes(exc)
        full = next((cause for cause in causes if _is_disk_full(cause)), None)
        if full is not None:
            disk_space.note_disk_full(_first_line(full))
            raise DiskFull(_first_line(full)) from exc
        original = next((cause for cause in causes if "cannot rollback" not in str(cause)), exc)
        raise DatabaseUnavailable(_first_line(original)) from exc


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

