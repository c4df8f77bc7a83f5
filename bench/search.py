"""p50/p95/p99 latency of message search over N messages (default 1 million), SQLite and PostgreSQL.

Builds a fresh database through the real migrations (SQLite in a temporary folder,
or the PostgreSQL URL given with --database-url, whose schema it REPLACES), fills
it with N messages of 6-16 words (English and Russian, a Zipf-like vocabulary so
that some words are in a third of all messages and some in a handful) spread over
50 chats, and times ``models.search.search`` — the function GET /api/search runs —
for a user who is a member of 10 of the chats, over a mix of rare, medium and
common one- and two-word queries, each inside its own transaction as db_call runs it.

    python bench/search.py [--messages 1000000] [--queries 300] [--database-url URL]
"""
import argparse
import datetime
import itertools
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from models import migrations  # noqa: E402
from models.db import db, init_db, is_sqlite, run_in_transaction  # noqa: E402
from models.memberships import Chat, Membership  # noqa: E402
from models.messages import Message  # noqa: E402
from models.search import search  # noqa: E402
from models.users import User  # noqa: E402

ROOTS = ["deploy", "review", "budget", "meeting", "release", "client", "server", "design", "report", "invoice",
         "встреча", "отчёт", "клиент", "бюджет", "релиз", "дизайн", "сервер", "счёт", "задача", "пятница"]


def vocabulary(size=20_000):
    words = [f"{ROOTS[i % len(ROOTS)]}{i // len(ROOTS) or ''}" for i in range(size)]
    weights = itertools.accumulate(1 / (rank + 1) for rank in range(size))  # Zipf: word k is k times rarer
    return words, list(weights)


def fill(count, chats=50, batch=20_000):
    words, weights = vocabulary()
    rng = random.Random(7)
    with db.connection_context():
        with db.atomic():
            users = [User.create(username=f"bench{i}", display_name=f"Bench {i}", password_hash="x") for i in range(5)]
            chat_ids = [Chat.create(type="group", title=f"Chat {i}").id for i in range(chats)]
            for i, chat_id in enumerate(chat_ids):
                for user in users:
                    if user.id != users[0].id or i < 10:  # users[0] is in 10 chats only
                        Membership.create(chat=chat_id, user=user.id)
        start = datetime.datetime(2026, 1, 1)
        done = 0
        while done < count:
            rows = []
            for i in range(done, min(count, done + batch)):
                text = " ".join(rng.choices(words, cum_weights=weights, k=rng.randint(6, 16)))
                rows.append({"chat": chat_ids[i % chats], "sender": users[1 + i % 4].id, "text": text,
                             "created_at": start + datetime.timedelta(seconds=i)})
            with db.atomic():
                Message.insert_many(rows).execute()
            done += len(rows)
            print(f"\r{done:,} messages", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        if not is_sqlite():
            db.execute_sql("ANALYZE")
    return users[0].id, words


def measure(user_id, words, queries):
    rng = random.Random(11)
    tiers = {"common": words[:20], "medium": words[200:2000], "rare": words[10_000:]}
    timings = {tier: [] for tier in tiers}
    for n in range(queries):
        tier = list(tiers)[n % 3]
        q = " ".join(rng.sample(tiers[tier], 1 if n % 2 else 2))
        began = time.perf_counter()
        run_in_transaction(search, user_id, q, None, 20)
        timings[tier].append((time.perf_counter() - began) * 1000)
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-fill", action="store_true", help="measure a database an earlier run filled")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-search-")
    url = args.database_url or "sqlite:///" + os.path.join(folder, "bench.db")
    init_db(url, 1)
    if args.no_fill:
        user_id, words = run_in_transaction(lambda: User.get(User.username == "bench0").id), vocabulary()[0]
    else:
        if not is_sqlite():
            with db.connection_context():
                db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        migrations.migrate()
        began = time.perf_counter()
        user_id, words = fill(args.messages)
        print(f"filled {args.messages:,} messages in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    run_in_transaction(search, user_id, "warm up", None, 20)
    timings = measure(user_id, words, args.queries)
    everything = sorted(t for values in timings.values() for t in values)
    print(f"database: {'sqlite' if is_sqlite() else 'postgresql'}, messages: {args.messages:,}")
    for tier, values in [*timings.items(), ("all", everything)]:
        values = sorted(values)
        p = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731
        print(f"{tier:7s} n={len(values):4d}  p50 {statistics.median(values):7.1f} ms  p95 {p(0.95):7.1f} ms"
              f"  p99 {p(0.99):7.1f} ms")


if __name__ == "__main__":
    main()
