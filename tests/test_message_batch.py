"""The batched write path and the database executor, below the server: one batch mixing every outcome,
and PostgreSQL worker connections that are kept, and replaced only after they fail."""
import asyncio
import concurrent.futures

import psycopg2
import pytest

from models import chats, message_send, messages, users
from models.db import DatabaseUnavailable, db, db_call, is_sqlite, run_in_transaction


def make_users(*names):
    return [users.create_user(name, "not-a-real-hash", name.title())["id"] for name in names]


def test_one_batch_with_every_outcome(database):
    def setup():
        ann, bob, cid = make_users("ann", "bob", "cid")
        group = chats.create_group_chat(ann, "Team", [bob])["id"]
        other = chats.create_group_chat(cid, "Other", [ann])["id"]
        stored = message_send.store_messages([{"sender_id": ann, "chat_id": group, "text": "first",
                                           "client_msg_id": "old"}])[0]["message"]
        foreign = message_send.store_messages([{"sender_id": cid, "chat_id": other, "text": "elsewhere",
                                            "client_msg_id": None}])[0]["message"]
        return ann, bob, cid, group, other, stored, foreign
    ann, bob, cid, group, other, stored, foreign = run_in_transaction(setup)
    batch = [
        {"sender_id": ann, "chat_id": group, "text": "hello @Bob", "client_msg_id": "a1"},
        {"sender_id": ann, "chat_id": 999_999, "text": "nowhere", "client_msg_id": "a2"},
        {"sender_id": cid, "chat_id": group, "text": "not mine", "client_msg_id": "c1"},
        {"sender_id": ann, "chat_id": group, "text": "retry", "client_msg_id": "old"},
        {"sender_id": ann, "chat_id": other, "text": "reused", "client_msg_id": "a1"},
        {"sender_id": bob, "chat_id": group, "text": "answer", "client_msg_id": "b1", "reply_to": stored["id"]},
        {"sender_id": bob, "chat_id": group, "text": "bad reply", "client_msg_id": "b2", "reply_to": foreign["id"]},
        {"sender_id": ann, "chat_id": group, "text": "same key again", "client_msg_id": "a1"},
        {"sender_id": bob, "chat_id": group, "text": "no key", "client_msg_id": None},
    ]
    results = run_in_transaction(message_send.store_messages, batch)

    codes = [r["error"].code if "error" in r else ("created" if r["created"] else "retry") for r in results]
    assert codes == ["created", "chat_not_found", "not_a_member", "retry", "client_msg_id_reused", "created",
                     "invalid_reply_to", "retry", "created"]
    first, answer, plain = results[0]["message"], results[5]["message"], results[8]["message"]
    assert first["id"] < answer["id"] < plain["id"]  # ids in request order
    assert first["mentions"] == [bob] and first["sender_name"] == "Ann" and first["reply_to"] is None
    assert answer["reply_to"] == {"id": stored["id"], "sender_id": ann, "sender_name": "Ann", "text": "first"}
    assert results[3]["message"]["id"] == stored["id"] and results[3]["message"]["text"] == "first"
    assert results[7]["message"]["id"] == first["id"]
    assert sorted(results[0]["member_ids"]) == sorted([ann, bob])

    def state():
        page = messages.history(ann, group)["messages"]
        return ([m["text"] for m in page], chats.get_chat(ann, group), chats.get_chat(bob, group),
                chats.list_chats(ann)[0]["id"])
    texts, ann_view, bob_view, newest_chat = run_in_transaction(state)
    assert texts == ["first", "hello @Bob", "answer", "no key"]
    assert ann_view["unread_count"] == 2  # bob's two; sending moved ann's pointer past her own
    assert bob_view["unread_count"] == 0 and bob_view["unread_mentions"] == 0  # bob's newest is the last message
    assert newest_chat == group  # the batch touched the chat's last activity


def test_postgresql_workers_keep_their_connection_and_replace_it_after_a_failure(database):
    if is_sqlite():
        pytest.skip("SQLite keeps one connection on its one worker (test_faults covers a full disk)")

    def backend():
        return db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]

    async def gather_calls(n):
        found, failures = set(), 0
        for _ in range(n):
            for result in await asyncio.gather(db_call(backend), db_call(backend), return_exceptions=True):
                if isinstance(result, DatabaseUnavailable):  # two at once: both workers take part
                    failures += 1
                else:
                    found.add(result)
        return found, failures

    def calls(n):
        """On a thread of its own: in the whole suite, Playwright's sync API keeps a loop running on this one."""
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, gather_calls(n)).result()

    first, failures = calls(20)
    assert len(first) == 2 and failures == 0
    again, _ = calls(20)
    assert again == first, "a worker opened another connection instead of keeping its own"

    admin = psycopg2.connect(database)
    admin.autocommit = True
    with admin.cursor() as cur:  # what a restart does to every connection
        cur.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (sorted(first),))
    admin.close()
    after, failures = calls(20)
    assert failures == 2  # each worker finds out once, on its next call
    assert len(after) == 2 and not after & first
    latest, failures = calls(10)
    assert latest == after and failures == 0
