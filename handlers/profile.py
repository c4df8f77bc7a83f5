"""The caller's own avatar (PUT/DELETE /api/me/avatar), anyone's avatar image, and password change."""
from handlers import close_reasons as closing
from handlers.base import ApiHandler
from handlers.files import FileHandler, StreamedUploadHandler
from handlers.realtime import events
from models import profiles, thumbnails, users
from models.db import db_call, run_blocking
from models.errors import AppError, invalid
from models.i18n import N_

AVATAR_CACHE = "private, max-age=31536000, immutable"  # the URL changes with the avatar


class AvatarHandler(StreamedUploadHandler):
    """PUT: an image (multipart field ``file``) becomes the caller's avatar; DELETE removes it.

    Checked for the disk and the upload rate as files are, but not against the quota of unattached
    files: an avatar replaces the one before."""

    def upload_limit(self):
        return min(self.config["max_upload_bytes"], profiles.MAX_AVATAR_BYTES)

    async def prepare(self):
        if self.request.method == "PUT":
            return await super().prepare()
        await ApiHandler.prepare(self)  # nothing uploaded

    async def put(self):
        _, _, data = await self.received_file()
        max_pixels = self.config["thumbnail_max_pixels"]
        kind, image = await thumbnails.inspect_avatar(data, max_pixels)
        if kind is None:
            raise invalid("not_an_image", N_("An avatar must be a PNG, JPEG, GIF or WebP image"), field="file")
        if image is None:
            raise invalid("image_too_large", N_("The image has more than %(max)s pixels", max=max_pixels),
                          field="file", limit=max_pixels)
        await self._answer(await db_call(profiles.set_avatar, self.current_user["id"], image))

    async def delete(self):
        await self._answer(await db_call(profiles.delete_avatar, self.current_user["id"]))

    async def _answer(self, changed):
        user, chat_ids = changed
        events.user_updated(self.state.bus, user, chat_ids)
        self.send_json(user)


class UserAvatarHandler(FileHandler):
    """Any user's avatar, to anyone signed in (bearer token or, for ``<img>``, the session cookie)."""

    async def get(self, user_id):
        content_type, data, key = await db_call(profiles.read_avatar, self.path_id(user_id))
        current = self.get_query_argument("v", None) == key
        self.set_header("Cache-Control", AVATAR_CACHE if current else "private, no-cache")
        self.set_header("Content-Type", content_type)
        self.set_header("Content-Disposition", "inline")
        self.finish(data)


class PasswordHandler(ApiHandler):
    """The caller changes their password: every other session ends and its sockets close (every process);
    the one it was changed from goes on.  Wrong current passwords count as failed logins (throttled)."""

    async def post(self):
        body = self.json_body()
        current = self.field(body, "current_password", str)
        new = users.validate_password(self.field(body, "new_password", str))
        me, throttle = self.current_user, self.state.throttle
        await self.check_password_throttle(me["username"])
        stored = await db_call(users.password_hash_of, me["id"])
        if not await run_blocking(users.verify_password, stored, current):
            await throttle.failed(self.request.remote_ip, me["username"])
            raise AppError(403, "wrong_password", N_("The current password is wrong"))
        await throttle.succeeded(me["username"])
        await db_call(users.change_password, me["id"], await run_blocking(users.hash_password, new),
                      me["session_id"])
        events.close_user(self.state.bus, me["id"], closing.PASSWORD_CHANGED, spare_session=me["session_id"])
        self.set_status(204)
        self.finish()
