"""The catalogs keep up with the code, and no template shows English outside them.

No server and no database: the messages are extracted from the source with
Babel's API (``translations/catalogs.py``, the code behind ``make translations``)
and compared with ``messages.pot``, the ``.po`` files and the compiled ``.mo``.
"""
import gettext
import html.parser
import pathlib
import re
import runpy

import jinja2
import pytest
from babel.messages.pofile import read_po

from handlers import i18n

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOOL = runpy.run_path(str(ROOT / "translations" / "catalogs.py"))  # run_path: no __pycache__ in translations/
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
NAMED_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
RUN_MAKE = "run `make translations`"


@pytest.fixture(scope="module")
def extracted():
    return {m.id for m in TOOL["extract"]() if m.id}


def catalog(code):
    with open(ROOT / "translations" / code / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=code)


def forms(message):
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def ids(message):
    return list(message.id) if isinstance(message.id, tuple) else [message.id]


def test_the_extraction_finds_code_and_template_messages(extracted):
    assert "Wrong username or password" in extracted  # N_ in handlers/
    assert "Chat %(id)s does not exist" in extracted  # N_ in models/
    assert ("Sending too fast. Try again in %(num)d second.",
            "Sending too fast. Try again in %(num)d seconds.") in extracted  # NP_
    assert "Sign in to your team workspace" in extracted  # _() in templates/


def test_the_template_is_up_to_date(extracted):
    with open(ROOT / "translations" / "messages.pot", "rb") as f:
        pot = {m.id for m in read_po(f) if m.id}
    assert extracted - pot == set(), f"marked in the code but not in messages.pot: {RUN_MAKE}"
    assert pot - extracted == set(), f"in messages.pot but no longer in the code: {RUN_MAKE}"


@pytest.mark.parametrize("code", i18n.LOCALES)
def test_every_message_is_translated_and_used(code, extracted):
    messages = {m.id: m for m in catalog(code) if m.id}
    missing = extracted - set(messages)
    assert not missing, f"{code}: messages of the code missing from the catalog ({RUN_MAKE}): {sorted(missing)}"
    unused = set(messages) - extracted
    assert not unused, f"{code}: catalog messages the code no longer uses ({RUN_MAKE}): {sorted(unused)}"
    untranslated = [m.id for m in messages.values() if not all(forms(m)) or m.fuzzy]
    assert not untranslated, f"{code}: untranslated or fuzzy: {untranslated}"
    expected_forms = 3 if code == "ru" else 2
    for message in messages.values():
        if isinstance(message.id, tuple):
            assert len(forms(message)) == expected_forms, message.id


@pytest.mark.parametrize("code", i18n.LOCALES)
def test_translations_keep_placeholders_and_add_no_markup(code):
    for message in catalog(code):
        if not message.id:
            continue
        wanted = set(PLACEHOLDER.findall(" ".join(ids(message))))
        for text in forms(message):
            assert set(PLACEHOLDER.findall(text)) == wanted, (message.id, text)
            for char in '<>"&':  # templates insert translations unescaped, some inside attributes
                assert text.count(char) <= " ".join(ids(message)).count(char), (message.id, text)


@pytest.mark.parametrize("code", i18n.LOCALES)
def test_compiled_catalog_matches_the_po_file(code):
    with open(ROOT / "translations" / code / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = gettext.GNUTranslations(f)
    for message in catalog(code):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            for n, text in ((1, forms(message)[0]), (5, forms(message)[-1])):
                assert compiled.ngettext(*message.id, n) == text, f"{message.id}: stale .mo, {RUN_MAKE}"
        else:
            assert compiled.gettext(message.id) == message.string, f"{message.id}: stale .mo, {RUN_MAKE}"


# --- literal English in templates ---------------------------------------------------------------------

class _Literals(html.parser.HTMLParser):
    """Collects text nodes and accessible-name attributes that still hold letters."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if (name in NAMED_ATTRIBUTES or (name == "value" and tag == "input")) and _has_words(value):
                self.found.append(f'<{tag} {name}="{value}">')

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and _has_words(data):
            self.found.append(data.strip())


def _has_words(text):
    return bool(text and re.search(r"[A-Za-z]", text.replace("\x00", " ")))


class _Blank(jinja2.ChainableUndefined):
    """Every variable of the page: renders as a blank, can be called, is true (so ``{% if %}`` bodies render)."""

    def __str__(self):
        return "\x00"

    def __call__(self, *args, **kwargs):
        return self

    def __bool__(self):
        return True

    def __iter__(self):
        return iter(())


def _blanking_env(loader):
    """Templates rendered with every expression and every translated message as a blank."""
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=_Blank, extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(lambda *a: "\x00", lambda *a: "\x00", newstyle=True)
    env.policies["json.dumps_function"] = lambda *a, **k: "\x00"
    return env


def literal_text(name, loader=None):
    """What a page writes literally, blocks of the templates it extends included."""
    env = _blanking_env(loader or jinja2.FileSystemLoader(str(ROOT / "templates")))
    parser = _Literals()
    parser.feed(env.get_template(name).render())
    parser.close()
    return parser.found


def test_the_literal_check_sees_english():
    pages = jinja2.DictLoader({
        "base": '<title>{% block title %}{% endblock %}</title><body class="{% block cls %}{% endblock %}">',
        "bad": '{% extends "base" %}{% block title %}Hi{% endblock %}{% block cls %}wide{% endblock %}',
        "text": '<p class="x">Hello {{ name }}</p>{% if user.admin %}<a>Admin</a>{% endif %}',
        "label": '<button aria-label="Close">✕</button>',
        "good": '{% extends "base" %}{% block title %}{{ _("Hi") }}{% endblock %}{% block cls %}wide{% endblock %}'
                '<p>{% trans n=1 %}Hi {{ n }}{% endtrans %}</p><input placeholder="{{ _("Find") }}">'
                '<script>let a = "b";</script>{{ data|tojson }}',
    })
    assert literal_text("bad", pages) == ["Hi"]
    assert literal_text("text", pages) == ["Hello \x00", "Admin"]
    assert literal_text("label", pages) == ['<button aria-label="Close">']
    assert literal_text("good", pages) == []


@pytest.mark.parametrize("path", sorted((ROOT / "templates").glob("*.html")), ids=lambda p: p.name)
def test_templates_show_no_literal_english(path):
    found = literal_text(path.name)
    assert not found, f"{path.name}: text outside {{% trans %}} / _(): {found}"


def test_every_page_names_its_language():
    """The browser half reads ``document.documentElement.lang`` to pick its catalog."""
    assert '<html lang="{{ locale }}">' in (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    for path in (ROOT / "templates").glob("*.html"):
        if path.name != "base.html":
            assert path.read_text(encoding="utf-8").startswith('{% extends "base.html" %}'), path.name
