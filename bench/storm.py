"""Reconnect storm: every client comes back at once after a restart.

Seeds ``--users`` users in groups of ``--group-size`` (tokens issued directly, no password hashing),
starts the server on a fixed port, opens ``--per-user`` sockets per user with ``bench/storm-client.mjs``
(Node ``ws``, reconnecting as the browser does), then restarts the server (SIGTERM, a new process on
the same port) while a sender posts ``--messages`` messages to the groups, retrying each (same
``client_msg_id``) until the new process takes it.  Measures the time from the first socket closing,
and from the new process answering, to the last socket open again, and checks that every socket saw
every message of its group exactly once (live frame or catch-up).  Prints one JSON document.

    python bench/storm.py [--users 1000] [--per-user 10] [--database-url URL]

Stops by itself: the storm client gives up after ``--timeout`` seconds.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import requests

from run import BENCH, SECRET, machine, raise_open_files, server_argv, start, stop



def seed(url, users, group_size):
    """[(token, chat id)] for ``users`` users in groups of ``group_size``."""
    from models import chats, users as accounts
    from models.db import close_db, init_db, run_in_transaction
    from models.migrations import migrate
    init_db(url)
    migrate()

    def make():
        made = []
        for start_at in range(0, users, group_size):
            members = []
            for n in range(start_at, min(users, start_at + group_size)):
                uid = accounts.create_user(f"storm{n}", "bench-no-login", f"Storm {n}")["id"]
                session = accounts.open_session(uid, "bench", 86400)
                members.append((uid, accounts.issue_access_token(SECRET, uid, session["session_id"], 86400)))
            chat_id = chats.create_group_chat(members[0][0], f"Storm {start_at}", [uid for uid, _ in members[1:]])["id"]
            made += [(token, chat_id) for _, token in members]
        return made
    try:
        return run_in_transaction(make)
    finally:
        close_db()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send_through_restart(base_url, members, count, sent, done):
    """Post ``count`` messages round-robin to the groups, each retried (same client_msg_id) until stored."""
    http = requests.Session()
    for n in range(count):
        token, chat_id = members[n % len(members)]
        body = {"text": f"storm {n}", "client_msg_id": f"storm-{n}"}
        while True:
            try:
                r = http.post(f"{base_url}/api/chats/{chat_id}/messages", json=body, timeout=10,
                              headers={"Authorization": f"Bearer {token}"})
                if r.status_code in (200, 201):
                    sent.setdefault(chat_id, []).append(r.json()["id"])
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)
    done.set()


def storm(argv, users, per_user, parallel, messages, timeout):
    """Open every socket on the process ``argv`` starts, restart it while ``messages`` are sent, and
    measure the way back."""
    proc, ws_url = start(argv)
    client = subprocess.Popen(["node", os.path.join(BENCH, "storm-client.mjs")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, preexec_fn=raise_open_files)
    try:
        client.stdin.write(json.dumps({"wsUrl": ws_url, "users": [{"token": t, "chatId": c} for t, c in users],
                                       "perUser": per_user, "parallel": parallel, "timeoutSeconds": timeout}) + "\n")
        client.stdin.flush()
        opened = json.loads(client.stdout.readline())
        groups = list({chat_id: (token, chat_id) for token, chat_id in users}.values())
        sent, sending_done = {}, threading.Event()
        base_url = ws_url.replace("ws://", "http://")[:-len("/ws")]
        sender = threading.Thread(target=send_through_restart, args=(base_url, groups, messages, sent, sending_done),
                                  daemon=True)
        stopped_at = time.time()
        sender.start()
        stop(proc)
        proc, _ = start(argv)
        answering_at = time.time()
        back_at = json.loads(client.stdout.readline())["all_back_at"]  # null when the client gave up
        sending_done.wait(timeout)
        time.sleep(2.0)  # the last catch-ups
        client.stdin.write(json.dumps({"expect": sent}) + "\n")
        client.stdin.flush()
        result = json.loads(client.stdout.readline())
        client.wait(10)
    finally:
        if client.poll() is None:
            client.kill()
        stop(proc)
    return {"sockets": opened["ready"], "messages": sum(len(ids) for ids in sent.values()),
            "restart_seconds": round(answering_at - stopped_at, 2),
            "all_back_after_answering_s": round(back_at / 1000 - answering_at, 2) if back_at else None, **result}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--group-size", type=int, default=10)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=64, help="handshakes in flight while opening")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary folder")
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()
    if not os.path.exists(os.path.join(BENCH, "node_modules", "ws")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", BENCH], check=True,
                       stdout=sys.stderr)  # stdout carries the JSON report
    work = tempfile.mkdtemp(prefix="cm-storm-")
    url = args.database_url or "sqlite:///" + os.path.join(work, "storm.db")
    users = seed(url, args.users, args.group_size)
    relay = [sys.executable, os.path.join(BENCH, "relay.py"), "--port", str(free_port())]
    server = server_argv(work, url)
    server[server.index("--port") + 1] = str(free_port())
    sizes = (users, args.per_user, args.parallel)
    print(json.dumps({
        "machine": machine(), "database": url.split(":")[0], "users": args.users, "per_user": args.per_user,
        "relay": storm(relay, *sizes, 0, args.timeout),  # the baseline: no database, no auth, no catch-up
        "server": storm(server, *sizes, args.messages, args.timeout),
    }, indent=2))


if __name__ == "__main__":
    main()
