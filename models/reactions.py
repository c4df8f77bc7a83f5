"""Emoji reactions on messages: one row per (message, user, emoji)."""
import peewee

from models.clock import utcnow
from models.db import BaseModel, db, in_params
from models.errors import invalid
from models.i18n import N_
from models.users import User

MAX_EMOJI = 32


class Reaction(BaseModel):
    message_id = peewee.IntegerField()  # messages.id (a foreign key in the schema)
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    emoji = peewee.CharField(max_length=MAX_EMOJI)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "reactions"
        indexes = ((("message_id", "user", "emoji"), True),)


def clean_emoji(emoji):
    """1-32 characters, no whitespace or control characters (joiners and variation selectors are fine)."""
    if not 1 <= len(emoji) <= MAX_EMOJI or any(c.isspace() or ord(c) < 32 or c == "\x7f" for c in emoji):
        raise invalid("invalid_emoji", N_("A reaction is 1-%(max)s characters without whitespace", max=MAX_EMOJI),
                      limit=MAX_EMOJI)
    return emoji


def toggle(user_id, message_id, emoji, add):
    """Add or remove one reaction row; True when that changed anything."""
    mine = (Reaction.message_id == message_id) & (Reaction.user == user_id) & (Reaction.emoji == emoji)
    if not add:
        return Reaction.delete().where(mine).execute() > 0
    if Reaction.select().where(mine).exists():
        return False
    # A concurrent twin is ignored by the unique index.
    Reaction.insert(message_id=message_id, user=user_id, emoji=emoji, created_at=utcnow()).on_conflict_ignore().execute()
    return True


def reactions_for(message_ids):
    """{message_id: [{"emoji", "count", "user_ids"}]}, emoji in order of first use, in one query."""
    found = {}
    if message_ids:
        marks, params = in_params(message_ids)
        rows = db.execute_sql(f"SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN ({marks})"
                              " ORDER BY id", params)
        for message_id, emoji, user_id in rows:
            found.setdefault(message_id, {}).setdefault(emoji, []).append(user_id)
    return {mid: [{"emoji": e, "count": len(u), "user_ids": u} for e, u in by_emoji.items()]
            for mid, by_emoji in found.items()}
