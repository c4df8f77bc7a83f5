"""Backups: a consistent copy of a live SQLite database; for PostgreSQL, the pg_dump command to run.

SQLite's online backup API copies the database page by page inside one read
transaction, so the copy is the database as of one moment, and in WAL mode
the running server keeps committing meanwhile.  The copy is written next to
the target, checked, switched out of WAL mode (one self-contained file) and
only then renamed over the target, so a failed backup never replaces a good one.
"""
import os
import shlex
import sqlite3
from urllib.parse import urlsplit, urlunsplit

COUNTED_TABLES = ("users", "chats", "messages")


class BackupError(Exception):
    """The backup could not be made; the message says why."""


def sqlite_path(database_url):
    """The file of a ``sqlite:///path`` URL (read as peewee's ``db_url`` does)."""
    return urlsplit(database_url).path[1:]


def backup_sqlite(source, target):
    """Copy the SQLite database at ``source`` to ``target``; returns what the copy holds."""
    if not os.path.isfile(source):
        raise BackupError(f"no database at {source} (is --data-dir or DATABASE_URL right?)")
    partial = target + ".partial"
    if os.path.exists(partial):
        os.remove(partial)
    src = sqlite3.connect(source, timeout=30)  # only read from
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # all pages in one step: one consistent snapshot
        dst.execute("PRAGMA journal_mode=DELETE")
        summary = check_copy(dst)
    finally:
        dst.close()
        src.close()
    with open(partial, "rb") as f:
        os.fsync(f.fileno())
    os.replace(partial, target)
    return summary


def check_copy(conn):
    """Integrity, schema version and row counts of an open SQLite copy (BackupError when damaged)."""
    check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        raise BackupError(f"the copy failed its integrity check: {check}")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_migrations" not in tables:
        raise BackupError("the copy holds no Corporate Messenger schema (schema_migrations is missing)")
    summary = {"schema": conn.execute("SELECT max(name) FROM schema_migrations").fetchone()[0]}
    for table in COUNTED_TABLES:
        summary[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] if table in tables else 0
    return summary


def pg_dump_advice(database_url, target):
    """What to run instead on PostgreSQL: the exact pg_dump (and pg_restore) commands, password left out."""
    parts = urlsplit(database_url)
    credentials, _, host = parts.netloc.rpartition("@")
    user = credentials.split(":", 1)[0]
    url = urlunsplit(("postgresql", f"{user}@{host}" if user else host, parts.path, parts.query, ""))
    return (f"pg_dump --format=custom --file={shlex.quote(target)} {shlex.quote(url)}",
            f"pg_restore --clean --if-exists --no-owner --dbname={shlex.quote(url)} {shlex.quote(target)}")
