"""Accounts and authentication over the REST API (SQLite and PostgreSQL)."""
import jwt
import pytest

from tests.helpers import assert_error, expired_token


def test_login_returns_contract_shape(server):
    r = server.request("POST", "/api/auth/login", json_body={"username": "admin", "password": "admin123"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert body["user"]["username"] == "admin" and body["user"]["id"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert {"sub", "exp", "iat", "jti", "sid"} <= set(claims)
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"


@pytest.mark.parametrize("body,status,code", [
    ({"username": "admin", "password": "wrong"}, 401, "invalid_credentials"),
    ({"username": "nobody", "password": "admin123"}, 401, "invalid_credentials"),
    ({"username": "admin"}, 422, "missing_field"),
    ({"username": 5, "password": "x"}, 422, "invalid_field"),
])
def test_login_refusals(server, body, status, code):
    assert_error(server.request("POST", "/api/auth/login", json_body=body), status, code)


def test_login_bad_json(server):
    r = server.request("POST", "/api/auth/login", data=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")
    r = server.request("POST", "/api/auth/login", json_body=["admin", "admin123"])
    assert_error(r, 400, "invalid_json")


def test_token_required_and_checked(server):
    assert_error(server.request("GET", "/api/chats"), 401, "token_missing")
    assert_error(server.request("GET", "/api/chats", "garbage"), 401, "token_malformed")
    assert_error(server.request("GET", "/api/chats", "a.b.c"), 401, "token_malformed")
    token = server.login("admin")
    forged = jwt.encode(jwt.decode(token, options={"verify_signature": False}), "another-secret-of-sufficient-length-0123456789", algorithm="HS256")
    assert_error(server.request("GET", "/api/chats", forged), 401, "token_invalid")
    assert_error(server.request("GET", "/api/chats", expired_token(server, token)), 401, "token_expired")
    assert server.request("GET", "/api/me", token).json()["username"] == "admin"


def test_logout_revokes_token(server):
    token = server.login("user1")
    assert server.request("POST", "/api/auth/logout", token).status_code == 200
    assert_error(server.request("GET", "/api/me", token), 401, "token_revoked")


def test_refresh_rotates(server):
    body = server.request("POST", "/api/auth/login", json_body={"username": "user1", "password": "user1pass"}).json()
    r = server.request("POST", "/api/auth/refresh", json_body={"refresh_token": body["refresh_token"]})
    assert r.status_code == 200
    fresh = r.json()
    assert server.request("GET", "/api/me", fresh["access_token"]).status_code == 200
    # a second tab presenting the replaced token at the same moment is not logged out...
    again = server.request("POST", "/api/auth/refresh", json_body={"refresh_token": body["refresh_token"]})
    assert again.status_code == 200 and "refresh_token" not in again.json()
    assert server.request("GET", "/api/me", again.json()["access_token"]).status_code == 200
    # ...but once the new token has been rotated too, the first one is dead
    server.request("POST", "/api/auth/refresh", json_body={"refresh_token": fresh["refresh_token"]})
    late = server.request("POST", "/api/auth/refresh", json_body={"refresh_token": body["refresh_token"]})
    assert_error(late, 401, "invalid_refresh_token")


def test_deactivated_user_locked_out(server):
    admin = server.login("admin")
    user1 = server.login("user1")
    user1_id = server.request("GET", "/api/me", user1).json()["id"]
    r = server.request("PATCH", f"/api/admin/users/{user1_id}", admin, {"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert_error(server.request("GET", "/api/me", user1), 401, "user_deactivated")
    r = server.request("POST", "/api/auth/login", json_body={"username": "user1", "password": "user1pass"})
    assert_error(r, 401, "user_deactivated")
    server.request("PATCH", f"/api/admin/users/{user1_id}", admin, {"is_active": True})
    assert server.login("user1")


def test_login_throttled_per_username(server):
    for _ in range(5):
        r = server.request("POST", "/api/auth/login", json_body={"username": "user2", "password": "nope"})
        assert r.status_code == 401
    r = server.request("POST", "/api/auth/login", json_body={"username": "user2", "password": "user2pass"})
    assert_error(r, 429, "too_many_attempts")
    assert int(r.headers["Retry-After"]) > 0
    assert server.login("user1")  # other usernames are unaffected


def test_login_throttled_per_address(server_factory):
    server = server_factory(login_max_failures_per_address=3)
    for name in ("a1", "a2", "a3"):
        server.request("POST", "/api/auth/login", json_body={"username": name, "password": "x"})
    r = server.request("POST", "/api/auth/login", json_body={"username": "admin", "password": "admin123"})
    assert_error(r, 429, "too_many_attempts")


def test_admin_user_management(server):
    admin, user1 = server.login("admin"), server.login("user1")
    new = {"username": "carol", "password": "carolpass1", "display_name": "Carol"}
    assert_error(server.request("POST", "/api/admin/users", user1, new), 403, "admin_only")
    assert_error(server.request("GET", "/api/admin/users", user1), 403, "admin_only")
    r = server.request("POST", "/api/admin/users", admin, new)
    assert r.status_code == 201 and r.json()["display_name"] == "Carol"
    carol_id = r.json()["id"]
    assert_error(server.request("POST", "/api/admin/users", admin, new), 409, "username_taken")
    assert_error(server.request("POST", "/api/admin/users", admin, {**new, "username": "dave", "password": "short"}),
                 422, "weak_password")
    assert_error(server.request("POST", "/api/admin/users", admin, {**new, "username": "Bad Name!"}),
                 422, "invalid_username")
    carol = server.login("carol", "carolpass1")
    r = server.request("POST", f"/api/admin/users/{carol_id}/password", admin, {"password": "newpass123"})
    assert r.status_code == 200
    assert_error(server.request("GET", "/api/me", carol), 401, "token_revoked")
    assert server.login("carol", "newpass123")
    assert_error(server.request("POST", "/api/admin/users/9999/password", admin, {"password": "newpass123"}),
                 404, "user_not_found")
    names = [u["username"] for u in server.request("GET", "/api/admin/users", admin).json()["users"]]
    assert "carol" in names


def test_user_directory_search(server):
    token = server.login("user1")
    users = server.request("GET", "/api/users?q=user", token).json()["users"]
    assert {u["username"] for u in users} == {"user1", "user2"}
    assert all("password_hash" not in u for u in users)


def test_body_too_large(server):
    token = server.login("admin")
    chat = server.chat_id(token, "General")
    r = server.request("POST", f"/api/chats/{chat}/messages", token,
                       data=b'{"text":"' + b"a" * (1024 * 1024 + 10) + b'"}',
                       headers={"Content-Type": "application/json"})
    assert_error(r, 413, "body_too_large")


def test_health_and_root(server):
    r = server.request("GET", "/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["db"] == "ok"
    r = server.request("GET", "/", headers={"Accept": "*/*"})
    assert r.json() == {"message": "Corporate Messenger API", "version": "1.0.0"}
    r = server.request("GET", "/", headers={"Accept": "text/html"}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_unknown_api_path_is_json_404(server):
    assert_error(server.request("GET", "/api/nope"), 404, "not_found")
    assert_error(server.request("DELETE", "/api/chats", server.login("admin")), 405)


def test_passwords_are_hashed_with_argon2id(server):
    from models.db import db
    from models.users import User
    with db.connection_context():
        stored = User.get(User.username == "admin").password_hash
    assert stored.startswith("$argon2id$") and "admin123" not in stored
