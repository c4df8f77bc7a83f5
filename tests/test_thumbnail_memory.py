"""A server process's resident memory while it thumbnails huge images (read from /proc, bounded in time)."""
import concurrent.futures
import os
import time

import pytest

from tests.test_files import big_png, upload

BUDGET_MIB = 150  # what one upload of a huge image may add at its peak

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")


def server_pid(server):
    """The process that serves: the one started, or its child when that is the one-file binary's bootloader."""
    pid = server.proc.pid
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        children = f.read().split()
    return int(children[-1]) if children else pid


def memory_mib(pid, key):
    """``VmRSS`` (resident now) or ``VmHWM`` (the peak since the last reset) of ``pid``, in MiB."""
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith(key + ":")).split()[1]) / 1024


def reset_peak(pid):
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")  # VmHWM := VmRSS


def test_huge_images_stay_within_the_memory_budget_and_memory_is_given_back(spawn):
    server = spawn()
    pid = server_pid(server)
    token = server.login("user1")
    assert upload(server, token, big_png(64, 64), "warm-up.png", "image/png").json()["thumbnail_url"]
    for width, height, alpha, thumbnailed in [(7000, 7000, False, False),  # 49 Mpx: kept as a plain file
                                              (6000, 4000, True, True),  # the largest that gets a thumbnail
                                              (24000, 1000, True, True)]:  # as large, but long
        resident = memory_mib(pid, "VmRSS")
        reset_peak(pid)
        file = upload(server, token, big_png(width, height, alpha), "huge.png", "image/png").json()
        added = memory_mib(pid, "VmHWM") - resident
        assert added <= BUDGET_MIB, f"{width}x{height}: {added:.0f} MiB at the peak"
        assert file["content_type"] == "image/png" and (file["thumbnail_url"] is not None) == thumbnailed

    # four at once: two decode at a time, and the memory goes back to the system afterwards
    resident = memory_mib(pid, "VmRSS")
    reset_peak(pid)
    data = big_png(6000, 4000, alpha=True)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: upload(server, token, data, f"{i}.png", "image/png"), range(4)))
    assert all(answer.json()["thumbnail_url"] for answer in answers)
    added = memory_mib(pid, "VmHWM") - resident
    assert added <= 2 * BUDGET_MIB, f"four at once: {added:.0f} MiB at the peak"
    deadline = time.monotonic() + 30
    while memory_mib(pid, "VmRSS") - resident > 40:
        assert time.monotonic() < deadline, f"RSS stays {memory_mib(pid, 'VmRSS') - resident:.0f} MiB up"
        time.sleep(0.2)
