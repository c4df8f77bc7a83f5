"""Fixtures: every server test runs on SQLite and on a throwaway PostgreSQL database."""
import logging
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from tests.harness import PG_ADMIN_URL, ROOT, SERVER_BINARY, InProcessServer, SubprocessServer, config_argv

IN_CI = os.environ.get("CI", "").lower() == "true"
_pg_problem = None


def pytest_collection_modifyitems(items):
    """Tests that start server processes are marked ``subprocess``: CI runs them again against the binary."""
    for item in items:
        if "spawn" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.subprocess)


def _pg_admin():
    return psycopg2.connect(PG_ADMIN_URL, connect_timeout=3)


@pytest.fixture(scope="session")
def pg_database():
    """A database created for this test session and dropped at its end."""
    global _pg_problem
    try:
        admin = _pg_admin()
    except psycopg2.OperationalError as exc:
        _pg_problem = f"PostgreSQL not reachable at {PG_ADMIN_URL} ({str(exc).strip()})"
        if IN_CI:
            pytest.fail(_pg_problem + " - CI must run the PostgreSQL tests")
        pytest.skip(_pg_problem + "; start it (see README) to run the PostgreSQL half of the suite")
    admin.autocommit = True
    name = f"cm_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(PG_ADMIN_URL)._replace(path="/" + name))
    yield url
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                    " AND backend_type = 'client backend'", (name,))  # not autovacuum: DROP stops it
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close()


def reset_pg_schema(url):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path / "messenger.db")
    url = request.getfixturevalue("pg_database")
    reset_pg_schema(url)
    return url


@pytest.fixture
def database(database_url):
    """The test's database bound in this process with the schema in place, for domain functions called
    through ``run_in_transaction`` (no server)."""
    from models import migrations
    from models.db import close_db, init_db
    init_db(database_url, pool_size=2)
    migrations.migrate()
    yield database_url
    close_db()


@pytest.fixture
def server_factory(database_url, tmp_path):
    """Start in-process servers on the test's database; stopped at the end of the test."""
    started = []

    def start(**overrides):
        server = InProcessServer(config_argv(tmp_path / "data", database_url, **overrides))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(server_factory):
    return server_factory()


@pytest.fixture
def spawn(database_url, tmp_path):
    """Start server processes (``python server.py``, or the binary named by CM_TEST_SERVER); each is
    stopped at the end of the test."""
    procs = []

    def start(port=0, **overrides):
        argv = config_argv(tmp_path / "data", database_url, **overrides)
        proc = SubprocessServer(argv, port=port, log_path=str(tmp_path / "server.log"))
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.stop()


@pytest.fixture(scope="session")
def built_binary():
    """The one-file binary (CM_TEST_SERVER, else dist/corporate-messenger): skipped locally until
    ``make binary`` has run; in CI a missing binary fails."""
    path = SERVER_BINARY or os.path.join(ROOT, "dist", "corporate-messenger")
    if not os.path.isfile(path):
        if IN_CI:
            pytest.fail(f"{path} missing: .ci/run must run make binary before the tests")
        pytest.skip(f"{path} not built (make binary) - binary tests skipped")
    return path


# --- browser tests -----------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"{CHROMIUM} missing: .ci/run must install the chromium package")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium) - browser tests skipped")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def ui_server(tmp_path):
    """A server on SQLite for browser tests (the API tests already cover PostgreSQL)."""
    from tests.harness import InProcessServer
    server = InProcessServer(config_argv(tmp_path / "data", "sqlite:///" + str(tmp_path / "ui.db")))
    yield server
    server.stop()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh browser contexts; console errors are collected on ``page.console_errors``."""
    from tests.browser import track_console
    contexts = []

    def make(viewport=None, timezone_id=None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800}, timezone_id=timezone_id)
        contexts.append(context)
        return track_console(context.new_page())

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def server_log():
    """Feed the in-memory log ring buffer at INFO, as ``server.py`` does."""
    from handlers.logbuffer import install_ring_buffer, ring_buffer
    install_ring_buffer()
    ring_buffer.lines.clear()  # one buffer per process: start each test with an empty one
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    yield ring_buffer
    root.setLevel(level)
