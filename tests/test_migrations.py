"""A database made by an older version upgrades in place on start, keeping its data."""
import datetime

from models import migrations
from models.db import close_db, db, init_db
from models.users import hash_password
from tests.harness import InProcessServer, config_argv


def _insert(table, **values):
    placeholders = ", ".join([db.param] * len(values))
    cursor = db.execute_sql(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({placeholders})", list(values.values()))
    return cursor


def test_version_1_schema_upgrades_with_data_kept(database_url, tmp_path):
    init_db(database_url)
    assert migrations.migrate(target="0001_initial") == ["0001_initial"]
    now = datetime.datetime(2025, 1, 2, 3, 4, 5)
    with db.connection_context():
        assert "last_seen_at" not in {c.name for c in db.get_columns("users")}
        _insert("users", username="veteran", display_name="Old Timer", password_hash=hash_password("oldpass123"),
                is_admin=True, is_active=True, created_at=now)
        uid = db.execute_sql("SELECT id FROM users WHERE username = " + db.param, ["veteran"]).fetchone()[0]
        _insert("chats", type="group", title="Archive", created_by_id=uid, created_at=now, last_activity_at=now)
        cid = db.execute_sql("SELECT id FROM chats WHERE title = " + db.param, ["Archive"]).fetchone()[0]
        _insert("memberships", chat_id=cid, user_id=uid, role="owner", joined_at=now, last_read_message_id=0)
        _insert("messages", chat_id=cid, sender_id=uid, text="from the old days", created_at=now)
    close_db()

    server = InProcessServer(config_argv(tmp_path / "data", database_url))
    try:
        with db.connection_context():
            assert migrations.applied() == migrations.available()
            assert {"last_seen_at", "locale"} <= {c.name for c in db.get_columns("users")}
        token = server.login("veteran", "oldpass123")
        assert server.request("GET", "/api/me", token).json()["locale"] is None  # 0011: nobody chose yet
        chats = server.request("GET", "/api/chats", token).json()
        assert [c["title"] for c in chats] == ["Archive"]  # no demo data poured into an existing database
        assert chats[0]["last_message"]["text"] == "from the old days"
        assert chats[0]["unread_count"] == 0
        # 0016: an existing group stays private and open, so upgrading shows nobody anything new
        assert (chats[0]["visibility"], chats[0]["topic"], chats[0]["archived"], chats[0]["default"]) == \
            ("private", "", False, False)
        assert server.request("GET", "/api/channels", token).json() == {"channels": []}
        me = server.request("GET", "/api/me", token).json()
        assert (me["status_text"], me["status_emoji"], me["avatar_url"]) == ("", "", None)
        assert (me["email"], me["timezone"]) == (None, None)  # 0018: nothing guessed for existing users
        with db.connection_context():
            assert {"email", "timezone"} <= {c.name for c in db.get_columns("users")}
    finally:
        server.stop()


def test_unread_counts_are_filled_from_the_messages(database_url):
    """0014 keeps unread counts on the membership rows: filled from the data as it stood, deleted messages,
    one's own messages and what lies before the read pointer left out."""
    init_db(database_url)
    migrations.migrate(target="0013_reaction_caps")
    now = datetime.datetime(2025, 1, 2, 3, 4, 5)
    with db.connection_context():
        ids = []
        for name in ("ann", "bob"):
            _insert("users", username=name, display_name=name, password_hash="x", is_admin=False, is_active=True,
                    created_at=now)
            ids.append(db.execute_sql("SELECT id FROM users WHERE username = " + db.param, [name]).fetchone()[0])
        ann, bob = ids
        _insert("chats", type="group", title="Old", created_by_id=ann, created_at=now, last_activity_at=now)
        chat = db.execute_sql("SELECT id FROM chats").fetchone()[0]
        sent = []
        for sender, mentioned, deleted in [(ann, None, None), (bob, ann, None), (bob, ann, None), (bob, ann, now),
                                           (ann, bob, None)]:
            _insert("messages", chat_id=chat, sender_id=sender, text="old", created_at=now, deleted_at=deleted)
            sent.append(db.execute_sql("SELECT MAX(id) FROM messages").fetchone()[0])
            if mentioned:
                _insert("mentions", message_id=sent[-1], user_id=mentioned)
        for uid, pointer in ((ann, 0), (bob, sent[1])):
            _insert("memberships", chat_id=chat, user_id=uid, role="member", joined_at=now,
                    last_read_message_id=pointer, muted=False)
    assert "0014_unread_counters" in migrations.migrate()
    with db.connection_context():
        counts = db.execute_sql("SELECT user_id, unread_count, unread_mentions FROM memberships ORDER BY user_id")
        assert counts.fetchall() == [(ann, 2, 2), (bob, 1, 1)]  # ann: bob's two left; bob: ann's mention of him
    close_db()


def test_migrations_are_idempotent(server):
    assert migrations.migrate() == []
