"""Checks for values that arrive in request bodies and frames; each raises a 422 ``AppError``."""
import unicodedata

from models.errors import invalid
from models.i18n import N_

MAX_ID = 2 ** 31 - 1  # ids are 32-bit integers in every supported database


def check_id(value, field):
    """An id from a body or frame: an int (not a bool) within the database's range."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise invalid("invalid_field", N_("%(field)s must be an integer id", field=field), field=field)
    return value


def clean_string(value, field, max_length):
    """A trimmed string of at most ``max_length`` characters, without NUL (PostgreSQL cannot store it)."""
    if not isinstance(value, str):
        raise invalid("invalid_field", N_("%(field)s must be a string", field=field), field=field)
    value = value.strip()
    if "\x00" in value:
        raise invalid("invalid_field", N_("%(field)s must not contain NUL characters", field=field),
                      field=field)
    if len(value) > max_length:
        raise invalid(f"{field}_too_long", N_("%(field)s must be at most %(max)s characters",
                                                  field=field, max=max_length), field=field)
    return value


def clean_line(value, field, max_length):
    """:func:`clean_string` for one line of text shown to others (a name, a topic, a status): no control
    characters at all (newlines, tabs, escapes)."""
    value = clean_string(value, field, max_length)
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise invalid("invalid_field", N_("%(field)s must not contain control characters", field=field),
                      field=field)
    return value


def clean_ids(ids, field):
    """A list of ids (each checked like :func:`check_id`)."""
    if not isinstance(ids, list):
        raise invalid("invalid_field", N_("%(field)s must be a list of user ids", field=field), field=field)
    return [check_id(i, field) for i in ids]
