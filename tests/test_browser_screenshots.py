"""Screenshots of the UI with a realistic conversation (desktop 1280x800, phone 390x844).

They land in the test's temporary folder; with UPDATE_SCREENSHOTS=1 they replace
docs/screenshots/{chat-desktop,chat-phone,login,admin}.png.
"""
import datetime
import os
import pathlib

import pytest
from playwright.sync_api import expect

from tests.browser import afternoon_zone, assert_no_console_errors, entry, log_in, messages, open_chat, user_id

pytestmark = pytest.mark.browser
DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs" / "screenshots"

CONVERSATION = [  # (who, text, minutes ago)
    ("admin", "Morning all! The Q3 planning doc is up: https://wiki.example.com/q3-plan", 1500),
    ("user2", "Thanks, reading it now.", 1490),
    ("user2", "Do we still want the launch review on Thursday?", 1489),
    ("admin", "Yes, 14:00 in the big room. I'll send the invite.", 1470),
    ("user1", "I'll bring the updated metrics.\nConversion is up 12% since the redesign.", 42),
    ("user2", "Nice work! Could you add the mobile numbers too?", 35),
    ("user1", "Sure, on it.", 34),
    ("admin", "Reminder: the office closes early on Friday.", 12),
]


def seed(server):
    admin = server.login("admin")
    tokens = {"admin": admin, "user1": server.login("user1"), "user2": server.login("user2")}
    names = {"admin": "Dana Whitfield", "user1": "Alex Morgan", "user2": "Priya Shah"}
    for username, name in names.items():
        server.request("PATCH", f"/api/admin/users/{user_id(server, admin, username)}", admin, {"display_name": name})
    for username, name in [("sam", "Sam Okafor"), ("lena", "Lena Fischer")]:
        server.request("POST", "/api/admin/users", admin,
                       {"username": username, "password": "password-123", "display_name": name})
    general = server.chat_id(admin, "General")
    from models.db import db
    from models.messages import Message
    with db.connection_context():
        Message.delete().where(Message.chat == general).execute()
    now = datetime.datetime.utcnow()
    for who, text, minutes in CONVERSATION:
        sent = server.request("POST", f"/api/chats/{general}/messages", tokens[who], {"text": text}).json()
        with db.connection_context():
            Message.update(created_at=now - datetime.timedelta(minutes=minutes)).where(
                Message.id == sent["id"]).execute()
    design = server.request("POST", "/api/chats", admin, {
        "type": "group", "title": "Design review",
        "member_ids": [user_id(server, admin, u) for u in ("user1", "sam", "lena")]}).json()["id"]
    server.request("POST", f"/api/chats/{design}/messages", admin, {"text": "New mock-ups are in the shared folder."})
    with_dana = server.request("POST", "/api/chats", admin, {"type": "direct", "user_id": user_id(server, admin, "user1")})
    server.request("POST", f"/api/chats/{with_dana.json()['id']}/messages", admin,
                   {"text": "Can you send me the slides after the review?"})
    sam = server.login("sam", "password-123")
    direct = server.request("POST", "/api/chats", sam, {"type": "direct", "user_id": user_id(server, sam, "user1")})
    server.request("POST", f"/api/chats/{direct.json()['id']}/messages", sam, {"text": "Got a minute for a quick call?"})
    return general


def target(tmp_path, name):
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return str(DOCS / name)
    return str(tmp_path / name)


def test_screenshots(ui_server, new_page, tmp_path):
    general = seed(ui_server)

    login = new_page(timezone_id=afternoon_zone())
    login.goto(ui_server.url + "/login")
    login.screenshot(path=target(tmp_path, "login.png"))

    desktop = log_in(new_page(timezone_id=afternoon_zone()), ui_server, "user1")
    open_chat(desktop, general)
    expect(messages(desktop)).to_have_count(len(CONVERSATION))
    desktop.locator("[data-testid=composer]").fill("Numbers for mobile coming up")
    desktop.screenshot(path=target(tmp_path, "chat-desktop.png"))

    phone = log_in(new_page(viewport={"width": 390, "height": 844}, timezone_id=afternoon_zone()), ui_server, "user2")
    phone.screenshot(path=target(tmp_path, "chat-list-phone.png"))
    open_chat(phone, general)
    expect(messages(phone)).to_have_count(len(CONVERSATION))
    phone.screenshot(path=target(tmp_path, "chat-phone.png"))
    assert entry(phone, general).count() == 1

    admin = log_in(new_page(timezone_id=afternoon_zone()), ui_server, "admin")
    admin.goto(ui_server.url + "/admin")
    expect(admin.locator("[data-testid=users-table] tbody tr")).to_have_count(5)
    admin.screenshot(path=target(tmp_path, "admin.png"))
    assert_no_console_errors(desktop, phone, admin, login)


FORMATTED = [  # (who, text): the formatting, a pin and the first unread, as docs/ui.md describes them
    ("admin", "Release checklist for **Thursday**:\n1. Freeze `main` at 12:00\n2. Run the *full* suite\n"
              "3. ~~Manual smoke test~~ automated now\n\n> Ping me if anything is red."),
    ("user2", "The deploy command, for reference:\n```sh\nmake binary && scp dist/corporate-messenger prod:\n```"),
    ("user2", "Notes are on https://wiki.example.com/release"),
    ("admin", "Thanks @user1, the numbers look great."),
]


def test_formatting_pins_and_first_unread_screenshots(ui_server, new_page, tmp_path):
    """docs/screenshots/chat-formatting.png (Markdown, a pinned message, the New messages divider) and
    pins.png (the chat's pinned list)."""
    general = seed(ui_server)
    tokens = {"admin": ui_server.login("admin"), "user2": ui_server.login("user2")}
    reader = ui_server.login("user1")
    newest = ui_server.request("GET", f"/api/chats/{general}/messages?limit=1", reader).json()["messages"][-1]
    ui_server.request("POST", f"/api/chats/{general}/read", reader, {"message_id": newest["id"]})
    sent = [ui_server.request("POST", f"/api/chats/{general}/messages", tokens[who], {"text": text}).json()
            for who, text in FORMATTED]
    ui_server.request("PUT", f"/api/messages/{sent[0]['id']}/pin", tokens["admin"])
    page = log_in(new_page(timezone_id=afternoon_zone()), ui_server, "user1")
    open_chat(page, general)
    expect(page.locator("[data-testid=unread-divider]")).to_be_visible()
    expect(page.locator("[data-testid=pinned-mark]")).to_have_count(1)
    page.screenshot(path=target(tmp_path, "chat-formatting.png"))
    page.locator("[data-testid=pins-button]").click()
    expect(page.locator("[data-testid=pin]")).to_have_count(1)
    page.screenshot(path=target(tmp_path, "pins.png"))
    assert_no_console_errors(page)
