"""What loading the string catalog costs a page: Chromium opens /login and /diagnostics N times per
language (a fresh context each time, so nothing is cached) and reports the catalog's transfer time
(Resource Timing: request start to response end) and when the strings were there, counted from the
start of the navigation (the modules wait for it: i18n.js fetches the catalog with a top-level await).

    .venv/bin/python bench/i18n_load.py [--runs 20]

Numbers depend on the machine; compare languages and pages within one run only.
"""
import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.harness import InProcessServer, config_argv  # noqa: E402

TIMING = """(lang) => {
    const catalog = performance.getEntriesByType('resource').find((e) => e.name.endsWith(`/i18n/${lang}.json`));
    return catalog && { catalog: catalog.responseEnd - catalog.startTime, ready: catalog.responseEnd };
}"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="cm-i18n-bench-")
    server = InProcessServer(config_argv(os.path.join(data, "data"), "sqlite:///" + os.path.join(data, "b.db")))
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for page_path in ("/login", "/diagnostics"):
                for lang, locale in (("en", "en-US"), ("ru", "ru-RU")):
                    catalog, ready = [], []
                    for _ in range(args.runs):
                        context = browser.new_context(locale=locale)
                        page = context.new_page()
                        page.goto(server.url + page_path, wait_until="domcontentloaded")
                        timing = page.wait_for_function(TIMING, arg=lang).json_value()
                        catalog.append(timing["catalog"])
                        ready.append(timing["ready"])
                        context.close()
                    print(f"{page_path:13} {lang}: catalog fetch median {statistics.median(catalog):5.1f} ms, "
                          f"strings ready at {statistics.median(ready):5.1f} ms after navigation start ({args.runs} loads)")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
