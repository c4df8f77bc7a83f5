"""The send path: a batch of new messages stored in one transaction (as Zulip keeps message sending in
``actions/message_send.py``, apart from reading and rendering).

``handlers/realtime/writer.py`` is its one caller on the server (REST and WebSocket sends both go
through the writer's queue); the wire form of each new message comes from
:func:`models.messages.message_dict`, the same builder history and catch-up use.
"""
import collections

from models import files, mentions
from models.clock import utcnow
from models.db import LOCK_CHAT, db, execute_together, in_params, lock_statements
from models.errors import AppError, forbidden, invalid, not_found
from models.i18n import N_
from models.memberships import Chat, archived_error, not_member_message
from models.messages import NO_ROW, Message, message_dict, message_dicts, quotes, rows_by_id, with_files


def store_messages(requests, then=None):
    """Store a batch of sends in one transaction.

    ``requests`` is a list of dicts with sender_id, chat_id, text (already
    cleaned), client_msg_id and optionally reply_to (a message of the same
    chat) and file_ids.  Returns one result per request, in order:
    ``{"message": {...}, "created": True, "member_ids": [...], "previous_id": id}``
    (``previous_id``: the chat's message just before this one, None for a
    chat's first), ``{"message": {...}, "created": False}`` for a retried
    client_msg_id (the stored message), or ``{"error": AppError}``.  Ids are
    assigned in request order.  ``then(created results)``: more statements for
    the transaction (the backplane's NOTIFY), sent with the batch's last ones.

    This is the hot path: a batch without replies, mentions or files costs
    six statements whatever its size (chats with their members and the
    senders' names, dedupe, one INSERT, the chats' activity, the members'
    unread counts, the senders' read pointers), written as plain SQL since
    building them with peewee cost more than running them.  On PostgreSQL
    they take four round trips: the chats' locks travel with the first
    statement, and the last three with ``then``'s, because the locks are
    held until the commit and another process writing to the chat waits
    for each round trip made under them.
    """
    chat_ids = sorted({r["chat_id"] for r in requests})
    # Several processes may write to one chat: serialise per chat so that
    # commit order equals id order, which keeps every receiver in id order.
    # Taken before any id is drawn: settled_message_id() relies on it.
    members, senders, newest, archived = _chats_and_senders(chat_ids, {r["sender_id"] for r in requests},
                                                            lock_statements(LOCK_CHAT, chat_ids))
    member_sets = {chat_id: set(ids) for chat_id, ids in members.items()}
    already = _sent_before({(r["sender_id"], r["client_msg_id"]) for r in requests if r.get("client_msg_id")})
    targets = _reply_targets({r["reply_to"] for r in requests if r.get("reply_to")})

    now = utcnow()  # one clock reading per batch
    results, new = [], []
    for r in requests:
        chat_id, dedupe = r["chat_id"], (r["sender_id"], r.get("client_msg_id"))
        if chat_id not in members:
            results.append({"error": not_found("chat", chat_id)})
        elif r["sender_id"] not in member_sets[chat_id]:
            results.append({"error": forbidden("not_a_member", not_member_message(chat_id))})
        elif dedupe[1] and dedupe in already:
            original = already[dedupe]
            if original["chat_id"] != chat_id:
                results.append({"error": AppError(409, "client_msg_id_reused",
                                                  N_("This client_msg_id was already used in another chat"))})
            else:
                results.append({"message": original, "created": False})
        elif chat_id in archived:
            results.append({"error": archived_error()})
        elif r.get("reply_to") and targets.get(r["reply_to"]) != chat_id:
            results.append({"error": invalid("invalid_reply_to",
                                             N_("Message %(id)s is not a message of this chat", id=r["reply_to"]),
                                             field="reply_to")})
        elif refused := files.check_attachable(r["sender_id"], r.get("file_ids")):
            results.append({"error": refused})
        else:
            message = _new_message_dict(r, senders[r["sender_id"]], now)
            if dedupe[1]:
                already[dedupe] = message  # sent twice in one batch: the second one is a retry of the first
            new.append((message, r))
            results.append({"message": message, "created": True, "member_ids": members[chat_id]})
    if new:
        _insert(new, now)
        for result in results:
            if result.get("created"):
                chat_id = result["message"]["chat_id"]
                result["previous_id"], newest[chat_id] = newest[chat_id], result["message"]["id"]
        _complete([message for message, _ in new], [r for _, r in new])
        execute_together(_touch(new, now) + (then([r for r in results if r.get("created")]) if then else []))
    return results


def _chats_and_senders(chat_ids, sender_ids, locks):
    """({chat id: member ids} for the chats that exist, {sender id: (username, display name)}, {chat id:
    its newest message id or None}, {archived chat ids}) in one query, sent with the ``locks`` statements
    that take the chats' locks.  Read under those locks, the newest id is the last one committed: the
    backplane orders this process's delivery after it."""
    chats, chat_params = in_params(chat_ids)
    users, user_params = in_params(sender_ids)
    sql = ("WITH c AS MATERIALIZED (SELECT id, archived, (SELECT id FROM messages WHERE chat_id = chats.id"
           f" ORDER BY id DESC LIMIT 1) AS newest FROM chats WHERE id IN ({chats}))"  # once per chat, not per member row
           " SELECT c.id, c.archived, c.newest, m.user_id, u.username, u.display_name FROM c"
           " LEFT JOIN memberships m ON m.chat_id = c.id"
           f" LEFT JOIN users u ON u.id = m.user_id AND u.id IN ({users})")
    rows = execute_together([*locks, (sql, chat_params + user_params)]).fetchall()
    members, senders, newest, archived = {}, {}, {}, set()
    for chat_id, is_archived, newest_id, user_id, username, display_name in rows:
        if is_archived:
            archived.add(chat_id)
        ids = members.setdefault(chat_id, [])
        newest[chat_id] = newest_id
        if user_id is not None:
            ids.append(user_id)
        if username is not None:
            senders[user_id] = (username, display_name)
    return members, senders, newest, archived


def _sent_before(keys):
    """{(sender id, client_msg_id): the stored message's wire form} for the keys already used."""
    if not keys:
        return {}
    senders, sender_params = in_params({s for s, _ in keys})
    ids, id_params = in_params({c for _, c in keys})
    rows = db.execute_sql(f"SELECT id, sender_id, client_msg_id FROM messages"
                          f" WHERE sender_id IN ({senders}) AND client_msg_id IN ({ids})",
                          sender_params + id_params).fetchall()
    found = [message_id for message_id, sender_id, client_msg_id in rows if (sender_id, client_msg_id) in keys]
    if not found:
        return {}
    stored = message_dicts(rows_by_id(found))
    return {(m["sender_id"], m["client_msg_id"]): m for m in stored}


def _new_message_dict(request, sender, created_at):
    """The wire form of a message about to be inserted, built as a stored one is (its id is set by
    :func:`_insert`; files, mentions and the quote by :func:`_complete`)."""
    username, display_name = sender
    return message_dict(NO_ROW._replace(chat_id=request["chat_id"], sender_id=request["sender_id"],
                                        sender_name=display_name, sender_username=username, text=request["text"],
                                        created_at=created_at, client_msg_id=request.get("client_msg_id")))


def _insert(new, now):
    """One INSERT ... RETURNING for the batch.  Ids come from one sequence in row order,
    so the sorted returned ids belong to the rows in order."""
    stamp = Message.created_at.db_value(now)
    params = []
    for message, r in new:
        params += [message["chat_id"], message["sender_id"], message["text"], message["client_msg_id"],
                   stamp, r.get("reply_to")]
    values = "(" + ", ".join([db.param] * 6) + ")"
    cursor = db.execute_sql("INSERT INTO messages (chat_id, sender_id, text, client_msg_id, created_at, reply_to_id)"
                            f" VALUES {', '.join([values] * len(new))} RETURNING id", params)
    for (message, _), message_id in zip(new, sorted(row[0] for row in cursor.fetchall())):
        message["id"] = message_id


def _complete(messages, requests):
    """Files, mentions and reply quotes of new messages: a query each, only when some message has them."""
    files.attach([(m["id"], r["file_ids"]) for m, r in zip(messages, requests) if r.get("file_ids")])
    with_files([m for m, r in zip(messages, requests) if r.get("file_ids")])
    mentioned = mentions.record([(m["id"], m["chat_id"], m["text"]) for m in messages])
    quoted = quotes({r["reply_to"] for r in requests if r.get("reply_to")})
    for message, r in zip(messages, requests):
        message["mentions"] = mentioned.get(message["id"], [])
        message["reply_to"] = quoted.get(r.get("reply_to"))


def _touch(new, now):
    """The statements that set the chats' last activity, the members' unread counts, and each sender's
    read pointer up to their own newest message: three (four when a message mentions someone).

    Counts change by row arithmetic (``unread_count + n``), so a read or delete racing the batch on
    another connection loses nothing.  Every member gains the batch's messages in the chat; then each
    sender, having read up to their own newest message, is set to what the batch holds after it (all of
    it from others).  Ids in a chat only grow under its lock, so every sender's pointer moves."""
    p = db.param
    chats, chat_params = in_params({m["chat_id"] for m, _ in new})
    statements = [(f"UPDATE chats SET last_activity_at = {p} WHERE id IN ({chats})",
                   [Chat.last_activity_at.db_value(now)] + chat_params)]
    added = collections.Counter(message["chat_id"] for message, _ in new)
    statements.append(_update_memberships("unread_count = unread_count + v.column2", ["chat_id"],
                                          [[*pair] for pair in added.items()]))
    mentioned = collections.Counter((message["chat_id"], user_id) for message, _ in new
                                    for user_id in message["mentions"] if user_id != message["sender_id"])
    if mentioned:
        statements.append(_update_memberships("unread_mentions = unread_mentions + v.column3", ["chat_id", "user_id"],
                                              [[*key, n] for key, n in mentioned.items()]))
    newest = {}
    for message, _ in new:
        newest[(message["chat_id"], message["sender_id"])] = message["id"]
    senders = []
    for (chat_id, sender_id), last in newest.items():
        after = [m for m, _ in new if m["chat_id"] == chat_id and m["id"] > last]
        senders.append([chat_id, sender_id, last, len(after), sum(sender_id in m["mentions"] for m in after)])
    # Sending means you have read the chat up to your own message (never moving a pointer back).
    statements.append(_update_memberships(
        "last_read_message_id = v.column3, unread_count = v.column4, unread_mentions = v.column5",
        ["chat_id", "user_id"], senders, " AND memberships.last_read_message_id < v.column3"))
    return statements


def _update_memberships(assignments, keys, rows, condition=""):
    """The ``(sql, params)`` of ``UPDATE memberships SET assignments`` joined to ``rows`` (a VALUES list
    ``v`` whose first columns are the ``keys``)."""
    values = "(" + ", ".join([db.param] * len(rows[0])) + ")"
    join = " AND ".join(f"memberships.{key} = v.column{n}" for n, key in enumerate(keys, 1))
    sql = (f"UPDATE memberships SET {assignments} FROM (VALUES {', '.join([values] * len(rows))}) AS v"
           f" WHERE {join}{condition}")
    return sql, [value for row in rows for value in row]


def _reply_targets(message_ids):
    """{message id: its chat id} for the messages being replied to (deleted ones included)."""
    if not message_ids:
        return {}
    return dict(Message.select(Message.id, Message.chat).where(Message.id.in_(list(message_ids))).tuples())
