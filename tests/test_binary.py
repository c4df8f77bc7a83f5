"""The one-file binary itself: no Python needed, resources inside, data folder relative to the cwd, --version.

Everything else the binary does is tested by running the subprocess tests with CM_TEST_SERVER set (.ci/run).
"""
import json
import os
import re
import subprocess

from tests.harness import ROOT, SubprocessServer, run_server_command

MAX_SIZE = 60 * 2 ** 20


def test_serves_the_contract_with_an_empty_environment(built_binary, tmp_path):
    """``env -i PATH=/nonexistent`` (plus TMPDIR, so that what it unpacks lands in tmp_path): no Python, no
    HOME, no locale; the data folder is relative to the working directory."""
    server = SubprocessServer(["--port", "0", "--data-dir", "./d"], log_path=str(tmp_path / "server.log"),
                              env={"PATH": "/nonexistent"}, command=[built_binary], cwd=str(tmp_path))
    try:
        assert server.http.get(server.url + "/").json() == {"message": "Corporate Messenger API", "version": "1.0.0"}
        page = server.http.get(server.url + "/login")
        assert page.status_code == 200 and 'name="password"' in page.text  # templates inside
        for path in set(re.findall(r'/static/[\w/.-]+\?v=\w+', page.text)):  # static files, cache-busted
            with open(os.path.join(ROOT, path[1:].split("?")[0]), "rb") as f:
                assert server.http.get(server.url + path).content == f.read(), path
        with open(os.path.join(ROOT, "static", "close-codes.json"), encoding="utf-8") as f:
            assert server.http.get(server.url + "/static/close-codes.json").json() == json.load(f)
        token = server.login("user1")  # migrations and demo data ran from inside the binary
        client = server.connect(token)
        assert client.recv_type("connected")["username"] == "user1"
        client.send({"type": "send_message", "chat_id": client.seen[-1]["chat_ids"][0], "text": "Привет"})
        assert client.recv_type("message_ack")["message"]["text"] == "Привет"  # UTF-8 without a locale
        client.close()
        metrics = server.http.get(server.url + "/metrics").text
        assert "messenger_commit_seconds_bucket" in metrics and "process_resident_memory_bytes" in metrics
        assert (tmp_path / "d" / "messenger.db").exists() and (tmp_path / "d" / "secret_key").exists()
    finally:
        assert server.terminate() == 0
    assert "Shutting down" in server.log()
    assert not [name for name in os.listdir(tmp_path) if name.startswith("_MEI")]  # unpacked files removed


def test_version_names_the_commit_it_was_built_from(built_binary):
    result = run_server_command("--version", command=[built_binary], env={"PATH": "/nonexistent"})
    match = re.fullmatch(r"corporate-messenger 1\.0\.0 \(commit ([0-9a-f]{7,40})(-dirty)?, binary\)\n", result.stdout)
    assert result.returncode == 0 and match, result.stdout + result.stderr
    known = subprocess.run(["git", "-C", ROOT, "cat-file", "-e", match.group(1) + "^{commit}"], capture_output=True)
    assert known.returncode == 0, f"{match.group(1)} is not a commit of this repository"


def test_doctor_and_help_are_inside(built_binary):
    helped = run_server_command("--help", command=[built_binary])
    assert helped.returncode == 0 and "--metrics-token" in helped.stdout
    doctor = run_server_command("doctor", "--help", command=[built_binary])
    assert doctor.returncode == 0 and "--url" in doctor.stdout
    usage = run_server_command("backup", command=[built_binary])
    assert usage.returncode == 2 and "--to FILE" in usage.stderr


def test_one_file_under_60_mib(built_binary):
    assert os.path.getsize(built_binary) < MAX_SIZE
    assert os.access(built_binary, os.X_OK)


def test_docs_state_the_size_of_the_binary(built_binary):
    size = os.path.getsize(built_binary) / 2 ** 20
    for doc in ("README.md", os.path.join("docs", "deployment.md")):
        with open(os.path.join(ROOT, doc), encoding="utf-8") as f:
            stated = re.findall(r"dist/corporate-messenger\W{0,5}\(about (\d+) MiB\)", f.read())
        assert stated and all(abs(int(n) - size) < 1.5 for n in stated), f"{doc} says {stated} MiB, it is {size:.1f}"
