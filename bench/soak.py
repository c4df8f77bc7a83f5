"""Soak: fan-out load on the real server for N minutes, with the server's memory sampled every 10 s.

Starts ``server.py`` as a subprocess (SQLite in a temporary folder, or the PostgreSQL URL given),
creates M users in one group chat, and runs ``bench/soak-client.mjs`` (Node's ``ws``: one event-driven
process, so the load client is not the bottleneck; its own CPU use is reported): every member on its
own WebSocket, S of them sending at a steady total rate.  Reports the server's RSS series, deliveries
per second, delivery latency and lost deliveries (an acked message some other member never got).
Everything stays on 127.0.0.1 and stops by itself after the given minutes (plus a drain).

    python bench/soak.py [--minutes 1] [--members 50] [--senders 10] [--rate 200] [--database-url URL]
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from throughput import ROOT, login, machine, running_server  # noqa: E402

BENCH = os.path.join(ROOT, "bench")
SAMPLE_SECONDS = 10


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return round(kib / 1024, 1)


def ensure_node_client():
    if not os.path.exists(os.path.join(BENCH, "node_modules", "ws")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", BENCH], check=True)


def make_members(url, count):
    """``count`` users (soak1, soak2, ...) in one new group chat; returns (chat id, their tokens)."""
    admin = login(url, "admin", "admin123")
    headers = {"Authorization": f"Bearer {admin}"}
    ids, tokens = [], []
    for n in range(1, count + 1):
        name, password = f"soak{n}", f"soak-password-{n}"
        r = requests.post(url + "/api/admin/users", json={"username": name, "password": password},
                          headers=headers, timeout=30)
        r.raise_for_status()
        ids.append(r.json()["id"])
        tokens.append(login(url, name, password))
    r = requests.post(url + "/api/chats", json={"type": "group", "title": "Soak", "member_ids": ids},
                      headers=headers, timeout=30)
    r.raise_for_status()
    return r.json()["id"], tokens


def sample_rss(pid, stop, series, started):
    while not stop.wait(SAMPLE_SECONDS):
        series.append({"t": round(time.monotonic() - started), "rss_mib": rss_mib(pid)})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--senders", type=int, default=10, help="how many of the members send")
    parser.add_argument("--rate", type=float, default=200, help="messages per second, all senders together")
    parser.add_argument("--drain-seconds", type=float, default=30)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    ensure_node_client()
    with running_server(args.database_url, 256) as (proc, url):
        chat_id, tokens = make_members(url, args.members)
        rss = [{"t": 0, "rss_mib": rss_mib(proc.pid)}]
        stop, started = threading.Event(), time.monotonic()
        sampler = threading.Thread(target=sample_rss, args=(proc.pid, stop, rss, started), daemon=True)
        sampler.start()
        plan = {"wsUrl": url.replace("http://", "ws://") + "/ws", "chatId": chat_id, "tokens": tokens,
                "senders": min(args.senders, args.members), "rate": args.rate,
                "seconds": args.minutes * 60, "drainSeconds": args.drain_seconds}
        client = subprocess.run(["node", os.path.join(BENCH, "soak-client.mjs")], input=json.dumps(plan),
                                capture_output=True, text=True, timeout=args.minutes * 60 + args.drain_seconds + 120)
        stop.set()
        rss.append({"t": round(time.monotonic() - started), "rss_mib": rss_mib(proc.pid)})
        if client.returncode != 0:
            raise SystemExit(f"load client failed: {client.stderr[-2000:]}")
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        result = {"database": "postgresql" if args.database_url else "sqlite",
                  "machine": f"{machine()}, node {node}", "load": json.loads(client.stdout),
                  "server_rss_mib": rss}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
