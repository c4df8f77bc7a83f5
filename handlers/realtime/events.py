"""Events published after a domain change commits; REST and WebSocket share them."""


def shared_view(chat, viewer_id):
    """The chat as ``viewer_id`` sees it, without the creator's own read state."""
    view = {k: v for k, v in chat.items() if k not in ("role", "last_read_message_id")}
    member = next((m for m in chat["members"] if m["id"] == viewer_id), None)
    view["role"] = member["role"] if member else None
    view["unread_count"] = 0
    if chat["type"] == "direct":
        others = [m for m in chat["members"] if m["id"] != viewer_id]
        view["title"] = others[0]["display_name"] if others else chat["title"]
    return view


def chat_created(bus, chat):
    for member in chat["members"]:
        bus.publish({"type": "chat_created", "chat": shared_view(chat, member["id"])}, user_ids=[member["id"]])


def chat_updated(bus, chat):
    bus.publish({"type": "chat_updated", "chat_id": chat["id"], "title": chat["title"]},
                chat_ids=[chat["id"]])


def members_added(bus, chat, added_ids):
    """Groups only, so one view (title and members) serves every member.

    Unread counts differ per member, so the view has none: a newly added member
    asks GET /api/chats/{id} for theirs.
    """
    member_ids = [m["id"] for m in chat["members"]]
    view = {k: v for k, v in shared_view(chat, None).items() if k not in ("role", "unread_count")}
    bus.publish({"type": "member_added", "chat_id": chat["id"], "user_ids": added_ids, "chat": view},
                user_ids=member_ids)


def member_removed(bus, chat_id, user_id, remaining_ids):
    bus.publish({"type": "member_removed", "chat_id": chat_id, "user_id": user_id},
                user_ids=[*remaining_ids, user_id])


def read(bus, receipt):
    """Everyone in the chat sees the receipt; only the reader's own tabs get the unread count."""
    bus.publish({"type": "read", "chat_id": receipt["chat_id"], "user_id": receipt["user_id"],
                 "message_id": receipt["message_id"]},
                chat_ids=[receipt["chat_id"]], exclude_user=receipt["user_id"])
    bus.publish({"type": "read", **receipt}, user_ids=[receipt["user_id"]])


def message_changed(bus, kind, message, member_ids):
    bus.publish({"type": kind, "message": message}, user_ids=member_ids)


def close_session(bus, session_id):
    bus.publish(None, control={"action": "close_session", "session_id": session_id,
                               "reason": "token revoked (logged out)"})


def close_user(bus, user_id, reason="user deactivated"):
    bus.publish(None, control={"action": "close_user", "user_id": user_id, "reason": reason})
