"""Channels and people in a real Chromium: the channel directory (search, join, a second tab following),
archiving from Channel settings (the composer gives way, the Archived section), making a member owner,
profiles (name, status and picture seen by another user, the profile card) and the password change that
signs out another browser; making an administrator on the admin page. UPDATE_SCREENSHOTS=1 retakes
docs/screenshots/directory.png and profile-card.png."""
import datetime
import io
import os
import pathlib
import re
import zoneinfo

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser import (PASSWORDS, another_tab, assert_no_console_errors, connection, entry, log_in, messages,
                           open_chat, send, user_id)

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)
DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def shot(page, tmp_path, name):
    folder = DOCS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    page.screenshot(path=str(folder / name))


def group(server, token, title, visibility="private", topic="", members=()):
    body = {"type": "group", "title": title, "visibility": visibility, "topic": topic,
            "member_ids": [user_id(server, token, u) for u in members]}
    response = server.request("POST", "/api/chats", token, body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def directory_row(page, title):
    return page.locator("[data-testid=channel-list] li").filter(has=page.get_by_text(title, exact=True))


def test_directory_search_and_join_opens_the_channel_and_a_second_tab_follows(ui_server, new_page, tmp_path):
    admin = ui_server.login("admin")
    design = group(ui_server, admin, "Design reviews", "public", "Mock-ups and feedback, Thursdays 14:00",
                   members=["user2"])
    group(ui_server, admin, "Release train", "public", "Dates, freezes and the changelog")
    group(ui_server, admin, "Board room", "private", "Not for the directory")
    page = log_in(new_page(), ui_server, "user1")
    tab = another_tab(page, ui_server)

    page.click("[data-testid=browse-channels]")
    dialog = page.locator("[data-testid=channel-directory]")
    search = dialog.locator("[data-testid=channel-search]")
    expect(search).to_be_focused()
    expect(directory_row(page, "Design reviews")).to_contain_text("Mock-ups and feedback")
    expect(directory_row(page, "Design reviews")).to_contain_text("2 members")
    expect(directory_row(page, "General").locator("[data-testid=open-channel]")).to_be_visible()  # already in it
    expect(dialog).not_to_contain_text("Board room")  # private: never listed
    shot(page, tmp_path, "directory.png")

    search.fill("design")  # debounced: the list narrows once the typing stops
    expect(dialog.locator("[data-testid=channel-list] li")).to_have_count(1)
    search.fill("nothing like this")
    expect(dialog).to_contain_text("No public channel matches that.")
    search.fill("DESIGN")
    join = directory_row(page, "Design reviews").locator("[data-testid=join-channel]")
    join.focus()
    page.keyboard.press("Enter")  # keyboard-reachable
    expect(dialog).to_be_hidden()
    expect(page.locator("[data-testid=chat-title]")).to_have_text("Design reviews")
    expect(page.locator("[data-testid=chat-topic]")).to_have_text("Mock-ups and feedback, Thursdays 14:00")
    expect(page).to_have_url(re.compile(rf"#/chat/{design}$"))
    send(page, "Hello designers")
    expect(messages(page, "Hello designers")).to_have_attribute("data-message-id", re.compile(r"^\d+$"))

    expect(entry(tab, design)).to_be_visible()  # the other tab got member_added for itself
    open_chat(tab, design)
    expect(messages(tab, "Hello designers")).to_be_visible()
    assert_no_console_errors(page, tab)


def test_archiving_replaces_the_composer_and_moves_the_chat_to_the_archived_section(ui_server, new_page):
    admin = ui_server.login("admin")
    chat = group(ui_server, admin, "Q3 launch", "private", members=["user1"])
    ui_server.request("POST", f"/api/chats/{chat}/messages", admin, {"text": "Launch went fine"})
    owner = log_in(new_page(), ui_server, "admin")
    member = log_in(new_page(), ui_server, "user1")
    open_chat(owner, chat)
    open_chat(member, chat)

    owner.click("[data-testid=settings-button]")
    settings = owner.locator("[data-testid=chat-settings]")
    settings.locator("[data-testid=settings-topic]").fill("Wrap-up of the launch")
    settings.locator("[data-testid=settings-save]").click()
    expect(member.locator("[data-testid=chat-topic]")).to_have_text("Wrap-up of the launch")
    settings.locator("[data-testid=archive]").click()
    expect(settings.locator("[data-testid=unarchive]")).to_be_focused()
    owner.keyboard.press("Escape")

    for page in (owner, member):
        expect(page.locator("[data-testid=archived-notice]")).to_contain_text("This channel is archived")
        expect(page.locator("#composer-form")).to_be_hidden()
        expect(page.locator(f'[data-testid=archived-list] [data-chat-id="{chat}"]')).to_be_visible()
        expect(entry(page, chat)).to_have_count(0)
        expect(messages(page, "Launch went fine")).to_be_visible()  # still readable
        expect(messages(page, "Launch went fine").locator("[data-testid=reply-message]")).to_have_count(0)
    expect(member.locator("[data-testid=unarchive-notice]")).to_be_hidden()  # a plain member may not
    member.click("[data-testid=settings-button]")
    expect(member.locator("[data-testid=chat-settings] [data-testid=unarchive]")).to_have_count(0)
    member.click("[data-testid=settings-members]")
    expect(member.locator("[data-testid=member-list] li")).to_have_count(2)
    expect(member.locator("#member-search")).to_be_hidden()  # nobody joins an archived group
    member.keyboard.press("Escape")
    refused = ui_server.request("POST", f"/api/chats/{chat}/messages", ui_server.login("user1"), {"text": "late"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "chat_archived"

    owner.click("[data-testid=unarchive-notice]")
    for page in (owner, member):
        expect(page.locator("[data-testid=composer]")).to_be_visible()
        expect(page.locator("[data-testid=archived-notice]")).to_be_hidden()
        expect(entry(page, chat)).to_be_visible()
    send(member, "Back in business")
    expect(messages(owner, "Back in business")).to_be_visible()
    assert_no_console_errors(owner, member)


def test_a_public_group_from_the_dialog_is_in_the_directory_and_its_owner_manages_members(ui_server, new_page):
    page = log_in(new_page(), ui_server, "admin")
    page.click("[data-testid=new-chat]")
    page.click("#tab-group")
    page.fill("#group-title", "Open kitchen")
    page.check("[data-testid=visibility-public]")
    page.fill("#people-search", "user1")
    page.locator("#people-results button.person").first.click()
    page.click("#create-group")
    expect(page.locator("[data-testid=chat-title]")).to_have_text("Open kitchen")
    listed = ui_server.request("GET", "/api/channels?q=kitchen", ui_server.login("user2")).json()["channels"]
    assert [c["title"] for c in listed] == ["Open kitchen"]

    page.click("[data-testid=settings-button]")
    page.click("[data-testid=settings-members]")
    row = page.locator('[data-testid=member-list] li[data-user-id]').filter(has_text="@user1")
    row.locator("[data-testid=remove-member]").click()
    expect(row).to_have_count(0)
    expect(page.locator("[data-testid=chat-subtitle]")).to_contain_text("1 member")
    assert_no_console_errors(page)


def test_an_owner_makes_a_member_owner_whose_open_settings_then_offer_archiving(ui_server, new_page):
    chat = group(ui_server, ui_server.login("user1"), "Night shift", members=["user2"])
    owner = log_in(new_page(), ui_server, "user1")
    member = log_in(new_page(), ui_server, "user2")
    open_chat(owner, chat)
    open_chat(member, chat)
    member.click("[data-testid=settings-button]")
    settings = member.locator("[data-testid=chat-settings]")
    expect(settings.locator("[data-testid=settings-members]")).to_be_visible()
    expect(settings.locator("[data-testid=archive]")).to_have_count(0)  # a plain member may not

    owner.click("[data-testid=members-button]")
    row = owner.locator("[data-testid=member-list] li[data-user-id]").filter(has_text="@user2")
    expect(row).not_to_contain_text("Owner")
    row.locator("[data-testid=make-owner]").click()
    expect(row).to_contain_text("Owner")
    expect(row.locator("[data-testid=remove-owner]")).to_be_visible()

    expect(settings.locator("[data-testid=archive]")).to_be_visible()  # live, by the member_role frame
    settings.locator("[data-testid=archive]").click()
    expect(owner.locator("[data-testid=archived-notice]")).to_contain_text("This channel is archived")
    assert_no_console_errors(owner, member)


def portrait():
    """A PNG that looks like a profile picture: a head and shoulders on a coloured ground."""
    image = Image.new("RGB", (96, 96), (40, 140, 90))
    draw = ImageDraw.Draw(image)
    draw.ellipse((30, 16, 66, 52), fill=(250, 224, 196))
    draw.ellipse((14, 58, 82, 120), fill=(35, 55, 120))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_a_profile_change_is_seen_by_another_user_with_the_picture_and_the_card(ui_server, new_page, tmp_path):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    ui_server.request("POST", f"/api/chats/{general}/messages", ui_server.login("user1"), {"text": "Morning all"})
    user1 = ui_server.login("user1")
    assert ui_server.request("GET", "/api/me", user1).json()["timezone"] is None
    page = log_in(new_page(timezone_id="Asia/Tokyo"), ui_server, "user1")
    other = log_in(new_page(timezone_id="America/New_York"), ui_server, "user2")
    open_chat(other, general)
    expect(messages(other, "Morning all")).to_contain_text("User One")
    deadline = datetime.datetime.now() + datetime.timedelta(seconds=10)
    while ui_server.request("GET", "/api/me", user1).json()["timezone"] is None and datetime.datetime.now() < deadline:
        page.wait_for_timeout(100)
    assert ui_server.request("GET", "/api/me", user1).json()["timezone"] == "Asia/Tokyo"  # saved by the page, once

    page.click("[data-testid=profile-button]")
    dialog = page.locator("[data-testid=profile-dialog]")
    expect(dialog.locator("[data-testid=profile-name]")).to_be_focused()
    dialog.locator("[data-testid=profile-name]").fill("Alex Morgan")
    dialog.locator("[data-testid=profile-emoji]").fill("🌴")
    dialog.locator("[data-testid=profile-status]").fill("On holiday until Monday")
    expect(dialog.locator("[data-testid=profile-timezone]")).to_have_value("Asia/Tokyo")
    dialog.locator("[data-testid=profile-email]").fill(" alex.morgan@example.com ")
    dialog.locator("[data-testid=avatar-input]").set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": portrait()})
    expect(dialog.locator("[data-testid=avatar-preview] img")).to_have_attribute("src", re.compile("^data:image/png"))
    dialog.locator("[data-testid=profile-save]").click()
    expect(dialog).to_contain_text("Profile saved.")
    page.keyboard.press("Escape")
    expect(page.locator("#me-name")).to_have_text("Alex Morgan")
    expect(page.locator("[data-testid=profile-button] img")).to_have_attribute("src", re.compile(r"/avatar"))

    row = messages(other, "Morning all")
    expect(row.locator("[data-testid=sender]")).to_have_text("Alex Morgan")  # live, from user_updated
    expect(entry(other, general)).to_contain_text("Alex Morgan: Morning all")
    picture = row.locator(".avatar img")
    expect(picture).to_have_attribute("src", re.compile(r"/avatar"))
    other.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    row.locator("[data-testid=sender]").click()
    card = other.locator("[data-testid=profile-card]")
    expect(card.locator("[data-testid=card-name]")).to_have_text("Alex Morgan")
    expect(card.locator("[data-testid=card-status]")).to_have_text("🌴 On holiday until Monday")
    expect(card.locator("[data-testid=card-presence]")).to_have_text("Online")
    email = card.locator("[data-testid=card-email]")
    expect(email).to_have_text("alex.morgan@example.com")
    expect(email).to_have_attribute("href", "mailto:alex.morgan@example.com")
    tokyo = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Tokyo"))
    times = "|".join((tokyo + datetime.timedelta(minutes=m)).strftime("%-I:%M\\s?%p") for m in (-1, 0, 1))
    expect(card.locator("[data-testid=card-local-time]")).to_have_text(
        re.compile(rf"^({times}) local time \(Asia/Tokyo\)$"))  # Tokyo's time, though the viewer is in New York
    shot(other, tmp_path, "profile-card.png")
    card.locator("[data-testid=card-message]").click()
    expect(card).to_be_hidden()
    expect(other.locator("[data-testid=chat-title]")).to_have_text("Alex Morgan")
    assert_no_console_errors(page, other)


def test_a_password_change_signs_out_the_other_browser(ui_server, new_page):
    page = log_in(new_page(), ui_server, "user1")
    elsewhere = log_in(new_page(), ui_server, "user1")  # another browser: its own session
    page.click("[data-testid=profile-button]")
    dialog = page.locator("[data-testid=profile-dialog]")
    dialog.locator("[data-testid=current-password]").fill("not my password")
    dialog.locator("[data-testid=new-password]").fill("a-brand-new-secret")
    dialog.locator("[data-testid=password-save]").click()
    expect(dialog).to_contain_text("The current password is wrong.")

    dialog.locator("[data-testid=current-password]").fill(PASSWORDS["user1"])
    dialog.locator("[data-testid=password-save]").click()
    expect(dialog.locator("[data-testid=password-changed]")).to_have_text(
        "Password changed. Your other sessions were signed out.")
    expect(elsewhere).to_have_url(re.compile(r"/login"))
    page.keyboard.press("Escape")
    expect(connection(page)).to_have_attribute("data-state", "online")  # this session stays signed in
    assert ui_server.request("POST", "/api/auth/login", json_body={
        "username": "user1", "password": "a-brand-new-secret"}).status_code == 200


def test_an_administrator_makes_and_revokes_an_administrator(ui_server, new_page):
    page = log_in(new_page(), ui_server, "admin")
    page.goto(ui_server.url + "/admin")
    row = page.locator('#users-body tr[data-username="user1"]')
    row.locator("[data-testid=make-admin]").click()
    expect(page.locator("#list-ok")).to_have_text("User One is now an administrator.")
    expect(row).to_contain_text("Admin")
    assert ui_server.request("GET", "/api/admin/users", ui_server.login("user1")).status_code == 200
    row.locator("[data-testid=revoke-admin]").click()
    expect(page.locator("#list-ok")).to_have_text("User One is no longer an administrator.")
    assert ui_server.request("GET", "/api/admin/users", ui_server.login("user1")).status_code == 403
    assert_no_console_errors(page)
