"""Things a fault test may break without touching anyone else's: a private PostgreSQL server and a
small tmpfs.  Both need root (initdb runs as the ``postgres`` user; mount needs CAP_SYS_ADMIN); the
fixtures skip without them, and fail in CI, which runs as root and must run these tests."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import psycopg2
import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(reason):
    if IN_CI:
        pytest.fail(reason + " - CI must run the fault tests")
    pytest.skip(reason)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayPostgres:
    """A PostgreSQL server of its own (initdb into a temporary folder, a free port on 127.0.0.1),
    started and stopped by its process id.  Never the shared server on 5432."""

    def __init__(self):
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            unavailable("PostgreSQL binaries missing (apt-get install postgresql)")
        if os.geteuid() != 0:
            unavailable("a throwaway PostgreSQL needs root (initdb runs as the postgres user)")
        self.bindir = os.path.dirname(binaries[-1])
        self.user = pwd.getpwnam("postgres")
        self.folder = tempfile.mkdtemp(prefix="cm-throwaway-pg-")
        os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self.data = os.path.join(self.folder, "data")
        self.port = free_port()
        self.proc = None
        subprocess.run([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", "messenger",
                        "--auth=trust", "-E", "UTF8", "--no-sync"],
                       user=self.user.pw_uid, group=self.user.pw_gid, check=True, capture_output=True, timeout=120)
        self.url = f"postgresql://messenger@127.0.0.1:{self.port}/postgres"

    def start(self):
        with open(os.path.join(self.folder, "server.log"), "ab") as log:
            self.proc = subprocess.Popen(
                [os.path.join(self.bindir, "postgres"), "-D", self.data, "-p", str(self.port), "-k", self.folder,
                 "-c", "listen_addresses=127.0.0.1", "-c", "shared_buffers=16MB", "-c", "max_connections=40"],
                user=self.user.pw_uid, group=self.user.pw_gid, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg2.connect(self.url, connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("throwaway PostgreSQL did not start: " + self.log()[-2000:])
                time.sleep(0.1)

    def stop(self):
        """Fast shutdown (SIGINT to the postmaster): clients are disconnected, nothing committed is lost."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(2)
            self.proc.wait(30)
        self.proc = None

    def log(self):
        with open(os.path.join(self.folder, "server.log"), errors="replace") as f:
            return f.read()

    def remove(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class SmallDisk:
    """A tmpfs of ``size`` bytes mounted on ``path``, and a filler file to fill it up with."""

    def __init__(self, path, size):
        if os.geteuid() != 0:
            unavailable("mounting a tmpfs needs root")
        os.makedirs(path, exist_ok=True)
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            unavailable(f"cannot mount a tmpfs here: {result.stderr.strip()}")
        self.path = str(path)
        self.filler = os.path.join(self.path, "filler")

    def free_bytes(self):
        return shutil.disk_usage(self.path).free

    def fill(self):
        """Write zeros until the file system refuses (ENOSPC)."""
        chunk = b"\0" * 65536
        with open(self.filler, "ab", buffering=0) as f:
            try:
                while True:
                    f.write(chunk)
            except OSError:
                pass
        while self.free_bytes() > 0:  # the last partial block
            try:
                with open(self.filler, "ab", buffering=0) as f:
                    f.write(b"\0" * min(4096, self.free_bytes()))
            except OSError:
                break

    def free(self):
        os.remove(self.filler)

    def unmount(self):
        subprocess.run(["umount", "-l", self.path], check=False)
