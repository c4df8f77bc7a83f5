"""A day at the company (issue 20): a compressed office day on the real server, beside the relay.

Seeds ``--users`` accounts (tokens issued directly, no password hashing) in ``--channels`` group
channels sized like a company's, with direct chats and some history, written through the domain
functions before the server starts.  Then ``bench/day-client.mjs`` (Node ``ws`` and fetch: one
event-driven process, never one asyncio task per frame) connects ``--connected`` of them with
``--tabs`` sockets each and plays ``--duration`` seconds of the mix below.  First the same sockets
and sends run for ``--relay-seconds`` against ``bench/relay.py`` (no database, no auth; it routes by
the chat ids each socket names): the practical floor on this machine in the same run.

Channels (``--channels`` 300 at the defaults): "Announcements" (1,000 members, the most a group
may have), two offices that split everyone, ten departments that split everyone again, twelve
interest channels of 100-400 and the rest teams of 5-50 (each user in a few); plus ``--dms``
direct chats per user with people from their teams.  Each connected user, on timers of its own:

* sends every 60-120 s (uniform): types for 2-6 s first (``typing`` every 3 s), then sends over the
  socket, or by REST one time in ten; the chat is drawn by weight (direct 35, team 40, department
  12, interest 6, office 4, announcements 3: people talk in small rooms);
* marks read: a message in the chat the user looks at (the last one they sent to or opened) is
  marked read 1.5 s later from the front tab;
* opens a chat's history (50 messages) every 4 min on average (exponential), a second page back
  one time in three, and marks it read; searches a word every 10 min; reacts to a message
  they received every 5 min;
* each tab drops its socket every 15 min on average and comes back 1-5 s later, loads the chat
  list and sends ``catch_up`` from the last id it saw; every tab loads the chat list when it opens.

Measures send -> delivery at every receiving socket (both tabs; the send time rides in the
``client_msg_id``), send -> ack, REST latency per endpoint, errors by kind, messages lost or
duplicated per socket, the server's CPU (utime + stime from /proc over the run) and RSS (peak,
end), and the load average.  Prints one JSON document.  Stops by itself.

    python bench/day.py [--duration 600] [--database sqlite|postgresql] [--database-url URL]
                        [--users 2000] [--connected 1000] [--tabs 2] [--relay-seconds 120] [--speed 1]

PostgreSQL (``--database postgresql``): the database cm_bench_day is created and dropped through
TEST_PG_ADMIN_URL, as ``bench/run.py`` does.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

from run import BENCH, ROOT, SECRET, machine, pg_database, raise_open_files, start, stop

MIX = {"sendEveryMin": 60, "sendEveryMax": 120, "typingMin": 2, "typingMax": 6, "restSendShare": 0.1,
       "readDelay": 1.5, "historyEvery": 240, "pageBackShare": 1 / 3, "searchEvery": 600, "reactEvery": 300,
       "reconnectEvery": 900, "reconnectGapMin": 1, "reconnectGapMax": 5}
WEIGHTS = {"direct": 35, "team": 40, "department": 12, "interest": 6, "office": 4, "announcements": 3}
WORDS = ("launch review budget deploy invoice roadmap meeting lunch release customer incident design "
         "report hiring offsite quarter migration backlog demo contract").split()


def company(users, channels, dms, rng):
    """[(kind, title, member indexes)] for ``channels`` channels, then the direct pairs."""
    everyone = list(range(users))
    made = [("announcements", "Announcements", rng.sample(everyone, min(users, 1000)))]
    made += [("office", f"Office {n + 1}", everyone[n::2]) for n in range(2)]
    made += [("department", f"Department {n + 1}", everyone[n::10]) for n in range(10)]
    made += [("interest", f"Interest {n + 1}", rng.sample(everyone, min(users, rng.randint(100, 400))))
             for n in range(12)]
    teams = max(0, channels - len(made))
    order = everyone[:]
    rng.shuffle(order)
    position = 0
    for n in range(teams):  # walk the shuffled company: everyone lands in a few teams
        size = min(users, rng.randint(5, 50))
        members = {order[(position + k) % users] for k in range(size)}
        position += size
        made.append(("team", f"Team {n + 1}", sorted(members)))
    made = made[:channels]
    teammates = {}
    for kind, _, members in made:
        if kind == "team":
            for m in members:
                teammates.setdefault(m, set()).update(members)
    pairs = set()
    for m in everyone:
        others = sorted(teammates.get(m, set(everyone[:50])) - {m})
        for other in rng.sample(others, min(dms, len(others))):
            pairs.add((min(m, other), max(m, other)))
    return made, sorted(pairs)


def seed(url, users, channels, dms, history, rng):
    """Accounts, chats and a little history; (tokens, user ids, {chat id: (kind, member indexes)})."""
    from models import chats, users as accounts
    from models.db import close_db, init_db, run_in_transaction
    from models.message_send import store_messages
    from models.migrations import migrate
    init_db(url)
    migrate()
    plan, pairs = company(users, channels, dms, rng)

    def make():
        ids, tokens = [], []
        for n in range(users):
            uid = accounts.create_user(f"day{n}", "bench-no-login", f"Person {n}")["id"]
            session = accounts.open_session(uid, "bench", 86400)
            ids.append(uid)
            tokens.append(accounts.issue_access_token(SECRET, uid, session["session_id"], 86400))
        made = {}
        for kind, title, members in plan:
            chat = chats.create_group_chat(ids[members[0]], title, [ids[m] for m in members[1:]])
            made[chat["id"]] = (kind, members)
        for a, b in pairs:
            made[chats.create_direct_chat(ids[a], ids[b])[0]["id"]] = ("direct", [a, b])
        sends = [{"sender_id": ids[rng.choice(members)], "chat_id": chat_id, "client_msg_id": None,
                  "text": " ".join(rng.choice(WORDS) for _ in range(6))}
                 for chat_id, (kind, members) in made.items()
                 for _ in range(history if kind != "direct" else history // 4)]
        for start_at in range(0, len(sends), 500):
            store_messages(sends[start_at:start_at + 500])
        return tokens, ids, made
    try:
        return run_in_transaction(make)
    finally:
        close_db()


class Sampler(threading.Thread):
    """The server's CPU time, RSS and the load average, every second until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.stopping = pid, threading.Event()
        self.rss, self.load = [], []
        self.started_at, self.cpu_start = time.monotonic(), self.cpu_seconds()

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def rss_mib(self):
        with open(f"/proc/{self.pid}/status") as f:
            return int(next(line.split()[1] for line in f if line.startswith("VmRSS:"))) / 1024

    def run(self):
        while not self.stopping.wait(1.0):
            self.rss.append(self.rss_mib())
            self.load.append(os.getloadavg()[0])

    def result(self):
        self.stopping.set()
        self.join()
        seconds = time.monotonic() - self.started_at
        end = self.rss_mib()
        return {"cpu_percent": round((self.cpu_seconds() - self.cpu_start) / seconds * 100, 1),
                "rss_mib": {"peak": round(max(self.rss + [end]), 1), "end": round(end, 1)},
                "loadavg_1min": {"max": max(self.load, default=None), "end": os.getloadavg()[0]}}


def play(argv, users, seconds, relay, drain, seed_value, mix):
    """Start the process ``argv`` starts, run the day client against it, measure it; the result."""
    proc, ws_url = start(argv)
    try:
        sampler = Sampler(proc.pid)
        sampler.start()
        plan = {"wsUrl": ws_url, "httpUrl": ws_url.replace("ws://", "http://")[:-len("/ws")], "relay": relay,
                "seed": seed_value, "tabs": users["tabs"], "seconds": seconds, "drainSeconds": drain,
                "parallel": 50, "words": WORDS, "users": users["connected"], "mix": mix}
        client = subprocess.run(["node", os.path.join(BENCH, "day-client.mjs")], input=json.dumps(plan),
                                stdout=subprocess.PIPE, text=True, timeout=seconds + drain + 600,
                                preexec_fn=raise_open_files)
        server = sampler.result()
        if client.returncode != 0 or not client.stdout.strip():
            raise SystemExit(f"day client failed with {client.returncode}")
        return {**json.loads(client.stdout), "server": server}
    finally:
        try:
            stop(proc)
        except subprocess.TimeoutExpired:  # still working through a backlog: the figures are taken already
            proc.kill()
            proc.wait()


def server_argv(data_dir, database_url):
    """The server with its shipped limits (rates, per-user sockets) as a company would run it."""
    return [sys.executable, os.path.join(ROOT, "server.py"), "--port", "0", "--data-dir", data_dir,
            "--database-url", database_url, "--secret-key", SECRET, "--demo-data", "false",
            "--log-level", "WARNING", *os.environ.get("BENCH_SERVER_ARGS", "").split()]


def day(args, database_url, work):
    rng = random.Random(args.seed)
    mix = {k: v / args.speed if k.endswith(("Every", "EveryMin", "EveryMax")) else v for k, v in MIX.items()}
    started = time.monotonic()
    tokens, ids, made = seed(database_url, args.users, args.channels, args.dms, args.history, rng)
    seeded = time.monotonic() - started
    connected = sorted(rng.sample(range(args.users), args.connected))
    chats_of = {}
    for chat_id, (kind, members) in made.items():
        for m in members:
            chats_of.setdefault(m, []).append([chat_id, WEIGHTS[kind]])
    population = {"tabs": args.tabs, "connected": [{"uid": ids[n], "token": tokens[n], "chats": chats_of[n]}
                                                   for n in connected]}
    sizes = sorted(len(members) for kind, members in made.values() if kind != "direct")
    report = {"machine": machine(), "database": database_url.split(":")[0], "mix": mix, "weights": WEIGHTS,
              "population": {"users": args.users, "connected": args.connected, "sockets": args.connected * args.tabs,
                             "channels": len(sizes), "channel_sizes": {"min": sizes[0], "median": sizes[len(sizes) // 2],
                                                                       "max": sizes[-1]},
                             "direct_chats": sum(kind == "direct" for kind, _ in made.values()),
                             "chats_per_connected_user": round(sum(len(u["chats"]) for u in population["connected"])
                                                               / max(1, args.connected), 1),
                             "seed_seconds": round(seeded, 1)}}
    if args.relay_seconds:
        relay = [sys.executable, os.path.join(BENCH, "relay.py")]
        report["relay"] = play(relay, population, args.relay_seconds, True, args.drain, args.seed, mix)
    report["server"] = play(server_argv(work, database_url), population, args.duration, False, args.drain, args.seed,
                            mix)
    report["load_average_at_end"] = os.getloadavg()
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of the day against the server")
    parser.add_argument("--relay-seconds", type=float, default=120, help="seconds against the relay (0: skip)")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--connected", type=int, default=1000)
    parser.add_argument("--tabs", type=int, default=2)
    parser.add_argument("--channels", type=int, default=300)
    parser.add_argument("--dms", type=int, default=3, help="direct chats each user starts")
    parser.add_argument("--history", type=int, default=20, help="messages seeded in each channel (a quarter in DMs)")
    parser.add_argument("--speed", type=float, default=1, help="run every timer of the mix this many times faster")
    parser.add_argument("--drain", type=float, default=60, help="seconds to wait for the last deliveries")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", default=None, help="an existing empty database instead")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(BENCH, "node_modules", "ws")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", BENCH], check=True,
                       stdout=sys.stderr)  # stdout carries the JSON report
    with tempfile.TemporaryDirectory(prefix="cm-day-") as work:
        if args.database_url:
            report = day(args, args.database_url, work)
        elif args.database == "postgresql":
            with pg_database("cm_bench_day") as url:
                report = day(args, url, work)
        else:
            report = day(args, "sqlite:///" + os.path.join(work, "day.db"), work)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
