"""Profiles: display name, status, avatar and password change (issue 21; SQLite and PostgreSQL)."""
import pytest
from websockets.exceptions import ConnectionClosed

from tests.helpers import assert_error, user_id


def connected(server, token):
    client = server.connect(token)
    client.recv_type("connected")
    return client


def stranger(server, admin, name="dave"):
    """An account that shares no chat with anyone (it leaves the default General)."""
    made = server.request("POST", "/api/admin/users", admin, {"username": name, "password": name + "pass1"}).json()
    token = server.login(name, name + "pass1")
    server.request("DELETE", f"/api/chats/{server.chat_id(token, 'General')}/members/{made['id']}", token)
    return token


def test_profile_fields_are_saved_shown_everywhere_and_pushed_to_peers(server):
    admin, user1, user2 = server.login("admin"), server.login("user1"), server.login("user2")
    alone = stranger(server, admin)
    me = server.request("GET", "/api/me", user1).json()
    assert (me["status_text"], me["status_emoji"], me["avatar_url"]) == ("", "", None)
    peer, other_tab, outsider = connected(server, user2), connected(server, user1), connected(server, alone)
    answer = server.request("PATCH", "/api/me", user1, {"display_name": "  Ольга ", "status_text": "В отпуске",
                                                        "status_emoji": "🌴"})
    assert answer.status_code == 200
    assert {k: answer.json()[k] for k in ("display_name", "status_text", "status_emoji", "locale")} == \
        {"display_name": "Ольга", "status_text": "В отпуске", "status_emoji": "🌴", "locale": None}
    for client in (peer, other_tab):
        user = client.recv_type("user_updated")["user"]
        assert (user["id"], user["display_name"], user["status_emoji"]) == (me["id"], "Ольга", "🌴")
        assert "locale" not in user and "session_id" not in user
    outsider.nothing_of("user_updated", after=peer)
    members = server.request("GET", f"/api/chats/{server.chat_id(user2, 'General')}", user2).json()["members"]
    assert next(m for m in members if m["id"] == me["id"])["status_text"] == "В отпуске"
    found = server.request("GET", "/api/users", user2, params={"q": "user1"}).json()["users"]
    assert (found[0]["display_name"], found[0]["avatar_url"]) == ("Ольга", None)
    both = server.request("PATCH", "/api/me", user1, {"locale": "ru", "status_text": ""}).json()
    assert (both["locale"], both["status_text"], both["display_name"]) == ("ru", "", "Ольга")
    before = server.request("GET", "/api/me", user1).json()
    for body, code in [({}, "missing_field"), ({"display_name": "   "}, "invalid_field"),
                       ({"display_name": "x" * 65}, "display_name_too_long"), ({"display_name": "a\tb"}, "invalid_field"),
                       ({"display_name": 7}, "invalid_field"), ({"status_text": "x" * 101}, "status_text_too_long"),
                       ({"status_emoji": "😀" * 17}, "status_emoji_too_long"), ({"status_emoji": "\x1b"}, "invalid_field"),
                       ({"status_text": "ok", "locale": "fr"}, "invalid_field")]:
        assert_error(server.request("PATCH", "/api/me", user1, body), 422, code)
    assert server.request("GET", "/api/me", user1).json() == before  # nothing of a refused call was saved


def test_an_administrator_renaming_someone_tells_their_peers(server):
    admin, user2 = server.login("admin"), server.login("user2")
    peer = connected(server, user2)
    uid = user_id(server, server.login("user1"))
    assert server.request("PATCH", f"/api/admin/users/{uid}", admin, {"display_name": "Olga"}).status_code == 200
    frame = peer.recv_type("user_updated")
    assert (frame["user"]["id"], frame["user"]["display_name"]) == (uid, "Olga")


def test_email_and_timezone_are_set_cleared_validated_and_seen_by_peers(server):
    admin, user1, user2 = server.login("admin"), server.login("user1"), server.login("user2")
    me = server.request("GET", "/api/me", user1).json()
    assert (me["email"], me["timezone"]) == (None, None)
    peer = connected(server, user2)
    answer = server.request("PATCH", "/api/me", user1, {"email": "  Olga.Ivanova@Example.com ",
                                                        "timezone": "Asia/Tokyo"})
    assert answer.status_code == 200
    assert (answer.json()["email"], answer.json()["timezone"]) == ("Olga.Ivanova@Example.com", "Asia/Tokyo")
    user = peer.recv_type("user_updated")["user"]
    assert (user["id"], user["email"], user["timezone"]) == (me["id"], "Olga.Ivanova@Example.com", "Asia/Tokyo")
    members = server.request("GET", f"/api/chats/{server.chat_id(user2, 'General')}", user2).json()["members"]
    assert next(m for m in members if m["id"] == me["id"])["timezone"] == "Asia/Tokyo"
    chat_list = server.request("GET", "/api/chats", user2).json()
    assert chat_list  # the chat list reads users through the same columns
    welcome = server.connect(user1).recv_type("connected")  # admission reads users as plain rows too
    assert (welcome["user_id"], welcome["display_name"]) == (me["id"], me["display_name"])
    found = server.request("GET", "/api/users", user2, params={"q": "user1"}).json()["users"]
    assert found[0]["email"] == "Olga.Ivanova@Example.com"

    # the same address in another case belongs to user1 already; nothing of the refused call is saved
    before = server.request("GET", "/api/me", user2).json()
    taken = server.request("PATCH", "/api/me", user2, {"email": "olga.ivanova@example.COM", "status_text": "x"})
    assert_error(taken, 409, "email_taken")
    assert server.request("GET", "/api/me", user2).json() == before
    assert server.request("PATCH", "/api/me", user1, {"email": "olga.ivanova@example.com"}).status_code == 200
    made = server.request("POST", "/api/admin/users", admin, {"username": "erin", "password": "erinpass1",
                                                              "email": "OLGA.IVANOVA@example.com"})
    assert_error(made, 409, "email_taken")
    made = server.request("POST", "/api/admin/users", admin, {"username": "erin", "password": "erinpass1",
                                                              "email": " erin@example.com "})
    assert (made.status_code, made.json()["email"], made.json()["timezone"]) == (201, "erin@example.com", None)
    assert_error(server.request("POST", "/api/admin/users", admin, {"username": "fred", "password": "fredpass1",
                                                                    "email": "fred"}), 422, "invalid_email")

    before = server.request("GET", "/api/me", user1).json()
    for body, status, code in [({"email": "no-at-sign"}, 422, "invalid_email"), ({"email": "a b@example.com"}, 422, "invalid_email"),
                               ({"email": "a@b@c"}, 422, "invalid_email"), ({"email": "@example.com"}, 422, "invalid_email"),
                               ({"email": "a@example.com\x07"}, 422, "invalid_field"), ({"email": 5}, 422, "invalid_field"),
                               ({"email": "a" * 250 + "@b.ru"}, 422, "email_too_long"),
                               ({"timezone": "Mars/Olympus"}, 422, "invalid_timezone"),
                               ({"timezone": "../../etc/passwd"}, 422, "invalid_timezone"),
                               ({"timezone": 3}, 422, "invalid_timezone"),
                               ({"timezone": "Europe/Berlin", "display_name": ""}, 422, "invalid_field"),
                               ({"email": "erin@EXAMPLE.com", "timezone": "Europe/Berlin"}, 409, "email_taken"),
                               ({"timezone": "Europe/Berlin", "locale": "fr"}, 422, "invalid_field")]:
        assert_error(server.request("PATCH", "/api/me", user1, body), status, code)
    assert server.request("GET", "/api/me", user1).json() == before  # nothing of a refused call was saved

    cleared = server.request("PATCH", "/api/me", user1, {"email": None, "timezone": None}).json()
    assert (cleared["email"], cleared["timezone"]) == (None, None)
    user = peer.recv_type("user_updated")["user"]
    while user["timezone"] is not None:  # the first change's frame may still be queued
        user = peer.recv_type("user_updated")["user"]
    assert user["email"] is None
    # a cleared address is free again, and blank clears too
    assert server.request("PATCH", "/api/me", user2, {"email": "olga.ivanova@example.com"}).status_code == 200
    assert server.request("PATCH", "/api/me", user2, {"email": "  "}).json()["email"] is None


def image_bytes(size, mode="RGB", fmt="JPEG", exif=None):
    import io
    from PIL import Image
    picture = Image.new(mode, size, "red" if mode != "P" else 1)
    if mode == "RGB":  # a blue square in the middle: what the avatar keeps
        side = min(size)
        left, top = (size[0] - side) // 2, (size[1] - side) // 2
        picture.paste((0, 0, 255), (left, top, left + side, top + side))
    out = io.BytesIO()
    picture.save(out, fmt, **({"exif": exif} if exif else {}))
    return out.getvalue()


def put_avatar(server, token, data, name="me.jpg", content_type="image/jpeg"):
    return server.request("PUT", "/api/me/avatar", token, files={"file": (name, data, content_type)})


def test_avatar_upload_is_a_square_reencoded_image_served_to_signed_in_users(server):
    import io
    from PIL import Image
    user1, user2 = server.login("user1"), server.login("user2")
    peer = connected(server, user2)
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera make: metadata that must not be served
    answer = put_avatar(server, user1, image_bytes((800, 400), exif=exif.tobytes()))
    assert answer.status_code == 200, answer.text
    url = answer.json()["avatar_url"]
    assert url.startswith(f"/api/users/{answer.json()['id']}/avatar?v=")
    assert peer.recv_type("user_updated")["user"]["avatar_url"] == url
    served = server.request("GET", url, user2)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
    assert "immutable" in served.headers["Cache-Control"] and b"SecretCam" not in served.content
    picture = Image.open(io.BytesIO(served.content))
    assert picture.size == (256, 256)
    assert picture.convert("RGB").getpixel((128, 128))[2] > 200  # the middle of the upload, blue
    assert server.request("GET", url).status_code == 401
    stale = server.request("GET", url.split("?")[0], user2)
    assert stale.status_code == 200 and stale.headers["Cache-Control"] == "private, no-cache"
    # a new avatar has a new URL; a palette PNG with transparency stays a PNG
    again = put_avatar(server, user1, image_bytes((40, 60), mode="P", fmt="PNG"), "small.png", "image/png").json()
    assert again["avatar_url"] != url
    assert server.request("GET", again["avatar_url"], user2).headers["Content-Type"] == "image/png"
    assert server.request("GET", "/api/me", user1).json()["avatar_url"] == again["avatar_url"]
    removed = server.request("DELETE", "/api/me/avatar", user1)
    assert removed.status_code == 200 and removed.json()["avatar_url"] is None
    assert peer.recv_type("user_updated")["user"]["avatar_url"] == again["avatar_url"]
    assert peer.recv_type("user_updated")["user"]["avatar_url"] is None
    assert_error(server.request("GET", again["avatar_url"], user2), 404, "avatar_not_found")


def test_avatar_refusals(server_factory):
    server = server_factory(max_upload_bytes=2000, thumbnail_max_pixels=10_000)
    user1 = server.login("user1")
    assert_error(put_avatar(server, user1, b"%PDF-1.4 not a picture", "cv.pdf", "application/pdf"), 422, "not_an_image")
    assert_error(put_avatar(server, user1, image_bytes((200, 200), fmt="PNG")), 422, "image_too_large")
    assert_error(put_avatar(server, user1, b"x" * 5000), 413, "file_too_large")
    assert_error(server.request("PUT", "/api/me/avatar", user1, json_body={"file": "x"}), 400, "invalid_upload")
    assert server.request("GET", "/api/me", user1).json()["avatar_url"] is None


def test_password_change_ends_every_other_session_and_keeps_this_one(server):
    here, elsewhere = server.login("user1"), server.login("user1")
    here_socket, elsewhere_socket = connected(server, here), connected(server, elsewhere)
    watcher = connected(server, server.login("user2"))
    changed = server.request("POST", "/api/me/password", here,
                             {"current_password": "user1pass", "new_password": "brand-new-pass"})
    assert changed.status_code == 204 and changed.content == b""
    with pytest.raises(ConnectionClosed):
        while True:
            elsewhere_socket.recv(10)
    assert elsewhere_socket.close_code == 1008
    assert elsewhere_socket.close_reason == "password changed in another session: log in again"
    assert_error(server.request("GET", "/api/me", elsewhere), 401, "token_revoked")
    assert server.request("GET", "/api/me", here).status_code == 200
    here_socket.send({"type": "ping", "id": "still"})
    assert here_socket.recv_type("pong")["id"] == "still"
    watcher.quiet_for("presence", 1.0)  # user1 stays online through this session (grace: 0.3 s)
    assert server.request("POST", "/api/auth/login", json_body={"username": "user1", "password": "user1pass"}
                          ).status_code == 401
    server.login("user1", "brand-new-pass")


def test_password_change_refusals_and_throttle(server):
    token = server.login("user1")
    path = "/api/me/password"
    assert_error(server.request("POST", path, token, {"current_password": "user1pass", "new_password": "short"}),
                 422, "weak_password")
    assert_error(server.request("POST", path, token, {"current_password": "user1pass"}), 422, "missing_field")
    for _ in range(5):  # login_max_failures in the tests
        assert_error(server.request("POST", path, token, {"current_password": "guess-123", "new_password": "another-pass"}),
                     403, "wrong_password")
    throttled = server.request("POST", path, token, {"current_password": "user1pass", "new_password": "another-pass"})
    assert_error(throttled, 429, "too_many_attempts")
    assert int(throttled.headers["Retry-After"]) > 0
    assert server.request("GET", "/api/me", token).status_code == 200  # nothing changed, still signed in
    assert_error(server.request("POST", path, json_body={"current_password": "a", "new_password": "bbbbbbbb"}),
                 401, "token_missing")


@pytest.mark.slow
def test_password_change_on_one_process_closes_the_other_sessions_sockets_on_the_other(spawn, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("two processes share one PostgreSQL database")
    a, b = spawn(), spawn()
    here, elsewhere = a.login("user1"), b.login("user1")
    kept, closed = connected(b, here), connected(b, elsewhere)
    assert a.request("POST", "/api/me/password", here, {"current_password": "user1pass",
                                                        "new_password": "brand-new-pass"}).status_code == 204
    with pytest.raises(ConnectionClosed):
        while True:
            closed.recv(10)
    assert closed.close_code == 1008
    kept.send({"type": "ping", "id": "kept"})
    assert kept.recv_type("pong")["id"] == "kept"
