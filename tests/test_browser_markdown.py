"""Markdown in messages, in a real Chromium: what renders, what stays inert, and that the source is kept."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_console_errors, log_in, messages, open_chat

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

FORMATTED = """**bold** *italic* ~~gone~~ `x = 1` and @user1 in **@user1 bold**
> quoted line
- first item
- second item

3. third
4. fourth

```python
print("<b>not bold</b>")
```
[the guide](https://example.com/guide) and www.example.org, mail admin@example.com, not setup.py
# not a heading
---"""

HOSTILE = """<script>window.ran = 1</script> <img src=x onerror="window.ran = 2">
[click me](javascript:window.ran=3) [data](data:text/html,<script>alert(1)</script>) [rel](/admin)
<a href="javascript:window.ran=4">raw</a> **<b onmouseover="window.ran=5">hover</b>**
![picture](https://example.com/x.png) `<script>` javascript:alert(6)"""


def post(server, token, chat_id, text):
    return server.request("POST", f"/api/chats/{chat_id}/messages", token, {"text": text}).json()


def test_markdown_renders_formatting_code_blocks_lists_and_links(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    page = new_page()
    log_in(page, ui_server, "user1")
    open_chat(page, general)
    post(ui_server, admin, general, FORMATTED)

    text = messages(page, "bold").locator(".text")
    expect(text.locator("strong").first).to_have_text("bold")
    expect(text.locator("em")).to_have_text("italic")
    expect(text.locator("s")).to_have_text("gone")
    expect(text.locator("p code").first).to_have_text("x = 1")
    expect(text.locator("blockquote")).to_have_text("quoted line")
    expect(text.locator("ul > li")).to_have_text(["first item", "second item"])
    expect(text.locator("ol")).to_have_attribute("start", "3")
    expect(text.locator("ol > li")).to_have_text(["third", "fourth"])
    # mentions are still found in the words, inside formatting too
    expect(text.locator("[data-testid=mention]")).to_have_count(2)
    expect(text.locator("strong [data-testid=mention]")).to_have_text("@user1")
    # a fenced block keeps its markup as text, with its language noted and a copy button
    block = text.locator(".code-block")
    expect(block.locator("pre code")).to_have_text('print("<b>not bold</b>")')
    expect(block.locator("code")).to_have_attribute("data-language", "python")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui_server.url)
    block.get_by_role("button", name="Copy").click()
    expect(block.get_by_role("status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == 'print("<b>not bold</b>")'
    # links: written ones, bare domains and e-mail addresses; all open in a new tab without an opener
    links = text.locator("a")
    expect(links).to_have_count(3)
    expect(links.nth(0)).to_have_attribute("href", "https://example.com/guide")
    expect(links.nth(0)).to_have_text("the guide")
    expect(links.nth(1)).to_have_attribute("href", "http://www.example.org/")
    expect(links.nth(2)).to_have_attribute("href", "mailto:admin@example.com")
    for n in range(3):
        expect(links.nth(n)).to_have_attribute("rel", "noopener noreferrer")
        expect(links.nth(n)).to_have_attribute("target", "_blank")
    # chat text, not a document: headings and rules stay as typed
    expect(text).to_contain_text("# not a heading")
    assert text.locator("h1, hr, b").count() == 0
    assert_no_console_errors(page)


def test_hostile_markdown_stays_inert(ui_server, new_page):
    admin = ui_server.login("admin")
    general = ui_server.chat_id(admin, "General")
    page = new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, ui_server, "user1")
    open_chat(page, general)
    post(ui_server, admin, general, HOSTILE)

    text = messages(page, "click me").locator(".text")
    expect(text).to_contain_text("<script>window.ran = 1</script>")
    expect(text).to_contain_text('<a href="javascript:window.ran=4">raw</a>')
    expect(text).to_contain_text("click me")
    text.get_by_text("click me").click()
    text.get_by_text("hover").hover()
    assert text.locator("script, img, b, iframe, [onerror], [onmouseover]").count() == 0
    # no link with a script, data or same-site target: the words stay, the link does not; an image is
    # never loaded, only offered as a link
    expect(text.locator("a")).to_have_count(1)
    expect(text.locator("a")).to_have_attribute("href", "https://example.com/x.png")
    expect(text.locator("p code")).to_have_text("<script>")
    page.wait_for_timeout(300)
    assert page.evaluate("window.ran") is None
    assert dialogs == []
    assert_no_console_errors(page)


def test_editing_shows_the_markdown_source(ui_server, new_page):
    page = new_page()
    log_in(page, ui_server, "user1")
    general = ui_server.chat_id(ui_server.login("admin"), "General")
    open_chat(page, general)
    composer = page.locator("[data-testid=composer]")
    composer.fill("**plan**: ship `v2`")
    composer.press("Enter")
    expect(messages(page, "plan").last.locator(".text strong")).to_have_text("plan")
    expect(messages(page, "plan").last).to_have_attribute("data-message-id", re.compile(r"\d+"))
    message_id = messages(page, "plan").last.get_attribute("data-message-id")
    mine = page.locator(f'#message-list [data-message-id="{message_id}"]')  # the editor hides the text
    mine.hover()
    mine.locator("[data-testid=edit-message]").click()
    expect(mine.locator("[data-testid=edit-input]")).to_have_value("**plan**: ship `v2`")
