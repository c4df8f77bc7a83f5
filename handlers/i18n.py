"""English and Russian: the compiled catalogs, choosing a language per request, rendering in it.

The catalogs are ``translations/<code>/LC_MESSAGES/messages.mo``, compiled from
the ``.po`` files by ``make translations`` and committed (so neither the server
nor the binary needs Babel).  Tornado's ``tornado.locale`` loads them; a
request's language is, in order: the user's saved locale, the ``cm_locale``
cookie (the login page's switch; every page a signed-in user opens keeps it at
the saved locale, see ``keep_users_choice``), the best ``Accept-Language`` entry (q-values
honoured, ``ru-RU`` counts as ``ru``), else English.
"""
import jinja2
import tornado.locale

from handlers.bundle import resource
from models.i18n import render
from models.users import LOCALES

DEFAULT = "en"
NAMES = {"en": "English", "ru": "Русский"}  # each language in its own words, for language switches
COOKIE = "cm_locale"
DOMAIN = "messages"
CLOSE_REASON_BYTES = 123  # the most a WebSocket close frame can carry after its 2-byte code

tornado.locale.load_gettext_translations(resource("translations"), DOMAIN)
tornado.locale.set_default_locale(DEFAULT)


def get(code):
    """The ``tornado.locale.Locale`` for ``code`` (English for anything unsupported)."""
    return tornado.locale.get(code if code in LOCALES else DEFAULT)


def chosen(handler, user=None):
    """The user's saved locale, else the ``cm_locale`` cookie, else None (Accept-Language decides)."""
    for code in ((user or {}).get("locale"), handler.get_cookie(COOKIE)):
        if code in LOCALES:
            return get(code)
    return None


def for_request(handler, user=None):
    """The language to answer ``handler``'s request in: ``chosen`` else its ``Accept-Language``."""
    return chosen(handler, user) or handler.get_browser_locale(DEFAULT)


def remember(handler, code):
    """Keep ``code`` in the ``cm_locale`` cookie for a year."""
    handler.set_cookie(COOKIE, code, expires_days=365, samesite="Lax", secure=handler.request.protocol == "https")


def keep_users_choice(handler, user):
    """Put a signed-in user's saved locale in the cookie too: pages that never look the session up
    (/diagnostics, error pages) then speak the user's language whatever ``Accept-Language`` says."""
    code = (user or {}).get("locale")
    if code in LOCALES and handler.get_cookie(COOKIE) != code:
        remember(handler, code)


def close_reason(message, locale):
    """A close reason in ``locale``'s language, cut on a character boundary to fit the close frame."""
    data = render(message, locale).encode("utf-8")[:CLOSE_REASON_BYTES]
    return data.decode("utf-8", "ignore")


@jinja2.pass_context
def _gettext(context, message):
    return get(context.get("locale")).translate(message)


@jinja2.pass_context
def _ngettext(context, singular, plural, num):
    return get(context.get("locale")).translate(singular, plural, num)


def install(env):
    """Give a Jinja2 environment ``{% trans %}``, ``_()`` and ``ngettext()`` in the page's ``locale``."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    return env
