"""Reaction rate buckets shared by every process on PostgreSQL (UNLOGGED, like ``send_buckets`` in 0010),
and an index for the hourly cap on chats a user creates (``chats.check_creation_rate``)."""
import peewee


def up(migrator, database):
    database.execute_sql("CREATE INDEX chats_created_by_created_at ON chats (created_by_id, created_at)")
    if isinstance(database, peewee.PostgresqlDatabase):
        database.execute_sql("CREATE UNLOGGED TABLE reaction_buckets"
                             " (user_id INTEGER PRIMARY KEY, tat TIMESTAMPTZ NOT NULL)")
