"""The chat UI in a real Chromium: the console snippet, live delivery, unread badges, typing,
presence, escaping, the composer's limits, dialogs, token refresh and the phone layout."""
import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser import (HIDE_PAGE, NOTIFICATION_STUB, another_tab, assert_no_console_errors, badge, connection,
                           direct_chat, entry, first_entry, intercept_sends, log_in, messages, open_chat, send,
                           stored_texts, user_id)

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

# The contract's console snippet, verbatim apart from the host and a log the test can read.
CONSOLE_SNIPPET = """
const token = localStorage.getItem('access_token')
console.log('Token:', token)
const ws = new WebSocket(`ws://${location.host}/ws?token=${token}`)
window.snippetLog = []
ws.onopen = () => { console.log('OPENED'); snippetLog.push({event: 'open', readyState: ws.readyState}) }
ws.onmessage = (e) => snippetLog.push({event: 'message', data: e.data})
ws.onclose = (e) => snippetLog.push({event: 'close', code: e.code, reason: e.reason})
"""


# --- the contract's console snippet ------------------------------------------------------------

def test_console_snippet_opens_and_garbage_token_gets_1008(ui_server, new_page):
    page = log_in(new_page(), ui_server, "admin")
    # Run it as the DevTools console does: a classic script at global scope, so a page global
    # named token or ws would make the `const` declarations throw.
    console = page.context.new_cdp_session(page)
    result = console.send("Runtime.evaluate", {"expression": CONSOLE_SNIPPET})
    assert "exceptionDetails" not in result, result
    page.wait_for_function("() => snippetLog.length >= 2")
    log = page.evaluate("snippetLog")
    assert log[0] == {"event": "open", "readyState": 1}
    hello = json.loads(log[1]["data"])
    assert hello["type"] == "connected" and hello["username"] == "admin"
    assert console.send("Runtime.evaluate", {"expression": "ws.readyState"})["result"]["value"] == 1

    tab = another_tab(page, ui_server)  # a fresh global scope for a second snippet
    bad = tab.context.new_cdp_session(tab)
    snippet = CONSOLE_SNIPPET.replace("localStorage.getItem('access_token')", "'garbage'")
    assert "exceptionDetails" not in bad.send("Runtime.evaluate", {"expression": snippet})
    tab.wait_for_function("() => snippetLog.some(e => e.event === 'close')")
    closed = next(e for e in tab.evaluate("snippetLog") if e["event"] == "close")
    assert closed["code"] == 1008 and "malformed" in closed["reason"]
    # The page's own connection is unaffected by either snippet.
    expect(connection(page)).to_have_attribute("data-state", "online")


# --- delivery, ordering, unread badges ------------------------------------------------------------

def test_message_reaches_other_user_moves_chat_up_and_read_clears_other_tab(ui_server, new_page):
    admin = ui_server.login("admin")
    user1 = ui_server.login("user1")
    user2 = ui_server.login("user2")
    direct = direct_chat(ui_server, user1, "user2")  # demo data has no user1-user2 chat
    general = ui_server.chat_id(admin, "General")
    ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "Morning, everyone"})

    sender = log_in(new_page(), ui_server, "user1")
    tab_a = log_in(new_page(), ui_server, "user2")
    tab_b = another_tab(tab_a, ui_server)
    for tab in (tab_a, tab_b):
        expect(first_entry(tab)).to_have_attribute("data-chat-id", str(general))
        expect(badge(tab, direct)).to_be_hidden()

    open_chat(sender, direct)
    send(sender, "Hi User Two, got a minute?")
    expect(messages(sender, "got a minute")).to_have_attribute("data-message-id", re.compile(r"^\d+$"))

    for tab in (tab_a, tab_b):
        expect(first_entry(tab)).to_have_attribute("data-chat-id", str(direct))
        expect(badge(tab, direct)).to_have_text("1")
        expect(entry(tab, direct)).to_contain_text("Hi User Two, got a minute?")

    open_chat(tab_a, direct)
    expect(messages(tab_a, "Hi User Two, got a minute?")).to_have_count(1)
    expect(messages(tab_a, "got a minute").locator(".sender")).to_have_text("User One")
    expect(badge(tab_a, direct)).to_be_hidden()
    expect(badge(tab_b, direct)).to_be_hidden()  # the other tab got a `read` frame
    chats = ui_server.request("GET", "/api/chats", user2).json()
    assert next(c for c in chats if c["id"] == direct)["unread_count"] == 0

    # A reply shows in the sender's open chat, marked as the other person's.
    send(tab_a, "Sure, what's up?")
    reply = messages(sender, "Sure, what's up?")
    expect(reply).to_have_count(1)
    expect(reply).to_have_class(re.compile(r"\bother\b"))
    expect(messages(sender, "got a minute")).to_have_class(re.compile(r"\bown\b"))
    expect(badge(sender, direct)).to_be_hidden()  # it is open, so it is read at once
    assert_no_console_errors(sender, tab_a, tab_b)


def test_hidden_tab_counts_unread_in_title_and_notifies(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    page = new_page()
    page.add_init_script(NOTIFICATION_STUB)
    log_in(page, ui_server, "user2")
    expect(page).to_have_title("Corporate Messenger")
    page.evaluate(HIDE_PAGE)
    ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "Lunch at noon?"})
    expect(badge(page, general)).to_have_text("2")  # the welcome message and this one
    expect(page).to_have_title("(2) Corporate Messenger")
    page.wait_for_function("() => notes.length === 1")
    assert page.evaluate("notes") == [{"title": "Administrator in General", "body": "Lunch at noon?"}]

    page.evaluate("""() => {
        delete document.hidden; delete document.visibilityState;
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    expect(page).to_have_title("Corporate Messenger")
    assert_no_console_errors(page)


def test_hidden_tab_notifies_of_a_message_stored_while_the_reconnect_reloads_the_chats(ui_server, new_page):
    """Connecting reloads the chat list; a message stored meanwhile comes in that list, as a frame and in
    the catch-up.  It is counted once and notified once, though the list already carries it."""
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    page = new_page()
    page.add_init_script(NOTIFICATION_STUB)
    page.add_init_script(f"({HIDE_PAGE})()")
    loads = []

    def post_on_second_load(route):
        loads.append(route.request.url)
        if len(loads) == 2:  # the load that follows the socket's "connected"
            ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "While you were loading"})
        route.continue_()

    page.route("**/api/chats", post_on_second_load)
    log_in(page, ui_server, "user2")
    expect(badge(page, general)).to_have_text("2")
    page.wait_for_function("() => notes.length >= 1")
    assert page.evaluate("notes") == [{"title": "Administrator in General", "body": "While you were loading"}]
    assert len(loads) == 2
    expect(page).to_have_title("(2) Corporate Messenger")
    assert_no_console_errors(page)


def test_hidden_tab_counts_a_message_stored_while_the_chat_list_loads(ui_server, new_page):
    """The message lands between the page's start and its chat list: the first load carries the count."""
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    page = new_page()
    page.add_init_script("""
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
    """)
    posted = []

    def post_then_answer(route):
        if not posted:
            posted.append(ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": "Early"}))
        route.continue_()

    page.route("**/api/chats", post_then_answer)
    log_in(page, ui_server, "user2")
    expect(badge(page, general)).to_have_text("2")  # first: the route's callback may run after "online"
    assert posted and posted[0].status_code == 201
    expect(page).to_have_title("(2) Corporate Messenger")
    assert_no_console_errors(page)


# --- typing and presence -------------------------------------------------------------------------

def test_typing_indicator_and_presence_dot_come_and_go(ui_server, new_page):
    user1 = log_in(new_page(), ui_server, "user1")
    with_admin = direct_chat(ui_server, ui_server.login("user1"), "admin")
    dot = entry(user1, with_admin).locator("[data-testid=presence-dot]")
    expect(dot).to_have_attribute("data-online", "false")

    admin = log_in(new_page(), ui_server, "admin")
    expect(dot).to_have_attribute("data-online", "true")
    open_chat(user1, with_admin)
    open_chat(admin, with_admin)
    expect(user1.locator("[data-testid=chat-subtitle]")).to_have_text("Online")

    typing = user1.locator("[data-testid=typing-indicator]")
    admin.locator("[data-testid=composer]").press_sequentially("Just a sec", delay=20)
    expect(typing).to_have_text("Administrator is typing…")
    expect(typing).to_have_text("", timeout=7_000)  # hidden ~4 s after the last typing frame

    admin.locator("[data-testid=composer]").press_sequentially(" more", delay=20)
    expect(typing).to_have_text("Administrator is typing…")
    admin.locator("[data-testid=composer]").press("Enter")
    expect(messages(user1, "Just a sec more")).to_have_count(1)
    expect(typing).to_have_text("", timeout=1_000)  # the message itself ends the indicator

    admin.context.close()  # the admin's last connection goes; presence grace in tests is 0.3 s
    expect(dot).to_have_attribute("data-online", "false")
    expect(user1.locator("[data-testid=chat-subtitle]")).not_to_have_text("Online")
    assert_no_console_errors(user1)


# --- escaping and links ----------------------------------------------------------------------------

def test_user_text_is_rendered_as_text_and_runs_nothing(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    page = new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, ui_server, "user1")
    open_chat(page, general)

    payload = "<img src=x onerror=alert(1)>"
    send(page, payload)
    other = "<script>alert(2)</script> docs: https://example.com/guide?id=1&x=2. Not a link: javascript:alert(3)"
    ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": other})
    title = '<b onmouseover="alert(4)">Team</b>'
    ui_server.request("POST", "/api/chats", admin, {"type": "group", "title": title,
                                                    "member_ids": [user_id(ui_server, admin, "user1")]})

    mine = messages(page, payload)
    expect(mine).to_have_count(1)
    expect(mine.locator(".text")).to_have_text(payload)
    pushed = messages(page, "docs:")
    expect(pushed.locator(".text")).to_have_text(other)
    expect(page.locator("[data-testid=chat-list]")).to_contain_text(title)
    assert page.locator("#app img:not([src^='/static/'])").count() == 0
    assert page.locator("#app script, #app b").count() == 0

    links = page.locator("#message-list a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://example.com/guide?id=1&x=2")
    expect(links).to_have_attribute("rel", "noopener noreferrer")
    expect(links).to_have_attribute("target", "_blank")
    expect(links).to_have_text("https://example.com/guide?id=1&x=2")
    page.wait_for_timeout(300)
    assert dialogs == []
    assert_no_console_errors(page)


# --- composer ------------------------------------------------------------------------------------------

def test_composer_enter_shift_enter_and_limits(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    page = log_in(new_page(), ui_server, "user1")
    open_chat(page, general)
    composer = page.locator("[data-testid=composer]")
    error = page.locator("[data-testid=composer-error]")

    composer.fill("   ")
    composer.press("Enter")
    expect(error).to_have_text("Type a message before sending.")

    composer.fill("x" * 10_001)
    composer.press("Enter")
    expect(error).to_contain_text("limit is 10,000")
    expect(page.locator("#composer-counter")).to_have_text("10,001 / 10,000")
    assert composer.input_value() == "x" * 10_001  # kept, so it can be shortened

    composer.fill("line one")
    composer.press("Shift+Enter")
    composer.press_sequentially("line two")
    expect(error).to_be_hidden()
    composer.press("Enter")
    expect(messages(page, "line one").locator(".text")).to_have_text("line one\nline two")
    expect(composer).to_have_value("")
    texts = stored_texts(ui_server, admin, general)
    assert texts[-1] == "line one\nline two" and not any(t.startswith("xxx") for t in texts)
    assert_no_console_errors(page)


def test_failed_message_shows_retry_and_retry_sends_it_once(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    page = new_page()
    refuse = {"on": True}  # refuse the first send like a database outage would
    intercept_sends(page, lambda frame: "db_unavailable" if refuse["on"] else None)
    log_in(page, ui_server, "user1")
    open_chat(page, general)
    send(page, "Please arrive once")
    failed = messages(page, "Please arrive once")
    expect(failed).to_have_class(re.compile(r"\bfailed\b"))
    expect(failed.locator("[data-testid=message-status]")).to_contain_text("Not sent")

    refuse["on"] = False
    failed.locator("[data-testid=retry]").click()
    expect(failed).to_have_attribute("data-message-id", re.compile(r"^\d+$"))
    expect(failed).not_to_have_class(re.compile(r"\bfailed\b"))
    assert stored_texts(ui_server, admin, general).count("Please arrive once") == 1
    assert_no_console_errors(page)


# --- history --------------------------------------------------------------------------------------------

def test_history_pages_back_with_day_separators(ui_server, new_page):
    import datetime

    from models.db import db
    from models.message_send import store_messages
    from models.messages import Message

    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    admin_id = user_id(ui_server, admin, "admin")
    with db.connection_context():
        store_messages([{"sender_id": admin_id, "chat_id": general, "client_msg_id": None,
                         "text": f"Backlog message {n}"} for n in range(1, 121)])
        # The welcome message and the first 60 were written yesterday.
        middle = Message.get((Message.chat == general) & (Message.text == "Backlog message 60")).id
        yesterday = datetime.datetime.utcnow() - datetime.timedelta(days=1)
        Message.update(created_at=yesterday).where((Message.chat == general) & (Message.id <= middle)).execute()

    # read: the chat opens at the newest page (with unread messages it would open at the first of them)
    newest = ui_server.request("GET", f"/api/chats/{general}/messages?limit=1", admin).json()["messages"][-1]["id"]
    ui_server.request("POST", f"/api/chats/{general}/read", ui_server.login("user1"), {"message_id": newest})
    page = log_in(new_page(), ui_server, "user1")
    open_chat(page, general)
    expect(messages(page)).to_have_count(50)
    expect(messages(page).last).to_contain_text("Backlog message 120")
    for _ in range(10):
        if page.locator("#history-status").inner_text().startswith("This is the beginning"):
            break
        page.locator("#messages").evaluate("el => { el.scrollTop = 0; }")
        page.wait_for_timeout(300)
    expect(page.locator("#history-status")).to_have_text("This is the beginning of General.")
    expect(messages(page)).to_have_count(121)  # the welcome message and the backlog
    separators = page.locator("[data-testid=day-separator]")
    expect(separators).to_have_text(["Yesterday", "Today"])
    today = page.locator("#message-list > li").nth(62)  # separator, 61 messages, separator
    expect(today).to_have_text("Today")
    expect(messages(page).nth(61)).to_contain_text("Backlog message 61")
    assert_no_console_errors(page)


# --- dialogs: direct chats, groups, members ---------------------------------------------------------------

def test_new_chat_dialog_group_members_and_leaving(ui_server, new_page):
    admin = log_in(new_page(), ui_server, "admin")
    user2 = log_in(new_page(), ui_server, "user2")
    page = log_in(new_page(), ui_server, "user1")

    page.click("[data-testid=new-chat]")
    page.fill("#people-search", "user2")
    page.locator("#people-results button.person", has_text="User Two").click()
    expect(page.locator("[data-testid=chat-title]")).to_have_text("User Two")
    assert re.search(r"#/chat/\d+$", page.url)
    expect(first_entry(page)).to_contain_text("User Two")
    expect(first_entry(user2).locator(".chat-title")).to_have_text("User One")  # pushed live, titled for user2

    page.click("[data-testid=new-chat]")
    page.get_by_role("tab", name="New group").click()
    page.fill("#group-title", "Launch plan")
    page.fill("#people-search", "admin")
    page.locator("#people-results button.person", has_text="Administrator").click()
    expect(page.locator("#group-chips")).to_contain_text("Administrator")
    page.click("#create-group")
    expect(page.locator("[data-testid=chat-title]")).to_have_text("Launch plan")
    expect(page.locator("[data-testid=chat-subtitle]")).to_have_text("2 members · 2 online")
    expect(first_entry(admin)).to_contain_text("Launch plan")  # pushed to a connected member at once

    page.click("[data-testid=members-button]")
    members = page.locator("[data-testid=member-list] > li")
    expect(members).to_have_count(2)
    expect(members.filter(has_text="User One")).to_contain_text("You · Owner")
    page.fill("#member-search", "user2")
    page.locator("#member-results button.person", has_text="User Two").click()
    expect(members).to_have_count(3)
    expect(first_entry(user2)).to_contain_text("Launch plan")  # the added user sees it live

    group_id = int(re.search(r"#/chat/(\d+)$", page.url).group(1))
    open_chat(admin, group_id)
    page.click("[data-testid=leave-group]")
    page.click("[data-testid=leave-confirm]")
    expect(entry(page, group_id)).to_have_count(0)
    expect(page.locator("#pane-empty")).to_be_visible()
    expect(admin.locator("[data-testid=chat-subtitle]")).to_have_text(re.compile(r"^2 members"))
    assert_no_console_errors(admin, user2, page)


# --- tokens: refresh on 1008, and back to /login when the session is gone -------------------------------------

def test_rejected_token_is_refreshed_through_the_cookie_then_logout_elsewhere_goes_to_login(ui_server, new_page):
    page = log_in(new_page(), ui_server, "user1")
    original = page.evaluate("localStorage.getItem('access_token')")
    header, payload, _ = original.split(".")
    forged = f"{header}.{payload}.{'A' * 43}"  # same user, not expired, bad signature: the server says 1008
    page.evaluate("t => localStorage.setItem('access_token', t)", forged)
    ui_server.call(lambda: ui_server.hub.close_all(1012, "test restart"))
    page.wait_for_function("([a, b]) => ![a, b].includes(localStorage.getItem('access_token'))",
                           arg=[original, forged])
    expect(connection(page)).to_have_attribute("data-state", "online")
    renewed = page.evaluate("localStorage.getItem('access_token')")
    assert renewed not in (original, forged)
    assert ui_server.request("GET", "/api/me", renewed).status_code == 200

    # The session is revoked from elsewhere: the socket closes with 1008, the cookie refresh fails.
    ui_server.request("POST", "/api/auth/logout", renewed)
    page.wait_for_url(re.compile(r"/login$"))
    assert page.evaluate("localStorage.getItem('access_token')") is None


# --- phone width ---------------------------------------------------------------------------------------------

def test_phone_width_collapses_the_sidebar(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    page = log_in(new_page(viewport={"width": 390, "height": 844}), ui_server, "user1")
    expect(page.locator(".sidebar")).to_be_visible()
    expect(page.locator("#pane")).to_be_hidden()
    open_chat(page, general)
    expect(page.locator(".sidebar")).to_be_hidden()
    send(page, "Sent from my phone")
    expect(messages(page, "Sent from my phone")).to_have_attribute("data-message-id", re.compile(r"\d+"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("link", name="Back to the chat list").click()
    expect(page.locator(".sidebar")).to_be_visible()
    expect(page.locator("#pane")).to_be_hidden()
    assert_no_console_errors(page)


# --- catching up after a dropped connection ------------------------------------------------------------------

def test_reconnect_catches_up_on_missed_messages_without_gaps_or_duplicates(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    with_admin = direct_chat(ui_server, admin, "user1")
    page = new_page()
    sockets = []
    blocked = {"on": False}

    def route(ws):  # pass through, except that the test can cut the line and keep it down
        if blocked["on"]:
            ws.close(code=1013, reason="try again later")
            return
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/ws\?"), route)
    log_in(page, ui_server, "user1")
    open_chat(page, general)
    blocked["on"] = True
    sockets[-1].close(code=1006, reason="network went away")
    expect(connection(page)).to_have_attribute("data-state", "reconnecting")

    for n in (1, 2, 3):
        ui_server.request("POST", f"/api/chats/{general}/messages", admin, {"text": f"Missed {n}"})
    ui_server.request("POST", f"/api/chats/{with_admin}/messages", admin, {"text": "Missed in private"})
    send(page, "Queued while cut off")
    blocked["on"] = False
    page.evaluate("window.dispatchEvent(new Event('online'))")  # the network is back: retry now
    expect(connection(page)).to_have_attribute("data-state", "online")

    expect(messages(page, "Missed")).to_have_count(3)
    expect(messages(page).locator(".text")).to_contain_text(["Missed 1", "Missed 2", "Missed 3", "Queued while cut off"])
    expect(messages(page, "Queued while cut off")).to_have_attribute("data-message-id", re.compile(r"^\d+$"))
    expect(badge(page, with_admin)).to_have_text("1")
    expect(badge(page, general)).to_be_hidden()  # caught up into the open chat, so read
    expect(first_entry(page)).to_have_attribute("data-chat-id", str(general))
    assert stored_texts(ui_server, admin, general).count("Queued while cut off") == 1
    assert_no_console_errors(page)


# --- token upkeep, cache busting, CSP ------------------------------------------------------------------------------

def test_access_token_is_refreshed_before_it_expires(tmp_path, new_page):
    from tests.harness import InProcessServer, config_argv

    server = InProcessServer(config_argv(tmp_path / "data", "sqlite:///" + str(tmp_path / "ttl.db"),
                                         access_token_ttl="62"))
    try:
        page = log_in(new_page(), server, "user1")
        first = page.evaluate("localStorage.getItem('access_token')")
        page.wait_for_function("t => localStorage.getItem('access_token') !== t", arg=first, timeout=20_000)
        renewed = page.evaluate("localStorage.getItem('access_token')")
        assert server.request("GET", "/api/me", renewed).status_code == 200
        expect(connection(page)).to_have_attribute("data-state", "online")
        assert_no_console_errors(page)
    finally:
        server.stop()


def test_pages_use_cache_busted_modules_under_a_strict_csp(ui_server, new_page):
    page = new_page()
    loaded = []
    page.on("request", lambda request: "/static/" in request.url and loaded.append(request.url))
    response = page.goto(ui_server.url + "/login")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy and "unsafe-inline" not in policy
    log_in(page, ui_server, "user1")
    modules = {re.search(r"/static/js/([\w-]+\.js)", url).group(1): url for url in loaded if "/static/js/" in url}
    assert {"login.js", "api.js", "chat.js", "socket.js", "chatlist.js", "messages.js", "composer.js",
            "dialogs.js", "dom.js", "notify.js"} <= set(modules)
    assert all(re.search(r"\?v=\w+$", url) for url in modules.values()), modules
    assert page.evaluate("typeof window.token === 'undefined' && typeof window.ws === 'undefined'")
    assert_no_console_errors(page)


# --- keyboard and labels -----------------------------------------------------------------------------------------------

UNLABELLED = """() => [...document.querySelectorAll('button, input:not([type=hidden]), textarea, a[href]')]
    .filter((el) => !(el.getAttribute('aria-label') || (el.labels && el.labels.length)
                      || el.textContent.trim() || el.getAttribute('title')))
    .map((el) => el.outerHTML.slice(0, 80))"""


def test_keyboard_only_use_and_labelled_controls(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    page = log_in(new_page(), ui_server, "user1")
    assert page.evaluate(UNLABELLED) == []

    page.keyboard.press("Control+k")
    expect(page.locator("#chat-filter")).to_be_focused()
    page.keyboard.type("Gen")
    expect(page.locator("[data-testid=chat-list] > li:visible")).to_have_count(1)
    page.keyboard.press("Tab")
    expect(entry(page, general).locator("a")).to_be_focused()
    page.keyboard.press("Enter")
    composer = page.locator("[data-testid=composer]")
    expect(composer).to_be_focused()
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Enter")
    expect(messages(page, "Typed without a mouse")).to_have_attribute("data-message-id", re.compile(r"^\d+$"))

    page.locator("[data-testid=new-chat]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#new-chat-dialog")).to_be_visible()
    expect(page.locator("#people-search")).to_be_focused()
    assert page.evaluate(UNLABELLED) == []
    page.keyboard.press("Escape")
    expect(page.locator("#new-chat-dialog")).to_be_hidden()
    assert_no_console_errors(page)
