"""Catch-up across processes never hands out an id while a lower one can still commit."""
import threading
import time

import psycopg2
import pytest

pytestmark = pytest.mark.slow

SLOW_SECONDS = 2.0
SLOW_TRIGGER = f"""
CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.text LIKE 'slow%' THEN PERFORM pg_sleep({SLOW_SECONDS}); END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER slow_commit AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION slow_commit();
"""


@pytest.fixture
def two_processes(spawn, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serves one process, whose single writer commits ids in order")
    return spawn(), spawn()


def wait_for_sleeping_insert(database_url):
    """Until a message insert sits in the trigger: its id is drawn, its commit is not done."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    deadline = time.monotonic() + 10
    try:
        with conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                            " AND wait_event = 'PgSleep'")
                if cur.fetchone()[0]:
                    return
                time.sleep(0.02)
    finally:
        conn.close()
    raise AssertionError("the slow insert never started")


def test_updates_wait_for_a_lower_id_still_committing_on_another_process(two_processes, database_url):
    a, b = two_processes
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(SLOW_TRIGGER)
    admin = a.login("admin")
    direct, general = a.chat_id(admin, "User One"), a.chat_id(admin, "General")
    start = a.request("GET", "/api/updates?limit=0", admin).json()
    before = max([0] + [m["id"] for m in a.request("GET", "/api/updates?limit=1000", admin).json()["messages"]])
    watcher = b.connect(admin)
    watcher.recv_type("connected")

    slow = {}
    sender = threading.Thread(target=lambda: slow.update(
        a.request("POST", f"/api/chats/{direct}/messages", admin, {"text": "slow on A"}).json()))
    sender.start()
    wait_for_sleeping_insert(database_url)
    fast = b.request("POST", f"/api/chats/{general}/messages", admin, {"text": "fast on B"}).json()
    assert not slow, "the slow commit finished before the test could overtake it"

    # a client polling now, on either process, must not be handed the fast id without the slow one
    watcher.send({"type": "catch_up", "after_id": before})
    page = b.request("GET", f"/api/updates?after_id={before}&changed_since={start['server_time']}", admin).json()
    frame = watcher.recv_type("catch_up", 10)
    sender.join(10)
    for answer in (page, frame):
        ids = [m["id"] for m in answer["messages"]]
        assert fast["id"] not in ids or slow["id"] in ids, f"handed out {ids} while {slow['id']} was committing"
        assert ids == sorted(ids)
    cursor = max([before] + [m["id"] for m in page["messages"]])
    rest = a.request("GET", f"/api/updates?after_id={cursor}", admin).json()["messages"]
    seen = [m["id"] for m in page["messages"] + rest]
    assert slow["id"] < fast["id"] and {slow["id"], fast["id"]} <= set(seen)
