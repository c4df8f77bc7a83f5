"""File uploads, downloads, access rules and messages carrying files (SQLite and PostgreSQL)."""
import datetime
import io
import json
import socket
import time

import pytest
from PIL import Image

from models.clock import utcnow
from models.files import FileChunk, delete_orphans
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
    time.sleep(2.5)  # two more sweeps: an attached file is never an orphan
    assert fetch(server, token, fresh).content == b"attached in time"
