import pytest

pytestmark = pytest.mark.browser


def test_login_page_stores_token(ui_server, new_page):
    page = new_page()
    page.goto(ui_server.url + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "admin123")
    page.click("button[type=submit]")
    page.wait_for_url(ui_server.url + "/")
    token = page.evaluate("localStorage.getItem('access_token')")
    assert token and token.count(".") == 2
    result = page.evaluate("""() => new Promise((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/ws?token=${localStorage.getItem('access_token')}`);
        ws.onmessage = (e) => resolve({state: ws.readyState, data: JSON.parse(e.data)});
        ws.onclose = (e) => resolve({closed: e.code});
    })""")
    assert result["state"] == 1 and result["data"]["type"] == "connected"
