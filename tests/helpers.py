"""Small helpers shared by the API and WebSocket tests."""
import asyncio
import contextlib
from urllib.parse import urlsplit

import jwt
import psycopg2

from models.db import db_call
from models.users import issue_access_token
from tests.harness import PG_ADMIN_URL


def in_database(server, fn, *args):
    """Run a domain function the way handlers do: ``db_call`` on an in-process server's loop."""
    return asyncio.run_coroutine_threadsafe(db_call(fn, *args), server._loop).result(15)


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


@contextlib.contextmanager
def database_unreachable(database_url):
    """PostgreSQL refuses every connection to the test database (open ones are cut) until the block ends."""
    name = urlsplit(database_url).path.lstrip("/")
    admin = psycopg2.connect(PG_ADMIN_URL)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            # client backends only: an autovacuum worker runs as the superuser, and ending it needs one
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                        " AND backend_type = 'client backend'", (name,))
        yield
    finally:
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
