"""Helpers shared by the browser tests (tests/test_browser_*.py): logging in, finding things on
the chat page, standing between the page and /ws, and reading what the server stored."""
import datetime
import json
import re

from playwright.sync_api import expect

PASSWORDS = {"admin": "admin123", "user1": "user1pass", "user2": "user2pass"}
REFUSALS = {"db_unavailable": "The database is unreachable; message not stored"}


def track_console(page):
    """Collect the page's console errors and uncaught exceptions on ``page.console_errors``."""
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return page


def assert_no_console_errors(*pages):
    for page in pages:
        assert page.console_errors == [], page.console_errors


# --- logging in ------------------------------------------------------------------------------

def submit_login(page, username, password):
    """Fill in and submit the login form already on the page."""
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def login_in_browser(page, server, username, password):
    """Log in through the form and wait for the chat page (not for its socket)."""
    page.goto(server.url + "/login")
    submit_login(page, username, password)
    page.wait_for_url(server.url + "/")


def log_in(page, server, username, password=None):
    """Log in through the form and wait until the chat page is online."""
    login_in_browser(page, server, username, password or PASSWORDS[username])
    expect(connection(page)).to_have_attribute("data-state", "online")
    return page


def afternoon_zone():
    """A time zone where it is now about two in the afternoon, for screenshots whose messages say
    "yesterday" and "today" whatever the hour the suite runs at."""
    offset = 14 - datetime.datetime.now(datetime.timezone.utc).hour  # -9 .. 14 hours
    return f"Etc/GMT{-offset:+d}"  # the tz database's Etc zones count the other way


def another_tab(page, server):
    """A second tab of the same browser (same cookie and localStorage)."""
    tab = track_console(page.context.new_page())
    tab.goto(server.url + "/")
    expect(connection(tab)).to_have_attribute("data-state", "online")
    return tab


# A desktop-notification stand-in that records what the page shows (add it as an init script), and
# a script that makes the page believe its tab is hidden.
NOTIFICATION_STUB = """
    window.notes = [];
    window.Notification = class {
        static permission = 'granted';
        static requestPermission() { return Promise.resolve('granted'); }
        constructor(title, options) { window.notes.push({title, body: options.body}); }
        addEventListener() {}
        close() {}
    };
"""
HIDE_PAGE = """() => {
    Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
    Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
    document.dispatchEvent(new Event('visibilitychange'));
}"""


# --- the chat page ---------------------------------------------------------------------------

def connection(page):
    return page.locator("[data-testid=connection-status]")


def entry(page, chat_id):
    return page.locator(f'[data-testid=chat-list] [data-chat-id="{chat_id}"]')


def badge(page, chat_id):
    return entry(page, chat_id).locator("[data-testid=unread-count]")


def first_entry(page):
    return page.locator("[data-testid=chat-list] > [data-chat-id]").first


def messages(page, text=None):
    found = page.locator("#message-list [data-testid=message]")
    return found.filter(has_text=text) if text else found


def open_chat(page, chat_id):
    entry(page, chat_id).click()
    expect(page.locator("[data-testid=composer]")).to_be_visible()
    expect(page.locator("#history-status")).not_to_have_text(re.compile("Loading"))


def send(page, text):
    composer = page.locator("[data-testid=composer]")
    composer.fill(text)
    composer.press("Enter")


def intercept_sends(page, refusal, blocked=lambda: False):
    """Stand between the page and the server's /ws.

    ``refusal(frame)`` gets every send_message frame and returns an error code
    to answer it with instead of passing it on (or None); while ``blocked()``
    is true, new sockets are closed at once.  Returns the open routes.
    """
    sockets = []

    def route(ws):
        if blocked():
            ws.close(code=1013, reason="try again later")
            return
        server = ws.connect_to_server()
        sockets.append(ws)

        def from_page(message):
            frame = json.loads(message)
            code = refusal(frame) if frame.get("type") == "send_message" else None
            if code:
                ws.send(json.dumps({"type": "error", "code": code, "message": REFUSALS.get(code, "Refused"),
                                    "client_msg_id": frame["client_msg_id"]}))
                return
            server.send(message)
        ws.on_message(from_page)

    page.route_web_socket(re.compile(r"/ws\?"), route)
    return sockets


# --- what the server has ---------------------------------------------------------------------

def user_id(server, token, username):
    found = server.request("GET", f"/api/users?q={username}", token).json()["users"]
    return next(u["id"] for u in found if u["username"] == username)


def direct_chat(server, token, other_username):
    other = user_id(server, token, other_username)
    response = server.request("POST", "/api/chats", token, {"type": "direct", "user_id": other})
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def stored(server, token, chat_id):
    """The chat's newest 200 stored messages, oldest first."""
    page = server.request("GET", f"/api/chats/{chat_id}/messages?limit=200", token).json()
    return page["messages"]


def stored_texts(server, token, chat_id):
    return [m["text"] for m in stored(server, token, chat_id)]
