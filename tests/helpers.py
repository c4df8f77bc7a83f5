"""Small helpers shared by the API and WebSocket tests."""
import jwt

from models.users import issue_access_token


def expired_token(server, token):
    """A correctly signed token for the same session that expired 10 s ago."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return issue_access_token(server.config["secret_key"], int(claims["sub"]), claims["sid"], -10)


def user_id(server, token):
    return server.request("GET", "/api/me", token).json()["id"]


def assert_error(response, status, code=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]
