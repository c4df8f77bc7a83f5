"""Replies, reactions and @mentions.

``messages.reply_to_id`` points at a message of the same chat (messages are
only ever soft-deleted, so it never dangles); ``messages.changed_at`` is bumped
by anything that changes a message without editing it (reactions), so catch-up
with ``changed_since`` returns it.
"""
import peewee
from playhouse.migrate import migrate


def up(migrator, database):
    class Base(peewee.Model):
        class Meta:
            database = migrator.database

    class User(Base):
        class Meta:
            table_name = "users"

    class Message(Base):
        class Meta:
            table_name = "messages"

    class Reaction(Base):
        message = peewee.ForeignKeyField(Message, on_delete="CASCADE")
        user = peewee.ForeignKeyField(User, on_delete="CASCADE")
        emoji = peewee.CharField(max_length=32)
        created_at = peewee.DateTimeField()

        class Meta:
            table_name = "reactions"
            indexes = ((("message", "user", "emoji"), True),)

    class Mention(Base):
        message = peewee.ForeignKeyField(Message, on_delete="CASCADE")
        user = peewee.ForeignKeyField(User, on_delete="CASCADE")

        class Meta:
            table_name = "mentions"
            indexes = ((("message", "user"), True), (("user", "message"), False))

    migrate(
        migrator.add_column("messages", "reply_to_id", peewee.BigIntegerField(null=True)),
        migrator.add_column("messages", "changed_at", peewee.DateTimeField(null=True)),
    )
    database.create_tables([Reaction, Mention])
