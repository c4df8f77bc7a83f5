"""Words for people, marked for translation here and put into the reader's language later.

Domain code cannot know who will read an error (a REST caller, every tab of a
user, an operator's terminal), so it raises ``AppError(..., N_("..."))``: a
``Text`` keeping the English message id and its parameters.  The one error
path (``handlers.base.error_body``) renders it with the caller's catalog
(``handlers/i18n.py``).  ``str()`` gives English, so logs stay English.

Parameters use ``%(name)s`` placeholders; ``NP_`` picks a plural form by ``num``.
``translations/catalogs.py`` extracts ``N_`` and ``NP_`` calls into the catalogs.
"""


class Text(str):
    """A message id, its plural id (or None) and its parameters; as a ``str`` it is the English text.

    Being a ``str`` lets a marked message go wherever a string goes (log lines,
    ``HTTPError`` messages, comparisons); only ``render`` changes its language.
    """

    def __new__(cls, msgid, plural=None, **params):
        self = super().__new__(cls, _fill(msgid if plural is None or params["num"] == 1 else plural, params))
        self.msgid, self.plural, self.params = msgid, plural, params
        return self

    def fill(self, **params):
        """This message with its ``%(name)s`` placeholders given (a template kept as a constant, filled
        where it is used)."""
        return Text(self.msgid, self.plural, **params)

    def render(self, translations=None):
        """The message in the language of ``translations`` (a ``gettext``-like catalog), English without one."""
        if translations is None:
            return str(self)
        params = {k: render(v, translations) if isinstance(v, Text) else v for k, v in self.params.items()}
        if self.plural is None:
            return _fill(translations.gettext(self.msgid), params)
        return _fill(translations.ngettext(self.msgid, self.plural, self.params["num"]), params)


def _fill(template, params):
    return template % params if params else template


def N_(msgid, **params):
    """Mark ``msgid`` for translation; rendered later in the reader's language."""
    return Text(msgid, **params)


def NP_(singular, plural, num, **params):
    """Mark a message with plural forms, chosen by ``num`` (also available as ``%(num)d``)."""
    return Text(singular, plural, num=num, **params)


def render(message, translations=None):
    """``message`` in the language of ``translations`` (English without one).

    A plain string is looked up as a message id: a marked message that lost its
    parameters on the way (a close reason sent between processes as JSON) is
    still translated; any other string comes back as it is.
    """
    if isinstance(message, Text):
        return message.render(translations)
    text = str(message)
    return translations.gettext(text) if translations and text else text
