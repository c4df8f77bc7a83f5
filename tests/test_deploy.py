"""deploy/: the systemd unit, the nginx site in front of two binaries on one PostgreSQL, the Dockerfile."""
import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import time

import pytest
import requests
from websockets.sync.client import connect as ws_connect

from tests.conftest import reset_pg_schema
from tests.harness import ROOT, SubprocessServer, WsClient, config_argv, run_server_command

DEPLOY = os.path.join(ROOT, "deploy")
UNIT = os.path.join(DEPLOY, "corporate-messenger.service")
NGINX_SITE = os.path.join(DEPLOY, "nginx.conf")
DOCKERFILE = os.path.join(DEPLOY, "Dockerfile")
METRICS_TOKEN = "metrics-" + "t" * 32


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def unit_entries(text):
    """``(section, key, value)`` for every setting line of a unit file (keys may repeat)."""
    section, entries = None, []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        else:
            key, _, value = line.partition("=")
            entries.append((section, key.strip(), value.strip()))
    return entries


def assert_real_flags(args):
    """Every ``--flag`` in ``args`` is one the server (or the binary under test) lists in its --help."""
    help_text = run_server_command("--help").stdout
    flags = [arg.split("=")[0] for arg in args if arg.startswith("--")]
    assert flags, args
    unknown = [flag for flag in flags if not re.search(re.escape(flag) + r"(?![\w-])", help_text)]
    assert not unknown, f"not flags of the server: {unknown}"


# --- systemd ---------------------------------------------------------------------------------

def test_systemd_unit_is_hardened_and_starts_the_binary_with_real_flags(tmp_path):
    entries = unit_entries(read(UNIT))
    service = {key: value for section, key, value in entries if section == "Service"}
    assert service["DynamicUser"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["StateDirectory"] == "corporate-messenger"
    assert "/var/lib/corporate-messenger" in service["ReadWritePaths"].split()
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome", "PrivateDevices", "RestrictSUIDSGID"):
        assert service[key] == "yes", key
    assert service["CapabilityBoundingSet"] == ""
    command = shlex.split(service["ExecStart"])
    assert command[0] == "/usr/local/bin/corporate-messenger"
    assert command[command.index("--data-dir") + 1] == "/var/lib/corporate-messenger"
    assert command[command.index("--host") + 1] == "127.0.0.1"  # only nginx talks to it
    assert_real_flags(command[1:])

    if shutil.which("systemd-analyze") is None:
        return  # the checks above are all this machine can do
    binary = os.path.join(ROOT, "dist", "corporate-messenger")
    unit = tmp_path / "corporate-messenger.service"  # verify insists that ExecStart's file exists
    unit.write_text(read(UNIT).replace("/usr/local/bin/corporate-messenger",
                                       binary if os.path.exists(binary) else shutil.which("true")))
    verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and "ignoring" not in verify.stderr.lower(), verify.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(unit)],
                              capture_output=True, text=True, timeout=60)
    exposure = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)
    assert exposure and float(exposure.group(1)) <= 2.0, security.stdout[-500:]


def unit_command():
    service = {key: value for section, key, value in unit_entries(read(UNIT)) if section == "Service"}
    return shlex.split(service["ExecStart"])


def test_systemd_unit_starts_without_demo_accounts(tmp_path):
    """The unit's own command line (behind nginx, so --trust-proxy-headers) starts on a new database, and
    none of the demo accounts, whose passwords are published, exists."""
    args = unit_command()[1:]
    args[args.index("--port") + 1] = "0"
    args[args.index("--data-dir") + 1] = str(tmp_path / "data")
    server = SubprocessServer([*args, "--secret-key", "s" * 40], log_path=str(tmp_path / "server.log"))
    try:
        for name, password in (("admin", "admin123"), ("user1", "user1pass"), ("user2", "user2pass")):
            r = server.request("POST", "/api/auth/login", json_body={"username": name, "password": password})
            assert r.status_code == 401, (name, r.text)
    finally:
        server.stop()


def test_systemd_unit_documentation_is_installed_by_the_install_steps():
    """Every Documentation=file:// of the unit is a file of this repository that the unit's own install
    comment and docs/deployment.md's systemd steps install."""
    unit_text = read(UNIT)
    documents = [value for section, key, value in unit_entries(unit_text) if key == "Documentation"]
    paths = [uri[len("file://"):] for document in documents for uri in document.split()]
    assert paths and all(path.startswith("/") for path in paths), documents
    guide = read(os.path.join(ROOT, "docs", "deployment.md"))
    systemd_steps = guide[guide.index("## systemd"):guide.index("## Container")]
    for steps in (unit_text, systemd_steps):
        installed = dict((target, source) for source, target in
                         re.findall(r"install (?:-D )?-m 644 (\S+) (\S+)", steps))
        for path in paths:
            assert path in installed, f"nothing installs {path}"
            assert os.path.isfile(os.path.join(ROOT, installed[path])), installed[path]


# --- Dockerfile (not built here: no container daemon) ---------------------------------------------

def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck():
    text = read(DOCKERFILE).replace("\\\n", " ")  # continuation lines joined
    stages = re.findall(r"(?im)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text)
    assert len(stages) >= 2 and stages[0][1], stages  # a named build stage, then the runtime image
    assert "make binary" in text
    assert re.search(r"(?m)^COPY --from=" + re.escape(stages[0][1]) + r"\s+\S*dist/corporate-messenger", text)
    users = re.findall(r"(?m)^USER\s+(\S+)", text)
    assert users and users[-1] not in ("root", "0"), users
    assert re.search(r"(?m)^HEALTHCHECK .*\S+/api/health", text)
    assert "not built by CI" in text
    assert_real_flags(json.loads(re.search(r"(?m)^CMD\s+(\[.*\])", text).group(1)))


# --- nginx in front of two binaries -----------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replaced(text, old, new):
    assert old in text, f"deploy/nginx.conf no longer has {old!r}: update this test with it"
    return text.replace(old, new)


def nginx_for_test(tmp_path, backends, https_port, http_port):
    """deploy/nginx.conf with test ports and a self-signed certificate, inside a minimal nginx.conf."""
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    site = read(NGINX_SITE)
    site = replaced(site, "    server 127.0.0.1:8000;\n", "".join(f"    server 127.0.0.1:{p};\n" for p in backends))
    site = replaced(site, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = replaced(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
    site = replaced(site, "/etc/letsencrypt/live/chat.example.com/fullchain.pem", cert)
    site = replaced(site, "/etc/letsencrypt/live/chat.example.com/privkey.pem", key)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (tmp_path / "site.conf").write_text(site)
    temp = {name: tmp_path / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    (tmp_path / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {tmp_path}/access.log;
    {" ".join(f"{name}_temp_path {path};" for name, path in temp.items())}
    include {tmp_path}/site.conf;
}}
""")
    return ["-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")], cert


def wait_for_port(port, proc, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "nginx exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture
def nginx_path():
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("nginx missing: .ci/services must install it")
        pytest.skip("nginx not installed (apt-get install nginx-light)")
    return path


@pytest.mark.postgres
@pytest.mark.browser
def test_nginx_site_in_front_of_two_binaries_on_one_postgresql(built_binary, nginx_path, pg_database, browser,
                                                              tmp_path):
    reset_pg_schema(pg_database)
    # The demo accounts, through a proxy, only because this test says so (the unit starts without them)
    argv = config_argv(tmp_path / "data", pg_database, trust_proxy_headers="true", metrics_token=METRICS_TOKEN,
                       allow_demo_on_public="true")
    backends = []
    nginx = None
    try:
        for name in ("a", "b"):
            backends.append(SubprocessServer(argv, log_path=str(tmp_path / f"{name}.log"), command=[built_binary]))
        a, b = backends
        https_port, http_port = free_port(), free_port()
        options, cert = nginx_for_test(tmp_path, [a.port, b.port], https_port, http_port)
        command = [nginx_path, *options]
        tested = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert tested.returncode == 0, tested.stderr
        nginx = subprocess.Popen([*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        wait_for_port(https_port, nginx)
        site = f"https://127.0.0.1:{https_port}"
        def call(method, path, **kwargs):  # verify= per call: REQUESTS_CA_BUNDLE would beat a Session's
            return requests.request(method, site + path, verify=cert, timeout=10, **kwargs)

        redirect = requests.get(f"http://127.0.0.1:{http_port}/diagnostics", allow_redirects=False, timeout=10)
        assert redirect.status_code == 301 and redirect.headers["Location"].startswith("https://")
        assert call("GET", "/").json() == {"message": "Corporate Messenger API", "version": "1.0.0"}
        assert call("GET", "/api/health").json()["db"] == "ok"
        assert call("GET", "/metrics").status_code == 404  # proxied: not loopback
        scraped = call("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert scraped.status_code == 200 and "messenger_connections_open" in scraped.text

        # Through nginx's /ws (Upgrade headers), and between the two processes (PostgreSQL backplane).
        login = call("POST", "/api/auth/login", json={"username": "user1", "password": "user1pass"})
        token = login.json()["access_token"]
        admin = a.login("admin")
        general = a.chat_id(admin, "General")
        tls = ssl.create_default_context(cafile=cert)
        proxied = WsClient(ws_connect(f"wss://127.0.0.1:{https_port}/ws?token={token}", ssl=tls, open_timeout=10))
        on_b = b.connect(b.login("user2"))
        assert proxied.recv_type("connected")["username"] == "user1"
        on_b.recv_type("connected")
        for origin in (a, b):  # whichever process nginx picked, one of these two crosses processes
            sent = origin.request("POST", f"/api/chats/{general}/messages", admin,
                                  json_body={"text": f"via {origin.port}"}).json()
            assert proxied.recv_type("new_message", 10)["message"]["id"] == sent["id"]
            if origin is a:
                assert on_b.recv_type("new_message", 10)["message"]["id"] == sent["id"]  # A -> B
        proxied.close()
        on_b.close()

        # a 20 MiB photo through nginx, stored by one process and read back through nginx
        photo = bytes(range(256)) * (20 * 4096)
        auth = {"Authorization": f"Bearer {token}"}
        stored = call("POST", "/api/files", files={"file": ("photo.jpg", photo, "image/jpeg")}, headers=auth)
        assert stored.status_code == 201, stored.text[:300]
        assert call("GET", stored.json()["url"], headers=auth).content == photo

        context = browser.new_context(ignore_https_errors=True)
        try:
            page = context.new_page()
            page.goto(site + "/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", "admin123")
            page.click("button[type=submit]")
            page.wait_for_url(site + "/")
            page.goto(site + "/diagnostics")
            page.click("[data-testid=run-checks]")
            page.wait_for_selector("[data-testid=verdict][data-verdict=pass], [data-testid=verdict][data-verdict=fail]",
                                   timeout=30000)
            statuses = page.eval_on_selector_all("[data-testid^=check-]", "els => els.map(e => "
                                                 "[e.dataset.testid, e.dataset.status])")
            assert page.get_attribute("[data-testid=verdict]", "data-verdict") == "pass", statuses
            assert page.inner_text("[data-testid=verdict-title]") == "Everything works."
            assert all(status in ("pass", "skip") for _, status in statuses), statuses
            assert dict(statuses)["check-url"] == "pass"
            assert f"wss://127.0.0.1:{https_port}/ws" in page.inner_text("[data-testid=check-url]")
        finally:
            context.close()
        for server in (a, b):  # nginx spread the requests over both processes
            assert " 200 GET /static/" in server.log()
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        for server in backends:
            server.stop()


def test_nginx_in_front_of_a_server_that_does_not_trust_it_passes_no_demo_password(nginx_path, tmp_path):
    """A server on loopback with demo data but without --trust-proxy-headers, behind deploy/nginx.conf: nginx
    forwards everyone from 127.0.0.1, yet the demo passwords work only on the machine itself."""
    argv = config_argv(tmp_path / "data", "sqlite:///" + str(tmp_path / "demo.db"))
    backend = SubprocessServer(argv, log_path=str(tmp_path / "server.log"))
    nginx = None
    try:
        https_port = free_port()
        options, cert = nginx_for_test(tmp_path, [backend.port], https_port, free_port())
        nginx = subprocess.Popen([nginx_path, *options, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        wait_for_port(https_port, nginx)

        def login_through_nginx(password):
            return requests.post(f"https://127.0.0.1:{https_port}/api/auth/login", verify=cert, timeout=10,
                                 json={"username": "admin", "password": password})

        refused = login_through_nginx("admin123")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "demo_password_refused"
        assert backend.login("admin")  # on the machine itself
        changed = run_server_command("set-password", "admin", *argv, stdin_text="a-new-password\n")
        assert changed.returncode == 0, changed.stderr
        assert login_through_nginx("a-new-password").status_code == 200
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        backend.stop()


def client_max_body_bytes(site):
    size = re.search(r"(?m)^\s*client_max_body_size\s+(\d+)([km]?);", site)
    return int(size.group(1)) * {"": 1, "k": 1024, "m": 1024 ** 2}[size.group(2)]


def test_nginx_body_limit_is_derived_from_the_upload_limit():
    import server as server_module
    from handlers.files import MULTIPART_OVERHEAD
    upload_limit = next(default for name, _, default, _, _ in server_module.SETTINGS if name == "max_upload_bytes")
    for text in (read(NGINX_SITE), read(os.path.join(ROOT, "docs", "deployment.md"))):
        proxy_limit = client_max_body_bytes(text)
        assert upload_limit + MULTIPART_OVERHEAD <= proxy_limit <= upload_limit + MULTIPART_OVERHEAD + 2 ** 20


def test_nginx_site_passes_uploads_up_to_the_server_limit(nginx_path, tmp_path):
    """deploy/nginx.conf in front of one server: a 20 MiB photo goes through; bodies over the server's limit
    get the server's JSON 413, bodies over nginx's own limit nginx's JSON 413 (never its HTML page)."""
    from tests.test_files import SizedBody
    backend = SubprocessServer(config_argv(tmp_path / "data", "sqlite:///" + str(tmp_path / "m.db")),
                               log_path=str(tmp_path / "server.log"))
    nginx = None
    try:
        https_port, http_port = free_port(), free_port()
        options, cert = nginx_for_test(tmp_path, [backend.port], https_port, http_port)
        nginx = subprocess.Popen([nginx_path, *options, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        wait_for_port(https_port, nginx)
        auth = {"Authorization": f"Bearer {backend.login('user1')}"}
        url = f"https://127.0.0.1:{https_port}/api/files"
        photo = bytes(range(256)) * (20 * 4096)  # 20 MiB
        stored = requests.post(url, files={"file": ("photo.jpg", photo, "image/jpeg")}, headers=auth, verify=cert,
                               timeout=60)
        assert stored.status_code == 201, stored.text[:300]
        assert requests.get(url + f"/{stored.json()['id']}", headers=auth, verify=cert, timeout=60).content == photo
        for size in (25 * 2 ** 20 + 1, 27 * 2 ** 20):  # over the server's limit; over nginx's too
            body = SizedBody(size)
            refused = requests.post(url, data=body, verify=cert, timeout=60, headers={
                **auth, "Content-Type": f"multipart/form-data; boundary={body.boundary}"})
            assert refused.status_code == 413 and refused.headers["Content-Type"].startswith("application/json")
            assert refused.json()["error"] == {"code": "file_too_large", "limit": 26214400,
                                               "message": "Files may be at most 26214400 bytes"}
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        backend.stop()
