"""Real clients and real faults, bounded in time: protocol keepalive pings, PostgreSQL stopped and
started under load, the data folder's disk filling up.  Marked slow; they run in CI (as root)."""
import time

import pytest

pytestmark = pytest.mark.slow


def test_keepalive_pings_keep_a_standard_client_connected(server):
    """The websockets library pings every 20 s by default; at one ping a second for 10 s the connection
    must stay open and keep working (a colliding handler once dropped it at the first PING)."""
    client = server.connect(server.login("user1"), ping_interval=1, ping_timeout=5)
    assert client.recv_type("connected")
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < 10:
        n += 1
        client.send({"type": "ping", "id": n})
        assert client.recv_type("pong")["id"] == n
        time.sleep(1)
    assert client.close_code is None
    assert client.conn.latency > 0, "no keepalive PING was answered"
    assert server.call(lambda: server.hub.connection_count()) == 1
    client.close()
