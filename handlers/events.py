"""Events published after a domain change commits; REST and WebSocket share them."""


def chat_created(bus, chat):
    member_ids = [m["id"] for m in chat["members"]]
    bus.publish({"type": "chat_created", "chat": {**chat, "unread_count": 0}}, user_ids=member_ids)


def chat_updated(bus, chat):
    bus.publish({"type": "chat_updated", "chat_id": chat["id"], "title": chat["title"]},
                chat_ids=[chat["id"]])


def members_added(bus, chat, added_ids):
    member_ids = [m["id"] for m in chat["members"]]
    bus.publish({"type": "member_added", "chat_id": chat["id"], "user_ids": added_ids,
                 "chat": {**chat, "unread_count": 0}}, user_ids=member_ids)


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
