"""Files in the browser: drag-and-drop upload with progress and cancel, image thumbnails and the viewer,
file cards, paste."""
import base64
import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser import assert_no_console_errors, log_in, messages, open_chat
from tests.test_browser_screenshots import target

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)

DROP = """([name, type, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const zone = document.getElementById('conversation');
  zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
}"""


PASTE = """([name, type, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  document.querySelector('[data-testid=composer]').dispatchEvent(
    new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
}"""


def drop(page, name, content_type, data):
    page.evaluate(DROP, [name, content_type, base64.b64encode(data).decode()])


def png(width=600, height=300):
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def general(page):
    chat_id = page.locator("[data-testid=chat-list] [data-chat-id]").filter(has_text="General").first \
        .get_attribute("data-chat-id")
    open_chat(page, chat_id)
    return chat_id


def test_drop_upload_progress_cancel_then_image_thumbnail_for_everyone(ui_server, new_page):
    page = log_in(new_page(), ui_server, "user1")
    other = log_in(new_page(), ui_server, "user2")
    general(page)
    general(other)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    slow = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 256 * 1024}
    cdp.send("Network.emulateNetworkConditions", slow)  # 2 MiB take about 8 s
    drop(page, "big.bin", "application/octet-stream", bytes(2 * 1024 * 1024))
    expect(page.locator("[data-testid=upload-progress]")).to_be_visible()
    page.wait_for_function("() => { const p = document.querySelector('[data-testid=upload-progress]');"
                           " return p && p.value > 0 && p.value < p.max; }")
    page.locator("[data-testid=attachment-remove]").click()  # cancel
    expect(page.locator("[data-testid=attachment]")).to_have_count(0)
    cdp.send("Network.emulateNetworkConditions", {**slow, "uploadThroughput": -1})

    drop(page, "sky.png", "image/png", png())
    expect(page.locator("[data-testid=attachment]")).to_contain_text("sky.png")
    expect(page.locator("[data-testid=upload-progress]")).to_have_count(0)
    page.fill("[data-testid=composer]", "the sky today")
    page.press("[data-testid=composer]", "Enter")
    for viewer_page in (page, other):
        thumb = messages(viewer_page, "the sky today").locator("[data-testid=file-thumbnail] img")
        expect(thumb).to_be_visible()
        viewer_page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
        assert thumb.evaluate("img => img.naturalWidth") <= 320
    messages(other, "the sky today").locator("[data-testid=file-thumbnail]").click()
    full = other.locator("[data-testid=image-viewer] img")
    expect(full).to_be_visible()
    other.wait_for_function("(img) => img.complete && img.naturalWidth === 600", arg=full.element_handle())
    other.keyboard.press("Escape")
    expect(other.locator("[data-testid=image-viewer]")).to_be_hidden()
    assert_no_console_errors(page, other)


def test_attach_button_file_card_and_files_only_message(ui_server, new_page, tmp_path):
    page = log_in(new_page(), ui_server, "user1")
    other = log_in(new_page(), ui_server, "user2")
    general(page)
    general(other)
    page.set_input_files("[data-testid=attach-input]",
                         files=[{"name": "<img src=x onerror=alert(1)>.txt", "mimeType": "text/plain", "buffer": b"x" * 2048}])
    expect(page.locator("[data-testid=attachment]")).to_contain_text("2.0 KB")
    page.press("[data-testid=composer]", "Enter")  # no text: the file alone is the message
    card = other.locator("[data-testid=file-card]").filter(has_text="<img src=x onerror=alert(1)>.txt")
    expect(card).to_be_visible()
    expect(card).to_contain_text("2.0 KB")
    assert card.locator("img").count() == 0  # the name is text, never markup
    assert card.get_attribute("href").startswith("/api/files/")
    expect(page.locator("[data-testid=attachment]")).to_have_count(0)
    page.evaluate(PASTE, ["screenshot.png", "image/png", base64.b64encode(png(200, 100)).decode()])
    expect(page.locator("[data-testid=attachment]")).to_contain_text("screenshot.png")
    page.locator("[data-testid=attachment-remove]").click()  # a pasted file, removed again
    expect(page.locator("[data-testid=attachment]")).to_have_count(0)
    drop(page, "harbour.png", "image/png", png(800, 500))
    expect(page.locator("[data-testid=attachment]")).to_contain_text("harbour.png")
    expect(page.locator("[data-testid=upload-progress]")).to_have_count(0)
    page.fill("[data-testid=composer]", "Photos from the offsite")
    page.press("[data-testid=composer]", "Enter")
    expect(other.locator("[data-testid=file-thumbnail] img")).to_be_visible()
    other.wait_for_function("() => [...document.querySelectorAll('[data-testid=file-thumbnail] img')]"
                            ".every((img) => img.complete && img.naturalWidth > 0)")
    other.screenshot(path=target(tmp_path, "chat-files.png"))
    assert_no_console_errors(page, other)


RUN_UPLOADED_SCRIPT = """async () => {
  const body = new FormData();
  body.append('file', new File(['self.pwned = true;'], 'evil.js', { type: 'text/javascript' }));
  const answer = await fetch('/api/files', {
    method: 'POST', body, headers: { Authorization: `Bearer ${localStorage.getItem('access_token')}` } });
  const file = await answer.json();
  const script = await new Promise((resolve) => {
    const tag = document.createElement('script');
    tag.src = file.url;
    tag.onload = () => resolve(window.pwned === true ? 'ran' : 'loaded without running');
    tag.onerror = () => resolve('refused');
    document.head.append(tag);
  });
  const worker = await new Promise((resolve) => {
    const w = new Worker(file.url);
    w.onerror = () => resolve('refused');
    setTimeout(() => resolve('started'), 3000);
  });
  let serviceWorker;
  try {
    await navigator.serviceWorker.register(file.url, { scope: '/api/files/' });
    serviceWorker = 'registered';
  } catch (error) {
    serviceWorker = 'refused';
  }
  return { status: answer.status, type: file.content_type, script, worker, serviceWorker };
}"""


def test_an_uploaded_script_cannot_run_on_the_apps_origin(ui_server, new_page):
    """A file uploaded as text/javascript is served as application/octet-stream: with nosniff, Chromium
    refuses it as a <script>, a Worker and a service worker, though the page's CSP trusts 'self'."""
    page = log_in(new_page(), ui_server, "user1")
    assert page.evaluate(RUN_UPLOADED_SCRIPT) == {"status": 201, "type": "text/javascript", "script": "refused",
                                                  "worker": "refused", "serviceWorker": "refused"}
