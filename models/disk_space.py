"""Is the server's disk full?  Free space of the folders it writes to, and the last write the
database refused for lack of space (which is how a full disk under PostgreSQL shows up here).

The database is "full" for ``/api/health`` while a folder has less free space than the threshold,
or while the last disk-full refusal is recent (``RECENT_SECONDS``) and no message was stored since.
"""
import os
import shutil
import time

RECENT_SECONDS = 60
_last_refusal = None  # (time.time(), the database's own error text)


def note_disk_full(error):
    global _last_refusal
    _last_refusal = (time.time(), error)


def clear_refusal():
    """A message was stored (or a new database opened): the disk takes writes again."""
    global _last_refusal
    _last_refusal = None


def folders(config):
    """The data folder, and the SQLite database's folder when it lives elsewhere."""
    paths = [os.path.abspath(config["data_dir"])]
    url = config["database_url"]
    if url.startswith("sqlite:///"):
        paths.append(os.path.dirname(os.path.abspath(url[len("sqlite:///"):])))
    return list(dict.fromkeys(paths))


def free_space(config):
    rows = []
    for path in folders(config):
        try:
            usage = shutil.disk_usage(path)
        except OSError as exc:
            rows.append({"path": path, "error": exc.strerror or str(exc)})
            continue
        rows.append({"path": path, "free_bytes": usage.free, "total_bytes": usage.total})
    return rows


def mib(size):
    return f"{size / 2 ** 20:,.1f} MiB"


def problem(config, rows=None, reserve=0):
    """Why the disk counts as full, in words, or None; ``reserve``: bytes about to be written."""
    threshold = config["disk_min_free_mb"] * 2 ** 20
    for row in free_space(config) if rows is None else rows:
        if "free_bytes" in row and row["free_bytes"] - reserve < threshold:
            return f"only {mib(row['free_bytes'])} free in {row['path']} (threshold {mib(threshold)})"
    refusal = _last_refusal
    if refusal is not None and time.time() - refusal[0] < RECENT_SECONDS:
        return f"a write failed {time.time() - refusal[0]:.0f} s ago for lack of space: {refusal[1]}"
    return None


def facts(config):
    """What /diagnostics and ``doctor`` show administrators."""
    rows = free_space(config)
    return {"folders": rows, "min_free_bytes": config["disk_min_free_mb"] * 2 ** 20,
            "warning": problem(config, rows),
            "last_disk_full": None if _last_refusal is None else
            {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(_last_refusal[0])), "error": _last_refusal[1]}}
