"""GET /diagnostics (public page) and GET /api/admin/diagnostics (server facts, admins only)."""
import json
import os

import pytest

from models import migrations
from tests.harness import ROOT

REQUIRED_CODES = ["1000", "1001", "1005", "1006", "1008", "1009", "1011", "1012", "1013", "4000"]
TOKEN_CODES = ["token_missing", "token_malformed", "token_expired", "token_invalid", "token_revoked",
               "user_deactivated", "invalid_credentials"]


def test_page_is_public_and_holds_no_server_internals(server):
    r = server.request("GET", "/diagnostics", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert 'data-testid="run-checks"' in r.text
    assert 'type="module"' in r.text and "js/diagnostics.js" in r.text and "css/diagnostics.css" in r.text
    assert 'data-admin-api="/api/admin/diagnostics"' in r.text
    assert "close-codes.json" in r.text
    assert server.config["database_url"] not in r.text  # server facts come only from the admin API


def test_admin_gets_server_facts_as_json(server):
    token = server.login("admin")
    ws = server.connect(token)
    hello = ws.recv()
    r = server.request("GET", "/api/admin/diagnostics", token)
    assert r.status_code == 200, r.text
    facts = r.json()
    assert facts["version"] == "1.0.0"
    assert facts["python"] and facts["tornado"]
    assert facts["uptime_seconds"] >= 0
    kind = "sqlite" if server.config["database_url"].startswith("sqlite") else "postgresql"
    assert facts["database"] == {"kind": kind, "url": facts["database"]["url"], "reachable": True, "error": None}
    assert "messenger:messenger@" not in r.text  # the PostgreSQL password is never shown
    if kind == "postgresql":
        assert "messenger:***@" in facts["database"]["url"]
    assert facts["migrations"]["applied"] == migrations.available()
    assert facts["migrations"]["pending"] == []
    assert set(facts["writer"]) == {"backlog", "batches", "committed"}
    storage = facts["storage"]
    assert storage["min_free_bytes"] == 100 * 2 ** 20 and storage["warning"] is None
    assert storage["last_disk_full"] is None
    assert storage["folders"][0]["path"] == os.path.abspath(server.config["data_dir"])
    assert 0 < storage["folders"][0]["free_bytes"] <= storage["folders"][0]["total_bytes"]
    assert facts["bus"]["kind"] == ("local" if kind == "sqlite" else "postgresql")
    assert facts["websocket"]["ping_interval"] == 20
    counters = facts["counters"]
    assert counters["connections"] == 1
    assert {"messages_per_second", "events_per_second", "errors", "close_codes", "users_online"} <= set(counters)
    [row] = facts["connections"]
    assert row["conn_id"] == hello["connection_id"]
    assert (row["user_id"], row["username"], row["remote_ip"]) == (1, "admin", "127.0.0.1")
    assert row["chat_ids"] == sorted(hello["chat_ids"])
    assert isinstance(row["outbox_bytes"], int) and row["connected_at"].endswith("Z")
    assert isinstance(facts["log"], list)
    ws.close()


def test_close_codes_and_message_rate_are_counted(server):
    token = server.login("admin")
    chat_id = server.chat_id(token, "General")
    for n in range(5):
        r = server.request("POST", f"/api/chats/{chat_id}/messages", token, {"text": f"rate {n}"})
        assert r.status_code == 201
    bad = server.connect("not-a-token")
    with pytest.raises(Exception):
        bad.recv()
    assert bad.close_code == 1008
    facts = server.request("GET", "/api/admin/diagnostics", token).json()
    assert facts["writer"]["committed"] == 5
    assert facts["counters"]["messages_per_second"] > 0
    assert facts["counters"]["close_codes"].get("1008") == 1


def test_log_tail_holds_the_contract_lines_and_no_whole_token(server, server_log):
    token = server.login("admin")
    ws = server.connect(token)
    hello = ws.recv()
    server.request("GET", "/api/admin/diagnostics", token)  # a poll: must not show up in the tail
    r = server.request("GET", "/api/admin/diagnostics", token)
    lines = r.json()["log"]
    text = "\n".join(lines)
    assert f"WebSocket connection attempt with token: {token[:20]}..." in text
    assert "User 1 connected. Total connections: 1" in text
    for chat_id in hello["chat_ids"]:
        assert f"Added user 1 to chat {chat_id}" in text
    assert token not in r.text and token[:30] not in r.text
    assert not any("200 GET /api/admin/diagnostics " in line for line in lines)
    ws.close()


def test_non_admin_gets_403_and_anonymous_401(server):
    token = server.login("user1")
    r = server.request("GET", "/api/admin/diagnostics", token)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "admin_only"
    r = server.request("GET", "/api/admin/diagnostics")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "token_missing"


def test_close_code_table_is_complete():
    with open(os.path.join(ROOT, "static", "close-codes.json"), encoding="utf-8") as f:
        table = json.load(f)
    for code in REQUIRED_CODES:
        entry = table["close_codes"][code]
        assert entry["name"] and entry["summary"] and entry["causes"]
        for cause in entry["causes"]:
            assert cause["cause"] and cause["fix"] and cause["check"]
    proxy = " ".join(c["cause"] + c["fix"] for c in table["close_codes"]["1006"]["causes"])
    for words in ("server is down", "Upgrade", "Connection", "idle timeout", "TLS"):
        assert words in proxy
    assert "reconnect and catch up" in table["close_codes"]["4000"]["summary"].lower()
    for code in TOKEN_CODES:
        assert table["token_errors"][code]["meaning"] and table["token_errors"][code]["fix"]
