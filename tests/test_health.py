"""Health reports the database honestly: 503 while PostgreSQL refuses connections, 200 again after."""
import pytest

from tests.helpers import database_unreachable


def test_health_503_when_database_unreachable(server, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("an embedded SQLite file cannot become unreachable while the process runs")
    with database_unreachable(database_url):
        r = server.request("GET", "/api/health")
        assert r.status_code == 503
        assert r.json()["status"] == "error" and r.json()["db"] == "error"
        r = server.request("POST", "/api/auth/login", json_body={"username": "admin", "password": "admin123"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "db_unavailable"
    assert server.request("GET", "/api/health").status_code == 200
    assert server.login("admin")
