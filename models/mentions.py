"""@mentions: which chat members a message names (unread ones are counted in messages.py)."""
import re

import peewee

from models.db import BaseModel, db, in_params
from models.memberships import Membership
from models.users import User

# Not after a word character or another @ (so "a@b.example" is an address, not a mention).
MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9._-]{1,31})")


class Mention(BaseModel):
    message_id = peewee.IntegerField()  # messages.id (a foreign key in the schema)
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")

    class Meta:
        table_name = "mentions"
        indexes = ((("message_id", "user"), True), (("user", "message_id"), False))


def named(text):
    """The lowercase usernames a text @-names; a trailing '.', '_' or '-' ends the sentence, not the name."""
    names = set()
    for match in MENTION_RE.finditer(text):
        name = match.group(1).lower()
        names.update({name, name.rstrip("._-")})
    return names


def record(messages):
    """Store the mentions of new or edited messages given as (id, chat_id, text); {id: [user ids]}.

    Only members of the message's chat count; anyone else named stays plain text.
    """
    wanted = {(mid, chat_id): named(text) for mid, chat_id, text in messages if "@" in text}
    wanted = {key: names for key, names in wanted.items() if names}
    found = {}
    if not wanted:
        return found
    all_names = set().union(*wanted.values())
    chats = {chat_id for _, chat_id in wanted}
    rows = (Membership.select(Membership.chat, User.id, User.username).join(User)
            .where(Membership.chat.in_(list(chats)) & User.username.in_(list(all_names))).tuples())
    members = {}
    for chat_id, user_id, username in rows:
        members.setdefault(chat_id, {})[username] = user_id
    for (mid, chat_id), names in wanted.items():
        ids = sorted({members[chat_id][n] for n in names if n in members.get(chat_id, {})})
        if ids:
            found[mid] = ids
    if found:
        Mention.insert_many([{"message_id": mid, "user": uid} for mid, ids in found.items() for uid in ids]).execute()
    return found


def replace(message_id, chat_id, text):
    """After an edit: the mentions the new text makes."""
    Mention.delete().where(Mention.message_id == message_id).execute()
    return record([(message_id, chat_id, text)]).get(message_id, [])


def mentions_for(message_ids):
    """{message_id: [user ids]} in one query."""
    found = {}
    if message_ids:
        marks, params = in_params(message_ids)
        rows = db.execute_sql(f"SELECT message_id, user_id FROM mentions WHERE message_id IN ({marks})"
                              " ORDER BY user_id", params)
        for message_id, user_id in rows:
            found.setdefault(message_id, []).append(user_id)
    return found
