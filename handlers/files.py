"""POST /api/files (a streamed multipart upload) and GET of a file or its thumbnail."""
import re
import tempfile
from urllib.parse import quote

import tornado.iostream
import tornado.web

from handlers.base import ApiHandler, session_cookie
from handlers.multipart import find_file_part
from models import disk_space, files, thumbnails, users
from models.db import db_call, run_blocking
from models.errors import AppError, bad_request
from models.i18n import N_

MULTIPART_OVERHEAD = 64 * 1024  # part headers and boundaries around the file itself
DISCARD_LIMIT = 1024 * 1024 * 1024  # read (and drop) up to this after a 413 so that the client sees the answer
FILE_CSP = "default-src 'none'; sandbox"  # a served HTML or SVG file can run nothing and load nothing
_BOUNDARY = re.compile(r'boundary="?([^";]{1,70})"?')


def too_large(limit):
    return AppError(413, "file_too_large", N_("Files may be at most %(limit)s bytes", limit=limit), limit=limit)


@tornado.web.stream_request_body
class StreamedUploadHandler(ApiHandler):
    """A multipart upload whose body goes to a temporary file as it arrives (see :meth:`received_file`)."""

    _spool = None
    _received = 0
    _overflow = False
    _refusal = None

    def body_limit(self):
        """For ApiHandler's own check: this handler reads (and drops) up to this, then answers itself."""
        return DISCARD_LIMIT

    def upload_limit(self):
        """The most bytes of file this handler takes."""
        return self.config["max_upload_bytes"]

    async def prepare(self):
        """Check what can be checked before the body; a refusal is answered once the body has been read
        (and dropped), because answering before it makes the server close a connection the client is
        still writing to, and the client then sees a reset instead of the answer."""
        limit = self.upload_limit()
        declared = self.request.headers.get("Content-Length", "")
        declared = int(declared) if declared.isdigit() else 0
        if declared > DISCARD_LIMIT:
            raise too_large(limit)  # too big even to drop: answer at once and close
        # read to the end what is declared; a chunked body is counted as it comes (and dropped past the limit)
        self.request.connection.set_max_body_size(max(declared, limit + MULTIPART_OVERHEAD) if declared
                                                  else DISCARD_LIMIT)
        try:
            await super().prepare()
            match = _BOUNDARY.search(self.request.headers.get("Content-Type", ""))
            if not self.request.headers.get("Content-Type", "").startswith("multipart/form-data") or not match:
                raise bad_request("invalid_upload", N_("Send multipart/form-data with the file in the field 'file'"))
            if declared > limit + MULTIPART_OVERHEAD:
                raise too_large(limit)
            await self._check_allowed(max(0, declared - MULTIPART_OVERHEAD))
        except AppError as exc:
            self._refusal = exc
            self.body_accepted()  # answered in post(), after the whole body
            return
        self._boundary = match.group(1).encode("latin-1")
        self._spool = tempfile.TemporaryFile(prefix="upload-", dir=self.config["data_dir"])

    async def _check_allowed(self, length):
        """Refuse an upload of about ``length`` bytes while the disk is (almost) full or over the user's
        upload rate."""
        if disk_space.problem(self.config, reserve=2 * length):  # the spool, then the database
            raise AppError(507, "disk_full", N_("The server's disk is almost full; uploads are refused until "
                                                "space is freed"))
        await self.state.upload_limiter.check(self.current_user["id"])

    def data_received(self, chunk):
        if self._spool is None:
            return  # refused (401, 413...) or over the limit: the rest is read and dropped
        self._received += len(chunk)
        if self._received > self.upload_limit() + MULTIPART_OVERHEAD:
            self._overflow = True
            self._close_spool()
            return
        self._spool.write(chunk)

    async def received_file(self):
        """``(name, content type, data)`` of the part ``file``, or the refusal decided while it came in."""
        limit = self.upload_limit()
        if self._refusal:
            raise self._refusal
        if self._overflow:
            raise too_large(limit)
        part = await run_blocking(find_file_part, self._spool, self._boundary)
        if part is None:
            raise bad_request("invalid_upload", N_("No file in the multipart field 'file'"))
        if part[2].length > limit:
            raise too_large(limit)
        return part

    def on_finish(self):
        self._close_spool()

    def on_connection_close(self):
        self._close_spool()

    def _close_spool(self):
        if self._spool is not None:
            self._spool.close()
            self._spool = None


class UploadHandler(StreamedUploadHandler):
    """A file for messages: stored in the database chunk by chunk."""

    async def _check_allowed(self, length):
        """Also refuse it over the user's quota of unattached bytes."""
        await super()._check_allowed(length)
        await db_call(files.check_quota, self.current_user["id"], length, self.config["max_unattached_bytes"])

    async def post(self):
        name, content_type, data = await self.received_file()
        name = files.clean_name(name)
        image_type, thumbnail = await thumbnails.inspect_image(data, self.config["thumbnail_max_pixels"])
        data.seek(0)
        stored = await db_call(files.store_file, self.current_user["id"], name, image_type or content_type,
                               data, data.length, self.config["max_unattached_bytes"], thumbnail)
        self.send_json(stored, 201)


class FileHandler(ApiHandler):
    """A file's bytes, to its uploader and to members of a chat where it was shared; 404 to anyone else.

    Browsers fetch images with the session cookie (an ``<img>`` sends no bearer header).
    """

    auth_required = False

    async def prepare(self):
        self.auth_required = bool(self.request.headers.get("Authorization"))
        await super().prepare()
        if not self.auth_required:
            cookie = session_cookie(self)
            if not cookie:
                raise AppError(401, "token_missing", N_("Send Authorization: Bearer <access_token>"))
            self.current_user = await db_call(users.session_for_refresh_token, cookie)
        self.set_header("Content-Security-Policy", FILE_CSP)
        self.set_header("Cross-Origin-Resource-Policy", "same-origin")

    async def get(self, file_id):
        file_id = self.path_id(file_id)
        meta = await db_call(files.readable_file, self.current_user, file_id)
        self.set_header("Cache-Control", "private, max-age=300")
        self.set_header("Content-Type", files.served_type(meta["content_type"]))
        self.set_header("Content-Length", meta["size"])
        disposition = "inline" if meta["is_image"] else "attachment"
        self.set_header("Content-Disposition", f"{disposition}; filename*=UTF-8''{quote(meta['name'], safe='')}")
        try:
            for seq in range(meta["chunks"]):
                self.write(await db_call(files.read_chunk, file_id, seq))
                await self.flush()  # one chunk in memory at a time
        except tornado.iostream.StreamClosedError:
            return  # the client went away
        self.finish()


class ThumbnailHandler(FileHandler):
    async def get(self, file_id):
        data = await db_call(files.read_thumbnail, self.current_user, self.path_id(file_id))
        self.set_header("Cache-Control", "private, max-age=300")
        self.set_header("Content-Type", "image/png" if data.startswith(b"\x89PNG") else "image/jpeg")
        self.set_header("Content-Disposition", "inline")
        self.finish(data)
