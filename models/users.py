"""Users and sessions: password hashing, tokens, authentication, admin actions."""
import datetime
import functools
import hashlib
import re
import secrets
import time
import uuid
import zoneinfo

import argon2
import jwt
import peewee

from models.clock import iso, utcnow
from models.db import BaseModel, db
from models.errors import AppError, invalid, not_found
from models.i18n import N_
from models.validate import clean_line, clean_string

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 8
LOCALES = ("en", "ru")  # the languages the catalogs in translations/ hold
ROTATION_GRACE = datetime.timedelta(seconds=30)
DEACTIVATED = N_("This account has been deactivated")
_hasher = argon2.PasswordHasher()  # argon2id with the library's recommended cost
_DUMMY_HASH = _hasher.hash("timing-equaliser")
TOKEN_EXPIRED = N_("Token expired: log in again")
MAX_EMAIL = 254  # RFC 5321's longest forward path
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")  # plausible, not proof: one '@', something on each side, no spaces
MAX_TIMEZONE = 64
MAX_VERIFIED = 10_000  # access tokens (about 1 KiB each) remembered as verified (see decode_access_token); then it starts afresh
_verified = {}  # (secret, token) -> claims


class User(BaseModel):
    username = peewee.CharField(max_length=32, unique=True)
    display_name = peewee.CharField(max_length=64)
    password_hash = peewee.CharField(max_length=255)
    is_admin = peewee.BooleanField(default=False)
    is_active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)
    last_seen_at = peewee.DateTimeField(null=True)
    locale = peewee.CharField(max_length=8, null=True)  # the language the user chose; None: the browser's
    status_text = peewee.CharField(max_length=100, default="")
    status_emoji = peewee.CharField(max_length=16, default="")
    avatar_key = peewee.CharField(max_length=16, null=True)  # None: no avatar; new with each one (``profiles.py``)
    email = peewee.CharField(max_length=MAX_EMAIL, null=True)  # unique ignoring case (index in migration 0018)
    timezone = peewee.CharField(max_length=MAX_TIMEZONE, null=True)  # an IANA name; None: not known

    class Meta:
        table_name = "users"


class Session(BaseModel):
    """One login: the refresh token (stored hashed) and its revocation."""
    user = peewee.ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    refresh_hash = peewee.CharField(max_length=64, unique=True)
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField()
    revoked_at = peewee.DateTimeField(null=True)
    user_agent = peewee.CharField(max_length=255, default="")
    previous_refresh_hash = peewee.CharField(max_length=64, null=True, index=True)
    rotated_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "sessions"


# The columns ``person_dict`` takes, in its order, for queries that read users as plain rows.
PERSON_COLUMNS = ("id", "username", "display_name", "is_admin", "is_active", "last_seen_at", "status_text",
                  "status_emoji", "avatar_key", "email", "timezone")


def user_dict(user):
    return person_dict(*(getattr(user, column) for column in PERSON_COLUMNS))


def person_dict(user_id, username, display_name, is_admin, is_active, last_seen_at, status_text, status_emoji,
                avatar_key, email, timezone):
    """The wire form of a user from its columns (plain rows; SQLite gives booleans as 0 and 1)."""
    return {
        "id": user_id,
        "username": username,
        "display_name": display_name,
        "is_admin": bool(is_admin),
        "is_active": bool(is_active),
        "last_seen_at": iso(last_seen_at),
        "status_text": status_text,
        "status_emoji": status_emoji,
        "avatar_url": avatar_url(user_id, avatar_key),
        "email": email,
        "timezone": timezone,
    }


def avatar_url(user_id, avatar_key):
    """Where the avatar is served; the key changes with every new avatar, so a cached one is never stale."""
    return f"/api/users/{user_id}/avatar?v={avatar_key}" if avatar_key else None


# --- passwords --------------------------------------------------------------

def hash_password(password):
    return _hasher.hash(password)


def verify_password(password_hash, password):
    """Constant-cost check; a missing user is verified against a dummy hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except argon2.exceptions.VerificationError:
        return False
    except argon2.exceptions.InvalidHashError:
        return False


def normalise_username(username):
    """The one spelling of a username that creation, login lookup and the login throttle all use."""
    return username.strip().lower() if isinstance(username, str) else ""


def validate_username(username):
    username = normalise_username(username)
    if not USERNAME_RE.match(username):
        raise invalid("invalid_username",
                      N_("Username must be 2-32 characters: lowercase letters, digits, '.', '_' or '-'"))
    return username


def validate_password(password):
    if not isinstance(password, str) or len(password) < MIN_PASSWORD or len(password) > 256:
        raise invalid("weak_password", N_("Password must be %(min)s-256 characters", min=MIN_PASSWORD))
    return password


def clean_email(value):
    """A trimmed plausible address, or None (null or blank clears it)."""
    if value is None:
        return None
    email = clean_line(value, "email", MAX_EMAIL)
    if not email:
        return None
    if not EMAIL_RE.match(email):
        raise invalid("invalid_email", N_("email must look like name@example.com"), field="email")
    return email


def check_email_free(email, user_id=None):
    """409 when another user already has ``email`` (compared ignoring case, by the database on both sides)."""
    if email is None:
        return
    taken = User.select(User.id).where(peewee.fn.LOWER(User.email) == peewee.fn.LOWER(email))
    if user_id is not None:
        taken = taken.where(User.id != user_id)
    if taken.exists():
        raise email_taken(email)


def email_taken(email):
    return AppError(409, "email_taken", N_("Email '%(email)s' is already used by another account", email=email),
                    field="email")


def clean_timezone(value):
    """An IANA time zone name (``Europe/Moscow``), or None to forget it."""
    if value is None:
        return None
    if not isinstance(value, str) or value not in _timezones():
        raise invalid("invalid_timezone", N_("timezone must be an IANA time zone name such as Europe/Berlin, or null"),
                      field="timezone")
    return value


@functools.lru_cache(maxsize=1)
def _timezones():
    return frozenset(zoneinfo.available_timezones())


# --- accounts -----------------------------------------------------------------

def find_login_candidate(username):
    """The stored hash and state for a login attempt (None when unknown)."""
    username = normalise_username(username)
    if not USERNAME_RE.match(username):
        return None
    user = User.get_or_none(User.username == username)
    if user is None:
        return None
    return {"id": user.id, "username": user.username, "password_hash": user.password_hash,
            "is_active": user.is_active, "locale": user.locale}


def create_user(username, password_hash, display_name=None, is_admin=False, email=None):
    username = validate_username(username)
    display_name = clean_string(display_name or username, "display_name", 64) or username
    email = clean_email(email)
    check_email_free(email)
    try:
        with db.atomic():
            user = User.create(username=username, display_name=display_name,
                               password_hash=password_hash, is_admin=bool(is_admin), email=email)
    except peewee.IntegrityError:  # a race with another process: the unique indexes decide
        if email is not None and User.select().where(peewee.fn.LOWER(User.email) == peewee.fn.LOWER(email)).exists():
            raise email_taken(email)
        raise AppError(409, "username_taken", N_("Username '%(name)s' is already taken", name=username))
    return user_dict(user)


def get_user(user_id):
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise not_found("user", user_id)
    return user_dict(user)


def search_users(query, limit=20):
    users = User.select().where(User.is_active == True)  # noqa: E712
    query = (query or "").replace("\x00", "").strip().lower()
    if query:
        pattern = f"%{query}%"
        users = users.where(User.username ** pattern | User.display_name ** pattern)
    return [user_dict(u) for u in users.order_by(User.username).limit(limit)]


def list_all_users():
    return [user_dict(u) for u in User.select().order_by(User.username)]


def update_user(user_id, display_name=None, is_admin=None):
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise not_found("user", user_id)
    if display_name is not None:
        user.display_name = clean_string(display_name, "display_name", 64) or user.username
    if is_admin is not None:
        user.is_admin = bool(is_admin)
    user.save()
    return user_dict(user)


def check_locale(locale):
    if locale is not None and locale not in LOCALES:
        raise invalid("invalid_field", N_("locale must be one of %(choices)s, or null",
                                          choices=", ".join(LOCALES)), field="locale")
    return locale


def set_locale(user_id, locale):
    """Save the user's language (one of ``LOCALES``), or forget it with None."""
    User.update(locale=check_locale(locale)).where(User.id == user_id).execute()


def set_password(user_id, password_hash):
    """Reset a password and end every session of that user."""
    if User.update(password_hash=password_hash).where(User.id == user_id).execute() == 0:
        raise not_found("user", user_id)
    revoke_all_sessions(user_id)
    return get_user(user_id)


def password_hash_of(user_id):
    return User.select(User.password_hash).where(User.id == user_id).scalar()


def change_password(user_id, password_hash, keep_session_id):
    """The user changed their own password: every session but the one they did it from ends."""
    User.update(password_hash=password_hash).where(User.id == user_id).execute()
    revoke_other_sessions(user_id, keep_session_id)


def set_active(user_id, active):
    if User.update(is_active=bool(active)).where(User.id == user_id).execute() == 0:
        raise not_found("user", user_id)
    if not active:
        revoke_all_sessions(user_id)
    return get_user(user_id)


def touch_last_seen(user_id):
    User.update(last_seen_at=utcnow()).where(User.id == user_id).execute()


def demo_password_in_use(username, password):
    user = User.get_or_none(User.username == username)
    return user is not None and user.is_active and verify_password(user.password_hash, password)


# --- sessions and tokens ----------------------------------------------------------

def _hash_refresh(token):
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user_id, user_agent, refresh_ttl):
    refresh = secrets.token_urlsafe(32)
    session = Session.create(user=user_id, refresh_hash=_hash_refresh(refresh),
                             expires_at=utcnow() + datetime.timedelta(seconds=refresh_ttl),
                             user_agent=(user_agent or "")[:255])
    return {"session_id": session.id, "refresh_token": refresh, "user": get_user(user_id)}


def rotate_session(refresh_token, refresh_ttl):
    """Trade a refresh token for a new one; the old one stops working.

    The token replaced within the last ``ROTATION_GRACE`` still gets an access
    token (two tabs refreshing at once), but no new refresh token:
    ``refresh_token`` is None then and the caller keeps the current one.
    """
    if not isinstance(refresh_token, str) or not refresh_token:
        raise AppError(401, "invalid_refresh_token", N_("Refresh token missing"))
    hashed = _hash_refresh(refresh_token)
    session = (Session.select(Session, User).join(User)
               .where((Session.refresh_hash == hashed) | (Session.previous_refresh_hash == hashed)).first())
    if session is None or session.revoked_at is not None or session.expires_at < utcnow():
        raise AppError(401, "invalid_refresh_token", N_("Refresh token is unknown, expired or revoked"))
    if not session.user.is_active:
        raise AppError(401, "user_deactivated", DEACTIVATED)
    if session.refresh_hash != hashed:
        if session.rotated_at is None or utcnow() - session.rotated_at > ROTATION_GRACE:
            raise AppError(401, "invalid_refresh_token", N_("Refresh token was already used"))
        return {"session_id": session.id, "refresh_token": None, "user": user_dict(session.user)}
    refresh = secrets.token_urlsafe(32)
    session.previous_refresh_hash, session.refresh_hash = hashed, _hash_refresh(refresh)
    session.rotated_at = utcnow()
    session.expires_at = session.rotated_at + datetime.timedelta(seconds=refresh_ttl)
    session.save()
    return {"session_id": session.id, "refresh_token": refresh, "user": user_dict(session.user)}


def session_for_refresh_token(refresh_token):
    """The user behind a browser session cookie, without rotating it."""
    session = (Session.select(Session, User).join(User)
               .where(Session.refresh_hash == _hash_refresh(refresh_token or "")).first())
    if session is None or session.expires_at < utcnow():
        raise AppError(401, "session_invalid", N_("Session cookie is unknown or expired"))
    return _check_session(session)


def revoke_session(session_id):
    Session.update(revoked_at=utcnow()).where(
        (Session.id == session_id) & Session.revoked_at.is_null()).execute()


def revoke_all_sessions(user_id):
    Session.update(revoked_at=utcnow()).where(
        (Session.user == user_id) & Session.revoked_at.is_null()).execute()


def revoke_other_sessions(user_id, keep_session_id):
    Session.update(revoked_at=utcnow()).where(
        (Session.user == user_id) & (Session.id != keep_session_id) & Session.revoked_at.is_null()).execute()


def issue_access_token(secret, user_id, session_id, ttl):
    now = datetime.datetime.now(datetime.timezone.utc)
    claims = {"sub": str(user_id), "sid": session_id, "jti": uuid.uuid4().hex,
              "iat": now, "exp": now + datetime.timedelta(seconds=ttl), "typ": "access"}
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_access_token(secret, token):
    """Check signature and expiry; the reasons are worded for people (they end up in close frames).

    A token that passed is remembered (``_verified``): the tabs of one browser, and every reconnect
    until it expires, present the same token, and its signature is checked once.
    """
    key = (secret, token) if isinstance(token, str) else None
    claims = _verified.get(key)
    if claims is not None:
        if claims["exp"] <= time.time():
            raise AppError(401, "token_expired", TOKEN_EXPIRED)
        return claims
    claims = _verify(secret, token)
    if len(_verified) >= MAX_VERIFIED:
        _verified.clear()
    _verified[key] = claims
    return claims


def _verify(secret, token):
    if not token:
        raise AppError(401, "token_missing", N_("No token was sent"))
    if not isinstance(token, str) or token.count(".") != 2:
        raise AppError(401, "token_malformed", N_("Token is malformed: not a JWT"))
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub", "sid"]})
    except jwt.ExpiredSignatureError:
        raise AppError(401, "token_expired", TOKEN_EXPIRED)
    except jwt.InvalidSignatureError:
        raise AppError(401, "token_invalid", N_("Token signature is invalid (issued by another server or secret)"))
    except jwt.PyJWTError as exc:
        raise AppError(401, "token_malformed", N_("Token is malformed: %(detail)s", detail=exc))
    if claims.get("typ") != "access":
        raise AppError(401, "token_invalid", N_("Not an access token"))
    return claims


def resolve_session(claims):
    """The live user behind decoded token claims: session not revoked, user active."""
    session = (Session.select(Session, User).join(User)
               .where(Session.id == claims["sid"]).first())
    if session is None or str(session.user_id) != claims["sub"]:
        raise unknown_session()
    return _check_session(session)


def unknown_session():
    return AppError(401, "token_invalid", N_("Token refers to an unknown session"))


def session_refusal(user_active, revoked_at):
    """Why a session no longer admits anyone (an ``AppError``), or None while it does."""
    if not user_active:
        return AppError(401, "user_deactivated", DEACTIVATED)
    if revoked_at is not None:
        return AppError(401, "token_revoked", N_("Token was revoked (logged out)"))
    return None


def _check_session(session):
    refusal = session_refusal(session.user.is_active, session.revoked_at)
    if refusal is not None:
        raise refusal
    return {**user_dict(session.user), "locale": session.user.locale, "session_id": session.id}
