"""Messages: the model, validation, the wire form, history, catch-up, read pointers and unread counts,
edits, deletes and reactions (the send path is ``message_send.py``).

A message object also carries its reply quote, reactions and mentions (their
rows live in ``reactions.py`` and ``mentions.py``); :func:`message_dicts`
loads them for many messages at once.
"""
import collections
import datetime

import peewee

from models import files, mentions, reactions
from models.clock import iso, utcnow
from models.db import LOCK_CHAT, BaseModel, db, in_params, is_sqlite, lock_until_commit
from models.errors import AppError, forbidden, invalid, not_found
from models.i18n import N_
from models.memberships import (Chat, Membership, check_not_archived, is_member, members_of_chats,
                                not_member_message, require_membership)
from models.users import User
from models.validate import check_id

MAX_TEXT = 10_000
MAX_CLIENT_MSG_ID = 64
MAX_PAGE = 200
CHANGE_OVERLAP = datetime.timedelta(seconds=5)
MAX_CHANGES = 1000
MAX_QUOTE = 200


class Message(BaseModel):
    chat = peewee.ForeignKeyField(Chat, backref="messages", on_delete="CASCADE")
    sender = peewee.ForeignKeyField(User, backref="messages", on_delete="CASCADE")
    text = peewee.TextField()
    created_at = peewee.DateTimeField(default=utcnow)
    edited_at = peewee.DateTimeField(null=True)
    deleted_at = peewee.DateTimeField(null=True)
    client_msg_id = peewee.CharField(max_length=MAX_CLIENT_MSG_ID, null=True)
    reply_to_id = peewee.IntegerField(null=True)
    changed_at = peewee.DateTimeField(null=True)  # reactions or the pin changed
    pinned_at = peewee.DateTimeField(null=True)
    pinned_by_id = peewee.IntegerField(null=True)

    class Meta:
        table_name = "messages"
        indexes = ((("chat", "id"), False), (("sender", "client_msg_id"), True))


# A stored message as the wire form needs it: every column of the model, then the sender's names.
# Read as plain rows (see :func:`message_rows`), since building peewee models for a chat list's 500
# newest messages cost more than the queries.
_COLUMNS = [field.column_name for field in Message._meta.sorted_fields]
MessageRow = collections.namedtuple("MessageRow", [*_COLUMNS, "sender_name", "sender_username"])
MESSAGE_ROWS = (f"SELECT {', '.join('m.' + column for column in _COLUMNS)}, u.display_name, u.username"
                " FROM messages m JOIN users u ON u.id = m.sender_id")
NO_ROW = MessageRow(*[None] * len(MessageRow._fields))  # ``NO_ROW._replace(...)`` builds one by name


def message_rows(where, params=(), tail=""):
    """``MessageRow`` s of the messages (alias ``m``) that the SQL condition ``where`` picks; ``tail``
    orders and limits."""
    return [MessageRow._make(row) for row in db.execute_sql(f"{MESSAGE_ROWS} WHERE {where} {tail}", list(params))]


def rows_by_id(message_ids, newest_first=False):
    if not message_ids:
        return []
    marks, params = in_params(message_ids)
    return message_rows(f"m.id IN ({marks})", params, "ORDER BY m.id DESC" if newest_first else "ORDER BY m.id")


def message_dict(message, reply_to=None, reactions_list=(), mention_ids=()):
    """The wire form of a ``MessageRow``."""
    return {
        "id": message.id,
        "chat_id": message.chat_id,
        "sender_id": message.sender_id,
        "sender_name": message.sender_name,
        "sender_username": message.sender_username,
        "text": "" if message.deleted_at else message.text,
        "created_at": iso(message.created_at),
        "edited_at": iso(message.edited_at),
        "deleted": message.deleted_at is not None,
        "pinned": message.pinned_at is not None and message.deleted_at is None,
        "client_msg_id": message.client_msg_id,
        "reply_to": reply_to,
        "reactions": list(reactions_list),
        "mentions": list(mention_ids),
        "files": [],
    }


def message_dicts(rows):
    """Wire forms of ``MessageRow`` s with replies, reactions, mentions and files: four queries."""
    ids = [m.id for m in rows]
    quoted = quotes({m.reply_to_id for m in rows if m.reply_to_id})
    reacted, mentioned = reactions.reactions_for(ids), mentions.mentions_for(ids)
    return with_files([message_dict(m, quoted.get(m.reply_to_id), reacted.get(m.id, ()), mentioned.get(m.id, ()))
                       for m in rows])


def with_files(messages):
    """Message dicts with their ``files`` filled in (one query); deleted messages keep none."""
    found = files.files_of([m["id"] for m in messages if not m["deleted"]])
    for message in messages:
        message["files"] = found.get(message["id"], [])
    return messages


def quotes(message_ids):
    """{id: the ``reply_to`` object quoting that message} in one query; "" text once it is deleted."""
    if not message_ids:
        return {}
    return {m.id: {"id": m.id, "sender_id": m.sender_id, "sender_name": m.sender_name,
                   "text": "" if m.deleted_at else m.text[:MAX_QUOTE]} for m in rows_by_id(message_ids)}


def clean_reply_to(value):
    return None if value is None else check_id(value, "reply_to")


def clean_text(text, allow_empty=False):
    """Trimmed text within the limits, or the contract's error codes.

    ``allow_empty``: a message carrying files may have no text.
    """
    if allow_empty and (text is None or (isinstance(text, str) and not text.strip())):
        return ""
    if text is None:
        raise invalid("missing_field", N_("Field '%(name)s' is required", name="text"), field="text")
    if not isinstance(text, str):
        raise invalid("invalid_field", N_("%(field)s must be a string", field="text"), field="text")
    if "\x00" in text:
        raise invalid("invalid_field", N_("%(field)s must not contain NUL characters", field="text"), field="text")
    text = text.strip()
    if not text:
        raise invalid("text_empty", N_("Message text is empty"))
    if len(text) > MAX_TEXT:
        raise AppError(422, "text_too_long", N_("Message text is over %(limit)s characters", limit=MAX_TEXT),
                       limit=MAX_TEXT)
    return text


def clean_client_msg_id(value):
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_CLIENT_MSG_ID or "\x00" in value:
        raise invalid("invalid_field",
                      N_("client_msg_id must be a string of 1-%(max)s characters", max=MAX_CLIENT_MSG_ID),
                          field="client_msg_id")
    return value


def history(user_id, chat_id, before_id=None, after_id=None, limit=50):
    """A page of messages, oldest first.

    ``before_id`` pages backwards (the newest page when omitted);
    ``after_id`` returns what came after it (catch-up).  Paging is by id,
    so concurrent inserts never shift a page.
    """
    require_membership(user_id, chat_id)
    limit = max(1, min(int(limit), MAX_PAGE))
    p = db.param
    visible = f"m.chat_id = {p} AND m.deleted_at IS NULL"
    if after_id is not None:
        rows = message_rows(f"{visible} AND m.id > {p}", [chat_id, after_id], f"ORDER BY m.id LIMIT {limit + 1}")
        has_more = len(rows) > limit
        rows = rows[:limit]
        return {"messages": message_dicts(rows), "has_more": has_more,
                "next_after_id": rows[-1].id if rows else after_id}
    where, params = (visible, [chat_id]) if before_id is None else (f"{visible} AND m.id < {p}", [chat_id, before_id])
    rows = message_rows(where, params, f"ORDER BY m.id DESC LIMIT {limit + 1}")
    has_more = len(rows) > limit
    rows = list(reversed(rows[:limit]))
    return {"messages": message_dicts(rows), "has_more": has_more,
            "next_before_id": rows[0].id if rows and has_more else None}


def catch_up(user_id, since_id, limit=500, changed_since=None):
    """What a client missed: messages after ``since_id`` in all of the user's chats, oldest first.

    Only settled ids are handed out (see :func:`settled_message_id`), so the
    last id of a page is always a safe ``since_id`` for the next one.

    With ``changed_since`` (a ``server_time`` from an earlier answer) it also
    lists the messages up to ``since_id`` that were edited, deleted or
    reacted to since then, with a few seconds of overlap so that no change is lost to a clock
    tick or a slow commit; applying one twice is harmless.
    """
    now = utcnow()
    p = db.param
    mine = f"m.chat_id IN (SELECT chat_id FROM memberships WHERE user_id = {p})"
    newer, params = f"{mine} AND m.id > {p} AND m.deleted_at IS NULL", [user_id, since_id]
    settled = settled_message_id() if limit else None
    if settled is not None:
        newer, params = f"{newer} AND m.id <= {p}", params + [settled]
    rows = message_rows(newer, params, f"ORDER BY m.id LIMIT {int(limit) + 1}")
    page = {"messages": message_dicts(rows[:limit]), "has_more": len(rows) > limit,
            "server_time": iso(now)}
    if changed_since is not None:
        since = Message.changed_at.db_value(
            max(changed_since, datetime.datetime.min + CHANGE_OVERLAP) - CHANGE_OVERLAP)  # year 1 is fine
        changed = message_rows(
            f"{mine} AND m.id <= {p} AND (m.edited_at > {p} OR m.deleted_at > {p} OR m.changed_at > {p})",
            [user_id, since_id, since, since, since], f"ORDER BY m.id LIMIT {MAX_CHANGES}")
        page["changed"] = message_dicts(changed)
    return page


def catch_up_many(requests):
    """:func:`catch_up` for each ``(user_id, since_id, limit, changed_since)``, in one transaction: the page,
    or the ``AppError`` that one request got (the others are answered all the same)."""
    answers = []
    for args in requests:
        try:
            answers.append(catch_up(*args))
        except AppError as exc:
            answers.append(exc)
    return answers


def last_messages(chat_ids):
    """{chat_id: the newest message not deleted} for the chats that have one, in six queries
    (seven when one of them is a reply).  Each chat's newest id is found by walking its (chat, id)
    index from the end, so the cost does not grow with the chat's history."""
    if not chat_ids:
        return {}
    marks, params = in_params(chat_ids)
    newest = db.execute_sql(
        "SELECT (SELECT m.id FROM messages m WHERE m.chat_id = c.id AND m.deleted_at IS NULL"
        f" ORDER BY m.id DESC LIMIT 1) FROM chats c WHERE c.id IN ({marks})", params).fetchall()
    rows = rows_by_id([message_id for message_id, in newest if message_id])  # apart: as one, PostgreSQL scanned all
    return {m.chat_id: d for m, d in zip(rows, message_dicts(rows))}


# The exact unread counts of the ``memberships`` row being updated, counted from its read pointer on:
# for the rows a write cannot keep by arithmetic (a read pointer moved, a member added).
RECOUNT = (
    "unread_count = (SELECT COUNT(*) FROM messages m WHERE m.chat_id = memberships.chat_id"
    " AND m.id > memberships.last_read_message_id AND m.sender_id <> memberships.user_id AND m.deleted_at IS NULL),"
    " unread_mentions = (SELECT COUNT(*) FROM mentions n JOIN messages m ON m.id = n.message_id"
    " WHERE n.user_id = memberships.user_id AND n.message_id > memberships.last_read_message_id"
    " AND m.chat_id = memberships.chat_id AND m.sender_id <> memberships.user_id AND m.deleted_at IS NULL)")


def recount_unread(where, params=()):
    """Recount the unread counts of the memberships the SQL condition ``where`` picks."""
    db.execute_sql(f"UPDATE memberships SET {RECOUNT} WHERE {where}", list(params))


def lock_chat(chat_id):
    """Serialise with the other writes to the chat that take this lock (sends, edits, deletes, member
    changes) until the transaction ends (PostgreSQL; SQLite has one writer)."""
    lock_until_commit(LOCK_CHAT, chat_id)


def mark_read(user_id, chat_id, message_id):
    """Move the read pointer forward (never back) and return it with the unread counts.

    Moving it recounts what is past the new pointer (bounded by what is still unread), in a statement
    after the one that locked the row: on PostgreSQL each statement sees what committed before it
    began, so a send or delete that changed the row first is in the recount, and one that comes later
    waits for the row and then changes the fresh counts by arithmetic."""
    check_id(message_id, "message_id")
    membership = require_membership(user_id, chat_id)
    if message_id and not Message.select().where((Message.id == message_id) & (Message.chat == chat_id)).exists():
        raise not_found("message", message_id)
    moved = Membership.update(last_read_message_id=message_id).where(
        (Membership.id == membership.id) & (Membership.last_read_message_id < message_id)).execute()
    if moved:
        recount_unread(f"id = {db.param}", [membership.id])
    row = Membership.select(Membership.last_read_message_id, Membership.unread_count,
                            Membership.unread_mentions).where(Membership.id == membership.id).tuples().first()
    if row is None:  # removed from the chat meanwhile
        raise forbidden("not_a_member", not_member_message(chat_id))
    pointer, unread, mentioned = row
    return {"chat_id": chat_id, "user_id": user_id, "message_id": pointer,
            "unread_count": unread, "unread_mentions": mentioned}


def settled_message_id():
    """The highest id below which no message can still commit (PostgreSQL; None on SQLite).

    Ids come from one sequence, but with several processes they commit in id
    order only within a chat: a catch-up handing out id 11 while id 10 of
    another chat is still committing would make the client skip 10.  Writers
    take their chats' advisory locks before drawing ids, so: read the highest
    id drawn so far, then wait for the writers holding a chat lock at that
    moment (taking each such lock shared, until the end of this transaction).
    SQLite has one process and one writer: ids commit in order there.
    """
    if is_sqlite():
        return None
    drawn = db.execute_sql("SELECT pg_sequence_last_value(pg_get_serial_sequence('messages', 'id'))").fetchone()[0]
    busy = db.execute_sql(
        "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s AND objsubid = 2"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY objid",
        (LOCK_CHAT,)).fetchall()
    for (chat_id,) in busy:
        db.execute_sql("SELECT pg_advisory_xact_lock_shared(%s, %s)", (LOCK_CHAT, int(chat_id)))
    return drawn or 0


def edit_message(user_id, message_id, text):
    """Change the caller's message; unread counts stay, unread mentions follow the names it now makes."""
    message = _own_message(user_id, message_id)
    text = clean_text(text)
    check_not_archived(message.chat_id)
    lock_chat(message.chat_id)  # a member added meanwhile counts the mentions as they end up
    if not Message.update(text=text, edited_at=utcnow()).where(
            (Message.id == message.id) & Message.deleted_at.is_null()).execute():
        raise not_found("message", message_id)  # deleted meanwhile
    before = set(mentions.mentions_for([message.id]).get(message.id, []))
    after = set(mentions.replace(message.id, message.chat_id, text))
    if before != after:
        changed, params = in_params(sorted(before ^ after))
        gained, gained_params = in_params(sorted(after - before) or [0])
        p = db.param
        db.execute_sql(
            f"UPDATE memberships SET unread_mentions = unread_mentions"
            f" + CASE WHEN user_id IN ({gained}) THEN 1 ELSE -1 END"
            f" WHERE chat_id = {p} AND user_id IN ({changed}) AND user_id <> {p} AND last_read_message_id < {p}",
            [*gained_params, message.chat_id, *params, user_id, message.id])
    return message_dicts(rows_by_id([message.id]))[0], _members(message.chat_id)


def delete_message(user_id, message_id):
    """Mark the caller's message deleted, and take it off the unread counts of the members who had not
    read it yet (row arithmetic: a concurrent send or read changes the same rows without losing either)."""
    message = _own_message(user_id, message_id)
    check_not_archived(message.chat_id)
    lock_chat(message.chat_id)  # a member added meanwhile counts without it
    if not Message.update(deleted_at=utcnow()).where(
            (Message.id == message.id) & Message.deleted_at.is_null()).execute():
        raise not_found("message", message_id)  # deleted meanwhile: counted off once, by that delete
    p = db.param
    db.execute_sql(
        "UPDATE memberships SET unread_count = unread_count - 1, unread_mentions = unread_mentions"
        f" - (SELECT COUNT(*) FROM mentions n WHERE n.message_id = {p} AND n.user_id = memberships.user_id)"
        f" WHERE chat_id = {p} AND user_id <> {p} AND last_read_message_id < {p}",
        [message.id, message.chat_id, user_id, message.id])
    return message_dicts(rows_by_id([message.id]))[0], _members(message.chat_id)


def react(user_id, message_id, emoji, add):
    """Add or remove the caller's reaction (idempotent either way), within the caps of ``reactions``.

    Returns ``(summary, change, member_ids)``: the message's whole new list, and
    when something changed who added or removed what with the members to tell,
    else ``(summary, None, None)``.  Anyone but a chat member gets 404, as for a
    message that does not exist.
    """
    emoji = reactions.clean_emoji(emoji)
    message = Message.get_or_none(Message.id == message_id)
    if (message is None or message.deleted_at is not None or not Membership.select().where(
            (Membership.chat == message.chat_id) & (Membership.user == user_id)).exists()):
        raise not_found("message", message_id)
    check_not_archived(message.chat_id)
    if add:
        changed = not reactions.has(user_id, message_id, emoji)
        if changed:
            _touch_changed(message_id)  # first: its row lock serialises additions, so the caps hold
            reactions.add(user_id, message_id, emoji)
    else:
        changed = reactions.remove(user_id, message_id, emoji)
        if changed:
            _touch_changed(message_id)
    summary = {"chat_id": message.chat_id, "message_id": message_id,
               "reactions": reactions.reactions_for([message_id]).get(message_id, [])}
    if not changed:
        return summary, None, None
    return summary, {"user_id": user_id, "emoji": emoji, "op": "add" if add else "remove"}, _members(message.chat_id)


def _touch_changed(message_id):
    """Catch-up's changed_since finds the message again, with its new reactions or pin."""
    Message.update(changed_at=utcnow()).where(Message.id == message_id).execute()


def _own_message(user_id, message_id):
    """The caller's own message; one in a chat they are not in does not exist for them (no chat id given away)."""
    message = Message.get_or_none(Message.id == message_id)
    if message is None or message.deleted_at is not None or not is_member(user_id, message.chat_id):
        raise not_found("message", message_id)
    if message.sender_id != user_id:
        raise forbidden("not_allowed", N_("You can only change your own messages"))
    return message


def _members(chat_id):
    return members_of_chats([chat_id])[chat_id]
