"""What people change about themselves (issue 21): display name, status, email, time zone, avatar and password.

The ``users`` columns are defined in ``users.py``; avatars are kept here, one small re-encoded image a
user (``thumbnails.avatar_image``), in the database so that every process serves them.
"""
import secrets

import peewee

from models.db import BaseModel, db
from models.errors import invalid, not_found
from models.i18n import N_
from models.memberships import chat_ids_for_user
from models.users import User, check_email_free, clean_email, clean_timezone, email_taken, get_user
from models.validate import clean_line

MAX_DISPLAY_NAME = 64
MAX_STATUS_TEXT = 100
MAX_STATUS_EMOJI = 16
PROFILE_FIELDS = ("display_name", "status_text", "status_emoji")  # strings
CLEARABLE_FIELDS = ("email", "timezone")  # a string, or null to clear
MAX_AVATAR_BYTES = 10 * 1024 * 1024  # of the upload (or --max-upload-bytes when lower); what is kept is ~50 KB


class Avatar(BaseModel):
    user = peewee.ForeignKeyField(User, primary_key=True, on_delete="CASCADE")
    content_type = peewee.CharField(max_length=32)
    data = peewee.BlobField()

    class Meta:
        table_name = "avatars"


def update_profile(user_id, changes):
    """Save any of ``PROFILE_FIELDS`` and ``CLEARABLE_FIELDS``, all or none; returns ``(user, the ids of
    the user's chats)``, the chats being whose members to tell."""
    values = {"display_name": _clean_display_name, "status_text": _clean_status_text,
              "status_emoji": _clean_status_emoji, "email": clean_email, "timezone": clean_timezone}
    cleaned = {name: values[name](value) for name, value in changes.items()}
    if "email" in cleaned:
        check_email_free(cleaned["email"], user_id)
    if cleaned:
        try:
            with db.atomic():
                User.update(**cleaned).where(User.id == user_id).execute()
        except peewee.IntegrityError:  # taken by another process in the meantime (the unique index)
            raise email_taken(cleaned["email"])
    return get_user(user_id), chat_ids_for_user(user_id)


def _clean_display_name(value):
    name = clean_line(value, "display_name", MAX_DISPLAY_NAME)
    if not name:
        raise invalid("invalid_field", N_("display_name must not be empty"), field="display_name")
    return name


def _clean_status_text(value):
    return clean_line(value, "status_text", MAX_STATUS_TEXT)


def _clean_status_emoji(value):
    return clean_line(value, "status_emoji", MAX_STATUS_EMOJI)


def set_avatar(user_id, image):
    """Keep ``image`` (bytes from ``thumbnails.read_avatar``) as the user's avatar; returns what
    :func:`update_profile` does.  Its URL gets a new key, so caches fetch the new one."""
    content_type = "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
    Avatar.delete().where(Avatar.user == user_id).execute()
    Avatar.insert(user=user_id, content_type=content_type, data=image).execute()
    return _set_avatar_key(user_id, secrets.token_hex(8))


def delete_avatar(user_id):
    Avatar.delete().where(Avatar.user == user_id).execute()
    return _set_avatar_key(user_id, None)


def _set_avatar_key(user_id, key):
    User.update(avatar_key=key).where(User.id == user_id).execute()
    return get_user(user_id), chat_ids_for_user(user_id)


def read_avatar(user_id):
    """``(content type, bytes, key)`` of the user's avatar, or 404."""
    row = (Avatar.select(Avatar.content_type, Avatar.data, User.avatar_key).join(User)
           .where(Avatar.user == user_id).tuples().first())
    if row is None:
        raise not_found("avatar", user_id)
    content_type, data, key = row
    return content_type, bytes(data), key
