"""Unread counts kept on each membership row (issue 20), filled from the messages as they stand: messages
from others past the read pointer, not deleted, and of those the ones that mention the member."""

BACKFILL = (
    "UPDATE memberships SET unread_count = (SELECT COUNT(*) FROM messages m WHERE m.chat_id = memberships.chat_id"
    " AND m.id > memberships.last_read_message_id AND m.sender_id <> memberships.user_id AND m.deleted_at IS NULL),"
    " unread_mentions = (SELECT COUNT(*) FROM mentions n JOIN messages m ON m.id = n.message_id"
    " WHERE n.user_id = memberships.user_id AND n.message_id > memberships.last_read_message_id"
    " AND m.chat_id = memberships.chat_id AND m.sender_id <> memberships.user_id AND m.deleted_at IS NULL)")


def up(migrator, database):
    for column in ("unread_count", "unread_mentions"):  # with a default in the schema: rows inserted by hand count 0
        database.execute_sql(f"ALTER TABLE memberships ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
    database.execute_sql(BACKFILL)
