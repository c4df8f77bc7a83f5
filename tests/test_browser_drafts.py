"""Drafts in a real Chromium: kept per chat and per account across reloads and a browser restart,
cleared when sent, forgotten at logout."""
import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_console_errors, direct_chat, log_in, messages, open_chat, track_console

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def composer(page):
    return page.locator("[data-testid=composer]")


def test_a_draft_survives_reloads_and_a_restarted_browser_and_goes_when_sent(ui_server, browser, tmp_path):
    token = ui_server.login("user1")
    general, direct = ui_server.chat_id(token, "General"), direct_chat(ui_server, token, "admin")
    context = browser.new_context()
    page = log_in(track_console(context.new_page()), ui_server, "user1")
    open_chat(page, general)
    composer(page).fill("half-written **plan**\nsecond line")
    open_chat(page, direct)
    expect(composer(page)).to_have_value("")
    composer(page).type("for the admin only")
    page.reload()  # typed a moment ago, then reloaded: saved when the page went away
    open_chat(page, direct)
    expect(composer(page)).to_have_value("for the admin only")
    open_chat(page, general)
    expect(composer(page)).to_have_value("half-written **plan**\nsecond line")

    # a browser restart: the same profile's storage, a new browser context built from it
    state = tmp_path / "state.json"
    context.storage_state(path=str(state))
    context.close()
    restarted = browser.new_context(storage_state=str(state))
    page = track_console(restarted.new_page())
    page.goto(ui_server.url + "/")
    open_chat(page, general)
    expect(composer(page)).to_have_value("half-written **plan**\nsecond line")
    composer(page).press("Enter")
    expect(messages(page, "half-written")).to_have_count(1)
    expect(composer(page)).to_have_value("")
    page.reload()
    open_chat(page, general)
    expect(composer(page)).to_have_value("")  # sent: the draft is gone
    open_chat(page, direct)
    expect(composer(page)).to_have_value("for the admin only")
    assert_no_console_errors(page)

    # drafts are per account, and logging out forgets them all
    page.click("[data-testid=logout]")
    page = log_in(page, ui_server, "user2")
    open_chat(page, general)
    expect(composer(page)).to_have_value("")
    composer(page).fill("user2's unsent secret")  # still in the box at logout: not kept either
    page.click("[data-testid=logout]")
    page = log_in(page, ui_server, "user1")
    open_chat(page, direct)
    expect(composer(page)).to_have_value("")
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('cm_drafts'))") == []
    restarted.close()
