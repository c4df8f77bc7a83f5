"""XSRF tokens bound to the browser session.

Tornado's own token is a random value checked against the ``_xsrf`` cookie, so
anyone who can plant a cookie for the host (a sibling subdomain, a network on
plain http) can pass it.  Here the token is an HMAC of the session id (from the
signed session cookie; empty before login) under the server secret: it cannot
be made up, and one taken from another session does not match.  It is masked
afresh for every response, so compressed pages do not give it away (BREACH).
The ``_xsrf`` cookie only carries it to the page's scripts.
"""
import binascii
import hashlib
import hmac
import os

COOKIE = "_xsrf"
_SIZE = 16


def _raw(secret, binding):
    return hmac.new(secret.encode(), b"xsrf|" + binding.encode(), hashlib.sha256).digest()[:_SIZE]


def issue(secret, binding):
    """A fresh masked token for the session ``binding``."""
    mask = os.urandom(_SIZE)
    masked = bytes(a ^ b for a, b in zip(_raw(secret, binding), mask))
    return (binascii.hexlify(mask) + binascii.hexlify(masked)).decode()


def matches(secret, binding, token):
    """True when ``token`` (as issued, in any masking) belongs to ``binding``."""
    if not isinstance(token, str) or len(token) != 4 * _SIZE:
        return False
    try:
        mask, masked = binascii.unhexlify(token[:2 * _SIZE]), binascii.unhexlify(token[2 * _SIZE:])
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(bytes(a ^ b for a, b in zip(masked, mask)), _raw(secret, binding))
