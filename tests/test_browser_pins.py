"""Pins in a real Chromium: pin from a message's actions, seen live by another member, the chat's pinned
list opens the message, and unpinning from the list."""
import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_console_errors, log_in, messages, open_chat

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def test_pin_live_listed_opened_and_unpinned(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    post = lambda text: ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": text}).json()
    keep = post("Deploy checklist: **freeze** at 17:00")
    for n in range(80):  # the pinned message scrolls out of the first page
        post(f"chatter {n}")
    ui_server.request("POST", f"/api/chats/{general}/read", ui_server.login("user1"),
                      {"message_id": post("latest")["id"]})
    pinner, watcher = log_in(new_page(), ui_server, "user1"), log_in(new_page(), ui_server, "admin")
    for page in (pinner, watcher):
        open_chat(page, general)

    # the pin list of a chat with none says so
    pinner.locator("[data-testid=pins-button]").click()
    dialog = pinner.locator("[data-testid=pins-dialog]")
    expect(dialog).to_contain_text("Nothing is pinned in this chat yet")
    dialog.get_by_role("button", name="Close").click()

    target = messages(pinner, "latest")
    target.hover()
    target.locator("[data-testid=pin-message]").click()
    expect(target.locator("[data-testid=pinned-mark]")).to_have_text("📌 Pinned")
    expect(messages(watcher, "latest").locator("[data-testid=pinned-mark]")).to_be_visible()  # live
    ui_server.request("PUT", f"/api/messages/{keep['id']}/pin", admin)
    expect(messages(pinner, "latest").locator("[data-testid=pin-message]")).to_have_text("Unpin")

    # the list: newest pin first; a click opens the old message in the chat, loading history back to it
    pinner.locator("[data-testid=pins-button]").click()
    rows = dialog.locator("[data-testid=pin]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Deploy checklist: **freeze** at 17:00")
    expect(rows.nth(1)).to_contain_text("latest")
    rows.nth(0).locator(".pin-open").click()
    expect(dialog).to_be_hidden()
    expect(messages(pinner, "Deploy checklist")).to_be_in_viewport()
    expect(messages(pinner, "Deploy checklist").locator("[data-testid=pinned-mark]")).to_be_visible()

    # unpinning from the list, seen by the other member too
    pinner.locator("[data-testid=pins-button]").click()
    rows.nth(0).locator("[data-testid=unpin]").click()
    expect(rows).to_have_count(1)
    expect(messages(watcher, "Deploy checklist").locator("[data-testid=pinned-mark]")).to_have_count(0)
    pins = ui_server.request("GET", f"/api/chats/{general}/pins", admin).json()["pins"]
    assert [m["text"] for m in pins] == ["latest"]
    assert_no_console_errors(pinner, watcher)
