"""bench/day.py runs end to end on a tiny company and accounts for every message.

A benchmark is not a test: nothing here looks at latencies.  What is checked is that the run
completes, that the whole mix happened (sends by socket and REST, reads, history, search, reactions,
tabs dropping and catching up), and that every socket got every message of its chats exactly once.
"""
import json
import os
import subprocess
import sys

from tests.harness import ROOT


def run_day(database_url):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "day.py"), "--database-url", database_url,
                          "--users", "40", "--connected", "20", "--channels", "30", "--duration", "8",
                          "--relay-seconds", "3", "--speed", "30", "--drain", "30"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def test_a_short_day_loses_nothing(database_url):
    report = run_day(database_url)
    assert report["population"]["sockets"] == 40
    for target in ("relay", "server"):
        day = report[target]
        assert day["sockets"] == 40 and day["tabs_not_back"] == 0 and day["still_in_flight"] == 0
        assert day["counts"]["acked"] > 0
        assert day["lost"] == 0 and day["counts"]["duplicates"] == 0
        assert day["unique_deliveries"] == day["expected_deliveries"] > 0
        assert day["delivery_ms"]["count"] > 0 and day["errors"] == {}
        assert {"cpu_percent", "rss_mib", "loadavg_1min"} <= set(day["server"])
    counts = report["server"]["counts"]
    for done in ("sent_ws", "sent_rest", "mark_read_sent", "history_pages", "searches", "reactions",
                 "reconnects", "frames_typing", "frames_reactions"):
        assert counts[done] > 0, done
    assert set(report["server"]["rest_ms"]) >= {"GET /api/chats (first connect)", "GET /api/chats/{id}/messages",
                                                "GET /api/search", "POST /api/chats/{id}/messages"}
