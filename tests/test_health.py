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


def test_health_503_names_a_disk_under_the_free_space_threshold(server_factory):
    """More free space demanded than any disk has: health says the disk is full, and why."""
    server = server_factory(disk_min_free_mb=2 ** 40)
    r = server.request("GET", "/api/health")
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["status"] == "error" and body["db"] == "ok" and body["disk"] == "full"
    assert body["detail"].startswith("disk full: only ") and "threshold" in body["detail"]
    ok = server_factory(disk_min_free_mb=0).request("GET", "/api/health")
    assert ok.status_code == 200 and ok.json()["disk"] == "ok"
