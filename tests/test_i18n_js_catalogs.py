"""The browser's string catalogs (static/i18n/*.json) are complete, used, and the only source of words.

No server needed: these read the files.  ``codes.*`` keys translate the human
texts of static/close-codes.json, whose English is the source (the English
catalog has none of them); the plural forms are exercised in a real browser by
tests/test_browser_i18n.py.
"""
import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
JS = ROOT / "static" / "js"
LANGS = ("en", "ru")
PLURAL_FORMS = {"en": {"one", "other"}, "ru": {"one", "few", "many", "other"}}

# Literals that look like words but are not shown to anyone: key names, DOM types, HTTP and API values.
ALLOWED = {
    "Enter", "Escape", "Tab", "ArrowDown", "ArrowUp", "Files", "Notification", "SecurityError", "AbortError",
    "Bearer", "Corporate Messenger API", "X-XSRFToken", "Content-Type", "Accept", "Authorization",
    "not authenticated",  # the start of a server close reason, compared with
    "diagnostics page closed it",  # a close reason this page sends
    'new WebSocket("${ctx.wsDisplay}")',  # JavaScript, shown as such in the event log
}
# Lines that never reach the page's words: comments, imports and the developer console.
SKIPPED_LINE = re.compile(r"^\s*(//|\*|/\*\*|import )|console\.(warn|error|log)")
LITERAL = re.compile(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"|`((?:[^`\\]|\\.)*)`")
PROSE = re.compile(r"[A-Za-z]{2,}[,.:;!?…]?\s+\(?[A-Za-z]|^[A-Z][a-z]+[.…:!?]?$|[a-z]{2,}[.…!?]$")


def catalog(lang):
    return json.loads((ROOT / "static" / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def modules():
    return sorted(p for p in JS.glob("*.js") if p.name != "i18n.js")


def code_texts():
    """The dotted paths of every human text in close-codes.json: its translation keys, less ``codes.``."""
    table = json.loads((ROOT / "static" / "close-codes.json").read_text(encoding="utf-8"))

    def walk(node, path):
        if isinstance(node, str):
            yield ".".join(path)
        elif isinstance(node, dict):
            for key, value in node.items():
                yield from walk(value, [*path, key])
        else:
            for i, value in enumerate(node):
                yield from walk(value, [*path, str(i)])
    return {p for section in ("close_codes", "token_errors") for p in walk(table[section], [section])}


def used_keys(pattern=r"\bt\('([\w.-]+)'"):
    used = set()
    for path in modules() + [JS / "i18n.js"]:
        used |= set(re.findall(pattern, path.read_text(encoding="utf-8")))
    return used


def prose_literals(path):
    """(line number, literal) for each string literal of ``path`` that reads as English words."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if SKIPPED_LINE.search(line):
            continue
        line = re.sub(r"\s// .*$", "", line)  # a comment after the code
        for match in LITERAL.finditer(line):
            text = next(g for g in match.groups() if g is not None)
            bare = re.sub(r"\$\{[^}]*\}", " ", text).strip()
            before = line[:match.start()]
            if text in ALLOWED or bare in ALLOWED or text.startswith("/") or re.search(r"\bt\($", before):
                continue
            if re.search(r"(className|rel|type|role)\s*[:=]\s*$|\.close\([^)]*$", before) or text.lstrip().startswith("<"):
                continue
            if PROSE.search(bare):
                found.append((number, text))
    return found


def test_every_key_is_in_both_languages():
    en, ru = catalog("en"), catalog("ru")
    shared_ru = {k for k in ru if not k.startswith("codes.")}
    assert sorted(set(en) - shared_ru) == [], "missing in ru.json"
    assert sorted(shared_ru - set(en)) == [], "missing in en.json"
    assert not [k for k in en if k.startswith("codes.")], "close-codes.json is the English of codes.*"


def test_every_close_code_text_is_translated_and_no_other():
    ru_codes = {k[len("codes."):] for k in catalog("ru") if k.startswith("codes.")}
    assert sorted(code_texts() - ru_codes) == [], "close-codes.json texts without a Russian translation"
    assert sorted(ru_codes - code_texts()) == [], "codes.* keys that close-codes.json does not have"


def test_every_key_is_used_by_some_module():
    """Used: named in a module, as t('key') or as a quoted key picked at run time (t(busy ? 'a' : 'b'))."""
    assert sorted(set(catalog("en")) - used_keys(r"'([a-z]+\.[\w.]+)'")) == []


def test_every_key_used_exists():
    assert sorted(used_keys() - set(catalog("en"))) == []


@pytest.mark.parametrize("lang", LANGS)
def test_values_are_text_with_the_same_placeholders(lang):
    en, other = catalog("en"), catalog(lang)
    for key, value in other.items():
        forms = value if isinstance(value, dict) else {"other": value}
        assert all(isinstance(v, str) and v.strip() for v in forms.values()), key
        if isinstance(value, dict):
            assert set(value) == PLURAL_FORMS[lang], f"{key}: plural forms of {lang}"
        if key in en:
            english = en[key] if isinstance(en[key], dict) else {"other": en[key]}
            wanted = set(re.findall(r"\{\w+\}", english["other"]))
            for form, text in forms.items():
                assert set(re.findall(r"\{\w+\}", text)) <= wanted | {"{count}"}, f"{lang} {key} {form}"


def test_russian_is_russian():
    """A value left in English would pass every other test: each Russian text has Cyrillic letters."""
    untranslated = [k for k, v in catalog("ru").items()
                    if not re.search("[А-Яа-яЁё]", json.dumps(v, ensure_ascii=False)) and k not in RU_SAME]
    assert untranslated == []


RU_SAME = {"language.en"}  # the language's own name


def test_no_english_words_outside_the_catalog():
    leaks = [f"{p.name}:{n}: {text!r}" for p in modules() for n, text in prose_literals(p)]
    assert leaks == [], "put these in static/i18n/*.json and show them with t()"


def test_the_extractor_finds_literal_words(tmp_path):
    """The check above can fail: it sees text in the usual places and ignores code words."""
    sample = tmp_path / "sample.js"
    sample.write_text("\n".join([
        "node.textContent = 'Connection lost.';",
        "h('button', { type: 'button', 'aria-label': `Remove ${name}` }, 'Retry');",
        "input.placeholder = 'Search messages';",
        "if (event.key === 'Escape') close();",
        "node.textContent = t('banner.lost');",
        "const kind = 'direct';",
    ]), encoding="utf-8")
    assert [text for _, text in prose_literals(sample)] == ["Connection lost.", "Remove ${name}", "Retry",
                                                            "Search messages"]
