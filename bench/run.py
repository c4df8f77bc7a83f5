"""Every per-message benchmark in one run, each beside the bare relay measured in the same run.

For the relay (``bench/relay.py``), the server on SQLite and the server on PostgreSQL in turn, with
``bench/load-client.mjs`` (Node ``ws``) as the client, over loopback:

* W3: idle connections, server RSS per connection (measured first, on a fresh process);
* W1: A -> B one message at a time, send -> delivery at B, p50 / p99 (the ack at A waited for too);
* W2: a 50-member group, 5 senders with at most 10 unacked each: deliveries/s, p99, lost;
* W5: ingest, 8 senders pipelining (at most 50 unacked each): acked messages/s;

then, on PostgreSQL, W1 with A and B on two server processes sharing the database and W2 with the
members alternating between the two (the first process takes senders 1, 3, 5), and the chat
list (``bench/chatlist.py``).  Users, chats and sessions are written straight into the database
before the server starts (no password hashing), so setting up costs seconds.  Prints one JSON
document.  Stops by itself; ``--quick`` takes under three minutes on two cores.

    python bench/run.py [--quick] [--only relay,sqlite,postgresql,chatlist] [--workloads w3,w1,w2,w5]

PostgreSQL: databases cm_bench_run and cm_bench_chatlist are created and dropped through
TEST_PG_ADMIN_URL (default postgresql://messenger:messenger@127.0.0.1:5432/postgres).
"""
import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
sys.path.insert(0, ROOT)
SECRET = "bench-secret-" + "x" * 40
PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://messenger:messenger@127.0.0.1:5432/postgres")
QUICK = {"w1": 300, "w2_seconds": 5, "w3": 2000, "w5_per_sender": 500, "chatlist_messages": 200_000,
         "chatlist_requests": 50}
W2_PLAN = {"mode": "w2", "senders": 5, "inflight": 10, "trackLoss": True}
FULL = {"w1": 2000, "w2_seconds": 30, "w3": 10_000, "w5_per_sender": 2500, "chatlist_messages": 1_000_000,
        "chatlist_requests": 200}


def raise_open_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def cpu_seconds(pids):
    """User plus system CPU time the processes ``pids`` have used so far."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def busy_client(plan, pids):
    """``client(plan)``; for W2 also the CPU the processes ``pids`` used while it sent (in cores)."""
    marks = {}
    result = client(plan, on_line=lambda line: "phase" in line and marks.setdefault(
        line["phase"], (cpu_seconds(pids), time.monotonic())))
    if "sending" in marks and "draining" in marks:
        (cpu0, t0), (cpu1, t1) = marks["sending"], marks["draining"]
        result["server_cores_busy"] = round((cpu1 - cpu0) / (t1 - t0), 2)
    return result


def start(argv):
    """A server or relay process (its open-file limit raised for W3); (process, ws URL)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, preexec_fn=raise_open_files)
    line = proc.stdout.readline().decode()
    if not line.startswith("Listening on"):
        proc.kill()
        raise SystemExit(f"{argv[1]} did not start: {line!r}")
    return proc, line.split()[-1].replace("http://", "ws://") + "/ws"


def stop(proc):
    proc.terminate()
    proc.wait(20)


def seed(url):
    """Users, chats and access tokens for every workload, written through the domain functions."""
    from models import chats, users
    from models.db import close_db, init_db, run_in_transaction
    from models.migrations import migrate
    init_db(url)
    migrate()

    def make():
        password_hash = "bench-no-login"  # nobody logs in: tokens are issued below

        def user(name):
            uid = users.create_user(name, password_hash, name)["id"]
            session = users.open_session(uid, "bench", 86400)
            return uid, users.issue_access_token(SECRET, uid, session["session_id"], 86400)
        a, b = user("w1a"), user("w1b")
        w1 = chats.create_direct_chat(a[0], b[0])[0]["id"]
        group = [user(f"w2m{n}") for n in range(50)]
        w2 = chats.create_group_chat(group[0][0], "W2", [uid for uid, _ in group[1:]])["id"]
        ingest = [user(f"w5s{n}") for n in range(9)]  # 8 senders and a receiver
        w5 = chats.create_group_chat(ingest[0][0], "W5", [uid for uid, _ in ingest[1:]])["id"]
        return {"w1": (w1, [a[1], b[1]]), "w2": (w2, [t for _, t in group]), "w5": (w5, [t for _, t in ingest])}
    try:
        return run_in_transaction(make)
    finally:
        close_db()


def client(plan, timeout=600, on_line=None):
    """Run the Node load client with ``plan``; its result.  ``on_line(line)`` for each line before it."""
    proc = subprocess.Popen(["node", os.path.join(BENCH, "load-client.mjs")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=raise_open_files)
    proc.stdin.write(json.dumps(plan))
    proc.stdin.close()
    deadline = time.monotonic() + timeout
    lines = []
    for line in proc.stdout:
        lines.append(json.loads(line))
        if on_line:
            on_line(lines[-1])
        if time.monotonic() > deadline:
            break
    try:
        proc.wait(max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        raise SystemExit("load client timed out")
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"load client failed: {proc.stderr.read()[-2000:]}")
    return lines[-1]


def workloads(proc, ws_url, chats, sizes, only=("w3", "w1", "w2", "w5")):
    """W3, W1, W2, W5 (those in ``only``) against one process (the relay ignores chat ids and tokens)."""
    result = {}
    if "w3" in only:
        before, held = rss_kib(proc.pid), {}
        result["w3"] = client({"mode": "w3", "wsUrl": ws_url, "tokens": chats["w2"][1], "count": sizes["w3"],
                               "parallel": 50, "holdSeconds": 3},
                              on_line=lambda line: "ready" in line and held.update(line, rss=rss_kib(proc.pid)))
        result["w3"].update(connect_seconds=held.get("connect_seconds"), rss_before_mib=round(before / 1024, 1),
                            rss_held_mib=round(held["rss"] / 1024, 1),
                            kib_per_connection=round((held["rss"] - before) / sizes["w3"], 1))
        time.sleep(2)  # the closes are processed
    plans = {"w1": {"mode": "w1", "warmup": 50, "count": sizes["w1"]},
             "w2": {**W2_PLAN, "seconds": sizes["w2_seconds"]},
             "w5": {"mode": "w5", "senders": 8, "inflight": 50, "perSender": sizes["w5_per_sender"],
                    "timeoutSeconds": 120}}
    for name, plan in plans.items():
        if name in only:
            chat_id, tokens = chats[name]
            result[name] = busy_client({**plan, "wsUrl": ws_url, "tokens": tokens, "chatId": chat_id}, [proc.pid])
    result["server_rss_mib_after"] = round(rss_kib(proc.pid) / 1024, 1)
    return result


def server_argv(data_dir, database_url):
    return [sys.executable, os.path.join(ROOT, "server.py"), "--port", "0", "--data-dir", data_dir,
            "--database-url", database_url, "--secret-key", SECRET, "--demo-data", "false",
            "--log-level", "WARNING", "--message-rate", "0", "--ws-outbox-bytes", str(64 * 2 ** 20),
            "--ws-max-per-user", "0",  # W3 holds 200 sockets per user
            *os.environ.get("BENCH_SERVER_ARGS", "").split()]  # e.g. BENCH_SERVER_ARGS="--ws-ping-interval 0"


@contextlib.contextmanager
def pg_database(name):
    """A fresh PostgreSQL database ``name`` (dropped first if left over); its URL."""
    def admin(sql):
        conn = psycopg2.connect(PG_ADMIN)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                        " AND backend_type = 'client backend'", (name,))  # not autovacuum (superuser)
            cur.execute(sql)
        conn.close()
    admin(f"DROP DATABASE IF EXISTS {name}")
    admin(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        admin(f"DROP DATABASE IF EXISTS {name}")


def run_server(database_url, data_dir, sizes, only, cross_process=False):
    chats = seed(database_url)
    proc, ws_url = start(server_argv(data_dir, database_url))
    try:
        result = workloads(proc, ws_url, chats, sizes, only)
        if cross_process and {"w1", "w2"} & set(only):  # a second process on the same database
            other, other_url = start(server_argv(data_dir + "-2", database_url))
            try:
                result.update(cross_process_workloads([ws_url, other_url], [proc.pid, other.pid], chats, sizes,
                                                      only))
            finally:
                stop(other)
    finally:
        stop(proc)
    return result


def cross_process_workloads(ws_urls, pids, chats, sizes, only):
    """W1 with A on one process and B on the other; W2 with the members alternating between them."""
    result = {}
    if "w1" in only:
        chat_id, tokens = chats["w1"]
        result["w1_cross_process"] = client({"mode": "w1", "wsUrls": ws_urls, "tokens": tokens,
                                             "chatId": chat_id, "warmup": 50, "count": sizes["w1"]})
    if "w2" in only:
        chat_id, tokens = chats["w2"]
        result["w2_cross_process"] = busy_client({**W2_PLAN, "seconds": sizes["w2_seconds"], "wsUrls": ws_urls,
                                                  "tokens": tokens, "chatId": chat_id}, pids)
    return result


def chatlist(database_url, sizes):
    """``bench/chatlist.py`` on a fresh database: its result, or why it failed (the run goes on)."""
    out = subprocess.run([sys.executable, os.path.join(BENCH, "chatlist.py"), "--database-url", database_url,
                          "--messages", str(sizes["chatlist_messages"]), "--requests", str(sizes["chatlist_requests"])],
                         capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        return {"failed": out.stderr[-2000:]}
    return json.loads(out.stdout)


def machine():
    with open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "node": node,
            "load_average_at_start": os.getloadavg()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts: under three minutes")
    parser.add_argument("--only", default="relay,sqlite,postgresql,chatlist", help="which targets")
    parser.add_argument("--workloads", default="w3,w1,w2,w5", help="which of W1, W2, W3, W5")
    args = parser.parse_args()
    workload_names = args.workloads.split(",")
    if not os.path.exists(os.path.join(BENCH, "node_modules", "ws")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", BENCH], check=True,
                       stdout=sys.stderr)  # stdout carries the JSON report
    sizes, only = QUICK if args.quick else FULL, args.only.split(",")
    started = time.monotonic()
    report = {"machine": machine(), "quick": args.quick, "sizes": sizes}
    if "relay" in only:
        proc, ws_url = start([sys.executable, os.path.join(BENCH, "relay.py")])
        try:
            fake = {"w1": (1, ["a", "b"]), "w2": (1, [str(n) for n in range(50)]), "w5": (1, [str(n) for n in range(9)])}
            report["relay"] = workloads(proc, ws_url, fake, sizes, workload_names)
        finally:
            stop(proc)
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in only:
            report["sqlite"] = run_server(f"sqlite:///{tmp}/bench.db", tmp + "/sqlite", sizes, workload_names)
        if "postgresql" in only:
            with pg_database("cm_bench_run") as url:
                report["postgresql"] = run_server(url, tmp + "/pg", sizes, workload_names, cross_process=True)
        if "chatlist" in only:
            report["chatlist"] = {"sqlite": chatlist(f"sqlite:///{tmp}/chatlist.db", sizes)}
            with pg_database("cm_bench_chatlist") as url:
                report["chatlist"]["postgresql"] = chatlist(url, sizes)
    report["seconds"] = round(time.monotonic() - started)
    report["load_average_at_end"] = os.getloadavg()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
