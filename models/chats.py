"""Chats as people see them: the chat list, creating groups and direct chats, member changes.

The tables and membership checks are in ``memberships.py``; read pointers and
the unread counts kept on each membership change with messages, in ``messages.py``.
"""
import datetime
import math

import peewee

from models.clock import iso, utcnow
from models.db import LOCK_CHAT_CREATION, db, in_params, lock_until_commit
from models.errors import AppError, forbidden, invalid, not_found
from models.i18n import N_, NP_
from models.memberships import (MAX_TITLE, MAX_TOPIC, VISIBILITIES, Chat, Membership, chat_title, check_not_archived,
                                member_ids, require_membership)
from models.messages import last_messages, lock_chat, recount_unread
from models.users import PERSON_COLUMNS, User, person_dict
from models.validate import check_id, clean_ids, clean_line, clean_string

MAX_GROUP_MEMBERS = 1000
TOO_MANY_MEMBERS = N_("A group holds at most %(max)s members", max=MAX_GROUP_MEMBERS)
CREATION_WINDOW = datetime.timedelta(hours=1)


def list_chats(user_id, chat_ids=None):
    """The caller's chats, most recent activity first, in at most nine queries whatever their number
    and however much is unread (the counts are kept on the membership rows).

    Read as plain rows, not peewee models: a user in 500 chats has 2,000 member rows, and building
    model instances for them cost ten times the queries (``bench/chatlist.py``)."""
    mine, params = f"m.user_id = {db.param}", [user_id]
    if chat_ids is not None:
        marks, ids = in_params(chat_ids)
        mine, params = f"{mine} AND m.chat_id IN ({marks})", params + ids
    chats = db.execute_sql(
        "SELECT c.id, c.type, c.title, c.created_at, c.last_activity_at, c.visibility, c.topic, c.archived,"
        " c.is_default, m.last_read_message_id, m.role, m.muted, m.unread_count, m.unread_mentions"
        f" FROM memberships m JOIN chats c ON c.id = m.chat_id WHERE {mine}"
        " ORDER BY c.last_activity_at DESC, c.id DESC", params).fetchall()
    ids = [row[0] for row in chats]
    if not ids:
        return []
    members = _members_of(mine, params, ids)
    last = last_messages(ids)
    return [{
        "id": chat_id,
        "type": chat_type,
        "title": chat_title(chat_type, title, members[chat_id], user_id),
        "created_at": iso(created_at),
        "last_activity_at": iso(last_activity_at),
        "visibility": visibility,
        "topic": topic,
        "archived": bool(archived),
        "default": bool(is_default),
        "members": members[chat_id],
        "last_message": last.get(chat_id),
        "unread_count": unread,
        "unread_mentions": mentioned,
        "last_read_message_id": last_read,
        "role": role,
        "muted": bool(muted),
    } for (chat_id, chat_type, title, created_at, last_activity_at, visibility, topic, archived, is_default,
           last_read, role, muted, unread, mentioned) in chats]


def _members_of(mine, params, chat_ids):
    """{chat id: its members as user dicts with role and read pointer}, in join order, in one query.
    ``mine`` selects the caller's memberships (alias ``m``) of those chats."""
    members = {chat_id: [] for chat_id in chat_ids}
    users = {}  # the same people recur across chats: one dict each, copied per chat
    rows = db.execute_sql(
        f"SELECT o.chat_id, o.role, o.last_read_message_id, {', '.join('u.' + c for c in PERSON_COLUMNS)}"
        " FROM memberships o JOIN users u ON u.id = o.user_id"
        f" WHERE o.chat_id IN (SELECT m.chat_id FROM memberships m WHERE {mine}) ORDER BY o.id", params)
    for chat_id, role, last_read, *user in rows:
        person = users.get(user[0])
        if person is None:
            person = users[user[0]] = person_dict(*user)
        members[chat_id].append({**person, "role": role, "last_read_message_id": last_read})
    return members


def get_chat(user_id, chat_id):
    require_membership(user_id, chat_id)
    return list_chats(user_id, [chat_id])[0]


def _active_user_ids(user_ids):
    found = {u.id for u in User.select(User.id).where(User.id.in_(user_ids) & (User.is_active == True))}  # noqa: E712
    missing = [uid for uid in user_ids if uid not in found]
    if missing:
        raise AppError(422, "unknown_user", N_("No active user with id %(id)s", id=missing[0]), user_id=missing[0])
    return user_ids


def check_creation_rate(user_id, per_hour):
    """Refuse another new chat (429 ``too_many_chats``) to a user who created ``per_hour`` of them within
    the last hour; 0 means no cap.  Runs in the creating transaction."""
    if not per_hour:
        return
    lock_until_commit(LOCK_CHAT_CREATION, user_id)  # concurrent creations wait here: none slips past the count
    now = utcnow()
    recent = [chat.created_at for chat in Chat.select(Chat.created_at).where(
        (Chat.created_by == user_id) & (Chat.created_at > now - CREATION_WINDOW)
    ).order_by(Chat.created_at.desc()).limit(per_hour)]
    if len(recent) >= per_hour:
        wait = max(1, math.ceil((recent[-1] + CREATION_WINDOW - now).total_seconds()))
        minutes = math.ceil(wait / 60)
        raise AppError(429, "too_many_chats",
                       NP_("You can create at most %(max)s chats an hour. Try again in %(num)d minute.",
                           "You can create at most %(max)s chats an hour. Try again in %(num)d minutes.",
                           minutes, max=per_hour),
                       retry_after=wait, limit=per_hour)


def create_direct_chat(user_id, other_id, per_hour=0):
    """Open the direct chat between two users, or return the one that exists.

    Returns ``(chat, created)``.  ``per_hour``: see ``check_creation_rate`` (opening an existing chat is free).
    """
    check_id(other_id, "user_id")
    if other_id == user_id:
        raise AppError(422, "invalid_member", N_("A direct chat needs another user"))
    _active_user_ids([other_id])
    key = f"{min(user_id, other_id)}:{max(user_id, other_id)}"
    existing = Chat.get_or_none(Chat.direct_key == key)
    if existing is not None:
        return get_chat(user_id, existing.id), False
    check_creation_rate(user_id, per_hour)
    try:
        with db.atomic():
            chat = Chat.create(type="direct", created_by=user_id, direct_key=key)
            Membership.insert_many([{"chat": chat.id, "user": uid, "role": "member"}
                                    for uid in (user_id, other_id)]).execute()
    except peewee.IntegrityError:  # created concurrently by the other side
        return get_chat(user_id, Chat.get(Chat.direct_key == key).id), False
    return get_chat(user_id, chat.id), True


def create_group_chat(user_id, title, member_ids, per_hour=0, visibility="private", topic=""):
    title = _clean_title(title)
    visibility, topic = _clean_visibility(visibility), _clean_topic(topic)
    member_ids = clean_ids(member_ids, "member_ids")
    others = sorted(set(member_ids) - {user_id})
    if len(others) + 1 > MAX_GROUP_MEMBERS:
        raise AppError(422, "too_many_members", TOO_MANY_MEMBERS)
    _active_user_ids(others)
    check_creation_rate(user_id, per_hour)
    chat = Chat.create(type="group", title=title, created_by=user_id, visibility=visibility, topic=topic)
    rows = [{"chat": chat.id, "user": user_id, "role": "owner"}]
    rows += [{"chat": chat.id, "user": uid, "role": "member"} for uid in others]
    Membership.insert_many(rows).execute()
    return get_chat(user_id, chat.id)


def update_chat(actor, chat_id, settings=None, muted=None):
    """Change a group's shared ``settings`` (any of title, topic, visibility, default, archived) and/or
    mute it for the caller alone; all or nothing.  Returns the chat as the caller sees it.

    Any member renames a group or sets its topic (as before); its owner or an administrator who is a
    member changes its visibility, marks it default or archives it.  Only a public group can be default."""
    if settings:
        membership = _require_group(actor["id"], chat_id)
        changes = _clean_settings(settings)
        if changes.keys() & OWNER_SETTINGS and membership.role != "owner" and not actor.get("is_admin"):
            raise forbidden("not_allowed", N_("Only the group owner or an administrator can change its "
                                              "visibility, default or archived state"))
        chat = membership.chat
        if changes.get("is_default", chat.is_default) and changes.get("visibility", chat.visibility) != "public":
            raise invalid("default_not_public", N_("Only a public group can be a default channel"))
        if "archived" in changes:
            lock_chat(chat_id)  # after the sends that hold it: none stores a message once this commits
        Chat.update(**changes).where(Chat.id == chat_id).execute()
    if muted is not None:
        membership = require_membership(actor["id"], chat_id)
        Membership.update(muted=muted).where(Membership.id == membership.id).execute()
    return get_chat(actor["id"], chat_id)


OWNER_SETTINGS = {"visibility", "is_default", "archived"}


def _clean_settings(settings):
    """Column values from the wire names (types already checked by the caller)."""
    cleaners = {"title": ("title", _clean_title), "topic": ("topic", _clean_topic),
                "visibility": ("visibility", _clean_visibility), "default": ("is_default", bool),
                "archived": ("archived", bool)}
    return {cleaners[name][0]: cleaners[name][1](value) for name, value in settings.items()}


def add_members(user_id, chat_id, new_ids):
    """Add users to a group; returns (chat as the actor sees it, ids actually added)."""
    _require_group(user_id, chat_id)
    check_not_archived(chat_id)
    new_ids = clean_ids(new_ids, "user_ids")
    if not new_ids:
        raise invalid("invalid_field", N_("user_ids must list at least one user"), field="user_ids")
    _active_user_ids(new_ids)
    added = insert_members(chat_id, new_ids)
    return get_chat(user_id, chat_id), added


def insert_members(chat_id, new_ids):
    """Make the users ``new_ids`` members of a group; returns the ids actually added (not members before).

    A new member has read nothing: their unread counts are the chat's whole history from others, counted
    once here, under the chat's lock so that no send, edit or delete slips between the count and the row."""
    lock_chat(chat_id)
    present = set(member_ids(chat_id))
    added = [uid for uid in sorted(set(new_ids)) if uid not in present]
    if len(present) + len(added) > MAX_GROUP_MEMBERS:
        raise AppError(422, "too_many_members", TOO_MANY_MEMBERS)
    if added:
        Membership.insert_many([{"chat": chat_id, "user": uid} for uid in added]).execute()
        marks, params = in_params(added)
        recount_unread(f"chat_id = {db.param} AND user_id IN ({marks})", [chat_id, *params])
    return added


def remove_member(actor, chat_id, target_id):
    """Leave a group (target is the actor) or remove someone (owner or admin only); returns (the remaining
    members' ids, the one who became owner because the last owner left, or None)."""
    membership = _require_group(actor["id"], chat_id)
    if target_id != actor["id"] and membership.role != "owner" and not actor.get("is_admin"):
        raise forbidden("not_allowed", N_("Only the group owner or an administrator can remove members"))
    # First, as a send takes it: a send locks every member's row and handing on the owner role locks
    # another, so without it the two could each wait for the other.
    lock_chat(chat_id)
    deleted = Membership.delete().where((Membership.chat == chat_id) & (Membership.user == target_id)).execute()
    if not deleted:
        raise not_found("member", target_id)
    remaining = member_ids(chat_id)
    if remaining and not Membership.select().where((Membership.chat == chat_id) & (Membership.role == "owner")).exists():
        Membership.update(role="owner").where((Membership.chat == chat_id) & (Membership.user == remaining[0])).execute()
        return remaining, remaining[0]
    return remaining, None


ROLES = ("owner", "member")


def set_member_role(actor, chat_id, target_id, role):
    """Make a group's member an owner or a plain member again; returns (the chat as the actor sees it,
    whether the role changed).

    A group may have several owners (as a Slack or Mattermost channel has several admins), each with
    the owner's rights; an owner or an administrator who is a member changes roles, but never takes
    the group's last owner away (409 ``last_owner``: make someone else owner first)."""
    if role not in ROLES:
        raise invalid("invalid_field", N_("role must be 'owner' or 'member'"), field="role")
    membership = _require_group(actor["id"], chat_id)
    if membership.role != "owner" and not actor.get("is_admin"):
        raise forbidden("not_allowed", N_("Only a group owner or an administrator can change members' roles"))
    check_not_archived(chat_id)
    lock_chat(chat_id)  # as remove_member takes it: the last owner's demotion and leaving never interleave
    target = Membership.get_or_none((Membership.chat == chat_id) & (Membership.user == target_id))
    if target is None:
        raise not_found("member", target_id)
    if target.role == role:
        return get_chat(actor["id"], chat_id), False
    owners = Membership.select().where((Membership.chat == chat_id) & (Membership.role == "owner")).count()
    if role == "member" and owners == 1:
        raise AppError(409, "last_owner", N_("A group needs an owner: make someone else owner first"))
    Membership.update(role=role).where(Membership.id == target.id).execute()
    return get_chat(actor["id"], chat_id), True


def _require_group(user_id, chat_id):
    membership = require_membership(user_id, chat_id)
    if membership.chat.type != "group":
        raise AppError(422, "not_a_group", N_("Direct chats have exactly two members"))
    return membership


def _clean_topic(topic):
    return clean_line(topic, "topic", MAX_TOPIC)


def _clean_visibility(visibility):
    if visibility not in VISIBILITIES:
        raise invalid("invalid_field", N_("visibility must be 'public' or 'private'"), field="visibility")
    return visibility


def _clean_title(title):
    title = clean_string(title, "title", MAX_TITLE)
    if not title:
        raise invalid("invalid_field", N_("title must not be empty"), field="title")
    return title
