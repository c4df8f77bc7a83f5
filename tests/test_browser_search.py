"""Search in the browser: results with the chat name, date and marked words (as text, never HTML);
a click opens the chat at the message, loading older history to reach it; search within one chat."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_console_errors, direct_chat, log_in, open_chat
from tests.test_browser_screenshots import target as screenshot_path

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)


def test_search_and_jump_to_an_old_message(ui_server, new_page, tmp_path):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    target = ui_server.request("POST", f"/api/chats/{general}/messages", admin,
                               {"text": "The <b>needle</b> is in the haystack"}).json()
    for i in range(130):  # more than two pages of history after it
        ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": f"filler message {i}"})
    page = log_in(new_page(), ui_server, "user1")
    page.fill("[data-testid=message-search]", "NEEDLE")
    page.press("[data-testid=message-search]", "Enter")
    result = page.locator("[data-testid=search-result]")
    expect(result).to_have_count(1)
    expect(result).to_contain_text("General")
    expect(result).to_contain_text("Administrator: The <b>needle</b> is in the haystack")
    expect(result.locator("mark")).to_have_text("needle")
    assert result.locator("b").count() == 0
    result.click()
    found = page.locator(f'#message-list [data-message-id="{target["id"]}"]')
    expect(found).to_be_in_viewport()
    expect(found).to_have_class(re.compile(r"\bfound\b"))
    assert page.evaluate("location.hash") == f"#/chat/{general}"
    page.screenshot(path=screenshot_path(tmp_path, "chat-search.png"))

    page.press("[data-testid=message-search]", "Escape")  # the chat list again
    direct = direct_chat(ui_server, admin, "user1")
    open_chat(page, direct)
    page.fill("[data-testid=message-search]", "needle")
    page.check("[data-testid=search-scope]")  # searches again, only the open chat: the needle is elsewhere
    expect(page.locator("[data-testid=search-results]")).to_contain_text("Nothing found in Administrator")
    page.uncheck("[data-testid=search-scope]")
    expect(result).to_have_count(1)
    page.press("[data-testid=message-search]", "Escape")
    expect(page.locator("[data-testid=chat-list]")).to_be_visible()
    assert_no_console_errors(page)
