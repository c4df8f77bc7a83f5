"""Every frame the server sends, built here and nowhere else.

Functions taking ``bus`` publish an event after a domain change committed
(REST and WebSocket share them); the others build the dict for the caller to
publish or to send to one connection.
"""
from handlers import close_reasons as closing
from models.clock import iso, utcnow
from models.memberships import chat_title


def shared_view(chat, viewer_id):
    """The chat as ``viewer_id`` sees it, without the creator's own read state."""
    view = {k: v for k, v in chat.items() if k not in ("role", "last_read_message_id", "muted")}
    member = next((m for m in chat["members"] if m["id"] == viewer_id), None)
    view["role"] = member["role"] if member else None
    view["unread_count"] = view["unread_mentions"] = 0
    view["muted"] = False  # a chat new to the viewer
    view["title"] = chat_title(chat["type"], chat["title"], chat["members"], viewer_id)
    return view


def chat_created(bus, chat):
    for member in chat["members"]:
        bus.publish({"type": "chat_created", "chat": shared_view(chat, member["id"])}, user_ids=[member["id"]])


def chat_updated(bus, chat):
    """A group's shared settings changed: its title, topic, visibility, default flag or archived state."""
    bus.publish({"type": "chat_updated", "chat_id": chat["id"],
                 **{key: chat[key] for key in ("title", "topic", "visibility", "default", "archived")}},
                chat_ids=[chat["id"]])


def chat_muted(bus, user_id, chat_id, muted):
    """Muting is the caller's own setting: only their connections (every tab) hear of it."""
    bus.publish({"type": "chat_muted", "chat_id": chat_id, "muted": muted}, user_ids=[user_id])


def members_added(bus, chat, added_ids):
    """Groups only, so one view (title and members) serves every member.

    Unread counts differ per member, so the view has none: a newly added member
    asks GET /api/chats/{id} for theirs.
    """
    member_ids = [m["id"] for m in chat["members"]]
    view = {k: v for k, v in shared_view(chat, None).items() if k not in ("role", "unread_count", "unread_mentions", "muted")}
    bus.publish({"type": "member_added", "chat_id": chat["id"], "user_ids": added_ids, "chat": view},
                user_ids=member_ids)


def member_removed(bus, chat_id, user_id, remaining_ids):
    bus.publish({"type": "member_removed", "chat_id": chat_id, "user_id": user_id},
                user_ids=[*remaining_ids, user_id])


def member_role(bus, chat_id, user_id, role):
    """A member became an owner or a plain member again: every member's connections."""
    bus.publish({"type": "member_role", "chat_id": chat_id, "user_id": user_id, "role": role}, chat_ids=[chat_id])


def read(bus, receipt):
    """Everyone in the chat sees the receipt; only the reader's own tabs get the unread count."""
    bus.publish({"type": "read", "chat_id": receipt["chat_id"], "user_id": receipt["user_id"],
                 "message_id": receipt["message_id"]},
                chat_ids=[receipt["chat_id"]], exclude_user=receipt["user_id"])
    bus.publish({"type": "read", **receipt}, user_ids=[receipt["user_id"]])


def message_changed(bus, kind, message, member_ids):
    bus.publish({"type": kind, "message": message}, user_ids=member_ids)


def reactions(bus, summary, change, member_ids):
    """The whole new reaction list of one message (bounded by the caps in ``models/reactions.py``) and
    the change that made it, to every member."""
    bus.publish({"type": "reactions", **summary, "change": change}, user_ids=member_ids)


def message_pinned(bus, change, member_ids):
    """``{"type":"message_pinned","chat_id","message_id","pinned","user_id"}`` to every member."""
    bus.publish({"type": "message_pinned", **change}, user_ids=member_ids)


def close_session(bus, session_id):
    bus.publish(None, control={"action": "close_session", "session_id": session_id,
                               "reason": closing.LOGGED_OUT})


def close_user(bus, user_id, reason=closing.USER_DEACTIVATED, spare_session=None):
    """Close every connection of the user (on every process), except those of ``spare_session``."""
    bus.publish(None, control={"action": "close_user", "user_id": user_id, "reason": reason,
                               "spare_session": spare_session})


def user_updated(bus, user, chat_ids):
    """A user changed their profile: everyone sharing a chat with them, and their own other tabs."""
    bus.publish({"type": "user_updated", "user": user}, user_ids=[user["id"]], chat_ids=chat_ids)


def locale_changed(bus, user_id, locale):
    """The user chose another language: their open connections speak it from now on (every process)."""
    bus.publish(None, control={"action": "set_locale", "user_id": user_id, "locale": locale})


def presence(bus, user_id, status, chat_ids):
    bus.publish({"type": "presence", "user_id": user_id, "status": status},
                chat_ids=chat_ids, exclude_user=user_id)


def typing(bus, chat_id, user):
    bus.publish({"type": "typing", "chat_id": chat_id, "user_id": user["id"],
                 "username": user["username"], "display_name": user["display_name"]},
                chat_ids=[chat_id], exclude_user=user["id"])


def diagnostic_echo(bus, conn, nonce):
    bus.publish({"type": "diagnostic_echo", "nonce": nonce, "connection_id": conn.conn_id,
                 "server_time": iso(utcnow())}, user_ids=[conn.user_id])


# --- frames for one connection, and events the caller publishes ---------------------

def new_message(message):
    return {"type": "new_message", "message": message}


def message_ack(message):
    return {"type": "message_ack", "client_msg_id": message["client_msg_id"], "message": message}


def presence_sync(online):
    """The control that tells other processes who is online on this one (relayed, never delivered)."""
    return {"action": "presence_sync", "online": online}


def connected(user, conn_id, chat_ids, online_user_ids, heartbeat_interval, version):
    return {"type": "connected", "user_id": user["id"], "username": user["username"],
            "display_name": user["display_name"], "chat_ids": chat_ids, "online_user_ids": online_user_ids,
            "server_time": iso(utcnow()), "connection_id": conn_id,
            "heartbeat_interval": heartbeat_interval, "version": version}


def pong(frame_id):
    return {"type": "pong", "server_time": iso(utcnow()), "id": frame_id}


def catch_up(after_id, page):
    return {"type": "catch_up", "after_id": after_id, **page}


def error(body, client_msg_id=None):
    """An ``error`` frame from an error body (see ``handlers.base.error_body``)."""
    frame = {"type": "error", **body}
    if client_msg_id is not None:
        frame["client_msg_id"] = client_msg_id
    return frame
