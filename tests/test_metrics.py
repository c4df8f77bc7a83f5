"""GET /metrics: the families move with real traffic, and only loopback or the metrics token may read them."""
import time
from urllib.parse import urlsplit

import psycopg2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed

from tests.conftest import reset_pg_schema
from tests.harness import PG_ADMIN_URL, InProcessServer, config_argv

ALLOWED_LABELS = {"code", "version", "commit", "le", "implementation", "major", "minor", "patchlevel", "generation"}


def scrape(server, **headers):
    response = server.http.get(server.url + "/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text[:200]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def scrape_until(server, name, wanted, timeout=10, **labels):
    """Scrape until ``name`` reaches ``wanted`` (a close is counted when the server has processed it)."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(server)
        if value(samples, name, **labels) >= wanted or time.monotonic() > deadline:
            return samples
        time.sleep(0.05)


def test_metrics_follow_real_traffic(server):
    before = scrape(server)
    for _ in range(2):
        assert server.request("POST", "/api/auth/login",
                              json_body={"username": "admin", "password": "wrong"}).status_code == 401
    admin_token, user1_token = server.login("admin"), server.login("user1")
    general = server.chat_id(admin_token, "General")
    admin, user1 = server.connect(admin_token), server.connect(user1_token)
    admin.recv_type("connected")
    user1.recv_type("connected")
    for i in range(5):
        admin.send({"type": "send_message", "chat_id": general, "text": f"metric {i}", "client_msg_id": f"m{i}"})
    for _ in range(5):
        admin.recv_type("message_ack")
        user1.recv_type("new_message")
    admin.send("not json")
    assert admin.recv_type("error")["code"] == "invalid_json"
    refused = server.connect("not-a-token")
    with pytest.raises(ConnectionClosed):
        refused.recv(5)
    user1.close()

    after = scrape_until(server, "messenger_connections_closed_total",
                         value(before, "messenger_connections_closed_total", code="1000") + 1, code="1000")

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("messenger_login_failures_total") == 2
    assert grew("messenger_messages_committed_total") == 5
    assert grew("messenger_commit_batch_size_sum") == 5  # every committed message is in one observed batch
    batches = grew("messenger_write_batches_total")
    assert 1 <= batches <= 5
    assert grew("messenger_commit_batch_size_count") == batches == grew("messenger_commit_seconds_count")
    assert grew("messenger_commit_seconds_sum") > 0
    assert grew("messenger_deliveries_total") >= 5  # user1's copies (presence frames may add more)
    assert grew("messenger_frame_errors_total") == 1
    assert grew("messenger_connections_opened_total") == 2
    assert grew("messenger_connections_closed_total", code="1008") == 1
    assert grew("messenger_connections_closed_total", code="1000") == 1
    assert value(after, "messenger_connections_open") == 1
    assert value(after, "messenger_writer_backlog") == 0
    assert grew("messenger_database_errors_total") == 0
    assert value(after, "process_resident_memory_bytes") > 10 * 2 ** 20
    assert value(after, "process_open_fds") > 0
    assert any(name == "messenger_build_info" and dict(labels)["version"] == "1.0.0" for name, labels in after)
    assert any(name == "python_info" for name, _ in after)
    used = {key for _, labels in after for key, _ in labels}
    assert used <= ALLOWED_LABELS, used - ALLOWED_LABELS  # nothing per user
    admin.close()


def test_openmetrics_when_asked(server):
    response = server.http.get(server.url + "/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")
    assert "messenger_commit_seconds_bucket" in response.text


def test_only_loopback_or_the_metrics_token(server_factory):
    server = server_factory(metrics_token="scrape-" + "k" * 30, trust_proxy_headers="true")
    url = server.url + "/metrics"
    unknown_page = server.http.get(server.url + "/no-such-page")

    def status(**headers):
        response = server.http.get(url, headers=headers, timeout=10)
        if response.status_code == 404:
            assert response.text == unknown_page.text  # the endpoint does not reveal itself
        return response.status_code

    assert status() == 200  # direct, from 127.0.0.1
    assert status(**{"X-Real-IP": "203.0.113.7"}) == 404  # a client beyond the proxy
    assert status(**{"X-Forwarded-For": "127.0.0.1"}) == 404  # proxied, even when it claims loopback
    assert status(**{"X-Forwarded-For": "203.0.113.7", "Authorization": "Bearer scrape-" + "k" * 30}) == 200
    assert status(**{"X-Forwarded-For": "203.0.113.7", "Authorization": "Bearer scrape-" + "k" * 29}) == 404
    assert status(**{"X-Forwarded-For": "203.0.113.7", "Authorization": "Basic scrape-" + "k" * 30}) == 404


def test_no_token_configured_means_loopback_only(server):
    response = server.http.get(server.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.7",
                                                                 "Authorization": "Bearer "})
    assert response.status_code == 404


@pytest.mark.postgres
def test_database_errors_are_counted(pg_database, tmp_path):
    reset_pg_schema(pg_database)
    server = InProcessServer(config_argv(tmp_path / "data", pg_database, backplane="local"))
    name = urlsplit(pg_database).path[1:]
    admin = psycopg2.connect(PG_ADMIN_URL)
    admin.autocommit = True
    try:
        before = value(scrape(server), "messenger_database_errors_total")
        with admin.cursor() as cur:  # the database refuses the server's connections until told otherwise
            cur.execute(f'ALTER DATABASE "{name}" CONNECTION LIMIT 0')
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                        " AND backend_type = 'client backend'", (name,))  # not autovacuum (superuser)
        assert [server.request("GET", "/api/health").status_code for _ in range(3)] == [503] * 3
        assert value(scrape(server), "messenger_database_errors_total") - before == 3
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" CONNECTION LIMIT -1')
        assert server.request("GET", "/api/health").status_code == 200
        assert value(scrape(server), "messenger_database_errors_total") - before == 3
    finally:
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" CONNECTION LIMIT -1')
        admin.close()
        server.stop()


def test_close_codes_a_client_picks_do_not_become_series(server):
    """A client chooses its close code: 100 unknown ones are counted as one ``other`` series, in /metrics
    and in the diagnostics counters (each used to become a series of its own)."""
    token = server.login("user1")
    before = scrape(server)

    def series(samples):
        return {labels for name, labels in samples if name == "messenger_connections_closed_total"}
    for code in range(3000, 3100):
        client = server.connect(token)
        client.recv_type("connected")
        client.conn.close(code=code)
    client = server.connect(token)
    client.recv_type("connected")
    client.close()
    after = scrape_until(server, "messenger_connections_closed_total",
                         value(before, "messenger_connections_closed_total", code="other") + 100, code="other")
    assert value(after, "messenger_connections_closed_total", code="other") - \
        value(before, "messenger_connections_closed_total", code="other") == 100
    assert series(after) - series(before) <= {(("code", "other"),), (("code", "1000"),)}
    codes = server.request("GET", "/api/admin/diagnostics", server.login("admin")).json()["counters"]["close_codes"]
    assert codes["other"] == 100 and not [c for c in codes if c.startswith("30")], codes
