"""What people change about themselves (issue 21): display name, status, avatar and password.

The ``users`` columns are defined in ``users.py``; avatars are kept here, one small re-encoded image a
user (``thumbnails.avatar_image``), in the database so that every process serves them.
"""
import peewee

from models.db import BaseModel
from models.errors import invalid
from models.i18n import N_
from models.memberships import chat_ids_for_user
from models.users import User, get_user
from models.validate import clean_line

MAX_DISPLAY_NAME = 64
MAX_STATUS_TEXT = 100
MAX_STATUS_EMOJI = 16
PROFILE_FIELDS = ("display_name", "status_text", "status_emoji")


class Avatar(BaseModel):
    user = peewee.ForeignKeyField(User, primary_key=True, on_delete="CASCADE")
    content_type = peewee.CharField(max_length=32)
    data = peewee.BlobField()

    class Meta:
        table_name = "avatars"


def update_profile(user_id, changes):
    """Save any of ``PROFILE_FIELDS`` (strings; types checked by the caller); returns ``(user, the ids of
    the user's chats)``, the chats being whose members to tell."""
    values = {"display_name": _clean_display_name, "status_text": _clean_status_text,
              "status_emoji": _clean_status_emoji}
    cleaned = {name: values[name](value) for name, value in changes.items()}
    if cleaned:
        User.update(**cleaned).where(User.id == user_id).execute()
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
