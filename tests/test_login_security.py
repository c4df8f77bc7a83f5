"""Logging in safely: one username form for throttle and lookup, same-site `next`, XSRF bound to the session."""
import logging
import re

import requests

from tests.helpers import assert_error

PADDED = [" user2", "user2 ", "\tuser2", "USER2", "\nUser2\r", "\u00a0user2"]


def form_login(server, session, username, password, next_url=None, **headers):
    session.get(server.url + "/login", timeout=15)
    data = {"username": username, "password": password, "_xsrf": session.cookies["_xsrf"]}
    if next_url is not None:
        data["next"] = next_url
    return session.post(server.url + "/login", data=data, headers=headers, allow_redirects=False, timeout=15)


def test_padded_usernames_count_against_one_throttle(server):
    """5 failures (the test limit) spread over spellings of one name lock out every spelling."""
    for name in ["user2", *PADDED[:4]]:
        r = server.request("POST", "/api/auth/login", json_body={"username": name, "password": "wrong"})
        assert_error(r, 401, "invalid_credentials")
    for name in ["user2", *PADDED]:
        r = server.request("POST", "/api/auth/login", json_body={"username": name, "password": "user2pass"})
        assert_error(r, 429, "too_many_attempts")
        r = form_login(server, requests.Session(), name, "user2pass", Accept="application/json")
        assert_error(r, 429, "too_many_attempts")
    assert server.login("user1")  # another name is not affected


def test_padded_username_logs_in_as_the_same_user(server):
    r = server.request("POST", "/api/auth/login", json_body={"username": " User1\t", "password": "user1pass"})
    assert r.status_code == 200 and r.json()["user"]["username"] == "user1"


# What a browser would do with each `next`: everything off-site or odd must land on "/".
NEXT_CASES = [
    ("/admin", "/admin"),
    ("/diagnostics", "/diagnostics"),
    ("/", "/"),
    ("/\\evil.example/x", "/"),
    ("/\\/evil.example", "/"),
    ("\\\\evil.example", "/"),
    ("//evil.example", "/"),
    ("///evil.example", "/"),
    ("https://evil.example/", "/"),
    ("http:/evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("/a\r\nSet-Cookie: x=1", "/"),
    ("/ad\x0bmin", "/"),
    (" /admin\x0b", "/admin"),  # surrounding whitespace is trimmed from every argument
    ("/\tevil.example", "/"),
    ("/ad\x00min", "/"),
    ("/caf\u00e9", "/"),
    ("/nowhere", "/"),
    ("admin", "/"),
    ("", "/"),
]


def test_next_after_login_stays_on_this_site(server):
    session = requests.Session()
    for given, expected in NEXT_CASES:
        page = session.get(server.url + "/login", params={"next": given}, timeout=15)
        assert page.status_code == 200, (given, page.status_code)
        field = re.search(r'name="next" value="([^"]*)"', page.text).group(1)
        assert field == expected, given
        r = form_login(server, session, "user1", "user1pass", next_url=given)
        assert r.status_code == 302, (given, r.status_code, r.text[:200])
        assert r.headers["Location"] == expected, given
        assert "x" not in r.cookies  # no header smuggled in
    r = form_login(server, session, "user1", "user1pass", next_url="/admin?tab=users#x")
    assert r.headers["Location"] == "/admin"


def test_planted_xsrf_cookie_is_refused(server):
    """An `_xsrf` value obtained elsewhere (another browser, another session) does not pass for this session."""
    attacker = requests.Session()
    attacker.get(server.url + "/login", timeout=15)
    anonymous_token = attacker.cookies["_xsrf"]
    assert form_login(server, attacker, "user2", "user2pass").status_code == 302
    attacker_token = attacker.cookies["_xsrf"]

    victim = requests.Session()
    assert form_login(server, victim, "user1", "user1pass").status_code == 302
    own_token = victim.cookies["_xsrf"]
    session_cookie = victim.cookies["cm_session"]
    for planted in (anonymous_token, attacker_token):
        jar = requests.Session()
        jar.cookies.set("cm_session", session_cookie)
        jar.cookies.set("_xsrf", planted)
        r = jar.post(server.url + "/logout", data={"_xsrf": planted}, allow_redirects=False, timeout=15)
        assert r.status_code == 403, planted
        r = jar.post(server.url + "/api/auth/refresh", headers={"X-XSRFToken": planted}, timeout=15)
        assert_error(r, 403, "forbidden")
    # the victim's own token still works, in the form and in the header
    r = victim.post(server.url + "/api/auth/refresh", headers={"X-XSRFToken": own_token}, timeout=15)
    assert r.status_code == 200, r.text
    r = victim.post(server.url + "/logout", data={"_xsrf": own_token}, allow_redirects=False, timeout=15)
    assert r.status_code == 302 and r.headers["Location"] == "/login"


def test_cross_site_login_post_is_refused(server):
    """Login CSRF: a cross-site form post is refused by its Origin even with a planted token."""
    session = requests.Session()
    r = form_login(server, session, "user1", "user1pass", Origin="https://evil.example")
    assert r.status_code == 403
    r = form_login(server, session, "user1", "user1pass", Origin=server.url)
    assert r.status_code == 302


def test_odd_usernames_are_refused_plainly(server):
    for username in ["x" * 10_000, "\x00user1", "user1\u202e", "\u00fc" * 40, "user1\x00"]:
        r = server.request("POST", "/api/auth/login", json_body={"username": username, "password": "user1pass"})
        assert_error(r, 401, "invalid_credentials")


MALFORMED_FORMS = [
    ("multipart/form-data; boundary=xyz", b"garbage \x00\xff no parts at all"),
    ("multipart/form-data; boundary=xyz", b"--xyz\r\nno headers here--xyz--\r\n"),
    ("multipart/form-data", b"--xyz\r\n\r\n--xyz--\r\n"),  # no boundary given
    ("multipart/form-data-ish; boundary=xyz", b"--xyz--\r\n"),
]


def test_malformed_form_bodies_get_a_plain_400_without_a_traceback(server, caplog):
    """Garbage multipart bodies on the form pages, signed in or not: 400 (JSON when asked for), no traceback."""
    with caplog.at_level(logging.WARNING):
        for path in ("/login", "/logout"):
            for content_type, body in MALFORMED_FORMS:
                headers = {"Content-Type": content_type}
                r = requests.post(server.url + path, data=body, headers=headers, allow_redirects=False, timeout=15)
                assert r.status_code == 400, (path, content_type, r.status_code)
                assert r.headers["Content-Type"].startswith("text/html") and "<html" in r.text.lower()
                r = requests.post(server.url + path, data=body, headers={**headers, "Accept": "application/json"},
                                  allow_redirects=False, timeout=15)
                assert_error(r, 400, "invalid_form")
    assert not [r for r in caplog.records if r.exc_info], "a malformed form was logged with a traceback"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert form_login(server, requests.Session(), "user1", "user1pass").status_code == 302  # well-formed still works


FORWARDED = [{"X-Forwarded-For": "203.0.113.7"}, {"X-Real-IP": "203.0.113.7"}, {"Forwarded": "for=203.0.113.7"},
             {"X-Forwarded-For": "127.0.0.1"}]  # a proxy on this machine forwards every client the same way


def test_demo_passwords_work_only_from_this_machine(server_factory):
    """Through a proxy (trusted or not) a demo account's published password is refused; a changed one works."""
    server = server_factory()
    for headers in FORWARDED:
        r = server.request("POST", "/api/auth/login", json_body={"username": "admin", "password": "admin123"},
                           headers=dict(headers))
        assert_error(r, 403, "demo_password_refused")
        r = form_login(server, requests.Session(), "user1", "user1pass", Accept="application/json", **headers)
        assert_error(r, 403, "demo_password_refused")
    page = form_login(server, requests.Session(), "user1", "user1pass", **FORWARDED[0])
    assert page.status_code == 403 and "demo password" in page.text and "cm_session" not in page.cookies
    r = server.request("POST", "/api/auth/login", json_body={"username": "admin", "password": "wrong"},
                       headers=dict(FORWARDED[0]))
    assert_error(r, 401, "invalid_credentials")
    assert server.login("admin")  # on this machine, not forwarded

    admin = server.login("admin")
    user2 = next(u["id"] for u in server.request("GET", "/api/admin/users", admin).json()["users"] if u["username"] == "user2")
    assert server.request("POST", f"/api/admin/users/{user2}/password", admin,
                          json_body={"password": "a-new-password"}).status_code == 200
    r = server.request("POST", "/api/auth/login", json_body={"username": "user2", "password": "a-new-password"},
                       headers=dict(FORWARDED[0]))
    assert r.status_code == 200, r.text

    behind_trusted_proxy = server_factory(trust_proxy_headers="true")
    r = behind_trusted_proxy.request("POST", "/api/auth/login", headers=dict(FORWARDED[0]),
                                     json_body={"username": "admin", "password": "admin123"})
    assert_error(r, 403, "demo_password_refused")
    allowed = server_factory(allow_demo_on_public="true")
    r = allowed.request("POST", "/api/auth/login", json_body={"username": "admin", "password": "admin123"},
                        headers=dict(FORWARDED[0]))
    assert r.status_code == 200, r.text
