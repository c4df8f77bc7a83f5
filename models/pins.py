"""Pinned messages: any member of a chat pins or unpins one of its messages; the chat's pins, newest pin first.

A pin is two columns of the message (``pinned_at``, ``pinned_by_id``), so every message object says
whether it is pinned without another query, and a deleted message leaves the list with it.
"""
from models.clock import utcnow
from models.errors import AppError, not_found
from models.i18n import N_
from models.memberships import check_not_archived, is_member, members_of_chats, require_membership
from models.db import db
from models.messages import Message, lock_chat, message_dicts, message_rows

MAX_PINS = 100  # per chat, as in Slack: a pinned list is for what everyone must find, not an archive


def set_pinned(user_id, message_id, pinned):
    """Pin or unpin (idempotent either way).  Returns ``(message, change, member_ids)``: the message object,
    the change as the ``message_pinned`` frame carries it, and the members to tell (None when nothing
    changed)."""
    message = Message.get_or_none(Message.id == message_id)
    if message is None or message.deleted_at is not None or not is_member(user_id, message.chat_id):
        raise not_found("message", message_id)  # one in a chat the caller is not in does not exist for them
    check_not_archived(message.chat_id)
    lock_chat(message.chat_id)  # the cap holds with two members pinning at once
    message = Message.get_by_id(message_id)
    change = {"chat_id": message.chat_id, "message_id": message_id, "pinned": pinned, "user_id": user_id}
    if pinned == (message.pinned_at is not None):
        return _message_object(message_id), change, None
    if pinned and pinned_count(message.chat_id) >= MAX_PINS:
        raise AppError(409, "too_many_pins", N_("A chat holds at most %(max)s pinned messages: unpin one first",
                                                max=MAX_PINS), limit=MAX_PINS)
    now = utcnow()
    Message.update(pinned_at=now if pinned else None, pinned_by_id=user_id if pinned else None, changed_at=now) \
        .where(Message.id == message_id).execute()
    return _message_object(message_id), change, members_of_chats([message.chat_id])[message.chat_id]


def _message_object(message_id):
    return message_dicts(message_rows(f"m.id = {db.param}", [message_id]))[0]


def pinned_count(chat_id):
    return Message.select().where((Message.chat == chat_id) & Message.pinned_at.is_null(False)
                                  & Message.deleted_at.is_null()).count()


def pins(user_id, chat_id):
    """The chat's pinned messages as message objects, the newest pin first; members only."""
    require_membership(user_id, chat_id)
    rows = message_rows(f"m.chat_id = {db.param} AND m.pinned_at IS NOT NULL AND m.deleted_at IS NULL", [chat_id],
                        "ORDER BY m.pinned_at DESC, m.id DESC")
    return message_dicts(rows)
