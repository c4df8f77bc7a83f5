"""The chat and membership tables and who belongs where.

The layer both ``messages.py`` (who may post and who receives) and
``chats.py`` (the chat list, creating and managing chats) build on, so that
the two never import each other.
"""
import peewee

from models.clock import utcnow
from models.db import BaseModel
from models.errors import AppError, forbidden, not_found
from models.i18n import N_
from models.users import User

MAX_TITLE = 100
MAX_TOPIC = 250
VISIBILITIES = ("public", "private")
ARCHIVED = N_("This chat is archived: it can be read but not changed")


def not_member_message(chat_id):
    """The 403 ``not_a_member`` message, the same from the REST API, the writer and the WebSocket."""
    return N_("You are not a member of chat %(id)s", id=chat_id)


class Chat(BaseModel):
    type = peewee.CharField(max_length=10)  # 'direct' or 'group'
    title = peewee.CharField(max_length=MAX_TITLE, null=True)
    created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = peewee.DateTimeField(default=utcnow)
    last_activity_at = peewee.DateTimeField(default=utcnow, index=True)
    direct_key = peewee.CharField(max_length=40, null=True, unique=True)  # "low:high" user ids
    visibility = peewee.CharField(max_length=10, default="private")  # a public group is in the directory
    topic = peewee.CharField(max_length=MAX_TOPIC, default="")
    archived = peewee.BooleanField(default=False)  # readable, searchable, closed to every change of content
    is_default = peewee.BooleanField(default=False)  # every account created afterwards joins it

    class Meta:
        table_name = "chats"


class Membership(BaseModel):
    chat = peewee.ForeignKeyField(Chat, backref="memberships", on_delete="CASCADE")
    user = peewee.ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    role = peewee.CharField(max_length=10, default="member")  # 'owner' or 'member'
    joined_at = peewee.DateTimeField(default=utcnow)
    last_read_message_id = peewee.BigIntegerField(default=0)
    muted = peewee.BooleanField(default=False)  # no desktop notifications, not in the title's count
    # Kept in step with every write that changes them (``messages.py``, ``message_send.py``), so that
    # the chat list reads them instead of counting: messages from others past the read pointer, not
    # deleted, and of those the ones that mention this member.
    unread_count = peewee.IntegerField(default=0)
    unread_mentions = peewee.IntegerField(default=0)

    class Meta:
        table_name = "memberships"
        indexes = ((("chat", "user"), True), (("user", "chat"), False))


def require_membership(user_id, chat_id):
    """The caller's membership row; 404 for no such chat, 403 for someone else's."""
    membership = Membership.get_or_none((Membership.chat == chat_id) & (Membership.user == user_id))
    if membership is not None:
        return membership
    if Chat.get_or_none(Chat.id == chat_id) is None:
        raise not_found("chat", chat_id)
    raise forbidden("not_a_member", not_member_message(chat_id))


def archived_error():
    """409 ``chat_archived``: sends, edits, deletes, reactions and new members in an archived chat."""
    return AppError(409, "chat_archived", ARCHIVED)


def check_not_archived(chat_id):
    if Chat.select().where((Chat.id == chat_id) & (Chat.archived == True)).exists():  # noqa: E712
        raise archived_error()


def is_member(user_id, chat_id):
    return Membership.select().where((Membership.chat == chat_id) & (Membership.user == user_id)).exists()


def chat_ids_for_user(user_id):
    query = Membership.select(Membership.chat).where(Membership.user == user_id)
    return sorted(m.chat_id for m in query)


def member_ids(chat_id):
    """Members in the order they joined."""
    query = Membership.select(Membership.user).where(Membership.chat == chat_id).order_by(Membership.id)
    return [m.user_id for m in query]


def members_of_chats(chat_ids):
    """{chat_id: [user ids]} in one query."""
    result = {cid: [] for cid in chat_ids}
    if chat_ids:
        for m in Membership.select(Membership.chat, Membership.user).where(Membership.chat.in_(chat_ids)):
            result[m.chat_id].append(m.user_id)
    return result


def connection_bootstrap(user_id):
    """What a new WebSocket needs: the user's chat ids, and everyone sharing a chat with them."""
    mine = Membership.select(Membership.chat).where(Membership.user == user_id)
    peers = (Membership.select(Membership.user).distinct()
             .where(Membership.chat.in_(mine) & (Membership.user != user_id)))
    return chat_ids_for_user(user_id), [m.user_id for m in peers]


def chat_title(chat_type, title, members, viewer_id):
    """What ``viewer_id`` sees as the chat's name: a direct chat is named after the other person."""
    if chat_type != "direct":
        return title
    others = [m for m in members if m["id"] != viewer_id] or members
    return others[0]["display_name"] if others else "Direct chat"
