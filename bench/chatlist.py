"""The chat list (GET /api/chats) of a user in 500 chats over 1,000,000 messages: p50 / p99.

Fills an empty database with bulk SQL (not the API): the user, 20 others, 500 group chats of four
members each, and the messages spread over the chats round robin.  The viewer sent every fourth
message of the first half and has read each chat up to the middle, so every chat holds about 1,000
unread messages from others (at the default sizes); the other members have read up to a few messages
before the end.  On SQLite the search index trigger is left out while filling (the list
never reads it; the search index then lacks these messages).  Then starts ``server.py`` on the
database and times the real endpoint over one keep-alive connection, one request at a time.
Prints one JSON line.

    python bench/chatlist.py --database-url URL [--chats 500] [--messages 1000000] [--requests 200]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
SECRET = "bench-secret-" + "x" * 40


def fill(chats, messages):
    """Runs inside one transaction; returns the viewer's access token."""
    from models import users
    from models.db import db, is_sqlite
    from models.messages import recount_unread
    viewer = users.create_user("viewer", "bench-no-login", "Viewer")["id"]
    others = [users.create_user(f"other{n}", "bench-no-login", f"Other {n}")["id"] for n in range(20)]
    token = users.issue_access_token(SECRET, viewer, users.open_session(viewer, "bench", 86400)["session_id"], 86400)
    p = db.param
    first = None
    for n in range(chats):
        cursor = db.execute_sql(f"INSERT INTO chats (type, title, created_at, last_activity_at) VALUES"
                                f" ('group', {p}, '2026-01-01 00:00:00', '2026-01-01 00:00:00') RETURNING id",
                                (f"chat {n}",))
        chat_id = cursor.fetchone()[0]
        first = first or chat_id
        members = [viewer] + [others[(n + k) % len(others)] for k in range(3)]
        for uid in members:
            db.execute_sql(f"INSERT INTO memberships (chat_id, user_id, role, joined_at, last_read_message_id, muted)"
                           f" VALUES ({p}, {p}, 'member', '2026-01-01 00:00:00', 0, {p})", (chat_id, uid, False))
    percent = "%" if is_sqlite() else "%%"  # psycopg2 reads a lone % as a placeholder
    half = messages // 2
    sender = f"CASE WHEN i {percent} 4 = 0 AND i < {half} THEN {viewer} ELSE {others[0]} + (i {percent} 3) END"
    if is_sqlite():
        db.execute_sql("DROP TRIGGER IF EXISTS messages_fts_insert")
        db.execute_sql(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)"
            " INSERT INTO messages (chat_id, sender_id, text, created_at)"
            f" SELECT ? + i % ?, {sender}, 'benchmark message number ' || i,"
            " datetime('2026-01-01', '+' || i || ' seconds') FROM n", (messages, first, chats))
    else:
        db.execute_sql(
            "INSERT INTO messages (chat_id, sender_id, text, created_at)"
            f" SELECT %s + i %% %s, {sender}, 'benchmark message number ' || i,"
            " timestamp '2026-01-01' + i * interval '1 second' FROM generate_series(0, %s - 1) AS i",
            (first, chats, messages))
    db.execute_sql("UPDATE chats SET last_activity_at = (SELECT MAX(created_at) FROM messages"
                   " WHERE messages.chat_id = chats.id) WHERE id >= " + str(first))
    db.execute_sql("UPDATE memberships SET last_read_message_id = (SELECT MAX(id) FROM messages"
                   f" WHERE messages.chat_id = memberships.chat_id) - (chat_id {percent} 7) * 3"
                   f" WHERE chat_id >= {first} AND user_id <> {viewer}")
    start = db.execute_sql(f"SELECT MIN(id) FROM messages WHERE chat_id >= {first}").fetchone()[0]
    db.execute_sql("UPDATE memberships SET last_read_message_id = (SELECT MAX(id) FROM messages"
                   f" WHERE messages.chat_id = memberships.chat_id AND id < {start + half})"
                   f" WHERE chat_id >= {first} AND user_id = {viewer}")
    recount_unread(f"chat_id >= {first}")  # the counts kept on the membership rows, as the migration fills them
    return token


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    from models.db import close_db, init_db, run_in_transaction
    from models.migrations import migrate
    init_db(args.database_url)
    migrate()
    started = time.monotonic()
    token = run_in_transaction(fill, args.chats, args.messages)
    fill_seconds = time.monotonic() - started
    run_in_transaction(lambda: None)
    close_db()
    with tempfile.TemporaryDirectory() as data_dir:
        proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "server.py"), "--port", "0", "--data-dir",
                                 data_dir, "--database-url", args.database_url, "--secret-key", SECRET,
                                 "--demo-data", "false", "--log-level", "WARNING"], stdout=subprocess.PIPE)
        try:
            url = proc.stdout.readline().decode().split()[-1] + "/api/chats"
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token}"
            samples, size = [], 0
            for n in range(args.requests + 10):
                t = time.perf_counter()
                r = session.get(url, timeout=60)
                elapsed = time.perf_counter() - t
                r.raise_for_status()
                size = len(r.content)
                if n >= 10:  # warm-up
                    samples.append(elapsed * 1000)
            answer = r.json()
            chats, unread = len(answer), sum(chat["unread_count"] for chat in answer)
        finally:
            proc.terminate()
            proc.wait(20)
    samples.sort()
    print(json.dumps({"chats": chats, "messages": args.messages, "unread": unread,
                      "fill_seconds": round(fill_seconds, 1),
                      "response_bytes": size, "requests": len(samples),
                      "ms": {"p50": round(statistics.median(samples), 1),
                             "p99": round(samples[int(0.99 * (len(samples) - 1))], 1)}}))


if __name__ == "__main__":
    main()
