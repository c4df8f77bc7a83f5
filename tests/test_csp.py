"""Every HTML answer carries a Content-Security-Policy, error pages and /diagnostics included."""
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import requests


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found += [value for name, value in attrs if name in ("href", "src", "action") and value]


def directives(policy):
    parts = [part.strip().split() for part in policy.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def assert_strict(response):
    where = f"{response.request.method} {response.url} -> {response.status_code}"
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"no Content-Security-Policy on {where}"
    rules = directives(policy)
    scripts = rules.get("script-src", rules.get("default-src"))
    assert scripts is not None and not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(
        scripts), where
    assert rules.get("frame-ancestors") == ["'none'"] and rules.get("base-uri") == ["'none'"], where
    assert rules.get("object-src", rules.get("default-src")) in (["'none'"], ["'self'"]), where
    if "default-src" in rules and rules["default-src"] == ["'self'"]:
        assert rules.get("object-src") == ["'none'"], where
    return rules


def logged_in(server, username, password):
    session = requests.Session()
    session.get(server.url + "/login", timeout=15)
    r = session.post(server.url + "/login", data={"username": username, "password": password,
                                                   "_xsrf": session.cookies["_xsrf"]}, allow_redirects=False)
    assert r.status_code == 302
    return session


def test_every_html_page_and_error_page_has_a_strict_policy(ui_server):
    server = ui_server
    browsers = {"anonymous": requests.Session(), "user": logged_in(server, "user1", "user1pass"),
                "admin": logged_in(server, "admin", "admin123")}
    start = ["/", "/login", "/login?next=//evil.example", "/diagnostics", "/admin", "/nope", "/no/such/page",
             "/logout", "/ws", "/static/no-such-file.css", "/favicon.ico", "/api/../etc"]
    seen_html = 0
    for who, session in browsers.items():
        queue, visited = list(start), set()
        while queue:
            path = queue.pop()
            if path in visited:
                continue
            visited.add(path)
            r = session.get(server.url + path, headers={"Accept": "text/html"}, allow_redirects=False, timeout=15)
            if r.is_redirect:
                queue.append(urlsplit(urljoin(server.url + path, r.headers["Location"])).path)
                continue
            if "text/html" not in r.headers.get("Content-Type", ""):
                continue
            seen_html += 1
            assert_strict(r)
            parser = Links()
            parser.feed(r.text)
            for link in parser.found:
                target = urlsplit(urljoin(server.url + path, link))
                if target.netloc == urlsplit(server.url).netloc and not target.path.startswith("/static/"):
                    queue.append(target.path)
        # answers to bad posts are pages too
        for r in (session.post(server.url + "/login", data={"username": "x"}, timeout=15),  # no _xsrf: 403
                  session.post(server.url + "/logout", data={"_xsrf": "forged"}, timeout=15),
                  session.request("PUT", server.url + "/login", timeout=15)):  # 405
            assert "text/html" in r.headers["Content-Type"] and r.status_code in (403, 405), (who, r.status_code)
            seen_html += 1
            assert_strict(r)
    assert seen_html >= 25


def test_diagnostics_has_the_strictest_policy(server_factory):
    server = server_factory(allowed_origins="https://chat.example.com")
    r = requests.get(server.url + "/diagnostics", timeout=15)
    rules = assert_strict(r)
    host = urlsplit(server.url).netloc
    assert rules["default-src"] == ["'none'"] and rules["script-src"] == ["'self'"]
    assert rules["form-action"] == ["'none'"] and rules["style-src"] == ["'self'"]
    assert rules["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}", "https://chat.example.com",
                                    "wss://chat.example.com"]
    assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), "an inline script would be refused"
    api = requests.get(server.url + "/api/health", timeout=15)
    assert directives(api.headers["Content-Security-Policy"])["default-src"] == ["'none'"]


@pytest.mark.browser
def test_diagnostics_may_not_probe_a_foreign_websocket(ui_server, new_page):
    """The policy holds in a real browser: the page refuses to carry a token to another address."""
    page = new_page()
    page.goto(ui_server.url + "/diagnostics")
    page.click("[data-testid=credentials] summary")
    page.fill("[data-testid=login-form] input[name=username]", "user1")
    page.fill("[data-testid=login-form] input[name=password]", "user1pass")
    page.fill("[data-testid=ws-url-input]", "ws://evil.example:9/ws")
    page.click("[data-testid=login-form] button[type=submit]")
    page.wait_for_selector("[data-testid=check-upgrade][data-status=fail]", timeout=30000)
    help_text = page.inner_text("[data-testid=check-upgrade] [data-testid=help]")
    assert "Content-Security-Policy" in help_text and "--allowed-origins" in help_text
