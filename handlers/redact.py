"""Redaction, in one place: how much of a secret a log line, a URI or a report may show.

Tokens are cut to their first 20 characters (enough to tell two apart, never
enough to use); passwords and refresh tokens are replaced entirely.
"""
import re

SHOWN = 20
MAX_LOGGED_URI = 300
_TOKEN_IN_URI = re.compile(r"(token=)([^&\s]{0,%d})[^&\s]*" % SHOWN)
_REDACTIONS = [
    (re.compile(r"(eyJ[A-Za-z0-9_-]{%d})[A-Za-z0-9_.-]*" % (SHOWN - 3)), r"\1..."),  # JWTs beyond 20 chars
    (re.compile(r"(?i)(password[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"), r"\1***"),
    (re.compile(r"(?i)(refresh_token[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"), r"\1***"),
]


def preview(secret):
    """The first 20 characters and "..."; a short value shows only its first half."""
    return secret[:SHOWN] + "..." if len(secret) > SHOWN + 4 else secret[:len(secret) // 2] + "..."


def redact_uri(uri):
    """Cut ``token=`` values in a URI to their first 20 characters."""
    return _TOKEN_IN_URI.sub(lambda m: m.group(1) + m.group(2) + "...", uri)


def loggable_uri(uri):
    """A URI for the access log: tokens cut, and the whole cut short (a huge URL must not bloat the log)."""
    uri = redact_uri(uri)
    return uri if len(uri) <= MAX_LOGGED_URI else f"{uri[:MAX_LOGGED_URI]}...({len(uri)} characters)"


def redact(text):
    """Any text (a whole log line, tracebacks included) with JWTs cut and passwords hidden."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text
