"""Emoji reactions on messages: one row per (message, user, emoji).

Each change is pushed to every member with the message's whole list, so the
list is capped: at most ``MAX_DISTINCT`` different emoji per message and
``MAX_PER_USER`` reactions of one user on it.
"""
import peewee

from models.clock import utcnow
from models.db import BaseModel, db, in_params
from models.errors import invalid
from models.i18n import N_
from models.users import User

MAX_EMOJI = 32
MAX_DISTINCT = 50  # different emoji on one message (Mattermost's default, Slack's limit)
MAX_PER_USER = 20  # reactions one user may put on one message


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


def remove(user_id, message_id, emoji):
    """Remove one reaction row; True when there was one."""
    return Reaction.delete().where(_row(user_id, message_id, emoji)).execute() > 0


def has(user_id, message_id, emoji):
    return Reaction.select().where(_row(user_id, message_id, emoji)).exists()


def add(user_id, message_id, emoji):
    """Add one reaction row within the caps, else raise 422 ``too_many_emoji`` / ``too_many_reactions``.

    The caller holds the message's row lock (see ``messages.react``), so two
    concurrent additions cannot both take the last free place.
    """
    rows = db.execute_sql(f"SELECT emoji, user_id FROM reactions WHERE message_id = {db.param}",
                          [message_id]).fetchall()
    present = {e for e, _ in rows}
    if sum(1 for _, uid in rows if uid == user_id) >= MAX_PER_USER:
        raise invalid("too_many_reactions", N_("You can add at most %(max)s reactions to one message",
                                               max=MAX_PER_USER), limit=MAX_PER_USER)
    if emoji not in present and len(present) >= MAX_DISTINCT:
        raise invalid("too_many_emoji", N_("A message can have at most %(max)s different reactions",
                                           max=MAX_DISTINCT), limit=MAX_DISTINCT)
    Reaction.insert(message_id=message_id, user=user_id, emoji=emoji,
                    created_at=utcnow()).on_conflict_ignore().execute()  # a concurrent twin: the unique index


def _row(user_id, message_id, emoji):
    return (Reaction.message_id == message_id) & (Reaction.user == user_id) & (Reaction.emoji == emoji)


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
