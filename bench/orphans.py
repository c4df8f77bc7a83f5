"""How long the orphan-upload sweeper holds the database: ``files.delete_orphans`` batches over a
database holding N unattached uploads older than the grace and N attached ones (1 KiB, one chunk each).

Builds the data through the real migrations in a fresh database (SQLite in a temporary folder
unless ``--database-url`` names an empty PostgreSQL database), then deletes the orphans in batches
of 50 as the sweeper does, one transaction each, and prints the batch times.

    python bench/orphans.py [--files 5000] [--database-url postgresql://user:pass@127.0.0.1:5432/cm_bench]
"""
import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import server  # noqa: E402
from jobs.sweeper import BATCH  # noqa: E402
from models import files  # noqa: E402
from models.clock import utcnow  # noqa: E402
from models.db import db, run_in_transaction  # noqa: E402
from models.messages import Message  # noqa: E402


def build(count):
    """``count`` orphans and ``count`` files carried by messages in the demo's General chat, two days old."""
    old = utcnow() - datetime.timedelta(days=2)
    with db.atomic():
        for i in range(2 * count):
            stored = files.StoredFile.create(uploader=1, name=f"f{i}", size=1024, content_type="text/plain",
                                             created_at=old)
            files.FileChunk.insert(file=stored.id, seq=0, data=b"x" * 1024).execute()
            if i % 2:
                message = Message.create(chat=1, sender=1, text=f"m{i}")
                files.MessageFile.insert(message=message.id, file=stored.id, position=0).execute()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000, help="orphans (and as many attached files)")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    config = server.parse_config(["--data-dir", tempfile.mkdtemp(), "--database-url", args.database_url], env={})
    server.prepare_database(config)
    with db.connection_context():
        build(args.files)
        cutoff, samples = utcnow() - datetime.timedelta(days=1), []
        while True:
            started = time.perf_counter()
            deleted = run_in_transaction(files.delete_orphans, cutoff, BATCH)
            samples.append(time.perf_counter() - started)
            if deleted < BATCH:
                break
        left = files.StoredFile.select().count()
    kind = "sqlite" if config["database_url"].startswith("sqlite") else "postgresql"
    print(f"{kind}: {args.files} orphans among {2 * args.files} files deleted in {len(samples)} batches of "
          f"{BATCH}: total {sum(samples):.2f} s, median {statistics.median(samples) * 1000:.1f} ms, "
          f"max {max(samples) * 1000:.1f} ms per batch; {left} attached files left")


if __name__ == "__main__":
    main()
