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


MAX_ID = 2 ** 31 - 1  # ids are 32-bit integers in every supported database


def check_id(value, field):
    """An id from a body or frame: an int (not a bool) within the database's range."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise invalid("invalid_field", f"{field} must be an integer id", field=field)
    return value


def clean_string(value, field, max_length):
    """A trimmed, non-empty string without NUL characters (PostgreSQL cannot store them)."""
    if not isinstance(value, str):
        raise invalid("invalid_field", f"{field} must be a string", field=field)
    value = value.strip()
    if "\x00" in value:
        raise invalid("invalid_field", f"{field} must not contain NUL characters", field=field)
    if len(value) > max_length:
        raise invalid(f"{field}_too_long", f"{field} must be at most {max_length} characters", field=field)
    return value


def not_found(what, ident):
    return AppError(404, f"{what}_not_found", f"{what.capitalize()} {ident} does not exist")


def forbidden(code, message):
    return AppError(403, code, message)
