"""Keep the translation catalogs in step with the code: ``make translations`` runs this.

1. Extract every marked message into ``messages.pot``: ``N_()``/``NP_()`` (and
   gettext's usual names) in handlers/, models/, cli/, jobs/ and server.py, ``{% trans %}``
   and ``_()`` in templates/, the texts of ``static/close-codes.json`` (causes
   and fixes the doctor prints).
2. Update ``<code>/LC_MESSAGES/messages.po`` for each language from it: new
   messages arrive untranslated (English copies its message ids), messages the
   code no longer has are dropped.
3. Compile the ``.mo`` files the server loads (committed: the server and the
   binary need no Babel).

Needs Babel (the test extras).  ``tests/test_i18n.py`` calls ``extract()`` to
fail when the catalogs lag behind the code or a translation is missing.
"""
import copy
import datetime
import json
import pathlib
import sys

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = pathlib.Path(__file__).resolve().parent.parent
FOLDER = ROOT / "translations"
LOCALES = ("en", "ru")
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "NP_": (1, 2)}


def extract_explanations(fileobj, keywords, comment_tags, options):
    """Babel extractor for ``static/close-codes.json``: its texts, which the doctor prints in the reader's language."""
    def texts(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key != "_about":
                    yield from texts(item)
        elif isinstance(value, list):
            for item in value:
                yield from texts(item)
        elif isinstance(value, str):
            yield value
    for text in texts(json.load(fileobj)):
        yield 0, None, text, []


METHODS = [*((f"{package}/**.py", "python") for package in ("handlers", "models", "cli", "jobs")), ("server.py", "python"),
           ("templates/**.html", "jinja2"), ("static/close-codes.json", extract_explanations)]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "silent": "false"}}
VERSION = "1.0"
STAMP = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)  # fixed dates: no churn in the files


def extract():
    """A fresh catalog template of every marked message in the code and the templates."""
    template = Catalog(project="Corporate Messenger", version=VERSION, copyright_holder=None,
                       creation_date=STAMP, revision_date=STAMP, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), METHODS, OPTIONS, KEYWORDS, comment_tags=("Translators:",), strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def po_path(code):
    return FOLDER / code / "LC_MESSAGES" / "messages.po"


def read(code):
    with open(po_path(code), "rb") as f:
        return read_po(f, locale=code)


def update():
    template = extract()
    with open(FOLDER / "messages.pot", "wb") as f:
        write_po(f, template, include_lineno=False, width=100)
    for code in LOCALES:
        path = po_path(code)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = read(code) if path.exists() else Catalog(
            locale=code, project=template.project, copyright_holder=None, creation_date=STAMP, fuzzy=False)
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True, update_creation_date=False)
        catalog.revision_date = STAMP
        if code == "en":
            for message in catalog:
                if message.id and not any(message.string if isinstance(message.string, tuple)
                                          else [message.string]):
                    message.string = message.id
        with open(path, "wb") as f:
            write_po(f, catalog, include_lineno=False, ignore_obsolete=True, width=100)
        with open(path.with_suffix(".mo"), "wb") as f:
            write_mo(f, catalog)
        untranslated = [m.id for m in catalog if m.id and not all(
            m.string if isinstance(m.string, tuple) else [m.string])]
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages, {len(untranslated)} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(update())
