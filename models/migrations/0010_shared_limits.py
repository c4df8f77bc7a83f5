"""Login failures and send-rate buckets shared by every process on one PostgreSQL database.

UNLOGGED: the counters need no crash safety, and skipping the write-ahead log
keeps each login and send cheap.  SQLite serves one process, which keeps its
limits in memory, so nothing is created there.
"""
import peewee


def up(migrator, database):
    if not isinstance(database, peewee.PostgresqlDatabase):
        return
    database.execute_sql("CREATE UNLOGGED TABLE login_failures"
                         " (key VARCHAR(100) NOT NULL, failed_at TIMESTAMPTZ NOT NULL)")
    database.execute_sql("CREATE INDEX login_failures_key_failed_at ON login_failures (key, failed_at)")
    database.execute_sql("CREATE INDEX login_failures_failed_at ON login_failures (failed_at)")
    database.execute_sql("CREATE UNLOGGED TABLE send_buckets (user_id INTEGER PRIMARY KEY, tat TIMESTAMPTZ NOT NULL)")
