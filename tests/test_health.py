"""Health reports the database honestly: 503 while PostgreSQL refuses connections, 200 again after."""
from urllib.parse import urlsplit

import psycopg2
import pytest

from tests.harness import PG_ADMIN_URL


def test_health_503_when_database_unreachable(server, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("an embedded SQLite file cannot become unreachable while the process runs")
    name = urlsplit(database_url).path.lstrip("/")
    admin = psycopg2.connect(PG_ADMIN_URL)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        r = server.request("GET", "/api/health")
        assert r.status_code == 503
        assert r.json()["status"] == "error" and r.json()["db"] == "error"
        r = server.request("POST", "/api/auth/login", json_body={"username": "admin", "password": "admin123"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "db_unavailable"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
    assert server.request("GET", "/api/health").status_code == 200
    assert server.login("admin")
