"""What a message costs on its way between processes on one PostgreSQL, part by part (no network clients).

Stores batches into a group of 50 (W2's shape: 5 of them sending) through the writer's own transaction
(``MessageWriter._store``: ``store_messages`` and the NOTIFY of the batch), on this thread, timing every
statement, the BEGIN and the COMMIT; then times what a receiving process does with each event it reads
from LISTEN (``orjson.loads`` and ``Hub.dispatch`` to 25 in-memory sockets, half of W2's members) beside
what the writing process does for its own (``Hub.dispatch`` of the envelope, encoded once).

    python bench/crossprocess.py --database-url postgresql://USER:PASSWORD@127.0.0.1:5432/EMPTY_DB [--batches 200]

Prints one JSON document: milliseconds per batch for each round trip (median), per batch size.
"""
import argparse
import collections
import json
import os
import statistics
import sys
import time

import orjson

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from handlers.realtime import events  # noqa: E402
from handlers.realtime.backplane import PostgresBus  # noqa: E402
from handlers.realtime.bus import make_envelope  # noqa: E402
from handlers.realtime.hub import Hub  # noqa: E402
from handlers.realtime.writer import MessageWriter  # noqa: E402
from handlers.throttle import RateLimiter  # noqa: E402
from models import chats, migrations, users  # noqa: E402
from models.db import close_db, db, init_db, run_in_transaction  # noqa: E402

STATEMENTS = [("pg_advisory_xact_lock", "lock the chat"), ("WITH c AS", "chat, members, senders, newest id"),
              ("SELECT id, sender_id", "dedupe"), ("INSERT INTO messages", "insert"),
              ("UPDATE chats", "chat activity"), ("UPDATE memberships SET unread_count = unread", "members' unread"),
              ("UPDATE memberships SET last_read", "senders' read pointers"), ("pg_notify", "NOTIFY")]


class MemorySocket:
    def __init__(self, user_id):
        self.user_id, self.conn_id, self.session_id = user_id, str(user_id), None

    def send_text(self, text):
        pass

    def close(self, code, reason):
        pass


def part_of(sql):
    """What a round trip runs: its statements' names joined by "+" (several travel together)."""
    return " + ".join(next((name for prefix, name in STATEMENTS if prefix in statement[:80]), statement[:40])
                      for statement in sql.split("; "))


def timed_statements(times):
    """Time every statement the database runs into ``times`` (part -> list of ms of the current batch)."""
    execute = type(db.obj).execute_sql

    def timing(self, sql, params=None, *args, **kwargs):
        started = time.perf_counter()
        try:
            return execute(self, sql, params, *args, **kwargs)
        finally:
            times[part_of(sql)] += (time.perf_counter() - started) * 1000
    type(db.obj).execute_sql = timing


def timed_store(writer, requests, token, marks):
    marks["begun"] = time.perf_counter()
    writer._store(requests, token)
    marks["stored"] = time.perf_counter()


def store_costs(writer, chat_id, senders, size, batches):
    parts = collections.defaultdict(list)
    times = collections.Counter()
    timed_statements(times)
    for n in range(batches):
        times.clear()
        requests = [{"sender_id": senders[i % len(senders)], "chat_id": chat_id, "text": f"benchmark message {n}.{i}",
                     "client_msg_id": f"x{size}-{n}-{i}", "reply_to": None, "file_ids": []} for i in range(size)]
        marks = {}
        started = time.perf_counter()
        run_in_transaction(timed_store, writer, requests, n + 1, marks)
        ended = time.perf_counter()
        for part, ms in times.items():
            parts[part].append(ms)
        parts["BEGIN"].append((marks["begun"] - started) * 1000)
        parts["COMMIT"].append((ended - marks["stored"]) * 1000)
        parts["Python in the transaction"].append((marks["stored"] - marks["begun"]) * 1000 - sum(times.values()))
        parts["whole transaction"].append((ended - started) * 1000)
    return {part: round(statistics.median(ms), 3) for part, ms in parts.items()}


def receive_costs(member_ids, events_count=5000):
    """µs per event: decoding another process's envelope and dispatching it to 25 sockets, and the
    writer's own dispatch of the same event."""
    bus = PostgresBus("postgresql://unused/")
    hub = Hub(bus, presence_grace=0)
    for uid in member_ids[:25]:
        hub.by_user[uid].add(MemorySocket(uid))
    message = {"id": 1, "chat_id": 1, "sender_id": member_ids[0], "sender_name": "W2m0", "sender_username": "w2m0",
               "text": "benchmark message 1234", "created_at": "2026-12-07T20:00:00.000Z", "edited_at": None,
               "client_msg_id": "m1765137600000-0-1234", "reply_to": None, "files": [], "mentions": [],
               "reactions": []}
    envelope = make_envelope(events.new_message(message), member_ids)
    payload = bus._encode(envelope)
    started = time.perf_counter()
    for _ in range(events_count):
        orjson.loads(payload)
    decode = (time.perf_counter() - started) / events_count * 1e6
    started = time.perf_counter()
    for _ in range(events_count):
        hub.dispatch(orjson.loads(payload))
    receive = (time.perf_counter() - started) / events_count * 1e6
    started = time.perf_counter()
    for _ in range(events_count):
        hub.dispatch(envelope)
    own = (time.perf_counter() - started) / events_count * 1e6
    return {"payload_bytes": len(payload), "decode_us": round(decode, 1), "decode_and_dispatch_to_25_us": round(receive, 1),
            "own_dispatch_to_25_us": round(own, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--batches", type=int, default=200, help="batches per size")
    parser.add_argument("--sizes", default="1,10,25,50", help="messages per batch")
    args = parser.parse_args()
    init_db(args.database_url, 2)
    migrations.migrate()

    def seed():
        ids = [users.create_user(f"w2m{n}", "bench-no-login", f"W2m{n}")["id"] for n in range(50)]
        return ids, chats.create_group_chat(ids[0], "W2", ids[1:])["id"]
    member_ids, chat_id = run_in_transaction(seed)
    writer = MessageWriter(PostgresBus(args.database_url), RateLimiter(0, 1))
    report = {"store_ms_per_batch": {size: store_costs(writer, chat_id, member_ids[:5], int(size), args.batches)
                                     for size in args.sizes.split(",")},
              "receive_us_per_event": receive_costs(member_ids), "load_average": os.getloadavg()}
    close_db()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
