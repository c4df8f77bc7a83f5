"""What sharing the login throttle and the send rate through PostgreSQL adds to each login and send.

Runs the throttle's own calls, as a login makes them, against an in-memory
throttle and against the PostgreSQL one (migrations applied to the database
given), each through the real executor (``db_call``), and prints the time
per login and per send.  For scale it also times one password check, which
every login pays anyway.

    python bench/limits.py --database-url postgresql://user:pass@127.0.0.1:5432/cm_bench [--rounds 2000]
"""
import argparse
import asyncio
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from handlers.throttle import (LoginThrottle, RateLimiter, SharedLoginThrottle,  # noqa: E402
                               SharedRateLimiter)
from models import migrations, users  # noqa: E402
from models.db import close_db, init_db, run_blocking  # noqa: E402


async def timed(rounds, step):
    samples = []
    for n in range(rounds):
        start = time.perf_counter()
        await step(n)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.mean(samples), samples[len(samples) // 2], samples[int(len(samples) * 0.95)]


def login_steps(throttle):
    async def success(n):  # check, then clear the name's failures
        await throttle.retry_after("127.0.0.1", f"bench{n % 50}")
        await throttle.succeeded(f"bench{n % 50}")

    async def failure(n):  # check, then record the failure (address and name)
        await throttle.retry_after(f"10.0.{n % 250}.1", f"bench{n % 50}")
        await throttle.failed(f"10.0.{n % 250}.1", f"bench{n % 50}")
    return success, failure


async def main(args):
    init_db(args.database_url, 8)
    migrations.migrate()
    rows = []
    for name, throttle, limiter in [("memory", LoginThrottle(10 ** 9, 10 ** 9, 300), RateLimiter(1e6, 10 ** 6)),
                                    ("postgresql", SharedLoginThrottle(10 ** 9, 10 ** 9, 300),
                                     SharedRateLimiter(1e6, 10 ** 6))]:
        success, failure = login_steps(throttle)
        rows.append((name, "login that succeeds", await timed(args.rounds, success)))
        rows.append((name, "login that fails", await timed(args.rounds, failure)))
        rows.append((name, "send (rate check)", await timed(args.rounds, lambda n: limiter.check(n % 50 + 1))))
    hashed = users.hash_password("benchmark-password")
    rows.append(("-", "argon2id password check", await timed(20, lambda n: run_blocking(
        users.verify_password, hashed, "benchmark-password"))))
    close_db()
    print(f"{'throttle':<11} {'operation':<24} {'mean ms':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, what, (mean, p50, p95) in rows:
        print(f"{name:<11} {what:<24} {mean:8.3f} {p50:8.3f} {p95:8.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database (migrations are applied)")
    parser.add_argument("--rounds", type=int, default=2000)
    asyncio.run(main(parser.parse_args()))
