"""Chats and memberships: creation, member changes, the chat list, read pointers."""
import peewee

from models.db import db, iso, utcnow
from models.errors import AppError, check_id, clean_string, forbidden, invalid, not_found
from models.users import BaseModel, User, user_dict

MAX_TITLE = 100
MAX_GROUP_MEMBERS = 1000


class Chat(BaseModel):
    type = peewee.CharField(max_length=10)  # 'direct' or 'group'
    title = peewee.CharField(max_length=MAX_TITLE, null=True)
    created_by = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = peewee.DateTimeField(default=utcnow)
    last_activity_at = peewee.DateTimeField(default=utcnow, index=True)
    direct_key = peewee.CharField(max_length=40, null=True, unique=True)  # "low:high" user ids

    class Meta:
        table_name = "chats"


class Membership(BaseModel):
    chat = peewee.ForeignKeyField(Chat, backref="memberships", on_delete="CASCADE")
    user = peewee.ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    role = peewee.CharField(max_length=10, default="member")  # 'owner' or 'member'
    joined_at = peewee.DateTimeField(default=utcnow)
    last_read_message_id = peewee.BigIntegerField(default=0)

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
    raise forbidden("not_a_member", f"You are not a member of chat {chat_id}")


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


def list_chats(user_id, chat_ids=None):
    """The caller's chats, most recent activity first, in four queries whatever their number."""
    # Local import: messages.py imports this module.
    from models.messages import Message, message_dict

    query = (Membership.select(Membership, Chat).join(Chat)
             .where(Membership.user == user_id)
             .order_by(Chat.last_activity_at.desc(), Chat.id.desc()))
    if chat_ids is not None:
        query = query.where(Membership.chat.in_(chat_ids))
    memberships = list(query)
    ids = [m.chat_id for m in memberships]
    if not ids:
        return []

    members = {cid: [] for cid in ids}
    member_rows = (Membership.select(Membership, User).join(User)
                   .where(Membership.chat.in_(ids)).order_by(Membership.id))
    for row in member_rows:
        members[row.chat_id].append({**user_dict(row.user), "role": row.role,
                                     "last_read_message_id": row.last_read_message_id})

    latest_ids = (Message.select(peewee.fn.MAX(Message.id))
                  .where(Message.chat.in_(ids) & Message.deleted_at.is_null())
                  .group_by(Message.chat))
    last = {m.chat_id: m for m in Message.select(Message, User).join(User)
            .where(Message.id.in_(latest_ids))}

    mine = Membership.alias()
    unread_rows = (Message.select(Message.chat, peewee.fn.COUNT(Message.id).alias("n"))
                   .join(mine, on=(mine.chat == Message.chat))
                   .where((mine.user == user_id) & Message.chat.in_(ids)
                          & (Message.id > mine.last_read_message_id)
                          & (Message.sender != user_id) & Message.deleted_at.is_null())
                   .group_by(Message.chat).tuples())
    unread = dict(unread_rows)

    return [_chat_dict(m.chat, user_id, members[m.chat_id],
                       message_dict(last[m.chat_id]) if m.chat_id in last else None,
                       unread.get(m.chat_id, 0), m) for m in memberships]


def get_chat(user_id, chat_id):
    require_membership(user_id, chat_id)
    return list_chats(user_id, [chat_id])[0]


def _chat_dict(chat, viewer_id, members, last_message, unread_count, membership):
    title = chat.title
    if chat.type == "direct":
        others = [m for m in members if m["id"] != viewer_id] or members
        title = others[0]["display_name"] if others else "Direct chat"
    return {
        "id": chat.id,
        "type": chat.type,
        "title": title,
        "created_at": iso(chat.created_at),
        "last_activity_at": iso(chat.last_activity_at),
        "members": members,
        "last_message": last_message,
        "unread_count": unread_count,
        "last_read_message_id": membership.last_read_message_id,
        "role": membership.role,
    }


def _active_user_ids(user_ids):
    found = {u.id for u in User.select(User.id).where(User.id.in_(user_ids) & (User.is_active == True))}  # noqa: E712
    missing = [uid for uid in user_ids if uid not in found]
    if missing:
        raise AppError(422, "unknown_user", f"No active user with id {missing[0]}", user_id=missing[0])
    return user_ids


def create_direct_chat(user_id, other_id):
    """Open the direct chat between two users, or return the one that exists.

    Returns ``(chat, created)``.
    """
    check_id(other_id, "user_id")
    if other_id == user_id:
        raise AppError(422, "invalid_member", "A direct chat needs another user")
    _active_user_ids([other_id])
    key = f"{min(user_id, other_id)}:{max(user_id, other_id)}"
    existing = Chat.get_or_none(Chat.direct_key == key)
    if existing is not None:
        return get_chat(user_id, existing.id), False
    try:
        with db.atomic():
            chat = Chat.create(type="direct", created_by=user_id, direct_key=key)
            Membership.insert_many([{"chat": chat.id, "user": uid, "role": "member"}
                                    for uid in (user_id, other_id)]).execute()
    except peewee.IntegrityError:  # created concurrently by the other side
        return get_chat(user_id, Chat.get(Chat.direct_key == key).id), False
    return get_chat(user_id, chat.id), True


def create_group_chat(user_id, title, member_ids):
    title = _clean_title(title)
    member_ids = _clean_ids(member_ids)
    others = sorted(set(member_ids) - {user_id})
    if len(others) + 1 > MAX_GROUP_MEMBERS:
        raise AppError(422, "too_many_members", f"A group holds at most {MAX_GROUP_MEMBERS} members")
    _active_user_ids(others)
    chat = Chat.create(type="group", title=title, created_by=user_id)
    rows = [{"chat": chat.id, "user": user_id, "role": "owner"}]
    rows += [{"chat": chat.id, "user": uid, "role": "member"} for uid in others]
    Membership.insert_many(rows).execute()
    return get_chat(user_id, chat.id)


def rename_group(user_id, chat_id, title):
    _require_group(user_id, chat_id)
    Chat.update(title=_clean_title(title)).where(Chat.id == chat_id).execute()
    return get_chat(user_id, chat_id)


def add_members(user_id, chat_id, new_ids):
    """Add users to a group; returns (chat as the actor sees it, ids actually added)."""
    _require_group(user_id, chat_id)
    new_ids = _clean_ids(new_ids, "user_ids")
    if not new_ids:
        raise invalid("invalid_field", "user_ids must list at least one user", field="user_ids")
    _active_user_ids(new_ids)
    present = set(member_ids(chat_id))
    added = [uid for uid in sorted(set(new_ids)) if uid not in present]
    if len(present) + len(added) > MAX_GROUP_MEMBERS:
        raise AppError(422, "too_many_members", f"A group holds at most {MAX_GROUP_MEMBERS} members")
    if added:
        Membership.insert_many([{"chat": chat_id, "user": uid} for uid in added]).execute()
    return get_chat(user_id, chat_id), added


def remove_member(actor, chat_id, target_id):
    """Leave a group (target is the actor) or remove someone (owner or admin only)."""
    membership = _require_group(actor["id"], chat_id)
    if target_id != actor["id"] and membership.role != "owner" and not actor.get("is_admin"):
        raise forbidden("not_allowed", "Only the group owner or an administrator can remove members")
    deleted = Membership.delete().where((Membership.chat == chat_id) & (Membership.user == target_id)).execute()
    if not deleted:
        raise not_found("member", target_id)
    remaining = member_ids(chat_id)
    if remaining and not Membership.select().where((Membership.chat == chat_id) & (Membership.role == "owner")).exists():
        Membership.update(role="owner").where((Membership.chat == chat_id) & (Membership.user == remaining[0])).execute()
    return remaining


def mark_read(user_id, chat_id, message_id):
    """Move the read pointer forward (never back) and return the new unread count."""
    from models.messages import Message

    check_id(message_id, "message_id")
    membership = require_membership(user_id, chat_id)
    if message_id and not Message.select().where((Message.id == message_id) & (Message.chat == chat_id)).exists():
        raise not_found("message", message_id)
    if message_id > membership.last_read_message_id:
        membership.last_read_message_id = message_id
        membership.save()
    unread = (Message.select().where((Message.chat == chat_id)
                                     & (Message.id > membership.last_read_message_id)
                                     & (Message.sender != user_id) & Message.deleted_at.is_null()).count())
    return {"chat_id": chat_id, "user_id": user_id,
            "message_id": membership.last_read_message_id, "unread_count": unread}


def _require_group(user_id, chat_id):
    membership = require_membership(user_id, chat_id)
    if membership.chat.type != "group":
        raise AppError(422, "not_a_group", "Direct chats have exactly two members")
    return membership


def _clean_title(title):
    title = clean_string(title, "title", MAX_TITLE)
    if not title:
        raise invalid("invalid_field", "title must not be empty", field="title")
    return title


def _clean_ids(ids, field="member_ids"):
    if not isinstance(ids, list):
        raise invalid("invalid_field", f"{field} must be a list of user ids", field=field)
    return [check_id(i, field) for i in ids]
