"""Replies, reactions and @mention autocomplete in a real browser, live in a second member's window."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser import (assert_no_console_errors, connection, entry, log_in, messages, open_chat, send,
                           stored, user_id)

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

SENT = re.compile(r"^\d+$")


def general(server, token):
    return server.chat_id(token, "General")


def test_reply_quotes_the_original_jumps_to_it_and_shows_its_deletion(ui_server, new_page):
    admin = ui_server.login("admin")
    chat = general(ui_server, admin)
    original = ui_server.request("POST", f"/api/chats/{chat}/messages", admin, {"text": "Who has the keys?"}).json()
    for i in range(70):  # push the original off the first page of history
        last = ui_server.request("POST", f"/api/chats/{chat}/messages", admin, {"text": f"filler {i}"}).json()
    # read, so the chat opens at the newest page (unread, it would open at the first unread one)
    ui_server.request("POST", f"/api/chats/{chat}/read", ui_server.login("user1"), {"message_id": last["id"]})
    page = log_in(new_page(), ui_server, "user1")
    open_chat(page, chat)
    # reply to a recent message with the keyboard-free path: hover, Reply, type, Enter
    target = messages(page, "filler 69")
    target.hover()
    target.locator("[data-testid=reply-message]").click()
    bar = page.locator("[data-testid=reply-bar]")
    expect(bar).to_contain_text("Replying to Administrator")
    expect(bar).to_contain_text("filler 69")
    composer = page.locator("[data-testid=composer]")
    expect(composer).to_be_focused()
    composer.press("Escape")  # Esc cancels the reply
    expect(bar).to_be_hidden()
    send(page, "not a reply")
    expect(messages(page, "not a reply")).to_have_attribute("data-message-id", SENT)
    expect(messages(page, "not a reply").locator("[data-testid=reply-quote]")).to_have_count(0)

    # a reply to the old original, sent over the API by another member, jumps back through history
    ui_server.request("POST", f"/api/chats/{chat}/messages", admin,
                      {"text": "I do, see above", "reply_to": original["id"]})
    reply = messages(page, "I do, see above")
    quote = reply.locator("[data-testid=reply-quote]")
    expect(quote).to_contain_text("Who has the keys?")
    jumped = page.locator(f'#message-list [data-message-id="{original["id"]}"]')
    expect(jumped).to_have_count(0)  # not loaded yet
    quote.click()
    expect(jumped).to_be_in_viewport()
    expect(jumped).to_have_class(re.compile(r"\bflash\b"))

    # replying from the browser stores reply_to
    target = messages(page, "filler 3").first
    target.hover()
    target.locator("[data-testid=reply-message]").click()
    send(page, "answering filler 3")
    expect(messages(page, "answering filler 3")).to_have_attribute("data-message-id", SENT)
    expect(messages(page, "answering filler 3").locator("[data-testid=reply-quote]")).to_have_text(
        re.compile("Administrator.*filler 3$"))
    expect(bar).to_be_hidden()
    mine = [m for m in stored(ui_server, admin, chat) if m["text"] == "answering filler 3"][0]
    assert mine["reply_to"]["text"] == "filler 3"

    # the original deleted: the quote says so at once, and after a reload
    ui_server.request("DELETE", f"/api/messages/{original['id']}", admin)
    deleted_quote = messages(page, "I do, see above").locator("[data-testid=reply-quote]")
    expect(deleted_quote).to_have_text("AdministratorMessage deleted")
    expect(deleted_quote).to_be_disabled()
    page.reload()
    open_chat(page, chat)
    expect(deleted_quote).to_have_text("AdministratorMessage deleted")
    assert_no_console_errors(page)


def test_reactions_toggle_live_in_every_window(ui_server, new_page):
    admin = ui_server.login("admin")
    chat = general(ui_server, admin)
    message = ui_server.request("POST", f"/api/chats/{chat}/messages", admin, {"text": "Lunch at noon?"}).json()
    user1 = log_in(new_page(), ui_server, "user1")
    user2 = log_in(new_page(), ui_server, "user2")
    for page in (user1, user2):
        open_chat(page, chat)
    target = messages(user1, "Lunch at noon?")
    target.hover()
    target.locator("[data-testid=react-message]").click()
    picker = user1.locator("[data-testid=reaction-picker]")
    expect(picker).to_be_visible()
    picker.locator("[data-testid=reaction-option]", has_text="👍").click()
    expect(picker).to_be_hidden()
    chip = target.locator('[data-testid=reaction-chip][data-emoji="👍"]')
    expect(chip).to_have_text("👍1")
    expect(chip).to_have_attribute("aria-pressed", "true")
    expect(chip).to_have_attribute("title", "You reacted with 👍")

    # the other member sees it at once, not highlighted, and adds a free-entry reaction plus the same one
    other = messages(user2, "Lunch at noon?")
    other_chip = other.locator('[data-testid=reaction-chip][data-emoji="👍"]')
    expect(other_chip).to_have_text("👍1")
    expect(other_chip).to_have_attribute("aria-pressed", "false")
    expect(other_chip).to_have_attribute("title", "User One reacted with 👍")
    other_chip.click()
    expect(other_chip).to_have_text("👍2")
    other.hover()
    other.locator("[data-testid=react-message]").click()
    user2.locator("[data-testid=reaction-input]").fill("🦄")
    user2.locator("[data-testid=reaction-input]").press("Enter")
    expect(target.locator('[data-testid=reaction-chip][data-emoji="🦄"]')).to_have_text("🦄1")
    expect(chip).to_have_text("👍2")
    expect(chip).to_have_attribute("title", "You, User Two reacted with 👍")

    # toggling off is live too
    chip.click()
    expect(other_chip).to_have_text("👍1")
    expect(chip).to_have_attribute("aria-pressed", "false")
    got = {m["id"]: m for m in stored(ui_server, admin, chat)}[message["id"]]["reactions"]
    assert [(r["emoji"], r["count"]) for r in got] == [("👍", 1), ("🦄", 1)]
    assert_no_console_errors(user1, user2)


def test_a_reaction_over_the_cap_is_explained_in_the_users_language(ui_server, new_page):
    """A message at 50 different emoji refuses a 51st: the page says why, in English and in Russian."""
    admin = ui_server.login("admin")
    chat = general(ui_server, admin)
    user3 = ui_server.request("POST", "/api/admin/users", admin, {"username": "user3", "password": "user3pass"}).json()
    ui_server.request("POST", f"/api/chats/{chat}/members", admin, {"user_ids": [user3["id"]]})
    message = ui_server.request("POST", f"/api/chats/{chat}/messages", admin, {"text": "Vote!"}).json()
    for who, count in (("admin", 20), ("user2", 20), ("user3", 10)):  # each within the reaction burst
        token = ui_server.login(who, "user3pass" if who == "user3" else None)
        for n in range(count):
            path = f"/api/messages/{message['id']}/reactions/{who}{n}"
            assert ui_server.request("PUT", path, token).status_code == 200
    page = log_in(new_page(), ui_server, "user1")

    def refused_with(text):
        open_chat(page, chat)
        target = messages(page, "Vote!")
        expect(target.locator("[data-testid=reaction-chip]")).to_have_count(50)
        target.hover()
        target.locator("[data-testid=react-message]").click()
        page.locator("[data-testid=reaction-option]", has_text="👍").click()
        expect(page.locator("[data-testid=composer-error]")).to_have_text(text)
        expect(target.locator('[data-testid=reaction-chip][data-emoji="👍"]')).to_have_count(0)
    refused_with("Reaction not saved: A message can have at most 50 different reactions")
    ui_server.request("PATCH", "/api/me", ui_server.login("user1"), {"locale": "ru"})
    page.reload()
    expect(connection(page)).to_have_attribute("data-state", "online")
    refused_with("Реакция не сохранена: У сообщения может быть не больше 50 разных реакций")
    refusal = "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    assert page.console_errors == [refusal] * 2  # the browser's own line for each refused request, nothing else


def test_mention_autocomplete_highlight_and_badge(ui_server, new_page):
    admin = ui_server.login("admin")
    chat = general(ui_server, admin)
    writer = log_in(new_page(), ui_server, "admin")
    reader = log_in(new_page(), ui_server, "user1")
    open_chat(writer, chat)
    composer = writer.locator("[data-testid=composer]")
    composer.fill("Thanks ")
    composer.press_sequentially("@us")
    options = writer.locator("[data-testid=mention-option]")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    composer.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    composer.press("ArrowUp")
    composer.press("Enter")  # picks user1, does not send
    expect(composer).to_have_value("Thanks @user1 ")
    expect(writer.locator("[data-testid=mention-picker]")).to_be_hidden()
    composer.press_sequentially("and @nob")
    expect(options).to_have_count(0)
    composer.press("Enter")
    sent = messages(writer, "Thanks @user1")
    expect(sent).to_have_attribute("data-message-id", SENT)
    expect(sent.locator("[data-testid=mention]")).to_have_text("@user1")

    # the mentioned member: a distinct badge while the chat is closed, the message marked when opened
    expect(entry(reader, chat).locator("[data-testid=mention-badge]")).to_be_visible()
    open_chat(reader, chat)
    marked = messages(reader, "Thanks @user1")
    expect(marked).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(marked.locator(".mention-me")).to_have_text("@user1")
    expect(entry(reader, chat).locator("[data-testid=mention-badge]")).to_be_hidden()
    stored_message = [m for m in stored(ui_server, admin, chat) if m["text"].startswith("Thanks")][0]
    assert stored_message["mentions"] == [user_id(ui_server, admin, "user1")]
    assert_no_console_errors(writer, reader)


def test_screenshot_replies_reactions_mentions(ui_server, new_page, tmp_path):
    """docs/screenshots/chat-social.png and mention-picker.png (written with UPDATE_SCREENSHOTS=1)."""
    from tests.test_browser_screenshots import seed, target

    chat = seed(ui_server)
    tokens = {u: ui_server.login(u) for u in ("admin", "user1", "user2")}
    history = stored(ui_server, tokens["admin"], chat)
    question = next(m for m in history if m["text"].startswith("Do we still want"))
    ui_server.request("POST", f"/api/chats/{chat}/messages", tokens["user1"],
                      {"text": "Works for me. @user2 can you book the projector?",
                       "reply_to": question["id"]})
    for who, emoji in (("user1", "👍"), ("admin", "👍"), ("user2", "🎉")):
        ui_server.request("PUT", f"/api/messages/{history[-1]['id']}/reactions/{emoji}", tokens[who])
    page = log_in(new_page(), ui_server, "user2")
    open_chat(page, chat)
    expect(page.locator("[data-testid=reply-quote]")).to_have_count(1)
    composer = page.locator("[data-testid=composer]")
    composer.press_sequentially("Booked. Thanks @")
    expect(page.locator("[data-testid=mention-option]")).to_have_count(2)
    page.screenshot(path=target(tmp_path, "mention-picker.png"))
    composer.press("Escape")
    composer.fill("")
    latest = messages(page).last
    latest.hover()
    latest.locator("[data-testid=reply-message]").click()
    page.screenshot(path=target(tmp_path, "chat-social.png"))
    assert_no_console_errors(page)
