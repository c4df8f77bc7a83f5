"""Operator commands as processes: create-user, set-password, migrate, backup (and restoring a backup)."""
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import threading
import time
from urllib.parse import urlsplit

import pytest

from tests.conftest import reset_pg_schema
from tests.harness import SERVER_BINARY, SubprocessServer, config_argv, run_server_command

pytestmark = pytest.mark.subprocess


def settings(tmp_path, database_url):
    return ["--data-dir", tmp_path / "data", "--database-url", database_url]


def test_accounts_from_the_command_line(database_url, tmp_path, spawn):
    where = settings(tmp_path, database_url)
    made = run_server_command("create-user", "carol", "--admin", *where, stdin_text="carol-pass-1\n")
    assert made.returncode == 0, made.stderr
    assert "Created administrator carol" in made.stdout and "carol-pass-1" not in made.stdout + made.stderr
    taken = run_server_command("create-user", "Carol", *where, stdin_text="other-pass-1\n")
    assert taken.returncode == 1 and "already taken" in taken.stderr
    weak = run_server_command("create-user", "dave", *where, stdin_text="short\n")
    assert weak.returncode == 1 and "8-256 characters" in weak.stderr

    server = spawn()  # an account made before the first start: no demo accounts are added
    token = server.login("carol", "carol-pass-1")
    assert server.request("GET", "/api/me", token).json()["is_admin"] is True
    assert server.request("POST", "/api/auth/login", json_body={"username": "admin", "password": "admin123"}
                          ).status_code == 401

    changed = run_server_command("set-password", "carol", *where, stdin_text="carol-pass-2\n")
    assert changed.returncode == 0, changed.stderr
    assert server.request("GET", "/api/me", token).status_code == 401  # her sessions ended
    assert server.request("POST", "/api/auth/login", json_body={"username": "carol", "password": "carol-pass-1"}
                          ).status_code == 401
    server.login("carol", "carol-pass-2")
    unknown = run_server_command("set-password", "nobody", *where, stdin_text="whatever-1\n")
    assert unknown.returncode == 1 and "no user named 'nobody'" in unknown.stderr

    token = server.login("carol", "carol-pass-2")  # an account made from the command line joins the default groups
    server.request("POST", "/api/chats", token, {"type": "group", "title": "Lobby", "visibility": "public"})
    server.request("PATCH", f"/api/chats/{server.chat_id(token, 'Lobby')}", token, {"default": True})
    assert run_server_command("create-user", "erin", *where, stdin_text="erin-pass-1\n").returncode == 0
    erin = server.login("erin", "erin-pass-1")
    assert [c["title"] for c in server.request("GET", "/api/chats", erin).json()] == ["Lobby"]


def test_command_help_lists_its_own_options_and_takes_the_others(tmp_path):
    helped = run_server_command("create-user", "--help")
    program = "corporate-messenger" if SERVER_BINARY else "python server.py"
    assert helped.returncode == 0 and helped.stdout.startswith(f"usage: {program} create-user NAME "), helped.stdout
    listed = set(re.findall(r"(?m)^ {2}(?:-\w, )?(--[\w-]+)", helped.stdout))
    assert listed == {"--help", "--data-dir", "--database-url", "--admin", "--display-name"}, listed
    made = run_server_command("create-user", "erin", "--data-dir", tmp_path / "data", "--log-level", "DEBUG",
                              "--db-pool-size", "2", stdin_text="erin-pass-1\n")  # unlisted settings still work
    assert made.returncode == 0, made.stderr


def test_migrate_applies_pending_migrations_once(database_url, tmp_path):
    first = run_server_command("migrate", *settings(tmp_path, database_url))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Applied 0001_initial, ") and "schema at 00" in first.stdout
    again = run_server_command("migrate", *settings(tmp_path, database_url))
    assert again.returncode == 0 and again.stdout.startswith("Nothing to apply; schema at 00")


def test_backup_under_write_load_then_restore(tmp_path):
    """Acked before the backup began -> in the copy; sent after it ended -> not; restoring brings the copy back."""
    data = tmp_path / "data"
    live = data / "messenger.db"
    argv = config_argv(data, "sqlite:///" + str(live))
    log = str(tmp_path / "server.log")
    server = SubprocessServer(argv, log_path=log)
    token = server.login("admin")
    general = server.chat_id(token, "General")
    acked, stop = [], threading.Event()

    def write():
        client = server.connect(token)
        client.recv_type("connected")
        while not stop.is_set():
            client.send({"type": "send_message", "chat_id": general, "text": f"load {len(acked)}"})
            acked.append(client.recv_type("message_ack", 10)["message"]["id"])
        client.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(acked) < 50:
            time.sleep(0.01)
        before = list(acked)
        copy = tmp_path / "backups" / "chat.db"
        copy.parent.mkdir()
        made = run_server_command("backup", "--to", copy, "--data-dir", data)
        after = len(acked)
        while len(acked) < after + 20:
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join(30)
    assert made.returncode == 0, made.stderr
    assert f"Backup written to {copy}: integrity ok" in made.stdout
    assert sorted(os.listdir(copy.parent)) == ["chat.db"]  # one self-contained file, no -wal beside it
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        in_copy = {row[0] for row in conn.execute("SELECT id FROM messages WHERE chat_id = ?", (general,))}
    assert set(before) <= in_copy
    assert not set(acked[after + 1:]) & in_copy  # sent once the backup had finished

    # Restore: stop, put the file back (without the old -wal/-shm), start.
    assert server.terminate() == 0
    shutil.copyfile(copy, live)
    for leftover in ("messenger.db-wal", "messenger.db-shm"):
        if (data / leftover).exists():
            (data / leftover).unlink()
    restored = SubprocessServer(argv, log_path=log)
    try:
        token = restored.login("admin")
        page = restored.request("GET", f"/api/chats/{general}/messages?limit=100", token).json()["messages"]
        assert page[-1]["id"] == max(in_copy)
        sent = restored.request("POST", f"/api/chats/{general}/messages", token, json_body={"text": "after"})
        assert sent.status_code == 201
    finally:
        restored.stop()


def test_backup_without_a_database_says_so(tmp_path):
    result = run_server_command("backup", "--to", tmp_path / "x.db", "--data-dir", tmp_path / "empty")
    assert result.returncode == 1 and "no database at" in result.stderr
    assert not (tmp_path / "x.db").exists()


@pytest.mark.postgres
def test_backup_on_postgresql_prints_the_exact_pg_dump_command(pg_database, tmp_path):
    reset_pg_schema(pg_database)
    assert run_server_command("migrate", *settings(tmp_path, pg_database)).returncode == 0
    target = tmp_path / "chat.dump"
    result = run_server_command("backup", "--to", target, *settings(tmp_path, pg_database))
    password = urlsplit(pg_database).password
    assert result.returncode == 2 and f":{password}@" not in result.stderr
    assert not target.exists()
    dump = next(line.strip() for line in result.stderr.splitlines() if line.strip().startswith("pg_dump "))
    subprocess.run(shlex.split(dump), env={**os.environ, "PGPASSWORD": password}, check=True, timeout=120)
    listing = subprocess.run(["pg_restore", "--list", str(target)], capture_output=True, text=True, check=True)
    assert "TABLE public messages" in listing.stdout
    assert "pg_restore --clean --if-exists" in result.stderr
