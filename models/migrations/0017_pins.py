"""Pinned messages: when and by whom a message was pinned (null when it is not), and an index for a chat's
pins newest first."""
import peewee
from playhouse.migrate import migrate


def up(migrator, database):
    migrate(migrator.add_column("messages", "pinned_at", peewee.DateTimeField(null=True)),
            migrator.add_column("messages", "pinned_by_id", peewee.IntegerField(null=True)))
    database.execute_sql("CREATE INDEX messages_chat_pinned ON messages (chat_id, pinned_at)"
                         " WHERE pinned_at IS NOT NULL")
