"""File uploads, downloads, access rules and messages carrying files (SQLite and PostgreSQL)."""
import datetime
import io
import json
import shutil
import socket
import struct
import time
import zlib
from urllib.parse import quote

import pytest
from PIL import Image

from models.clock import utcnow
from models.files import FileChunk, StoredFile, delete_orphans
from tests.helpers import assert_error, in_database


def upload(server, token, data, name="notes.txt", content_type="text/plain"):
    return server.request("POST", "/api/files", token, files={"file": (name, data, content_type)})


def fetch(server, token, file):
    return server.request("GET", file["url"], token)


def send(server, token, chat_id, text="", **extra):
    return server.request("POST", f"/api/chats/{chat_id}/messages", token, {"text": text, **extra})


def jpeg_with_orientation(width=400, height=200, orientation=6):
    """A wide JPEG whose EXIF says: rotate 90 degrees to show it (so it is tall when upright)."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "SecretCameraMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def big_png(width, height, alpha=False):
    """A flat-coloured PNG made row by row (so the test never holds the bitmap): tiny file, huge image."""
    channels = 4 if alpha else 3

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes([90, 160, 220, 128][:channels]) * width  # filter byte, then the pixels
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


class SizedBody:
    """A multipart body of ``size`` file bytes streamed with a Content-Length, never held in memory."""

    def __init__(self, size, boundary="sizedbody"):
        self.boundary = boundary
        self.head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n").encode()
        self.tail = f"\r\n--{boundary}--\r\n".encode()
        self.size = size

    def __len__(self):
        return len(self.head) + self.size + len(self.tail)

    def __iter__(self):
        yield self.head
        block = b"x" * 1024 * 1024
        for start in range(0, self.size, len(block)):
            yield block[:min(len(block), self.size - start)]
        yield self.tail

    def post(self, server, token):
        return server.request("POST", "/api/files", token, data=self, headers={
            "Content-Type": f"multipart/form-data; boundary={self.boundary}"})


@pytest.fixture
def users(server):
    return {name: server.login(name) for name in ("admin", "user1", "user2")}


def test_upload_and_download_exact_bytes(server, users):
    data = bytes(range(256)) * 4000 + b"tail"  # over one storage chunk, every byte value
    r = upload(server, users["user1"], data, name="../../etc/report.bin", content_type="application/x-thing")
    assert r.status_code == 201, r.text
    file = r.json()
    assert {"id", "name", "size", "content_type", "url"} <= set(file)
    assert file["name"] == "report.bin" and file["size"] == len(data)
    assert file["content_type"] == "application/x-thing" and file["url"] == f"/api/files/{file['id']}"
    got = fetch(server, users["user1"], file)
    assert got.status_code == 200 and got.content == data
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in got.headers["Content-Security-Policy"]
    assert_error(fetch(server, users["user2"], file), 404, "file_not_found")
    assert_error(fetch(server, None, file), 401)


def test_html_and_svg_are_attachments_that_cannot_run(server, users):
    for name, kind, data in [("x.html", "text/html", b"<script>alert(1)</script>"),
                             ("x.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'),
                             ("fake.png", "image/png", b"<html>not a png</html>")]:
        file = upload(server, users["user1"], data, name, kind).json()
        got = fetch(server, users["user1"], file)
        assert got.content == data
        assert got.headers["Content-Disposition"].startswith("attachment;"), name
        assert got.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert file["thumbnail_url"] is None


def test_image_thumbnail_upright_bounded_without_metadata(server, users):
    data = jpeg_with_orientation()
    file = upload(server, users["user1"], data, "photo.jpg", "application/octet-stream").json()
    assert file["content_type"] == "image/jpeg"  # what the bytes are, not what the client said
    got = fetch(server, users["user1"], file)
    assert got.content == data and got.headers["Content-Disposition"].startswith("inline;")
    thumb = server.request("GET", file["thumbnail_url"], users["user1"])
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(thumb.content))
    assert max(image.size) <= 320 and image.height > image.width  # EXIF orientation applied
    assert not image.getexif() and b"SecretCameraMaker" not in thumb.content
    assert_error(server.request("GET", file["thumbnail_url"], users["user2"]), 404)


def test_shared_file_readable_by_members_only(server, users):
    general = server.chat_id(users["user1"], "General")
    file = upload(server, users["admin"], b"for the direct chat").json()
    direct = next(c["id"] for c in server.request("GET", "/api/chats", users["admin"]).json()
                  if c["type"] == "direct")
    message = send(server, users["admin"], direct, "see attached", file_ids=[file["id"]]).json()
    assert message["files"] == [file]
    assert fetch(server, users["user1"], file).content == b"for the direct chat"
    assert_error(fetch(server, users["user2"], file), 404)  # not a member of the direct chat
    public = upload(server, users["user1"], b"for everyone").json()
    send(server, users["user1"], general, file_ids=[public["id"]])
    assert fetch(server, users["user2"], public).content == b"for everyone"


def test_deleting_the_message_hides_its_files_except_from_admins(server, users):
    general = server.chat_id(users["user1"], "General")
    file = upload(server, users["user1"], b"oops").json()
    message = send(server, users["user1"], general, "wrong file", file_ids=[file["id"]]).json()
    assert fetch(server, users["user2"], file).status_code == 200
    deleted = server.request("DELETE", f"/api/messages/{message['id']}", users["user1"]).json()
    assert deleted["files"] == []
    for name in ("user1", "user2"):
        assert_error(fetch(server, users[name], file), 404)
    assert fetch(server, users["admin"], file).content == b"oops"


def test_files_in_history_catch_up_and_websocket(server, users):
    general = server.chat_id(users["user1"], "General")
    files = [upload(server, users["user1"], f"file {i}".encode(), f"f{i}.txt").json() for i in range(3)]
    listener = server.connect(users["user2"])
    assert listener.recv()["type"] == "connected"
    sender = server.connect(users["user1"])
    assert sender.recv()["type"] == "connected"
    sender.send({"type": "send_message", "chat_id": general, "text": "", "client_msg_id": "f-1",
                 "file_ids": [f["id"] for f in reversed(files)]})
    ack = sender.recv_type("message_ack")["message"]
    assert ack["text"] == "" and [f["id"] for f in ack["files"]] == [f["id"] for f in reversed(files)]
    assert listener.recv_type("new_message")["message"]["files"] == ack["files"]
    page = server.request("GET", f"/api/chats/{general}/messages", users["user2"]).json()
    assert page["messages"][-1]["files"] == ack["files"]
    updates = server.request("GET", f"/api/updates?after_id={ack['id'] - 1}", users["user2"]).json()
    assert updates["messages"][0]["files"] == ack["files"]
    sender.send({"type": "send_message", "chat_id": general, "text": "x", "client_msg_id": "f-2",
                 "file_ids": [999999]})
    error = sender.recv_type("error")
    assert error["code"] == "file_not_found" and error["client_msg_id"] == "f-2"
    sender.close()
    listener.close()


def test_bad_file_ids_refused(server, users):
    general = server.chat_id(users["user1"], "General")
    theirs = upload(server, users["user2"], b"not yours").json()
    assert_error(send(server, users["user1"], general, "x", file_ids=[theirs["id"]]), 422, "file_not_found")
    assert_error(send(server, users["user1"], general, "x", file_ids=list(range(1, 12))), 422, "too_many_files")
    assert_error(send(server, users["user1"], general, "x", file_ids="1"), 422, "invalid_field")
    assert_error(send(server, users["user1"], general, "x", file_ids=[True]), 422, "invalid_field")
    assert_error(send(server, users["user1"], general, "  "), 422, "text_empty")
    assert_error(fetch(server, users["user1"], {"url": "/api/files/99999999999999999999"}), 404)


def test_bad_uploads_refused(server, users):
    assert_error(server.request("POST", "/api/files", users["user1"], data=b"plain"), 400, "invalid_upload")
    no_file = server.request("POST", "/api/files", users["user1"], files={"other": ("a", b"x")})
    assert_error(no_file, 400, "invalid_upload")
    assert_error(server.request("POST", "/api/files", None, files={"file": ("a", b"x")}), 401)


def test_upload_over_the_limit_is_413(server_factory):
    """Bodies up to 1 GiB are read and dropped so that every client sees the 413, not a reset."""
    small = server_factory(max_upload_bytes=100_000)
    token = small.login("user1")
    assert upload(small, token, b"x" * 100_000).status_code == 201
    assert_error(upload(small, token, b"x" * 100_001), 413, "file_too_large")
    assert_error(upload(small, token, b"x" * (120 * 1024 * 1024)), 413, "file_too_large")  # over Tornado's 100 MB
    # chunked, so no Content-Length gives it away: counted while it streams
    chunks = (b"x" * 65536 for _ in range(20))
    r = small.request("POST", "/api/files", token, data=chunks,
                      headers={"Content-Type": "multipart/form-data; boundary=zz"})
    assert_error(r, 413, "file_too_large")


def test_far_over_tornados_own_limit_answered_before_the_body(server, users):
    """A declared 2 GiB body gets a JSON 413 at once: the server does not wait for (or keep) it."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall((f"POST /api/files HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {users['user1']}\r\n"
                      f"Content-Type: multipart/form-data; boundary=zz\r\nContent-Length: {2 * 1024 ** 3}\r\n"
                      "\r\n").encode() + b"--zz\r\n" + b"x" * 100_000)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["error"]["code"] == "file_too_large"


def chunk_count(server, file_id):
    return in_database(server, lambda: FileChunk.select().where(FileChunk.file == file_id).count())


def test_unattached_uploads_are_deleted_after_the_grace_period(server, users):
    orphan = upload(server, users["user1"], b"left behind" * 100_000).json()  # over one chunk
    kept = upload(server, users["user1"], b"sent").json()
    general = server.chat_id(users["user1"], "General")
    assert send(server, users["user1"], general, file_ids=[kept["id"]]).status_code == 201
    gone_with_message = upload(server, users["user1"], b"sent, then deleted").json()
    message = send(server, users["user1"], general, file_ids=[gone_with_message["id"]]).json()
    server.request("DELETE", f"/api/messages/{message['id']}", users["user1"])
    now = utcnow()

    assert in_database(server, delete_orphans, now - datetime.timedelta(hours=1)) == 0  # all younger
    assert fetch(server, users["user1"], orphan).status_code == 200
    assert chunk_count(server, orphan["id"]) == 5
    assert in_database(server, delete_orphans, now + datetime.timedelta(seconds=5)) == 1
    assert_error(fetch(server, users["user1"], orphan), 404, "file_not_found")
    assert chunk_count(server, orphan["id"]) == 0
    assert fetch(server, users["user2"], kept).content == b"sent"
    assert fetch(server, users["admin"], gone_with_message).content == b"sent, then deleted"
    assert in_database(server, delete_orphans, now + datetime.timedelta(seconds=5)) == 0


def test_the_server_sweeps_orphans_by_itself(server_factory):
    server = server_factory(orphan_upload_grace=1)  # swept every second
    token = server.login("user1")
    orphan = upload(server, token, b"nobody sends me").json()
    deadline = time.monotonic() + 20
    while fetch(server, token, orphan).status_code == 200:
        assert time.monotonic() < deadline, "the unattached upload was not deleted"
        time.sleep(0.2)
    assert_error(fetch(server, token, orphan), 404, "file_not_found")
    fresh = upload(server, token, b"attached in time").json()
    general = server.chat_id(token, "General")
    assert send(server, token, general, file_ids=[fresh["id"]]).status_code == 201
    # A sweep now, with every upload counted as past its grace: an attached file is never an orphan.
    assert in_database(server, delete_orphans, utcnow() + datetime.timedelta(hours=1)) == 0
    assert fetch(server, token, fresh).content == b"attached in time"


def test_file_names_lose_invisible_characters_and_dot_names_are_refused(server, users):
    token = users["user1"]
    for sent, kept in [("invoice\u202efdp.exe", "invoicefdp.exe"),  # RIGHT-TO-LEFT OVERRIDE
                       ("a\u200bb\u2028c\u2029d\x85e\u00adf\ufeffg\u2066h.txt", "abcdefgh.txt"),
                       ("\u200e report.pdf \u200f", "report.pdf"), ("\u202e", "file"),
                       ("Отчёт 2026 — итог.txt", "Отчёт 2026 — итог.txt"), (".bashrc", ".bashrc")]:
        r = upload(server, token, b"data", sent)
        assert r.status_code == 201, (sent, r.text)
        assert r.json()["name"] == kept, sent
        got = fetch(server, token, r.json())
        assert got.headers["Content-Disposition"].endswith("''" + quote(kept, safe="")), sent
    for sent in (".", "..", "...", "dir/..", "\u200b..\u200b", "..\u202e"):
        error = assert_error(upload(server, token, b"data", sent), 422, "invalid_file_name")
        assert error["field"] == "file"
    # a file stored before the rule keeps its name in the database, but is shown and served without them
    old = upload(server, token, b"old").json()
    in_database(server, lambda: StoredFile.update(name="invoice\u202efdp.exe").where(StoredFile.id == old["id"])
                .execute())
    general = server.chat_id(token, "General")
    assert send(server, token, general, file_ids=[old["id"]]).json()["files"][0]["name"] == "invoicefdp.exe"
    assert fetch(server, token, old).headers["Content-Disposition"].endswith("''invoicefdp.exe")


def test_only_inert_types_are_served_as_declared(server, users):
    token = users["user1"]
    for declared, served in [("text/javascript", "application/octet-stream"),
                             ("application/javascript", "application/octet-stream"),
                             ("text/html", "application/octet-stream"), ("text/css", "application/octet-stream"),
                             ("image/svg+xml", "application/octet-stream"), ("application/x-thing",
                                                                            "application/octet-stream"),
                             ("text/plain", "text/plain"), ("application/pdf", "application/pdf")]:
        file = upload(server, token, b"self.x = 1;", "sw.js", declared).json()
        assert file["content_type"] == declared  # what the uploader said stays in the file object
        got = fetch(server, token, file)
        assert got.headers["Content-Type"] == served, declared
        assert got.content == b"self.x = 1;" and got.headers["X-Content-Type-Options"] == "nosniff"


def test_upload_rate_per_user(server_factory):
    server = server_factory(upload_rate=0.01, upload_burst=3)
    token, other = server.login("user1"), server.login("user2")
    for i in range(3):
        assert upload(server, token, b"x", f"{i}.txt").status_code == 201
    r = upload(server, token, b"x")
    error = assert_error(r, 429, "rate_limited")
    assert error["retry_after"] >= 1 and r.headers["Retry-After"] == str(error["retry_after"])
    assert "Uploading too fast" in error["message"]
    assert upload(server, other, b"x").status_code == 201  # a bucket per user
    unlimited = server_factory(upload_rate=0, upload_burst=1)
    token = unlimited.login("user1")
    assert [upload(unlimited, token, b"x").status_code for _ in range(5)] == [201] * 5


def test_unattached_bytes_quota_per_user(server_factory):
    server = server_factory(max_unattached_bytes=300_000)
    token, other = server.login("user1"), server.login("user2")
    first = upload(server, token, b"a" * 200_000).json()
    error = assert_error(upload(server, token, b"b" * 200_000), 429, "upload_quota_exceeded")
    assert error["limit"] == 300_000
    chunked = server.request("POST", "/api/files", token, data=iter([  # no Content-Length: checked when stored
        b'--qq\r\nContent-Disposition: form-data; name="file"; filename="c.bin"\r\n\r\n', b"c" * 200_000,
        b"\r\n--qq--\r\n"]), headers={"Content-Type": "multipart/form-data; boundary=qq"})
    assert_error(chunked, 429, "upload_quota_exceeded")
    assert upload(server, other, b"d" * 200_000).status_code == 201  # a quota per user
    assert upload(server, token, b"e" * 100_000).status_code == 201  # exactly up to the quota
    general = server.chat_id(token, "General")
    assert send(server, token, general, file_ids=[first["id"]]).status_code == 201  # attached: no longer counted
    assert upload(server, token, b"f" * 200_000).status_code == 201


def test_uploads_refused_while_the_disk_is_below_the_threshold(server_factory, tmp_path):
    full = server_factory(disk_min_free_mb=2 ** 40)
    token = full.login("user1")
    assert full.request("GET", "/api/health").json()["disk"] == "full"
    error = assert_error(upload(full, token, b"x" * 1000), 507, "disk_full")
    assert "uploads are refused" in error["message"]
    # room for a small file, not for a 200 MiB one (the spool and the database copy of it)
    free_mib = shutil.disk_usage(tmp_path).free // 2 ** 20
    tight = server_factory(disk_min_free_mb=free_mib - 300, max_upload_bytes=256 * 2 ** 20)
    token = tight.login("user1")
    assert_error(SizedBody(200 * 2 ** 20).post(tight, token), 507, "disk_full")
    assert upload(tight, token, b"small").status_code == 201


def test_thumbnails_of_large_images_within_the_pixel_cap(server_factory):
    server = server_factory(thumbnail_max_pixels=5_000_000)
    token = server.login("user1")
    wide = upload(server, token, big_png(3000, 1500, alpha=True), "wide.png", "image/png").json()
    thumb = Image.open(io.BytesIO(server.request("GET", wide["thumbnail_url"], token).content))
    assert thumb.size == (320, 160) and thumb.mode == "RGBA"
    assert all(abs(got - want) <= 2 for got, want in zip(thumb.getpixel((160, 80)), (90, 160, 220, 128)))
    # a JPEG decodes at 1/8 scale: 48 Mpx counts as 0.75 Mpx, and its EXIF orientation still applies
    photo = upload(server, token, jpeg_with_orientation(8000, 6000), "photo.jpg", "image/jpeg").json()
    thumb = Image.open(io.BytesIO(server.request("GET", photo["thumbnail_url"], token).content))
    assert thumb.size == (240, 320)
    over = upload(server, token, big_png(2500, 2001), "over.png", "image/png").json()  # 5.0025 Mpx
    assert over["thumbnail_url"] is None and over["content_type"] == "image/png"
    got = fetch(server, token, over)
    assert got.headers["Content-Disposition"].startswith("attachment;") and got.headers["Content-Type"] == "image/png"
    assert_error(server.request("GET", f"/api/files/{over['id']}/thumbnail", token), 404, "thumbnail_not_found")


def test_thumbnails_of_long_images_with_transparency(server, users):
    token = users["user1"]
    strip = upload(server, token, big_png(12000, 400, alpha=True), "panorama.png", "image/png").json()
    thumb = Image.open(io.BytesIO(server.request("GET", strip["thumbnail_url"], token).content))
    assert thumb.size == (320, 11) and thumb.mode == "RGBA"
    assert all(abs(got - want) <= 2 for got, want in zip(thumb.getpixel((160, 5)), (90, 160, 220, 128)))
