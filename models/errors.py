"""The one error type domain functions raise; handlers turn it into JSON or an error frame.

``message`` is a ``models.i18n.Text`` (``N_("...")``) so that the error path can
render it in the reader's language; ``code`` stays English and stable.
"""
from models.i18n import N_, Text, render


class AppError(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(str(message))
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def as_dict(self, locale=None):
        """``{"code", "message", ...}`` with the message in ``locale``'s language (English without one)."""
        return {"code": self.code, "message": render(self.message, locale), **self.extra}


def bad_request(code, message, **extra):
    """400: the request itself is malformed (not JSON, bad query string, unknown frame type)."""
    return AppError(400, code, message, **extra)


def invalid(code, message, **extra):
    """422: well-formed, but a field's value is missing, mistyped or out of range."""
    return AppError(422, code, message, **extra)


_NOT_FOUND = {
    "avatar": N_("User %(id)s has no avatar"),
    "chat": N_("Chat %(id)s does not exist"),
    "file": N_("File %(id)s does not exist"),
    "member": N_("Member %(id)s does not exist"),
    "message": N_("Message %(id)s does not exist"),
    "thumbnail": N_("Thumbnail %(id)s does not exist"),
    "user": N_("User %(id)s does not exist"),
}


def not_found(what, ident):
    return AppError(404, f"{what}_not_found", Text(_NOT_FOUND[what].msgid, id=ident))


def forbidden(code, message):
    return AppError(403, code, message)
