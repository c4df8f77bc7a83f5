"""Members see who joins and leaves while the chat is open, in a real Chromium."""
import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_console_errors, log_in, open_chat, user_id

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def test_joins_and_leaves_show_in_the_open_chat(ui_server, new_page):
    admin, user2 = ui_server.login("admin"), ui_server.login("user2")
    channel = ui_server.request("POST", "/api/chats", admin, {"type": "group", "title": "Launch", "member_ids": [],
                                                              "visibility": "public"}).json()
    ui_server.request("POST", f"/api/chats/{channel['id']}/messages", admin, {"text": "Kick-off at ten"})
    page = log_in(new_page(), ui_server, "admin")
    open_chat(page, channel["id"])
    notices = page.locator("[data-testid=member-notice]")
    expect(notices).to_have_count(0)

    assert ui_server.request("POST", f"/api/channels/{channel['id']}/join", user2).status_code == 200
    expect(notices).to_have_text(["Joined the chat: User Two"])
    expect(page.locator("#message-list > li").last).to_have_text("Joined the chat: User Two")  # after the newest
    ui_server.request("POST", f"/api/chats/{channel['id']}/messages", user2, {"text": "Hi all"})
    expect(page.locator("#message-list > li").last).to_contain_text("Hi all")
    ui_server.request("DELETE", f"/api/chats/{channel['id']}/members/{user_id(ui_server, user2, 'user2')}", user2)
    expect(notices).to_have_text(["Joined the chat: User Two", "User Two left the chat"])
    # live lines, not history: opened again, the chat shows its messages only
    page.reload()
    open_chat(page, channel["id"])
    expect(page.locator("#message-list")).to_contain_text("Hi all")
    expect(notices).to_have_count(0)
    assert_no_console_errors(page)
