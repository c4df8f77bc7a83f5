"""Uploaded files: stored in the database in chunks, shared by attaching them to messages.

The bytes live in ``file_chunks`` (CHUNK_BYTES each), so every process on one
PostgreSQL serves every file, backups hold them, and neither upload nor
download ever needs a whole file in memory.  Who may read a file: its
uploader, members of a chat where a live message carries it, and
administrators; a deleted message hides its files from everyone else.
"""
import re
import unicodedata

import peewee

from models.clock import utcnow
from models.db import LOCK_UPLOADS, BaseModel, db, in_params, lock_until_commit
from models.errors import AppError, invalid, not_found
from models.i18n import N_
from models.memberships import Membership
from models.users import User

CHUNK_BYTES = 256 * 1024
MAX_FILES_PER_MESSAGE = 10
MAX_NAME = 255
# Served with their own type: nothing a browser would run or style a page with.  Anything else (scripts,
# HTML, SVG, CSS...) is served as application/octet-stream, which no <script>, worker or stylesheet takes.
INERT_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "text/plain", "text/csv",
                         "application/pdf", "application/zip", "audio/mpeg", "audio/ogg", "video/mp4",
                         "video/webm"})
# Unicode categories dropped from file names: controls (C0, DEL, C1), format characters (bidi overrides,
# zero-width), line and paragraph separators, lone surrogates
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Cs"}
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")


class StoredFile(BaseModel):
    uploader = peewee.ForeignKeyField(User, on_delete="CASCADE")
    name = peewee.CharField(max_length=MAX_NAME)
    size = peewee.BigIntegerField()
    content_type = peewee.CharField(max_length=127)
    is_image = peewee.BooleanField(default=False)
    thumbnail = peewee.BlobField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "files"


class FileChunk(BaseModel):
    file = peewee.ForeignKeyField(StoredFile, on_delete="CASCADE")
    seq = peewee.IntegerField()
    data = peewee.BlobField()

    class Meta:
        table_name = "file_chunks"
        primary_key = peewee.CompositeKey("file", "seq")


class MessageFile(BaseModel):
    message = peewee.DeferredForeignKey("Message", on_delete="CASCADE")
    file = peewee.ForeignKeyField(StoredFile, on_delete="CASCADE")
    position = peewee.SmallIntegerField()

    class Meta:
        table_name = "message_files"
        primary_key = peewee.CompositeKey("message", "file")


def file_dict(file_id, name, size, content_type, is_image):
    url = f"/api/files/{file_id}"
    return {"id": file_id, "name": visible(name) or "file", "size": size, "content_type": content_type,
            "url": url, "thumbnail_url": url + "/thumbnail" if is_image else None}


def stored_file_dict(stored):
    return file_dict(stored.id, stored.name, stored.size, stored.content_type, stored.is_image)


def visible(name):
    """``name`` without control, format (bidi, zero-width) or line/paragraph separator characters
    (also applied when names are read: files stored before this rule existed kept theirs)."""
    return "".join(c for c in name if unicodedata.category(c) not in _INVISIBLE)


def clean_name(name):
    """A file name without path parts or invisible characters (see :func:`visible`), never empty;
    ``.``, ``..`` and other names of dots only are refused."""
    name = visible((name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()[:MAX_NAME].strip()
    if name and not name.strip("."):
        raise invalid("invalid_file_name", N_("A file may not be named only with dots"), field="file")
    return name or "file"


def clean_content_type(value):
    value = (value or "").split(";", 1)[0].strip().lower()
    return value if _CONTENT_TYPE.match(value) else "application/octet-stream"


def served_type(content_type):
    """The Content-Type a file is served with: its own when inert, else application/octet-stream."""
    return content_type if content_type in INERT_TYPES else "application/octet-stream"


def clean_file_ids(value):
    """``file_ids`` of a send: a list of up to 10 distinct ids (None when absent)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                              for v in value):
        raise invalid("invalid_field", N_("file_ids must be a list of file ids"), field="file_ids")
    if len(value) > MAX_FILES_PER_MESSAGE:
        raise invalid("too_many_files", N_("A message carries at most %(max)s files", max=MAX_FILES_PER_MESSAGE),
                      field="file_ids", limit=MAX_FILES_PER_MESSAGE)
    return list(dict.fromkeys(value))


def unattached_bytes(uploader_id):
    """Bytes of the files ``uploader_id`` uploaded that no message carries (yet)."""
    attached = MessageFile.select().where(MessageFile.file == StoredFile.id)
    return StoredFile.select(peewee.fn.COALESCE(peewee.fn.SUM(StoredFile.size), 0)).where(
        (StoredFile.uploader == uploader_id) & ~peewee.fn.EXISTS(attached)).scalar()


def check_quota(uploader_id, length, max_unattached):
    """Raise ``upload_quota_exceeded`` (429) when ``length`` more bytes would put the uploader's
    unattached files over ``max_unattached`` bytes."""
    if unattached_bytes(uploader_id) + length > max_unattached:
        raise AppError(429, "upload_quota_exceeded",
                       N_("Your uploaded files not yet sent would exceed %(limit)s bytes; send them first",
                          limit=max_unattached), limit=max_unattached)


def store_file(uploader_id, name, content_type, source, length, max_unattached, thumbnail=None):
    """Copy ``length`` bytes from the open file ``source`` (at its current position) into the database,
    unless the uploader's unattached files would exceed ``max_unattached`` bytes.  ``name`` comes from
    :func:`clean_name`."""
    lock_until_commit(LOCK_UPLOADS, uploader_id)  # concurrent uploads wait here: they cannot pass the quota together
    check_quota(uploader_id, length, max_unattached)
    stored = StoredFile.create(uploader=uploader_id, name=name, size=length,
                               content_type=clean_content_type(content_type),
                               is_image=thumbnail is not None, thumbnail=thumbnail)
    seq, left = 0, length
    while left > 0:
        data = source.read(min(CHUNK_BYTES, left))
        if not data:
            raise AppError(400, "invalid_upload", N_("The upload ended early"))
        FileChunk.insert(file=stored.id, seq=seq, data=data).execute()
        seq, left = seq + 1, left - len(data)
    return stored_file_dict(stored)


def readable_file(user, file_id):
    """The file's metadata dict for ``user`` (a dict with id and is_admin), or 404."""
    stored = StoredFile.get_or_none(StoredFile.id == file_id)
    if stored is None or not (user.get("is_admin") or _may_read(user["id"], stored)):
        raise not_found("file", file_id)
    return {**stored_file_dict(stored), "is_image": stored.is_image, "chunks": _chunk_count(stored.size)}


def _may_read(user_id, stored):
    Message = MessageFile.message.rel_model  # models.messages imports this module, not the other way round
    shares = list(MessageFile.select(Message.chat, Message.deleted_at)
                  .join(Message, on=MessageFile.message == Message.id)
                  .where(MessageFile.file == stored.id).tuples())
    live_chats = {chat_id for chat_id, deleted_at in shares if deleted_at is None}
    if stored.uploader_id == user_id and (live_chats or not shares):
        return True
    return bool(live_chats) and Membership.select().where(
        (Membership.user == user_id) & Membership.chat.in_(live_chats)).exists()


def _chunk_count(size):
    return (size + CHUNK_BYTES - 1) // CHUNK_BYTES


def read_chunk(file_id, seq):
    row = FileChunk.select(FileChunk.data).where((FileChunk.file == file_id) & (FileChunk.seq == seq)).first()
    return bytes(row.data) if row else b""


def read_thumbnail(user, file_id):
    readable_file(user, file_id)
    thumbnail = StoredFile.select(StoredFile.thumbnail).where(StoredFile.id == file_id).scalar()
    if thumbnail is None:
        raise not_found("thumbnail", file_id)
    return bytes(thumbnail)


def check_attachable(sender_id, file_ids):
    """None when every file exists and was uploaded by the sender, else the AppError to answer."""
    if not file_ids:
        return None
    mine = {f for (f,) in StoredFile.select(StoredFile.id).where(
        StoredFile.id.in_(file_ids) & (StoredFile.uploader == sender_id)).tuples()}
    missing = [f for f in file_ids if f not in mine]
    if missing:
        return invalid("file_not_found", N_("File %(id)s does not exist or was not uploaded by you", id=missing[0]),
                       field="file_ids")
    return None


def attach(pairs):
    """Link files to new messages: ``pairs`` is [(message_id, [file ids])]."""
    rows = [{"message": m, "file": f, "position": i} for m, ids in pairs for i, f in enumerate(ids)]
    if rows:
        MessageFile.insert_many(rows).execute()


def delete_orphans(uploaded_before, limit=50):
    """Delete up to ``limit`` files uploaded before ``uploaded_before`` that no message carries (their
    chunks first); returns how many.  A file carried by a deleted message stays, for administrators."""
    attached = MessageFile.select(MessageFile.file)
    ids = [f for (f,) in StoredFile.select(StoredFile.id)
           .where((StoredFile.created_at < uploaded_before) & StoredFile.id.not_in(attached))
           .order_by(StoredFile.id).limit(limit).tuples()]
    if ids:
        FileChunk.delete().where(FileChunk.file.in_(ids)).execute()
        StoredFile.delete().where(StoredFile.id.in_(ids)).execute()
    return len(ids)


def files_of(message_ids):
    """{message id: [file dicts]} in one query."""
    found = {m: [] for m in message_ids}
    if message_ids:
        marks, params = in_params(message_ids)
        rows = db.execute_sql(
            "SELECT f.id, f.name, f.size, f.content_type, f.is_image, mf.message_id FROM files f"
            f" JOIN message_files mf ON mf.file_id = f.id WHERE mf.message_id IN ({marks}) ORDER BY mf.position",
            params)
        for file_id, name, size, content_type, is_image, message_id in rows:
            found[message_id].append(file_dict(file_id, name, size, content_type, is_image))
    return found
