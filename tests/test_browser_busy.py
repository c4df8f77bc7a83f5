"""A chat page told ``server_busy`` (close 1013) comes back no sooner than the server asked."""
import json
import time

import pytest
from playwright.sync_api import expect

from tests.browser import connection, log_in
from tests.test_ws_admission import stalled  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_chat_page_waits_at_least_the_servers_retry_after(stalled, new_page):
    server, stall, queue_two, release = stalled
    page = log_in(new_page(), server, "user1")
    opened, busy = [], []

    def watch(ws):
        opened.append(time.monotonic())

        def received(payload):
            frame = json.loads(payload) if isinstance(payload, str) else {}
            if frame.get("code") == "server_busy":
                busy.append((time.monotonic(), frame["retry_after"]))
        ws.on("framereceived", received)
    page.on("websocket", watch)
    other = server.login("user2")
    stall()
    queue_two(other)
    user1 = next(c.user_id for c in server.call(server.hub.connections) if c.user["username"] == "user1")
    server.call(lambda: [c.close(4000, "test: reconnect") for c in server.hub.connections() if c.user_id == user1])
    deadline = time.monotonic() + 15
    while not busy:  # Playwright hands events over while the test waits in it
        assert time.monotonic() < deadline, "no server_busy frame reached the page"
        page.wait_for_timeout(20)
    release()
    expect(connection(page)).to_have_attribute("data-state", "online", timeout=20_000)
    refused_at, retry_after = busy[0]
    later = [at for at in opened if at > refused_at]
    assert later and later[0] - refused_at >= retry_after - 0.1, (later, refused_at, retry_after)
