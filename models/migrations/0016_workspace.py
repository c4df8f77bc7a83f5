"""A workspace people can organise (issue 21): public and private groups with a topic, archived and
default groups; profiles with a status and an avatar.

Every existing chat stays private, not default and not archived: nothing becomes visible to people
outside it by upgrading.  Columns carry their defaults in the schema, so rows inserted by hand get them.
"""
import peewee

CHAT_COLUMNS = ["visibility VARCHAR(10) NOT NULL DEFAULT 'private'",
                "topic VARCHAR(250) NOT NULL DEFAULT ''",
                "archived BOOLEAN NOT NULL DEFAULT FALSE",
                "is_default BOOLEAN NOT NULL DEFAULT FALSE"]
USER_COLUMNS = ["status_text VARCHAR(100) NOT NULL DEFAULT ''",
                "status_emoji VARCHAR(16) NOT NULL DEFAULT ''",
                "avatar_key VARCHAR(16)"]  # NULL: no avatar; changes with every new one (the URL's ?v=)


def up(migrator, database):
    for column in CHAT_COLUMNS:
        database.execute_sql(f"ALTER TABLE chats ADD COLUMN {column}")
    for column in USER_COLUMNS:
        database.execute_sql(f"ALTER TABLE users ADD COLUMN {column}")

    class User(peewee.Model):
        class Meta:
            database = migrator.database
            table_name = "users"

    class Avatar(peewee.Model):
        user = peewee.ForeignKeyField(User, primary_key=True, on_delete="CASCADE")
        content_type = peewee.CharField(max_length=32)
        data = peewee.BlobField()

        class Meta:
            database = migrator.database
            table_name = "avatars"

    migrator.database.create_tables([Avatar])
