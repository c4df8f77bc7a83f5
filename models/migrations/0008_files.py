"""Uploaded files: metadata, their bytes in chunks, and which messages carry them."""
import peewee


def up(migrator, database):
    class User(peewee.Model):
        class Meta:
            database = migrator.database
            table_name = "users"

    class Message(peewee.Model):
        class Meta:
            database = migrator.database
            table_name = "messages"

    class StoredFile(peewee.Model):
        uploader = peewee.ForeignKeyField(User, on_delete="CASCADE", index=True)
        name = peewee.CharField(max_length=255)
        size = peewee.BigIntegerField()
        content_type = peewee.CharField(max_length=127)
        is_image = peewee.BooleanField(default=False)
        thumbnail = peewee.BlobField(null=True)
        created_at = peewee.DateTimeField()

        class Meta:
            database = migrator.database
            table_name = "files"

    class FileChunk(peewee.Model):
        file = peewee.ForeignKeyField(StoredFile, on_delete="CASCADE")
        seq = peewee.IntegerField()
        data = peewee.BlobField()

        class Meta:
            database = migrator.database
            table_name = "file_chunks"
            primary_key = peewee.CompositeKey("file", "seq")

    class MessageFile(peewee.Model):
        message = peewee.ForeignKeyField(Message, on_delete="CASCADE")
        file = peewee.ForeignKeyField(StoredFile, on_delete="CASCADE", index=True)
        position = peewee.SmallIntegerField()

        class Meta:
            database = migrator.database
            table_name = "message_files"
            primary_key = peewee.CompositeKey("message", "file")

    migrator.database.create_tables([StoredFile, FileChunk, MessageFile])
