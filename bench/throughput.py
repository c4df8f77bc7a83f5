"""Acked message throughput and delivery latency of the real server, over loopback.

Starts ``server.py`` as a subprocess (SQLite in a temporary folder, or the
PostgreSQL URL given with --database-url), connects WebSocket clients as
demo users, and measures:

* throughput: S senders each pipeline M messages into "General" (as fast as
  they can, or at a steady total ``--rate``); acked messages per second, and
  how long a receiver waited from send to ``new_message`` (p50/p95/p99);
* round trip: one client sending one message at a time and waiting for its ack.

Everything stays on 127.0.0.1, is bounded by the counts given, and stops by itself.

    python bench/throughput.py [--senders 8] [--messages 500] [--rate 400] [--batch 256] [--database-url URL]
"""
import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import requests
import websockets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USERS = [("admin", "admin123"), ("user1", "user1pass"), ("user2", "user2pass")]


def start_server(data_dir, database_url, batch):
    argv = [sys.executable, os.path.join(ROOT, "server.py"), "--port", "0", "--data-dir", data_dir,
            "--log-level", "WARNING", "--write-batch-max", str(batch), "--ws-outbox-bytes", str(64 * 2 ** 20),
            "--message-rate", "0"]
    if database_url:
        argv += ["--database-url", database_url]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE)
    line = proc.stdout.readline().decode()
    if not line.startswith("Listening on"):
        proc.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return proc, line.split()[-1]


@contextlib.contextmanager
def running_server(database_url, batch):
    """``server.py`` on a temporary data folder; (process, base URL); terminated at the end."""
    with tempfile.TemporaryDirectory() as data_dir:
        proc, url = start_server(data_dir, database_url, batch)
        try:
            yield proc, url
        finally:
            proc.terminate()
            proc.wait(20)


def login(url, username, password):
    r = requests.post(url + "/api/auth/login", json={"username": username, "password": password}, timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


def machine():
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


async def connect(ws_url, token):
    conn = await websockets.connect(f"{ws_url}?token={token}", max_size=2 ** 24, max_queue=None,
                                    ping_interval=None)  # a deliberately slow config must not trip keepalive
    hello = json.loads(await conn.recv())
    assert hello["type"] == "connected", hello
    return conn


async def throughput(ws_url, tokens, chat_id, senders, per_sender, rate=None):
    receiver = await connect(ws_url, tokens["user2"])
    clients = [await connect(ws_url, tokens[["admin", "user1"][i % 2]]) for i in range(senders)]
    sent_at, latencies = {}, []
    total = senders * per_sender

    async def receive():
        while len(latencies) < total:
            frame = json.loads(await receiver.recv())
            if frame["type"] == "new_message":
                latencies.append(time.perf_counter() - sent_at[frame["message"]["client_msg_id"]])

    async def send(index, conn):
        interval = senders / rate if rate else 0
        for n in range(per_sender):
            if interval:
                await asyncio.sleep(interval)
            key = f"b{index}-{n}-{time.time_ns()}"
            sent_at[key] = time.perf_counter()
            await conn.send(json.dumps({"type": "send_message", "chat_id": chat_id,
                                        "text": f"benchmark message {n}", "client_msg_id": key}))
        acked = 0
        while acked < per_sender:
            acked += json.loads(await conn.recv())["type"] == "message_ack"

    started = time.perf_counter()
    receiving = asyncio.ensure_future(receive())
    await asyncio.gather(*(send(i, c) for i, c in enumerate(clients)))
    acked_seconds = time.perf_counter() - started
    await asyncio.wait_for(receiving, 60)
    for conn in clients + [receiver]:
        await conn.close()
    return {"messages": total, "seconds": round(acked_seconds, 3),
            "acked_per_second": round(total / acked_seconds),
            "delivery_ms": {p: round(percentile(latencies, p) * 1000, 1) for p in (50, 95, 99)}}


async def round_trip(ws_url, token, chat_id, count):
    conn = await connect(ws_url, token)
    samples = []
    for n in range(count):
        started = time.perf_counter()
        await conn.send(json.dumps({"type": "send_message", "chat_id": chat_id, "text": f"rt {n}",
                                    "client_msg_id": f"rt-{n}-{time.time_ns()}"}))
        while json.loads(await conn.recv())["type"] != "message_ack":
            pass
        samples.append(time.perf_counter() - started)
    await conn.close()
    return {"messages": count, "ack_ms": {"median": round(statistics.median(samples) * 1000, 2),
                                          "p95": round(percentile(samples, 95) * 1000, 2)}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--messages", type=int, default=500, help="per sender")
    parser.add_argument("--batch", type=int, default=256, help="server --write-batch-max")
    parser.add_argument("--rate", type=float, default=None,
                        help="total messages per second (steady load); default: as fast as possible")
    parser.add_argument("--round-trips", type=int, default=200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with running_server(args.database_url, args.batch) as (_, url):
        tokens = {name: login(url, name, pw) for name, pw in USERS}
        chats = requests.get(url + "/api/chats", headers={"Authorization": f"Bearer {tokens['admin']}"}).json()
        general = next(c["id"] for c in chats if c["title"] == "General")
        ws_url = url.replace("http://", "ws://") + "/ws"
        result = {
            "database": "postgresql" if args.database_url else "sqlite",
            "write_batch_max": args.batch,
            "machine": machine(),
            "rate": args.rate or "as fast as possible",
            "throughput": asyncio.run(throughput(ws_url, tokens, general, args.senders, args.messages,
                                                 args.rate)),
            "round_trip": asyncio.run(round_trip(ws_url, tokens["admin"], general, args.round_trips)),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
