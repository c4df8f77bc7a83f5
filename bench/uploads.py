"""Peak server memory (VmHWM) while N clients upload a file of the maximum size at once.

Starts ``server.py`` (SQLite in a temporary folder, or --database-url), notes its
peak resident memory after start-up, has ``--clients`` threads each POST a
``--size`` byte file to /api/files at the same moment, checks every answer is
201 and the bytes read back intact, and prints the peak again.  The client
bodies stream from a generator, so the client's memory does not matter.

    python bench/uploads.py [--clients 10] [--size 26214400] [--database-url URL]
"""
import argparse
import concurrent.futures
import hashlib
import os
import sys
import tempfile
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from throughput import login, start_server  # noqa: E402

BOUNDARY = "benchboundary"


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def body(size, seed):
    """A multipart body made on the fly, 1 MiB at a time."""
    yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="f{seed}.bin"\r\n' \
          f"Content-Type: application/octet-stream\r\n\r\n".encode()
    block = hashlib.sha256(str(seed).encode()).digest() * (1024 * 1024 // 32)
    left = size
    while left:
        yield block[:min(left, len(block))]
        left -= min(left, len(block))
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def upload(url, token, size, seed, go):
    go.wait()
    r = requests.post(url + "/api/files", data=body(size, seed), timeout=600,  # chunked: no Content-Length
                      headers={"Authorization": f"Bearer {token}",
                               "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert r.status_code == 201, (r.status_code, r.text)
    return r.json()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--size", type=int, default=25 * 1024 * 1024)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    proc, url = start_server(tempfile.mkdtemp(prefix="bench-uploads-"), args.database_url, 256)
    try:
        token = login(url, "user1", "user1pass")
        before = peak_rss_mib(proc.pid)
        go = threading.Event()
        began = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            futures = [pool.submit(upload, url, token, args.size, seed, go) for seed in range(args.clients)]
            go.set()
            stored = [f.result() for f in futures]
        took = time.perf_counter() - began
        after = peak_rss_mib(proc.pid)
        for seed, file in enumerate(stored):
            got = requests.get(url + file["url"], headers={"Authorization": f"Bearer {token}"}, timeout=600)
            assert got.content == b"".join(list(body(args.size, seed))[1:-1]), "bytes differ"
        read_peak = peak_rss_mib(proc.pid)
        print(f"{args.clients} parallel uploads of {args.size / 2 ** 20:.0f} MiB in {took:.1f} s; server peak RSS: "
              f"{before:.0f} MiB after start-up, {after:.0f} MiB after the uploads, "
              f"{read_peak:.0f} MiB after reading them all back")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
