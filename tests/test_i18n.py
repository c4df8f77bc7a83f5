"""English and Russian from a real server: how a language is chosen, and what follows it.

Order: the user's saved locale, then the ``cm_locale`` cookie, then Accept-Language, then English.
Error ``code``s stay English; ``message``s, pages and close reasons follow the reader.
"""
import re

import pytest

from handlers import i18n
from handlers.ws_protocol import TORNADO_REASONS
from handlers.close_reasons import DB_UNAVAILABLE
from models.i18n import N_, NP_, render
from tests.helpers import assert_error
from tests.test_ws import closed_with, connected

RU = "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7"
EN = "en-US,en;q=0.9"


def page_language(response):
    assert response.status_code == 200, response.text
    return re.search(r'<html lang="(\w+)">', response.text).group(1)


def login_page(server, accept_language=None, cookies=None, query=""):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    return server.http.get(server.url + "/login" + query, headers=headers, cookies=cookies, timeout=15)


# --- choosing the language ----------------------------------------------------------------------------

@pytest.mark.parametrize("header, expected", [
    (RU, "ru"),
    (EN, "en"),
    ("de-DE,de;q=0.9,ru;q=0.5", "ru"),  # the first language we speak, in the browser's order
    ("ru;q=0.1,en;q=0.9", "en"),  # q-values, not the written order
    ("fr, de", "en"),  # nothing we speak: English
    ("ru;q=0", "en"),  # q=0 means "not this one"
    ("ru;q=abc", "en"),  # a broken q-value counts as 0
    (None, "en"),
])
def test_accept_language_picks_the_page_language(server, header, expected):
    response = login_page(server, header)
    assert page_language(response) == expected
    assert ("Войти" in response.text) == (expected == "ru")


def test_cookie_overrides_accept_language(server):
    assert page_language(login_page(server, RU, {i18n.COOKIE: "en"})) == "en"
    assert page_language(login_page(server, EN, {i18n.COOKIE: "ru"})) == "ru"
    assert page_language(login_page(server, RU, {i18n.COOKIE: "de"})) == "ru"  # unknown cookie: ignored


def test_login_page_language_switch_works_without_script(server):
    """The links set the cookie; the form's error then comes in that language too."""
    page = login_page(server, EN, query="?next=/admin")
    links = dict(re.findall(r'<a href="([^"]+)" lang="(\w+)"', page.text))
    assert set(links.values()) == {"en", "ru"}
    russian = next(href for href, code in links.items() if code == "ru").replace("&amp;", "&")
    assert russian == "/login?lang=ru&next=%2Fadmin"
    switched = server.http.get(server.url + russian, headers={"Accept-Language": EN}, timeout=15)
    assert page_language(switched) == "ru" and 'name="next" value="/admin"' in switched.text
    assert server.http.cookies.get(i18n.COOKIE) == "ru"
    assert page_language(login_page(server, EN)) == "ru"  # kept by the cookie
    xsrf = server.http.cookies.get("_xsrf")
    refused = server.http.post(server.url + "/login", data={"username": "admin", "password": "wrong", "_xsrf": xsrf},
                               headers={"Accept-Language": EN}, timeout=15)
    assert refused.status_code == 401
    assert "Неверное имя пользователя или пароль" in refused.text
    back = server.http.get(server.url + "/login?lang=en", timeout=15)
    assert page_language(back) == "en" and server.http.cookies.get(i18n.COOKIE) == "en"


def test_saved_locale_beats_cookie_and_header(server):
    token = server.login("user1")
    assert server.request("GET", "/api/me", token).json()["locale"] is None
    english = {"headers": {"Accept-Language": EN}, "cookies": {i18n.COOKIE: "en"}}
    answer = server.request("PATCH", "/api/me", token, {"locale": "ru"}, **english)
    assert answer.status_code == 200 and answer.json()["locale"] == "ru"
    assert server.request("GET", "/api/me", token).json()["locale"] == "ru"
    error = assert_error(server.request("GET", "/api/chats/999999", token, **english), 404, "chat_not_found")
    assert error["message"] == "Чата 999999 не существует"
    server.request("PATCH", "/api/me", token, {"locale": None})  # back to the browser's language
    assert server.request("GET", "/api/me", token).json()["locale"] is None
    error = assert_error(server.request("GET", "/api/chats/999999", token, headers={"Accept-Language": EN}), 404)
    assert error["message"] == "Chat 999999 does not exist"


def test_signing_in_on_the_form_brings_the_saved_language_to_pages_that_never_read_the_session(server):
    """A fresh English browser whose user chose Russian elsewhere: the form login sets the cookie, so a
    ``next=/diagnostics`` landing (a page that never looks the session up) is Russian at once."""
    server.request("PATCH", "/api/me", server.login("user1"), {"locale": "ru"})
    login_page(server, EN)  # the form's _xsrf cookie
    form = {"username": "user1", "password": "user1pass", "_xsrf": server.http.cookies.get("_xsrf"),
            "next": "/diagnostics"}
    signed_in = server.http.post(server.url + "/login", data=form, headers={"Accept-Language": EN}, timeout=15)
    assert signed_in.url.endswith("/diagnostics") and page_language(signed_in) == "ru"


@pytest.mark.parametrize("body, code", [
    ({"locale": "de"}, "invalid_field"),
    ({"locale": "RU"}, "invalid_field"),
    ({"locale": 5}, "invalid_field"),
    ({"locale": ["ru"]}, "invalid_field"),
    ({}, "missing_field"),
])
def test_patch_me_refuses_anything_but_en_ru_or_null(server, body, code):
    token = server.login("user2")
    error = assert_error(server.request("PATCH", "/api/me", token, body, headers={"Accept-Language": RU}), 422, code)
    assert error["field"] == "locale"
    assert re.search("[а-я]", error["message"]), error  # in the caller's language
    assert server.request("GET", "/api/me", token).json()["locale"] is None


def test_patch_me_needs_a_json_object(server):
    token = server.login("user2")
    response = server.request("PATCH", "/api/me", token, data="ru")
    assert_error(response, 400, "invalid_json")


def test_api_error_in_russian_keeps_the_english_code(server):
    response = server.request("GET", "/api/chats", headers={"Accept-Language": RU})
    error = assert_error(response, 401, "token_missing")
    assert error["message"] == "Передайте заголовок Authorization: Bearer <access_token>"
    token = server.login("user1")
    response = server.request("POST", "/api/chats", token, {"type": "x"}, headers={"Accept-Language": RU})
    error = assert_error(response, 422, "invalid_field")
    assert error["message"] == "type должен быть 'direct' или 'group'"
    assert_error(server.request("GET", "/api/nowhere", headers={"Accept-Language": RU}), 404, "not_found")


def test_error_page_in_russian(server):
    response = server.http.get(server.url + "/no-such-page", headers={"Accept-Language": RU}, timeout=15)
    assert response.status_code == 404
    assert '<html lang="ru">' in response.text and "По этому адресу нет страницы." in response.text


# --- WebSocket ------------------------------------------------------------------------------------------

def test_error_frame_and_close_reason_in_russian(server):
    token = server.login("user1")
    client = server.connect(token, additional_headers={"Accept-Language": RU})
    assert client.recv()["type"] == "connected"
    client.send({"type": "nope", "client_msg_id": "c1"})
    error = client.recv_type("error")
    assert (error["code"], error["message"], error["client_msg_id"]) == (
        "unknown_type", "Неизвестный тип кадра 'nope'", "c1")
    server.request("POST", "/api/auth/logout", token)
    code, reason = closed_with(client)
    assert (code, reason) == (1008, "токен отозван (выход из системы)")


def test_refused_handshake_explains_itself_in_russian(server):
    client = server.connect("not-a-jwt", additional_headers={"Accept-Language": RU})
    assert closed_with(client) == (1008, "Токен повреждён: это не JWT")
    client = server.connect("not-a-jwt", additional_headers={"Accept-Language": EN})
    assert closed_with(client) == (1008, "Token is malformed: not a JWT")


def test_open_connections_follow_a_language_change(server):
    """PATCH /api/me reaches the user's open sockets (through the bus, so on every process)."""
    token = server.login("user2")
    client, _ = connected(server, token)
    client.send({"type": "typing", "chat_id": 999999})
    assert client.recv_type("error")["message"] == "You are not a member of chat 999999"
    assert server.request("PATCH", "/api/me", token, {"locale": "ru"}).status_code == 200
    client.send({"type": "ping", "id": 1})
    client.recv_type("pong")  # the change was applied before the PATCH answered (local delivery)
    client.send({"type": "typing", "chat_id": 999999})
    error = client.recv_type("error")
    assert (error["code"], error["message"]) == ("not_a_member", "Вы не участник чата 999999")
    client.close()


# --- close reasons fit, plural forms --------------------------------------------------------------------

CLOSE_REASONS = [
    N_("origin not allowed: %(origin)s", origin="https://" + "x" * 72),
    N_("missing token: pass ?token=, a session cookie, or an auth frame within %(seconds)s s", seconds="5"),
    N_('not authenticated: the first frame must be {"type":"auth","token":...}'),
    N_("outgoing buffer overflow: reconnect and catch up"),
    N_("token revoked (logged out)"), N_("user deactivated"), N_("password was reset: log in again"),
    N_("server shutting down"), DB_UNAVAILABLE, *TORNADO_REASONS,
    # the token errors of models/users.py that close a refused handshake
    N_("No token was sent"), N_("Token is malformed: not a JWT"), N_("Token expired: log in again"),
    N_("Token signature is invalid (issued by another server or secret)"),
    N_("Token is malformed: %(detail)s", detail="Invalid header padding"),
    N_("Not an access token"), N_("Token refers to an unknown session"), N_("Token was revoked (logged out)"),
    N_("This account has been deactivated"), N_("Session cookie is unknown or expired"),
]


@pytest.mark.parametrize("code", i18n.LOCALES)
@pytest.mark.parametrize("reason", CLOSE_REASONS, ids=lambda r: r.msgid[:30])
def test_every_close_reason_fits_a_close_frame_uncut(code, reason):
    """123 bytes of UTF-8 at most (Russian letters take two): written short enough not to need cutting."""
    text = render(reason, i18n.get(code))
    assert code == "en" or text != str(reason), "not translated"
    assert len(text.encode("utf-8")) <= i18n.CLOSE_REASON_BYTES, (len(text.encode("utf-8")), text)
    assert i18n.close_reason(reason, i18n.get(code)) == text


def test_a_long_close_reason_is_cut_on_a_character_boundary():
    reason = N_("origin not allowed: %(origin)s", origin="https://" + "я" * 200)
    cut = i18n.close_reason(reason, i18n.get("ru"))
    assert len(cut.encode("utf-8")) <= i18n.CLOSE_REASON_BYTES and cut.startswith("источник не разрешён: https://яя")


@pytest.mark.parametrize("count, word", [(1, "секунду"), (2, "секунды"), (5, "секунд"), (11, "секунд"),
                                         (21, "секунду"), (22, "секунды"), (25, "секунд")])
def test_russian_plural_forms(count, word):
    message = NP_("Sending too fast. Try again in %(num)d second.", "Sending too fast. Try again in %(num)d seconds.",
                  count)
    assert render(message, i18n.get("ru")) == f"Слишком частая отправка. Повторите через {count} {word}."
    assert i18n.get("ru").translate("At least %(num)s character", "At least %(num)s characters", count) \
        .endswith("символа" if count % 10 == 1 and count != 11 else "символов")
    english = "second." if count == 1 else "seconds."
    assert render(message, i18n.get("en")).endswith(english) and str(message).endswith(english)
