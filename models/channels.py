"""The channel directory: public groups anyone may find and join, and the default groups every new
account joins (issue 21).  Membership itself is ``chats.insert_members``, as when a member adds someone.
"""
import logging

from models import chats, users
from models.db import db
from models.errors import AppError, not_found
from models.memberships import Chat, archived_error

logger = logging.getLogger(__name__)
MAX_QUERY = 100


def list_channels(user_id, query=""):
    """``{"channels": [...]}``: every public, unarchived group by title (case-insensitive, then id), with
    its member count and whether ``user_id`` is in it; ``query`` keeps those whose title or topic holds it.

    Filtered here, not in SQL: SQLite's ``lower`` and ``LIKE`` fold only ASCII, and a title in Cyrillic
    must be found the same way on both databases.  A directory holds few enough groups to read them all."""
    p = db.param
    rows = db.execute_sql(
        "SELECT c.id, c.title, c.topic, COUNT(m.id),"
        f" SUM(CASE WHEN m.user_id = {p} THEN 1 ELSE 0 END)"
        " FROM chats c LEFT JOIN memberships m ON m.chat_id = c.id"
        f" WHERE c.type = 'group' AND c.visibility = 'public' AND c.archived = {p}"
        " GROUP BY c.id, c.title, c.topic", [user_id, False]).fetchall()
    needle = (query or "").replace("\x00", "").strip()[:MAX_QUERY].casefold()
    channels = [{"id": chat_id, "title": title, "topic": topic, "member_count": count, "is_member": bool(mine)}
                for chat_id, title, topic, count, mine in rows
                if needle in title.casefold() or needle in topic.casefold()]
    channels.sort(key=lambda c: (c["title"].casefold(), c["id"]))
    return {"channels": channels}


def join_channel(user_id, chat_id):
    """Join a public group; returns ``(chat as the joiner sees it, [user_id] or [] when already in it)``.

    A private group is not found, exactly as one that does not exist; an archived one is 409."""
    chat = Chat.get_or_none(Chat.id == chat_id)
    if chat is None or chat.type != "group" or chat.visibility != "public":
        raise not_found("chat", chat_id)
    if chat.archived:
        raise archived_error()
    added = chats.insert_members(chat_id, [user_id])
    return chats.get_chat(user_id, chat_id), added


def create_account(username, password_hash, display_name=None, is_admin=False, email=None):
    """A new user, made a member of every default group; returns ``(user, [the groups joined, as the new
    user sees them])`` so that the caller can tell their members (``member_added``).

    A default group that is full (``chats.MAX_GROUP_MEMBERS``) is skipped rather than refusing the account."""
    user = users.create_user(username, password_hash, display_name, is_admin, email)
    defaults = Chat.select(Chat.id).where((Chat.type == "group") & (Chat.is_default == True)  # noqa: E712
                                          & (Chat.archived == False)).order_by(Chat.id)  # noqa: E712
    joined = []
    for chat in defaults:
        try:
            if chats.insert_members(chat.id, [user["id"]]):
                joined.append(chats.get_chat(user["id"], chat.id))
        except AppError as exc:
            if exc.code != "too_many_members":
                raise
            logger.warning("Default group %s is full: new user %s not added", chat.id, user["id"])
    return user, joined
