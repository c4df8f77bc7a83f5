"""The limits the pages apply before sending are the server's own constants, served on the page
(data- attributes, input attributes), not copies in the JavaScript: change the server's value and
the browser follows."""
import re

import pytest
from playwright.sync_api import expect

from models import chats, messages, users
from tests.browser import assert_no_console_errors, log_in, open_chat, send, stored_texts
from tests.browser import messages as messages_on

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def test_chat_page_follows_the_servers_text_and_title_limits(ui_server, new_page, monkeypatch):
    monkeypatch.setattr(messages, "MAX_TEXT", 40)
    monkeypatch.setattr(chats, "MAX_TITLE", 12)
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    page = log_in(new_page(), ui_server, "user1")
    assert page.get_attribute("#app", "data-max-text") == "40"
    assert page.get_attribute("#app", "data-max-client-msg-id") == str(messages.MAX_CLIENT_MSG_ID)
    assert page.get_attribute("#group-title", "maxlength") == "12"
    open_chat(page, general)
    composer = page.locator("[data-testid=composer]")

    composer.fill("y" * 41)
    composer.press("Enter")
    expect(page.locator("[data-testid=composer-error]")).to_contain_text("the limit is 40")
    expect(page.locator("#composer-counter")).to_have_text("41 / 40")

    send(page, "z" * 40)  # exactly the limit: the browser sends it and the server stores it
    sent = messages_on(page, "z" * 40)
    expect(sent).to_have_attribute("data-message-id", re.compile(r"^\d+$"))
    assert stored_texts(ui_server, admin, general)[-1] == "z" * 40
    message = page.locator(f'#message-list [data-message-id="{sent.get_attribute("data-message-id")}"]')

    message.hover()
    message.locator("[data-testid=edit-message]").click()
    box = message.locator("[data-testid=edit-input]")
    box.fill("z" * 41)
    box.press("Enter")
    expect(message.locator("[data-testid=edit-error]")).to_contain_text("the limit is 40")
    assert_no_console_errors(page)


def test_admin_page_follows_the_servers_password_length(ui_server, new_page, monkeypatch):
    monkeypatch.setattr(users, "MIN_PASSWORD", 12)
    page = log_in(new_page(), ui_server, "admin")
    page.goto(ui_server.url + "/admin")
    form = page.locator("#create-user-form")
    expect(form.locator("input[name=password]")).to_have_attribute("minlength", "12")
    form.locator("input[name=username]").fill("shortpass")
    form.locator("input[name=password]").fill("eleven-char")  # 11: enough for the old copy (8), not for 12
    form.evaluate("f => f.requestSubmit()")
    expect(page.locator("#create-error")).to_have_text("A username and a password of at least 12 characters are needed.")
    assert_no_console_errors(page)
