"""Demo accounts and chats for a brand-new database."""
from models import chats, users
from models.message_send import store_messages

DEMO_ACCOUNTS = [("admin", "admin123", "Administrator", True),
                 ("user1", "user1pass", "User One", False),
                 ("user2", "user2pass", "User Two", False)]


def seed_if_empty(password_hashes):
    """Create the demo data when no user exists yet; returns True if it did."""
    if users.User.select().exists():
        return False
    ids = {}
    for username, _, display_name, is_admin in DEMO_ACCOUNTS:
        ids[username] = users.create_user(username, password_hashes[username], display_name, is_admin)["id"]
    general = chats.create_group_chat(ids["admin"], "General", [ids["user1"], ids["user2"]], visibility="public")
    chats.update_chat({"id": ids["admin"]}, general["id"], {"default": True})  # its owner marks it default
    chats.create_direct_chat(ids["admin"], ids["user1"])
    store_messages([{"sender_id": ids["admin"], "chat_id": general["id"], "client_msg_id": None,
                     "text": "Welcome to Corporate Messenger! This is the General chat for everyone."}])
    return True


def is_published_password(username, password):
    """True when ``password`` is the published demo password of the account ``username``."""
    return any(username == name and password == published for name, published, _, _ in DEMO_ACCOUNTS)


def demo_passwords_live():
    """Usernames whose demo password still works (refused on a public address)."""
    return [name for name, password, _, _ in DEMO_ACCOUNTS if users.demo_password_in_use(name, password)]
