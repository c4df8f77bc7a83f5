"""Editing and deleting one's own messages, live in other members' windows, and unsent messages
that survive a page reload (kept in localStorage, resent with the same client_msg_id)."""
import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser import (assert_no_console_errors, connection, direct_chat, entry, intercept_sends, log_in, messages,
                           open_chat, send, stored, stored_texts, user_id)

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

SENT = re.compile(r"^\d+$")


def outbox(page, uid):
    return page.evaluate("k => JSON.parse(localStorage.getItem(k) || '[]')", f"cm_outbox_{uid}")


def sent(page, text):
    """Send ``text`` and wait for its ack; the message's locator."""
    send(page, text)
    found = messages(page, text)
    expect(found).to_have_attribute("data-message-id", SENT)
    return by_id(page, found.get_attribute("data-message-id"))


def by_id(page, message_id):
    """A stored message by id (a text filter would lose it while its editor replaces the text)."""
    return page.locator(f'#message-list [data-message-id="{message_id}"]')


def edit(page, message, new_text):
    message.hover()
    message.locator("[data-testid=edit-message]").click()
    box = message.locator("[data-testid=edit-input]")
    expect(box).to_be_focused()
    box.fill(new_text)
    box.press("Enter")
    expect(box).to_have_count(0)


# --- editing and deleting ---------------------------------------------------------------------

def test_edit_shows_edited_for_author_and_other_member_and_updates_history_and_preview(ui_server, new_page):
    user1_token = ui_server.login("user1")
    chat = direct_chat(ui_server, user1_token, "user2")
    author = log_in(new_page(), ui_server, "user1")
    reader = log_in(new_page(), ui_server, "user2")
    open_chat(author, chat)
    open_chat(reader, chat)

    original = sent(author, "Meeting at 3pm")
    message_id = original.get_attribute("data-message-id")
    expect(messages(reader, "Meeting at 3pm")).to_have_count(1)

    # Escape cancels without a request; the text is unchanged.
    original.hover()
    original.locator("[data-testid=edit-message]").click()
    box = original.locator("[data-testid=edit-input]")
    box.fill("Meeting at 9pm")
    box.press("Escape")
    expect(box).to_have_count(0)
    expect(original.locator(".text")).to_have_text("Meeting at 3pm")
    expect(original.locator("[data-testid=edit-message]")).to_be_focused()  # focus returns to the button

    # The 1-10,000 character rule, checked before anything is sent.
    original.locator("[data-testid=edit-message]").click()
    box.fill("   ")
    box.press("Enter")
    expect(original.locator("[data-testid=edit-error]")).to_contain_text("Type a message")
    box.fill("y" * 10_001)
    box.press("Enter")
    expect(original.locator("[data-testid=edit-error]")).to_contain_text("limit is 10,000")
    box.press("Escape")

    edit(author, original, "  Meeting at 4pm (moved)  ")
    for page in (author, reader):
        changed = by_id(page, message_id)
        expect(changed.locator(".text")).to_have_text("Meeting at 4pm (moved)")
        expect(changed.locator("[data-testid=edited]")).to_have_text("(edited)")
        expect(entry(page, chat)).to_contain_text("Meeting at 4pm (moved)")  # it was the last message
    history = stored(ui_server, user1_token, chat)
    assert [(m["id"], m["text"]) for m in history] == [(int(message_id), "Meeting at 4pm (moved)")]
    assert history[0]["edited_at"] is not None
    assert_no_console_errors(author, reader)


def test_delete_asks_first_then_removes_the_message_everywhere(ui_server, new_page):
    user1_token = ui_server.login("user1")
    chat = direct_chat(ui_server, user1_token, "user2")
    dialogs = []
    author = new_page()
    author.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(author, ui_server, "user1")
    reader = log_in(new_page(), ui_server, "user2")
    open_chat(author, chat)
    open_chat(reader, chat)
    sent(author, "Keep this one")
    doomed = sent(author, "Oops, wrong chat")
    doomed_id = int(doomed.get_attribute("data-message-id"))
    expect(messages(reader, "Oops, wrong chat")).to_have_count(1)
    expect(entry(reader, chat)).to_contain_text("Oops, wrong chat")

    # An in-page confirmation: Cancel (and Escape) keep the message.
    doomed.hover()
    doomed.locator("[data-testid=delete-message]").click()
    expect(doomed.locator("[data-testid=delete-confirm]")).to_contain_text("Delete this message?")
    expect(doomed.locator("[data-testid=confirm-delete]")).to_be_focused()
    author.keyboard.press("Escape")
    expect(doomed.locator("[data-testid=delete-confirm]")).to_have_count(0)
    doomed.locator("[data-testid=delete-message]").click()
    doomed.locator("[data-testid=cancel-delete]").click()
    expect(doomed.locator("[data-testid=delete-confirm]")).to_have_count(0)
    assert [m["id"] for m in stored(ui_server, user1_token, chat)][-1] == doomed_id

    doomed.locator("[data-testid=delete-message]").click()
    doomed.locator("[data-testid=confirm-delete]").click()
    for page in (author, reader):
        expect(messages(page, "Oops, wrong chat")).to_have_count(0)
        expect(messages(page, "Keep this one")).to_have_count(1)
        expect(entry(page, chat)).to_contain_text("Keep this one")  # the preview falls back
    assert [m["text"] for m in stored(ui_server, user1_token, chat)] == ["Keep this one"]
    assert dialogs == []  # no window.confirm
    assert_no_console_errors(author, reader)


def test_only_own_sent_messages_offer_edit_and_delete(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "From the admin"})
    page = log_in(new_page(), ui_server, "user1")
    open_chat(page, general)
    mine = sent(page, "From user one")

    theirs = messages(page, "From the admin")
    theirs.hover()
    # anyone's message can be answered or reacted to; only one's own changed
    expect(theirs.locator(".message-actions button")).to_have_text(["Reply", "React", "Pin"])
    expect(messages(page, "Welcome").locator(".message-actions button")).to_have_text(["Reply", "React", "Pin"])
    expect(page.locator("#message-list [data-testid=edit-message]")).to_have_count(1)
    expect(page.locator("#message-list [data-testid=delete-message]")).to_have_count(1)

    # Hidden until hover or keyboard focus, but labelled and reachable with Tab.
    actions = mine.locator(".message-actions")
    page.locator("[data-testid=composer]").focus()
    page.mouse.move(5, 5)
    expect(actions).to_have_css("opacity", "0")
    mine.locator("[data-testid=reply-message]").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(mine.locator("[data-testid=pin-message]")).to_be_focused()
    page.keyboard.press("Tab")
    expect(mine.locator("[data-testid=edit-message]")).to_be_focused()
    expect(mine.locator("[data-testid=edit-message]")).to_have_text("Edit")
    expect(actions).to_have_css("opacity", "1")
    page.keyboard.press("Tab")
    expect(mine.locator("[data-testid=delete-message]")).to_be_focused()
    expect(mine.locator("[data-testid=delete-message]")).to_have_text("Delete")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(mine.locator("[data-testid=edit-input]")).to_be_focused()
    page.keyboard.press("Escape")

    # The server refuses others' messages anyway: a 403 for the admin's message.
    admin_message = next(m for m in stored(ui_server, admin, general) if m["text"] == "From the admin")
    token = page.evaluate("localStorage.getItem('access_token')")
    refused = ui_server.request("PATCH", f"/api/messages/{admin_message['id']}", token, {"text": "hijacked"})
    assert refused.status_code == 403
    assert_no_console_errors(page)


def test_html_looking_edit_stays_text(ui_server, new_page):
    user1_token = ui_server.login("user1")
    chat = direct_chat(ui_server, user1_token, "user2")
    dialogs = []
    author = log_in(new_page(), ui_server, "user1")
    reader = new_page()
    reader.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(reader, ui_server, "user2")
    open_chat(author, chat)
    open_chat(reader, chat)
    message = sent(author, "plain for now")
    message_id = message.get_attribute("data-message-id")
    payload = '<img src=x onerror=alert(1)><b>bold</b><script>alert(2)</script>'
    edit(author, message, payload)
    for page in (author, reader):
        changed = by_id(page, message_id)
        expect(changed.locator(".text")).to_have_text(payload)
        expect(changed.locator("[data-testid=edited]")).to_be_visible()
        assert changed.locator(".text img, .text b, .text script").count() == 0
        expect(entry(page, chat)).to_contain_text(payload)
    reader.wait_for_timeout(300)
    assert dialogs == []
    assert stored_texts(ui_server, user1_token, chat) == [payload]
    assert_no_console_errors(author, reader)


# --- unsent messages survive a reload ---------------------------------------------------------

def test_unsent_messages_survive_a_reload_and_are_delivered_once(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    uid = user_id(ui_server, admin, "user1")
    page = new_page()
    mode = {"now": "pass"}  # pass | refuse (error frames for sends) | blocked (no socket at all)
    sends = []

    def refusal(frame):
        sends.append((frame["client_msg_id"], frame["text"]))
        return "db_unavailable" if mode["now"] == "refuse" else None

    sockets = intercept_sends(page, refusal, blocked=lambda: mode["now"] == "blocked")
    log_in(page, ui_server, "user1")
    open_chat(page, general)

    mode["now"] = "refuse"
    send(page, "Failed before the reload")
    expect(messages(page, "Failed before the reload")).to_have_class(re.compile(r"\bfailed\b"))
    mode["now"] = "blocked"
    sockets[-1].close(code=1006, reason="network went away")
    expect(connection(page)).to_have_attribute("data-state", "reconnecting")
    send(page, "Queued before the reload")
    expect(messages(page, "Queued before the reload")).to_have_class(re.compile(r"\bqueued\b"))

    kept = outbox(page, uid)
    assert [e["text"] for e in kept] == ["Failed before the reload", "Queued before the reload"]
    assert all(set(e) == {"client_msg_id", "chat_id", "text", "files", "created_at", "state", "error", "fatal",
                          "quote"}
               for e in kept)
    assert [e["state"] for e in kept] == ["failed", "queued"]
    token = page.evaluate("localStorage.getItem('access_token')")
    assert token not in page.evaluate(f"localStorage.getItem('cm_outbox_{uid}')")
    ids = {e["text"]: e["client_msg_id"] for e in kept}

    page.reload()  # the socket stays refused: the chat still loads, with both messages as they were
    expect(connection(page)).not_to_have_attribute("data-state", "online")
    failed = messages(page, "Failed before the reload")
    queued = messages(page, "Queued before the reload")
    expect(failed).to_have_class(re.compile(r"\bfailed\b"))
    expect(failed.locator("[data-testid=message-status]")).to_contain_text("Not sent: The database is unreachable")
    expect(queued).to_have_class(re.compile(r"\bqueued\b"))
    expect(queued.locator("[data-testid=message-status]")).to_have_text("Waiting for the connection…")
    expect(failed).to_have_attribute("data-client-msg-id", ids["Failed before the reload"])
    expect(queued).to_have_attribute("data-client-msg-id", ids["Queued before the reload"])
    assert "Queued before the reload" not in stored_texts(ui_server, admin, general)

    mode["now"] = "pass"
    page.evaluate("window.dispatchEvent(new Event('online'))")  # the network is back: retry now
    expect(connection(page)).to_have_attribute("data-state", "online")
    for text in ("Failed before the reload", "Queued before the reload"):
        expect(messages(page, text)).to_have_count(1)
        expect(messages(page, text)).to_have_attribute("data-message-id", SENT)
    page.wait_for_function("k => localStorage.getItem(k) === null", arg=f"cm_outbox_{uid}")
    texts = stored_texts(ui_server, admin, general)
    assert texts.count("Failed before the reload") == 1 and texts.count("Queued before the reload") == 1
    assert texts[-2:] == ["Failed before the reload", "Queued before the reload"]
    # Every attempt used the message's original client_msg_id.
    assert {cid for cid, text in sends if text in ids} == set(ids.values())
    assert all(cid == ids[text] for cid, text in sends if text in ids)
    assert_no_console_errors(page)


def test_message_stored_but_not_acked_is_resent_after_reload_and_not_duplicated(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    uid = user_id(ui_server, admin, "user1")
    page = new_page()
    swallow = {"acks": False}
    sends = []

    def route(ws):  # the server stores the message, but its ack is lost on the way back
        server = ws.connect_to_server()

        def from_page(message):
            frame = json.loads(message)
            if frame.get("type") == "send_message":
                sends.append(frame["client_msg_id"])
            server.send(message)

        def from_server(message):
            if swallow["acks"] and json.loads(message).get("type") == "message_ack":
                return
            ws.send(message)
        ws.on_message(from_page)
        server.on_message(from_server)

    page.route_web_socket(re.compile(r"/ws\?"), route)
    log_in(page, ui_server, "user1")
    open_chat(page, general)
    swallow["acks"] = True
    send(page, "Stored, ack lost")
    pending = messages(page, "Stored, ack lost")
    expect(pending).to_have_class(re.compile(r"\bpending\b"))
    for _ in range(50):
        if "Stored, ack lost" in stored_texts(ui_server, admin, general):
            break
        page.wait_for_timeout(100)
    assert stored_texts(ui_server, admin, general).count("Stored, ack lost") == 1
    assert [e["text"] for e in outbox(page, uid)] == ["Stored, ack lost"]

    swallow["acks"] = False
    page.reload()
    expect(connection(page)).to_have_attribute("data-state", "online")
    page.wait_for_function("k => localStorage.getItem(k) === null", arg=f"cm_outbox_{uid}")
    expect(messages(page, "Stored, ack lost")).to_have_count(1)
    expect(messages(page, "Stored, ack lost")).to_have_attribute("data-message-id", SENT)
    assert stored_texts(ui_server, admin, general).count("Stored, ack lost") == 1
    assert len(sends) == 2 and sends[0] == sends[1]  # resent once, with the same client_msg_id
    assert_no_console_errors(page)


def test_discarding_a_failed_message_forgets_it(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    uid = user_id(ui_server, admin, "user1")
    page = new_page()

    intercept_sends(page, lambda frame: "not_a_member")  # refused for good: no retry helps
    log_in(page, ui_server, "user1")
    open_chat(page, general)
    send(page, "Never mind")
    failed = messages(page, "Never mind")
    expect(failed).to_have_class(re.compile(r"\bfailed\b"))
    assert [e["fatal"] for e in outbox(page, uid)] == [True]
    failed.locator("[data-testid=discard]").click()
    expect(failed).to_have_count(0)
    assert outbox(page, uid) == []
    page.reload()
    expect(connection(page)).to_have_attribute("data-state", "online")
    expect(messages(page, "Welcome")).to_have_count(1)
    expect(messages(page, "Never mind")).to_have_count(0)
    assert_no_console_errors(page)


def test_edits_and_deletions_made_while_offline_show_after_reconnecting(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    post = lambda text: ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": text}).json()
    edited, deleted = post("Before the outage"), post("Gone during the outage")
    page = new_page()
    blocked = {"on": False}
    sockets = intercept_sends(page, lambda frame: None, blocked=lambda: blocked["on"])
    log_in(page, ui_server, "user1")
    open_chat(page, general)
    expect(messages(page, "Gone during the outage")).to_have_count(1)

    blocked["on"] = True
    sockets[-1].close(code=1006, reason="network went away")
    expect(connection(page)).to_have_attribute("data-state", "reconnecting")
    ui_server.request("PATCH", f"/api/messages/{edited['id']}", admin, {"text": "Edited during the outage"})
    ui_server.request("DELETE", f"/api/messages/{deleted['id']}", admin)
    expect(messages(page, "Before the outage")).to_have_count(1)  # nothing could arrive yet

    blocked["on"] = False
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(connection(page)).to_have_attribute("data-state", "online")
    expect(messages(page, "Edited during the outage")).to_have_count(1)
    expect(messages(page, "Edited during the outage")).to_contain_text("(edited)")
    expect(messages(page, "Gone during the outage")).to_have_count(0)
    assert_no_console_errors(page)
