"""Housekeeping on a timer, off the event loop: uploads never attached to a message are deleted once
they are older than ``orphan_upload_grace`` (an upload is attached within seconds when its message
is sent; one left behind by a closed tab or a cancelled message would otherwise stay forever)."""
import datetime
import logging

from tornado.ioloop import PeriodicCallback

from models import files
from models.clock import utcnow
from models.db import DatabaseUnavailable, db_call

logger = logging.getLogger(__name__)
BATCH = 50  # files per transaction: a file is at most max_upload_bytes of chunks
MAX_EVERY = 3600.0


class OrphanSweeper:
    def __init__(self, grace_seconds):
        self.grace = datetime.timedelta(seconds=grace_seconds)
        # Often enough that nothing outlives its grace by much more than the grace itself.
        self.every = max(1.0, min(MAX_EVERY, grace_seconds / 2))
        self._timer = PeriodicCallback(self.sweep, self.every * 1000)

    def start(self):
        self._timer.start()

    def stop(self):
        self._timer.stop()

    async def sweep(self):
        """Delete every orphan older than the grace, a batch per transaction; returns how many."""
        cutoff, deleted = utcnow() - self.grace, 0
        try:
            while True:
                count = await db_call(files.delete_orphans, cutoff, BATCH)
                deleted += count
                if count < BATCH:
                    break
        except DatabaseUnavailable as exc:
            logger.warning("Could not delete unattached uploads: %s", exc)
        if deleted:
            logger.info("Deleted %s upload(s) never attached to a message within %s s",
                        deleted, int(self.grace.total_seconds()))
        return deleted
