"""The unread counts kept on each membership row always equal a recount from the messages: after random
sequences of sends (batches of several senders), reads (forwards, backwards, to 0), edits, deletes and
member changes through the domain functions, and after concurrent writers on a real server (two server
processes on PostgreSQL).  SQLite and PostgreSQL."""
import itertools
import random
import sqlite3
import threading

import psycopg2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import chats, message_send, messages, users
from models.db import db, run_in_transaction
from models.errors import AppError
from tests.helpers import user_id

# Every membership with its kept counts beside the counts recounted from scratch.
KEPT_AND_RECOUNTED = (
    "SELECT s.chat_id, s.unread_count, s.unread_mentions,"
    " (SELECT COUNT(*) FROM messages m WHERE m.chat_id = s.chat_id AND m.id > s.last_read_message_id"
    "  AND m.sender_id <> s.user_id AND m.deleted_at IS NULL),"
    " (SELECT COUNT(*) FROM messages m JOIN mentions n ON n.message_id = m.id AND n.user_id = s.user_id"
    "  WHERE m.chat_id = s.chat_id AND m.id > s.last_read_message_id AND m.sender_id <> s.user_id"
    "  AND m.deleted_at IS NULL)"
    " FROM memberships s ORDER BY s.id")


def drift(rows, chat_ids=None):
    """The rows of ``KEPT_AND_RECOUNTED`` (of the chats ``chat_ids``, or all) whose kept counts differ
    from the recount."""
    return [row for row in rows if (chat_ids is None or row[0] in chat_ids) and tuple(row[1:3]) != tuple(row[3:5])]



_names = itertools.count()
step = st.tuples(st.sampled_from(["send", "send", "send", "read", "read", "edit", "delete", "add", "remove"]),
                 st.integers(0, 99), st.integers(0, 99), st.integers(0, 99))


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=5, max_size=30))
def test_kept_counts_equal_a_recount_after_any_sequence(database, steps):
    def setup():
        names = [f"u{next(_names)}" for _ in range(4)]
        people = [users.create_user(name, "not-a-real-hash", name)["id"] for name in names]
        group_a = chats.create_group_chat(people[0], "A", people[1:3])["id"]
        group_b = chats.create_group_chat(people[1], "B", [people[0], people[2], people[3]])["id"]
        direct = chats.create_direct_chat(people[2], people[3])[0]["id"]
        history = message_send.store_messages([{"sender_id": sender, "chat_id": chat_id, "client_msg_id": None,
                                                "text": f"before @{names[0]}"}
                                               for chat_id, sender in [(group_a, people[1]), (group_b, people[3]),
                                                                       (direct, people[2]), (group_a, people[0])]])
        sent = [(r["message"]["id"], r["message"]["chat_id"], r["message"]["sender_id"]) for r in history]
        return names, people, [group_a, group_b, direct], sent
    names, people, chat_ids, sent = run_in_transaction(setup)  # sent: (message id, chat id, sender id)

    def send(a, b, c):
        batch = [{"sender_id": people[(b + k) % 4], "chat_id": chat_ids[(c + k) % 3], "client_msg_id": None,
                  "text": f"hi @{names[(a + k) % 4]}" if (a + k) % 2 else "hi"} for k in range(1 + a % 3)]
        for result in message_send.store_messages(batch):
            if "message" in result:
                message = result["message"]
                sent.append((message["id"], message["chat_id"], message["sender_id"]))

    def read(a, b, c):
        chat_id = chat_ids[b % 3]
        in_chat = [message_id for message_id, chat, _ in sent if chat == chat_id]
        target = in_chat[c % len(in_chat)] if in_chat and c % 10 else 0  # any of them: forwards or back
        receipt = messages.mark_read(people[a % 4], chat_id, target)
        kept = db.execute_sql(f"SELECT unread_count, unread_mentions FROM memberships WHERE chat_id = {db.param}"
                              f" AND user_id = {db.param}", [chat_id, people[a % 4]]).fetchone()
        assert (receipt["unread_count"], receipt["unread_mentions"]) == kept

    def edit(a, b, c):
        message_id, _, sender = sent[a % len(sent)]
        messages.edit_message(sender, message_id, f"now @{names[b % 4]} and @{names[c % 4]}" if b % 3 else "plain")

    def delete(a, b, c):
        message_id, _, sender = sent[a % len(sent)]
        messages.delete_message(sender, message_id)

    def add(a, b, c):
        chat_id = chat_ids[a % 2]
        chats.add_members(chats.member_ids(chat_id)[0], chat_id, [people[b % 4]])

    def remove(a, b, c):
        target = people[b % 4]
        chats.remove_member({"id": target}, chat_ids[a % 2], target)

    operations = {"send": send, "read": read, "edit": edit, "delete": delete, "add": add, "remove": remove}
    for kind, a, b, c in steps:
        try:
            run_in_transaction(operations[kind], a, b, c)
        except AppError:
            pass  # not a member, a message deleted before: refused, rolled back
        rows = run_in_transaction(lambda: db.execute_sql(KEPT_AND_RECOUNTED).fetchall())
        assert drift(rows, chat_ids) == [], f"after {kind} {a} {b} {c}"


def kept_and_recounted(database_url):
    """``KEPT_AND_RECOUNTED`` read through a connection of its own: one consistent snapshot."""
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            return conn.execute(KEPT_AND_RECOUNTED).fetchall()
        finally:
            conn.close()
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(KEPT_AND_RECOUNTED)
            return cursor.fetchall()
    finally:
        conn.close()


def test_kept_counts_equal_a_recount_after_concurrent_writers(database_url, request):
    """Four people send, read (to any message, forwards or back), edit with mentions and delete at once,
    a fifth only reads, a sixth is added to and removed from the group, on one server (SQLite) or spread
    over two server processes (PostgreSQL).  Every committed state seen meanwhile, and the last one,
    has the kept counts equal to a recount (a send resets its sender's counts, so only checking at the
    end could miss a count that went wrong and was reset)."""
    if database_url.startswith("sqlite"):
        servers = [request.getfixturevalue("server")]
    else:
        spawn = request.getfixturevalue("spawn")
        servers = [spawn(), spawn()]
    first = servers[0]
    admin = first.login("admin")
    for name in ("carol", "dave", "erin"):
        created = first.request("POST", "/api/admin/users", admin,
                                {"username": name, "password": f"{name}pass", "display_name": name.title()})
        assert created.status_code == 201, created.text
    names = ["admin", "user1", "user2", "carol", "erin", "dave"]
    tokens = {name: servers[n % len(servers)].login(name) for n, name in enumerate(names)}
    ids = {name: user_id(first, tokens[name]) for name in names}
    group = first.request("POST", "/api/chats", admin, {"type": "group", "title": "Busy",
                                                        "member_ids": [ids[n] for n in names[1:5]]}).json()["id"]
    failures, drifted, done = [], [], threading.Event()

    def read(server, token, rng, seen):
        page = server.request("GET", f"/api/chats/{group}/messages?limit=20", token).json()
        seen += [m["id"] for m in page.get("messages", [])]
        target = rng.choice(seen) if seen else 0  # forwards or back
        return server.request("POST", f"/api/chats/{group}/read", token, {"message_id": target})

    def person(n, name, sends):
        server, token, rng = servers[n % len(servers)], tokens[name], random.Random(n)
        mine, seen = [], []
        for _ in range(40):
            roll = rng.random() if sends else 0.6
            if roll < 0.5:
                text = f"to @{rng.choice(names)}" if rng.random() < 0.5 else "hello"
                r = server.request("POST", f"/api/chats/{group}/messages", token, {"text": text})
                if r.status_code == 201:
                    mine.append(r.json()["id"])
            elif roll < 0.75 or not mine:
                r = read(server, token, rng, seen)
            elif roll < 0.85:
                r = server.request("PATCH", f"/api/messages/{rng.choice(mine)}", token,
                                   {"text": f"edited for @{rng.choice(names)}"})
            else:
                r = server.request("DELETE", f"/api/messages/{mine.pop(rng.randrange(len(mine)))}", token)
            if r.status_code >= 500:
                failures.append((name, r.status_code, r.text))

    def comings_and_goings():
        server = servers[-1]
        for n in range(15):
            if n % 2:
                r = server.request("DELETE", f"/api/chats/{group}/members/{ids['dave']}", tokens["dave"])
            else:
                r = server.request("POST", f"/api/chats/{group}/members", admin, {"user_ids": [ids["dave"]]})
            if r.status_code >= 500:
                failures.append(("membership", r.status_code, r.text))

    def checker():
        while not done.is_set():
            drifted.extend(drift(kept_and_recounted(database_url)))

    writers = [threading.Thread(target=person, args=(n, name, name != "erin")) for n, name in enumerate(names[:5])]
    writers.append(threading.Thread(target=comings_and_goings))
    watching = threading.Thread(target=checker)
    for thread in [*writers, watching]:
        thread.start()
    for thread in writers:
        thread.join(120)
    done.set()
    watching.join(30)
    assert failures == []
    assert drifted == []
    rows = kept_and_recounted(database_url)
    assert drift(rows) == []
    assert sum(row[1] for row in rows) > 0  # the check compared something: messages were left unread
