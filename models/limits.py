"""Failed logins and rate buckets (sends, reactions, uploads) in PostgreSQL, so that every process enforces one
shared limit.

The tables are UNLOGGED (migrations 0010, 0013, 0015): counters need no crash safety, and
skipping the write-ahead log keeps them cheap.  Times come from the database
clock (``now()``), the one clock all processes share.
"""
import math

from models.db import db

BUCKET_TABLES = ("send_buckets", "reaction_buckets", "upload_buckets")
SWEEP_ROWS = 100  # expired failures deleted per recorded failure: the table stays bounded


def login_wait(limits, window):
    """Seconds until another login may be tried (0 = now) for ``[(key, allowed failures)]`` within ``window``."""
    allowed = dict(limits)
    rows = db.execute_sql(
        "SELECT key, count(*), EXTRACT(EPOCH FROM min(failed_at) + make_interval(secs => %s) - now())"
        " FROM login_failures WHERE key = ANY(%s) AND failed_at > now() - make_interval(secs => %s)"
        " GROUP BY key", (window, list(allowed), window)).fetchall()
    waits = [max(1, math.ceil(left)) for key, count, left in rows if count >= allowed[key]]
    return max(waits, default=0)


def record_login_failure(keys, window):
    db.execute_sql("INSERT INTO login_failures (key, failed_at) SELECT unnest(%s::text[]), now()", (keys,))
    db.execute_sql(
        "DELETE FROM login_failures WHERE ctid = ANY(ARRAY(SELECT ctid FROM login_failures"
        " WHERE failed_at <= now() - make_interval(secs => %s) LIMIT %s))", (window, SWEEP_ROWS))


def clear_login_failures(key):
    db.execute_sql("DELETE FROM login_failures WHERE key = %s", (key,))


def take_token(table, user_id, rate, burst):
    """Take one action from ``user_id``'s bucket in ``table`` (one of ``BUCKET_TABLES``):
    0 when allowed, else whole seconds until one is.

    The bucket is a theoretical arrival time (GCRA): each action moves it one
    interval (1/rate) into the future, and an action is allowed while it is at most
    ``burst - 1`` intervals ahead — the same rule as the in-memory token bucket.
    """
    assert table in BUCKET_TABLES, table  # a name from the code, never from a request
    interval, tolerance = 1.0 / rate, (burst - 1) / rate
    taken = db.execute_sql(
        f"INSERT INTO {table} AS b (user_id, tat) VALUES (%s, now() + make_interval(secs => %s))"
        " ON CONFLICT (user_id) DO UPDATE SET tat = GREATEST(b.tat, now()) + make_interval(secs => %s)"
        " WHERE GREATEST(b.tat, now()) <= now() + make_interval(secs => %s) RETURNING 1",
        (user_id, interval, interval, tolerance)).fetchone()
    if taken:
        return 0
    ahead = db.execute_sql(f"SELECT EXTRACT(EPOCH FROM tat - now()) FROM {table} WHERE user_id = %s",
                           (user_id,)).fetchone()[0]
    return max(1, math.ceil(float(ahead) - tolerance))
