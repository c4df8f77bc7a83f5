"""The one error type domain functions raise; handlers turn it into JSON or an error frame."""


class AppError(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def as_dict(self):
        return {"code": self.code, "message": self.message, **self.extra}


def bad_request(code, message, **extra):
    """400: the request itself is malformed (not JSON, bad query string, unknown frame type)."""
    return AppError(400, code, message, **extra)


def invalid(code, message, **extra):
    """422: well-formed, but a field's value is missing, mistyped or out of range."""
    return AppError(422, code, message, **extra)


def not_found(what, ident):
    return AppError(404, f"{what}_not_found", f"{what.capitalize()} {ident} does not exist")


def forbidden(code, message):
    return AppError(403, code, message)
