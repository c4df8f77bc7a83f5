"""Login, throttling, logout and the admin page in a real browser."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_console_errors, log_in, submit_login

pytestmark = pytest.mark.browser


def test_bad_login_shows_an_error_and_throttling_says_how_long(ui_server, new_page):
    page = new_page()
    page.goto(ui_server.url + "/login")
    error = page.locator("[data-testid=login-error]")
    expect(error).to_be_hidden()
    for attempt in range(5):  # test servers throttle after 5 failures per username
        submit_login(page, "user2", f"wrong-{attempt}")
        expect(error).to_have_text("Wrong username or password")
        expect(page.locator("button[type=submit]")).to_be_enabled()
        page.evaluate("document.querySelector('[data-testid=login-error]').hidden = true")
    submit_login(page, "user2", "user2pass")
    expect(error).to_have_text(re.compile(r"^Too many failed logins\. Try again in \d+ seconds\.$"))
    expect(page.locator("button[type=submit]")).to_be_disabled()
    assert page.url == ui_server.url + "/login"
    assert page.evaluate("localStorage.getItem('access_token')") is None


def test_logout_ends_the_session_and_forgets_the_token(ui_server, new_page):
    page = log_in(new_page(), ui_server, "user1")
    token = page.evaluate("localStorage.getItem('access_token')")
    page.click("[data-testid=logout]")
    page.wait_for_url(ui_server.url + "/login")
    assert page.evaluate("localStorage.getItem('access_token')") is None
    assert ui_server.request("GET", "/api/me", token).status_code == 401
    page.goto(ui_server.url + "/")
    assert page.url == ui_server.url + "/login"
    assert_no_console_errors(page)


def test_admin_creates_deactivates_and_reactivates_a_user(ui_server, new_page):
    page = log_in(new_page(), ui_server, "admin")
    page.click("[data-testid=admin-link]")
    page.wait_for_url(ui_server.url + "/admin")
    rows = page.locator("[data-testid=users-table] tbody tr")
    expect(rows).to_have_count(3)

    form = page.locator("[data-testid=create-user-form]")
    form.locator("input[name=username]").fill("carol")
    form.locator("input[name=display_name]").fill("Carol <Finance>")
    form.locator("input[name=password]").fill("carol-pass-1")
    form.locator("button[type=submit]").click()
    expect(page.locator("#create-ok")).to_contain_text("Created Carol <Finance> (@carol)")
    carol = page.locator('tr[data-username="carol"]')
    expect(carol).to_contain_text("Carol <Finance>")
    expect(carol.locator("[data-testid=status]")).to_have_text("Active")
    assert ui_server.login("carol", "carol-pass-1")

    form.locator("input[name=username]").fill("carol")
    form.locator("input[name=password]").fill("another-pass")
    form.locator("button[type=submit]").click()
    expect(page.locator("#create-error")).to_contain_text("already taken")

    carol.locator("[data-testid=deactivate]").click()
    expect(carol.locator("[data-testid=status]")).to_have_text("Deactivated")
    response = ui_server.request("POST", "/api/auth/login", json_body={"username": "carol", "password": "carol-pass-1"})
    assert response.status_code == 401
    carol.locator("[data-testid=reactivate]").click()
    expect(carol.locator("[data-testid=status]")).to_have_text("Active")

    carol.get_by_role("button", name="Reset password").click()
    page.locator("#password-form input[name=password]").fill("fresh-pass-2")
    page.locator("#password-form button[type=submit]").click()
    expect(page.locator("#list-ok")).to_contain_text("New password set")
    assert ui_server.login("carol", "fresh-pass-2")
    page.console_errors.remove("Failed to load resource: the server responded with a status of 409 (Conflict)")
    assert_no_console_errors(page)


def test_admin_page_is_refused_to_others(ui_server, new_page):
    anonymous = new_page()
    anonymous.goto(ui_server.url + "/admin")
    assert anonymous.url == ui_server.url + "/login?next=/admin"

    page = log_in(new_page(), ui_server, "user1")
    expect(page.locator("[data-testid=admin-link]")).to_have_count(0)
    response = page.goto(ui_server.url + "/admin")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Only administrators can manage users.")
