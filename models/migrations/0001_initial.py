"""Users, sessions, chats, memberships and messages, as first released."""
import datetime

import peewee


def up(migrator, database):
    class Base(peewee.Model):
        class Meta:
            database = migrator.database

    class User(Base):
        username = peewee.CharField(max_length=32, unique=True)
        display_name = peewee.CharField(max_length=64)
        password_hash = peewee.CharField(max_length=255)
        is_admin = peewee.BooleanField(default=False)
        is_active = peewee.BooleanField(default=True)
        created_at = peewee.DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "users"

    class Session(Base):
        user = peewee.ForeignKeyField(User, on_delete="CASCADE")
        refresh_hash = peewee.CharField(max_length=64, unique=True)
        created_at = peewee.DateTimeField()
        expires_at = peewee.DateTimeField()
        revoked_at = peewee.DateTimeField(null=True)
        user_agent = peewee.CharField(max_length=255, default="")

        class Meta:
            table_name = "sessions"

    class Chat(Base):
        type = peewee.CharField(max_length=10)
        title = peewee.CharField(max_length=100, null=True)
        created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = peewee.DateTimeField()
        last_activity_at = peewee.DateTimeField(index=True)
        direct_key = peewee.CharField(max_length=40, null=True, unique=True)

        class Meta:
            table_name = "chats"

    class Membership(Base):
        chat = peewee.ForeignKeyField(Chat, on_delete="CASCADE")
        user = peewee.ForeignKeyField(User, on_delete="CASCADE")
        role = peewee.CharField(max_length=10, default="member")
        joined_at = peewee.DateTimeField()
        last_read_message_id = peewee.BigIntegerField(default=0)

        class Meta:
            table_name = "memberships"
            indexes = ((("chat", "user"), True), (("user", "chat"), False))

    class Message(Base):
        chat = peewee.ForeignKeyField(Chat, on_delete="CASCADE")
        sender = peewee.ForeignKeyField(User, on_delete="CASCADE")
        text = peewee.TextField()
        created_at = peewee.DateTimeField()
        edited_at = peewee.DateTimeField(null=True)
        deleted_at = peewee.DateTimeField(null=True)
        client_msg_id = peewee.CharField(max_length=64, null=True)

        class Meta:
            table_name = "messages"
            indexes = ((("chat", "id"), False), (("sender", "client_msg_id"), True))

    migrator.database.create_tables([User, Session, Chat, Membership, Message])
