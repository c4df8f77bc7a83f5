"""The server restarts under an open chat page: the banner follows, and a message written
during the outage is delivered exactly once when the page reconnects."""
import re

import pytest
from playwright.sync_api import expect

from tests.harness import SubprocessServer, config_argv
from tests.browser import connection, log_in, messages, open_chat, send, stored_texts

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_restart_shows_reconnecting_then_online_and_delivers_the_outage_message_once(tmp_path, new_page):
    argv = config_argv(tmp_path / "data", "sqlite:///" + str(tmp_path / "restart.db"))
    log_path = str(tmp_path / "server.log")
    server = SubprocessServer(argv, log_path=log_path)
    try:
        admin = server.login("admin")
        general = server.chat_id(admin, "General")
        page = log_in(new_page(), server, "user1")
        watcher = log_in(new_page(), server, "user2")
        open_chat(page, general)
        open_chat(watcher, general)
        send(page, "Before the restart")
        expect(messages(page, "Before the restart")).to_have_attribute("data-message-id", re.compile(r"^\d+$"))

        server.terminate()
        expect(connection(page)).to_have_attribute("data-state", "reconnecting")
        expect(connection(page)).to_be_visible()
        expect(connection(page).get_by_role("link", name="Diagnostics")).to_have_attribute("href", "/diagnostics")
        send(page, "Written during the outage")
        waiting = messages(page, "Written during the outage")
        expect(waiting).to_have_class(re.compile(r"\bqueued\b"))
        expect(waiting).not_to_have_attribute("data-message-id", re.compile("."))

        server = SubprocessServer(argv, port=server.port, log_path=log_path)
        expect(connection(page)).to_have_attribute("data-state", "online", timeout=30_000)
        expect(connection(page)).to_be_hidden()
        expect(waiting).to_have_attribute("data-message-id", re.compile(r"^\d+$"))
        expect(connection(watcher)).to_have_attribute("data-state", "online", timeout=30_000)
        expect(messages(watcher, "Written during the outage")).to_have_count(1)

        assert stored_texts(server, admin, general).count("Written during the outage") == 1
        page.reload()
        open_chat(page, general)
        expect(messages(page, "Written during the outage")).to_have_count(1)
        expect(messages(page, "Before the restart")).to_have_count(1)
    finally:
        server.stop()
