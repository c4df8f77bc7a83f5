"""``python server.py doctor``: the /diagnostics checks from a terminal, run as a real subprocess."""
import os
import re
import socket
import subprocess

import pytest

from cli import doctor
from handlers import close_reasons as closing, i18n
from tests.harness import ROOT, SERVER_BINARY, run_server_command, server_command

pytestmark = pytest.mark.subprocess  # the doctor is a process: CI runs it from the binary too

WHOLE_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{18}")  # longer than the 20 characters logs may show


def run_doctor(*args, env_extra=None, stdin_text=""):
    env = {k: v for k, v in os.environ.items() if k not in ("CM_DOCTOR_PASSWORD", *doctor.LOCALE_VARIABLES)}
    env.update({"LANG": "C.UTF-8", **(env_extra or {})})  # English unless a test asks otherwise
    proc = subprocess.run([*server_command(), "doctor", *args], cwd=ROOT, env=env,
                          input=stdin_text, capture_output=True, text=True, timeout=90)
    return proc.returncode, proc.stdout + proc.stderr


def free_port():
    """A port nobody listens on: bound for a moment by us, then released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_doctor_passes_against_a_running_server(server):
    code, out = run_doctor("--url", server.url, "--user", "admin", "--password", "admin123")
    assert code == 0, out
    for number in (1, 2, 3, 5, 6, 7):
        assert re.search(rf"^PASS  {number}\. ", out, re.M), out
    assert "FAIL" not in out and "SKIP" not in out
    assert "connected as admin (user 1)" in out
    assert "20 of 20 answered" in out and "median" in out and "p95" in out
    assert "Server: version 1.0.0" in out  # admins also get a few server facts
    assert re.search(r"disk space .+ MiB free of [\d,.]+ MiB — ok \(warns under 100 MiB\)", out), out
    assert "Verdict: everything works." in out
    assert "admin123" not in out and not WHOLE_JWT.search(out)


def test_doctor_speaks_russian_with_lang_or_LANG(server):
    """Words in Russian; PASS/FAIL/SKIP, numbering and error codes stay as they are for scripts."""
    code, out = run_doctor("--url", server.url, "--user", "admin", "--password", "admin123", "--lang", "ru")
    assert code == 0, out
    assert re.search(r"^PASS  1\. Сервер отвечает: Corporate Messenger API 1\.0\.0, ответ за \d+ мс$", out, re.M), out
    assert "подключён как admin (пользователь 1)" in out and "отвечено 20 из 20" in out
    assert re.search(r"место на диске .+ свободно [\d,.]+ МиБ из [\d,.]+ МиБ — в порядке", out), out
    assert "Итог: всё работает." in out and "Verdict" not in out
    code, out = run_doctor("--url", server.url, "--token", "garbage-token-from-a-chat-message",
                           env_extra={"LANG": "ru_RU.UTF-8"})
    assert code == 1
    assert "FAIL  3. Токен входа: garbage-token-from-a... — не токен" in out, out
    # the server was asked for Russian too: its close reason, and the doctor still recognises it
    assert re.search(r'^FAIL  5\. .*закрыто сразу после открытия с кодом 1008 \(.+\): «Токен повреждён', out, re.M), out
    assert "Проверка 3 показывает, что не так с токеном." in out  # the shared explanations, translated too
    assert "garbage-token-from-a-chat-message" not in out


def test_doctor_language_from_the_environment():
    assert doctor.language(None, {"LANG": "ru_RU.UTF-8"}) == "ru"
    assert doctor.language(None, {"LANGUAGE": "ru:en", "LANG": "en_US.UTF-8"}) == "ru"
    assert doctor.language(None, {"LC_ALL": "C", "LANG": "ru_RU.UTF-8"}) == "en"  # LC_ALL wins, C is English
    assert doctor.language(None, {"LANG": "de_DE.UTF-8"}) == "en"
    assert doctor.language(None, {}) == "en"
    assert doctor.language("ru", {"LANG": "en_US.UTF-8"}) == "ru"


def test_doctor_password_from_environment_for_a_normal_user(ui_server):
    code, out = run_doctor("--url", ui_server.url, "--user", "user1", env_extra={"CM_DOCTOR_PASSWORD": "user1pass"})
    assert code == 0, out
    assert "connected as user1" in out
    assert "Server:" not in out  # server facts are for administrators only
    assert "user1pass" not in out


def test_doctor_reads_a_piped_password_like_create_user(ui_server):
    code, out = run_doctor("--url", ui_server.url, "--user", "user1", stdin_text="user1pass\n")
    assert code == 0, out
    assert "connected as user1" in out and "user1pass" not in out
    code, out = run_doctor("--url", ui_server.url, "--user", "user1", stdin_text="")
    assert code == 1 and "FAIL  3. Login token: no password for user1" in out, out
    assert "Pipe it in (the first line of stdin)" in out


def test_doctor_help_names_the_program_as_it_was_started():
    helped = run_server_command("doctor", "--help")
    program = "corporate-messenger" if SERVER_BINARY else "python server.py"
    assert helped.returncode == 0 and helped.stdout.startswith(f"usage: {program} doctor "), helped.stdout


def test_doctor_fails_clearly_against_a_stopped_server():
    url = f"http://127.0.0.1:{free_port()}"
    code, out = run_doctor("--url", url, "--user", "admin", "--password", "admin123")
    assert code == 1, out
    assert f"FAIL  1. The server answers: cannot connect to {url}: connection refused — is the server running?" in out
    for number in (2, 3, 5, 6, 7):
        assert re.search(rf"^SKIP  {number}\. ", out, re.M), out
    assert "Traceback" not in out


def test_doctor_wrong_password(ui_server):
    code, out = run_doctor("--url", ui_server.url, "--user", "admin", "--password", "not-the-password")
    assert code == 1
    assert "FAIL  3. Login token: login as admin refused: invalid_credentials" in out
    assert "SKIP  5." in out and "not-the-password" not in out


def test_doctor_garbage_token_explains_1008(ui_server):
    code, out = run_doctor("--url", ui_server.url, "--token", "garbage-token-from-a-chat-message")
    assert code == 1
    assert re.search(r"^FAIL  3\. Login token: garbage-token-from-a\.\.\. is not a token", out, re.M), out
    assert re.search(r'^FAIL  5\. .*closed right after opening with 1008 \(Policy violation\): '
                     r'"Token is malformed', out, re.M), out
    assert "Check 3 shows what is wrong with the token." in out
    assert "garbage-token-from-a-chat-message" not in out


def test_doctor_blames_a_proxy_that_drops_the_upgrade(ui_server):
    from tests.test_browser_diagnostics import CuttingProxy
    proxy = CuttingProxy(ui_server.port, drop_upgrade=True)
    try:
        code, out = run_doctor("--url", proxy.url, "--user", "user2", "--password", "user2pass")
    finally:
        proxy.stop()
    assert code == 1
    assert re.search(r"^PASS  3\. ", out, re.M), out
    assert re.search(r"^FAIL  5\. .*\(a browser sees 1006\)", out, re.M), out
    assert "does not forward the WebSocket upgrade" in out and "proxy_set_header Upgrade" in out
    assert proxy.upgrades_dropped == 1


def test_doctor_explains_close_codes_from_the_shared_table():
    d = doctor.Doctor("http://127.0.0.1:1")
    refused = closing.ORIGIN_REFUSED.fill(origin="https://evil.example")
    origin = d.close_failure(1008, i18n.close_reason(refused, i18n.get("en")), "right after opening")
    assert "CM_ALLOWED_ORIGINS" in origin.fix
    assert "CM_ALLOWED_ORIGINS" in d.close_failure(1008, i18n.close_reason(refused, i18n.get("ru")), "now").fix
    slow = d.close_failure(closing.SLOW_CONSUMER, i18n.close_reason(closing.FELL_BEHIND, i18n.get("en")), "later")
    assert slow.status == "FAIL" and "after_id" in slow.fix
    assert d.table == doctor.load_explanations()
    assert doctor.ws_url_for("https://chat.example.com/messenger/") == "wss://chat.example.com/messenger/ws"
    assert doctor.ws_url_for("http://127.0.0.1:8000") == "ws://127.0.0.1:8000/ws"


def test_doctor_names_a_full_disk(server_factory):
    server = server_factory(disk_min_free_mb=2 ** 40)
    code, out = run_doctor("--url", server.url, "--user", "admin", "--password", "admin123")
    assert code == 1, out
    assert re.search(r"^FAIL  2\. The server reaches its database: the server's disk is full: disk full: only ",
                     out, re.M), out
    assert "Free space in the data folder" in out
    assert re.search(r"disk space .+ MiB free of [\d,.]+ MiB — WARNING, disk full: only", out), out
