"""What the chat page looks like in a real Chromium, measured rather than eyeballed: the contrast of a file
card's text in own and others' messages, a long own message's action bar on a phone, and the fonts emoji
are drawn with."""
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser import assert_no_console_errors, log_in, messages, open_chat
from tests.test_browser_i18n import serious_violations

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)
PHONE = {"width": 390, "height": 844}

# WCAG 2 contrast of an element's text colour against the background it is drawn on: the element's own
# background, else its nearest ancestor's, semi-transparent layers blended over what lies beneath them.
CONTRAST = """(node) => {
  const rgba = (text) => { const [r, g, b, a = 1] = text.match(/[\\d.]+/g).map(Number); return [r, g, b, a]; };
  const over = (top, bottom) => top.slice(0, 3).map((c, i) => c * top[3] + bottom[i] * (1 - top[3])).concat(1);
  const layers = [];
  for (let el = node; el; el = el.parentElement) {
    const layer = rgba(getComputedStyle(el).backgroundColor);
    if (layer[3] > 0) layers.push(layer);
    if (layer[3] === 1) break;
  }
  const background = layers.reduceRight((below, layer) => over(layer, below), [255, 255, 255, 1]);
  const text = over(rgba(getComputedStyle(node).color), background);
  const luminance = ([r, g, b]) => [r, g, b].map((c) => c / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const [light, dark] = [luminance(text), luminance(background)].sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);
}"""


def png(width, height):
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def upload(server, token, name, data=b"x" * 2048, content_type="text/plain"):
    response = server.request("POST", "/api/files", token, files={"file": (name, data, content_type)})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def post(server, token, chat_id, text, **extra):
    response = server.request("POST", f"/api/chats/{chat_id}/messages", token, {"text": text, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_file_cards_name_and_size_are_legible_in_own_and_others_messages(ui_server, new_page):
    user1 = ui_server.login("user1")
    general = ui_server.chat_id(user1, "General")
    post(ui_server, user1, general, "the minutes", file_ids=[upload(ui_server, user1, "minutes.txt")])
    user2 = ui_server.login("user2")
    post(ui_server, user2, general, "the budget", file_ids=[upload(ui_server, user2, "budget.csv")])
    page = log_in(new_page(), ui_server, "user1")
    open_chat(page, general)
    measured = {}
    for text, side in (("the minutes", "own"), ("the budget", "other")):
        card = messages(page, text).locator("[data-testid=file-card]")
        expect(messages(page, text)).to_have_class(re.compile(rf"\b{side}\b"))
        for part in ("file-name", "file-size"):
            measured[side, part] = round(card.locator(f".{part}").evaluate(CONTRAST), 2)
    assert all(ratio >= 4.5 for ratio in measured.values()), measured  # WCAG AA for text
    assert serious_violations(page) == []
    assert_no_console_errors(page)


FADED_IN = ("(node) => new Promise((done) => (function wait() { "
            "getComputedStyle(node).opacity === '1' ? done() : requestAnimationFrame(wait); })())")
LABELS = {"en": ["Reply", "React", "Pin", "Edit", "Delete"], "ru": ["Ответить", "Реакция", "Закрепить", "Изменить", "Удалить"]}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_wide_own_message_keeps_its_actions_on_a_phone_screen(ui_server, new_page, lang):
    user1 = ui_server.login("user1")
    ui_server.request("PATCH", "/api/me", user1, {"locale": lang})
    general = ui_server.chat_id(user1, "General")
    photo = upload(ui_server, user1, "harbour.png", png(800, 500), "image/png")
    text = "A long message from my phone that fills the whole width of the bubble " * 3
    message_id = post(ui_server, user1, general, text, file_ids=[photo])["id"]
    page = log_in(new_page(viewport=PHONE), ui_server, "user1")
    open_chat(page, general)
    mine = page.locator(f'[data-message-id="{message_id}"]')
    expect(mine.locator("[data-testid=file-thumbnail] img")).to_be_visible()
    mine.locator(".text").click()  # a tap on the bubble shows its actions (a phone has no hover)
    buttons = mine.locator(".message-actions button")
    expect(buttons).to_have_text(LABELS[lang])
    for index in range(buttons.count()):
        box = buttons.nth(index).bounding_box()
        assert box["x"] >= 0 and box["y"] >= 0, (LABELS[lang][index], box)
        assert box["x"] + box["width"] <= PHONE["width"], (LABELS[lang][index], box)
        assert box["y"] + box["height"] <= PHONE["height"], (LABELS[lang][index], box)
    wide = page.evaluate("""() => [...document.querySelectorAll('*')].filter((n) => n.getBoundingClientRect().right > 391)
        .map((n) => n.tagName + '.' + n.className + ' ' + Math.round(n.getBoundingClientRect().right)).slice(0, 12)""")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wide
    mine.locator(".message-actions").evaluate(FADED_IN)
    assert serious_violations(page) == []
    mine.locator("[data-testid=delete-message]").click()  # Playwright checks that the tap lands on the button
    expect(mine.locator("[data-testid=delete-confirm]")).to_be_visible()
    mine.locator("[data-testid=cancel-delete]").click()
    mine.locator(".text").click()
    mine.locator("[data-testid=reply-message]").click()
    expect(page.locator(".reply-bar")).to_contain_text("A long message from my phone")
    assert_no_console_errors(page)


COLOUR_EMOJI = {"Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji", "Twemoji Mozilla"}  # macOS, Windows,
# Linux/Android/ChromeOS, Firefox's own; this machine has the third (Debian's fonts-noto-color-emoji)


def drawn_with(page, selector):
    """The fonts Chromium drew each element's text with (DevTools' "Rendered Fonts"): [{family: glyphs}]."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    nodes = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"]
    return [{font["familyName"]: font["glyphCount"] for font in cdp.send("CSS.getPlatformFontsForNode",
                                                                           {"nodeId": node})["fonts"]}
            for node in nodes]


def test_emoji_are_drawn_in_colour_in_messages_chips_and_the_picker(ui_server, new_page):
    user1 = ui_server.login("user1")
    general = ui_server.chat_id(user1, "General")
    emoji_only = post(ui_server, user1, general, "😂🎉👍😢")["id"]
    plain = post(ui_server, user1, general, "Q3 2026: #1 © ok")["id"]
    for emoji in ("😂", "😮", "👍", "❤️"):
        response = ui_server.request("PUT", f"/api/messages/{emoji_only}/reactions/{emoji}", user1)
        assert response.status_code == 200, response.text
    page = log_in(new_page(), ui_server, "user1")
    open_chat(page, general)
    expect(page.locator("[data-testid=reaction-chip]")).to_have_count(4)
    mine = page.locator(f'[data-message-id="{emoji_only}"]')
    mine.hover()
    mine.locator("[data-testid=react-message]").click()
    expect(page.locator("[data-testid=reaction-option]")).to_have_count(8)

    emoji_text = f'[data-message-id="{emoji_only}"] .text'
    for selector in (emoji_text, ".reaction-chip", ".reaction-option", ".reaction-input"):
        stack = page.locator(selector).first.evaluate("(node) => getComputedStyle(node).fontFamily")
        assert COLOUR_EMOJI <= {name.strip().strip('"') for name in stack.split(",")}, (selector, stack)
    assert drawn_with(page, emoji_text) == [{"Noto Color Emoji": 4}]
    assert drawn_with(page, ".reaction-emoji") == [{"Noto Color Emoji": 1}] * 4
    assert drawn_with(page, ".reaction-option") == [{"Noto Color Emoji": 1}] * 8  # 😂 😮 😢 were black and white
    assert "Noto Color Emoji" not in drawn_with(page, f'[data-message-id="{plain}"] .text')[0]  # digits, #, ©
    assert_no_console_errors(page)
