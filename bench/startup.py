"""Start-up benchmark: the one-file binary next to ``python server.py``.

    .venv/bin/python bench/startup.py [--runs 5] [--cold-runs 3] [--binary dist/corporate-messenger]

For each: the time from starting the process to the first answer on ``GET /``
(warm, and cold after ``sync; echo 3 > /proc/sys/vm/drop_caches``, which needs
root), and the resident memory of the idle server (the binary is two
processes, its launcher and the server: both are counted).  Each run uses a
data folder made by an earlier start, as a restart does.  Results go to
docs/deployment.md by hand.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drop_caches():
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def tree_rss_kib(pid):
    """VmRSS of ``pid`` and all its descendants, in KiB."""
    total = 0
    with open(f"/proc/{pid}/status") as f:
        total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return total + sum(tree_rss_kib(int(child)) for child in f.read().split())


def start_and_wait(command, data_dir, idle):
    """Seconds until GET / answers, and the idle RSS (KiB) ``idle`` seconds later."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([*command, "--port", str(port), "--data-dir", data_dir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    response.read()
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(f"{command} exited with {proc.returncode}")
                time.sleep(0.005)
        first_answer = time.perf_counter() - started
        time.sleep(idle)
        return first_answer, tree_rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=3.0, help="seconds idle before reading RSS")
    parser.add_argument("--binary", default=os.path.join(ROOT, "dist", "corporate-messenger"))
    args = parser.parse_args()
    commands = {"python server.py": [sys.executable, os.path.join(ROOT, "server.py")], "binary": [args.binary]}
    print(f"binary size: {os.path.getsize(args.binary) / 2 ** 20:.1f} MiB")
    can_drop = os.geteuid() == 0 and os.access("/proc/sys/vm/drop_caches", os.W_OK)
    for name, command in commands.items():
        with tempfile.TemporaryDirectory() as data_dir:
            start_and_wait(command, data_dir, 0)  # creates the database: later runs are restarts
            warm = [start_and_wait(command, data_dir, args.idle) for _ in range(args.runs)]
            cold = []
            for _ in range(args.cold_runs if can_drop else 0):
                drop_caches()
                cold.append(start_and_wait(command, data_dir, 0)[0])
        times = [t for t, _ in warm]
        rss = statistics.median(r for _, r in warm) / 1024
        print(f"{name}: warm first answer median {statistics.median(times):.3f} s "
              f"(min {min(times):.3f}, max {max(times):.3f}); "
              + (f"cold median {statistics.median(cold):.3f} s (max {max(cold):.3f}); " if cold else
                 "cold: not measured (needs root and a writable /proc/sys/vm/drop_caches); ")
              + f"idle RSS {rss:.1f} MiB")


if __name__ == "__main__":
    main()
