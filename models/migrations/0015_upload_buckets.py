"""Upload rate buckets shared by every process on PostgreSQL (UNLOGGED, like ``send_buckets`` in 0010 and
``reaction_buckets`` in 0013): one upload limit for the whole deployment, not one per process."""
import peewee


def up(migrator, database):
    if isinstance(database, peewee.PostgresqlDatabase):
        database.execute_sql("CREATE UNLOGGED TABLE upload_buckets"
                             " (user_id INTEGER PRIMARY KEY, tat TIMESTAMPTZ NOT NULL)")
