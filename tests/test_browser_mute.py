"""Muting a chat in a real Chromium: no notification and no title count for plain messages, mentions still
notify, the badge turns grey, the user's other tabs follow live and a reload keeps it."""
import re

import pytest
from playwright.sync_api import expect

from models import chats
from tests.browser import (HIDE_PAGE, NOTIFICATION_STUB, another_tab, assert_no_console_errors, badge, entry, log_in,
                           open_chat, user_id)
from tests.helpers import in_database

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

GREY = "rgb(107, 112, 137)"


def test_muted_chat_notifies_only_mentions_and_greys_its_badge(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    page = new_page()
    page.context.add_init_script(NOTIFICATION_STUB)
    log_in(page, ui_server, "user2")
    other_tab = another_tab(page, ui_server)

    open_chat(page, general)
    mute = page.locator("[data-testid=mute-button]")
    expect(mute).to_have_attribute("aria-pressed", "false")
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "true")
    expect(mute).to_have_text("Unmute")
    expect(entry(other_tab, general).locator("[data-testid=muted-icon]")).to_be_visible()  # live, by chat_muted
    page.evaluate("location.hash = ''")
    page.evaluate(HIDE_PAGE)

    ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "Lunch at noon?"})
    expect(badge(page, general)).to_have_text("1")  # still counted (the welcome was read when it was open)...
    expect(badge(page, general)).to_have_css("background-color", GREY)  # ...but grey
    ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "@user2 can you book it?"})
    expect(badge(page, general)).to_have_text("2")
    expect(entry(page, general).locator("[data-testid=mention-badge]")).to_be_visible()
    page.wait_for_function("() => notes.length >= 1")
    # Frames are applied in order, so the plain message was handled (and not notified) before the mention.
    assert page.evaluate("notes") == [{"title": "Administrator mentioned you in General",
                                       "body": "@user2 can you book it?"}]
    expect(page).to_have_title("(1) Corporate Messenger")  # only the mention counts in the title

    # Unmuting in the other tab reaches this one: a red badge and every unread message in the title.
    open_chat(other_tab, general)
    other_tab.locator("[data-testid=mute-button]").click()
    expect(other_tab.locator("[data-testid=mute-button]")).to_have_attribute("aria-pressed", "false")
    expect(entry(page, general).locator("[data-testid=muted-icon]")).to_be_hidden()
    expect(badge(page, general)).not_to_have_css("background-color", GREY)
    ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "Booked."})
    page.wait_for_function("() => notes.length === 2")
    assert page.evaluate("notes")[1] == {"title": "Administrator in General", "body": "Booked."}

    # Kept on the server: a fresh page load shows the chat muted again after muting it once more.
    other_tab.locator("[data-testid=mute-button]").click()
    expect(other_tab.locator("[data-testid=mute-button]")).to_have_attribute("aria-pressed", "true")
    other_tab.reload()
    expect(entry(other_tab, general).locator("[data-testid=muted-icon]")).to_be_visible()
    expect(other_tab.locator("[data-testid=mute-button]")).to_have_attribute("aria-pressed", "true")
    expect(other_tab).to_have_title(re.compile(r"^Corporate Messenger$"))

    # A change missed while disconnected (made here without its frame) arrives with the reconnect's chat list.
    user2 = ui_server.login("user2")
    in_database(ui_server, chats.update_chat, {"id": user_id(ui_server, user2, "user2")}, general, None, False)
    ui_server.call(lambda: ui_server.hub.close_all(1012, "test restart"))
    for tab in (page, other_tab):
        expect(entry(tab, general).locator("[data-testid=muted-icon]")).to_be_hidden()
    expect(other_tab.locator("[data-testid=mute-button]")).to_have_attribute("aria-pressed", "false")
    assert_no_console_errors(page, other_tab)
