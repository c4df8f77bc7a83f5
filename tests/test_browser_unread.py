"""The first unread message in a real Chromium: opening a chat lands on a "New messages" divider above it,
with "Jump to newest" while the newest is out of sight, and the chat list agrees with what is seen."""
import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_console_errors, badge, log_in, messages, open_chat

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def in_view(page, locator):
    """The element's top is inside the message scroller's visible band."""
    return page.evaluate("""(node) => {
        const band = document.getElementById('messages').getBoundingClientRect();
        const box = node.getBoundingClientRect();
        return box.top >= band.top - 1 && box.top < band.bottom;
    }""", locator.element_handle())


@pytest.mark.parametrize("unread", [46, 260])  # within the first page, and four pages back
def test_opening_a_chat_lands_on_the_first_unread(ui_server, new_page, unread):
    admin, reader = ui_server.login("admin"), ui_server.login("user1")
    general = ui_server.chat_id(admin, "General")
    post = lambda text: ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": text}).json()
    read = [post(f"already read {n}") for n in range(30)]
    ui_server.request("POST", f"/api/chats/{general}/read", reader, {"message_id": read[-1]["id"]})
    for n in range(unread):
        post(f"unread {n}")

    page = log_in(new_page(), ui_server, "user1")
    expect(badge(page, general)).to_have_text(str(unread))
    open_chat(page, general)
    divider = page.locator("[data-testid=unread-divider]")
    expect(divider).to_have_count(1)
    expect(divider).to_have_text("New messages")
    # right above the first unread one, and that is where the chat opened
    first = messages(page, "unread 0")
    expect(first).to_have_count(1)
    assert page.evaluate("(d) => d.nextElementSibling.textContent", divider.element_handle()).find("unread 0") >= 0
    assert in_view(page, divider)
    assert not in_view(page, messages(page, f"unread {unread - 1}"))
    # the list agrees: everything is read now, the divider stays until the chat is left
    expect(badge(page, general)).to_be_hidden()
    jump = page.locator("[data-testid=jump-newest]")
    expect(jump).to_be_visible()
    jump.click()
    expect(jump).to_be_hidden()
    assert in_view(page, messages(page, f"unread {unread - 1}"))
    expect(divider).to_have_count(1)
    # opened again with nothing unread: no divider, the newest in sight
    page.reload()
    open_chat(page, general)
    expect(messages(page, f"unread {unread - 1}")).to_be_visible()
    expect(page.locator("[data-testid=unread-divider]")).to_have_count(0)
    expect(page.locator("[data-testid=jump-newest]")).to_be_hidden()
    assert_no_console_errors(page)


def test_own_messages_are_never_new(ui_server, new_page):
    admin, reader = ui_server.login("admin"), ui_server.login("user1")
    general = ui_server.chat_id(admin, "General")
    newest = ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "before"}).json()
    ui_server.request("POST", f"/api/chats/{general}/read", reader, {"message_id": newest["id"]})
    ui_server.request("POST", f"/api/chats/{general}/messages", reader, {"text": "my own from another device"})
    page = log_in(new_page(), ui_server, "user1")
    open_chat(page, general)
    expect(messages(page, "my own from another device")).to_be_visible()
    expect(page.locator("[data-testid=unread-divider]")).to_have_count(0)
