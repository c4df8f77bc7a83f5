"""Admitting WebSockets in batches, and saying "busy, come back later" when too many wait.

A socket with an access token is checked in memory (the JWT's signature and
expiry), then waits here for its session, user and chats.  A single drain loop
takes every socket waiting (up to ``max_batch``) and reads what they all need
with one ``db_call`` (``models/admission.py``); the sockets that arrive while it
runs make the next batch.  After a restart, when every client comes back in the
same seconds, this is a few queries per hundred sockets instead of two per socket.

The session is read from the database, not from a copy kept in memory, so a
logout, a password change or a deactivation by any process (or by the command
line) refuses the token at once with no hook to call.

When more than ``max_waiting`` sockets already wait, :meth:`Admissions.busy`
says so with a jittered number of seconds, and the socket is told to come back
then (``server_busy`` and close 1013) instead of making everyone wait longer.
"""
import asyncio
import logging
import random

from models.admission import admit_sockets
from models.db import DatabaseUnavailable, db_call

logger = logging.getLogger(__name__)
RETRY_AFTER = (1, 5)  # seconds a refused socket is told to wait, drawn at random so they come back spread out


class Admissions:
    def __init__(self, max_waiting, max_batch=500):
        self.max_waiting = max_waiting  # 0: no bound
        self.max_batch = max_batch
        self._queue = []
        self._drainer = None
        self.batches = 0

    def waiting(self):
        return len(self._queue)

    def busy(self):
        """Seconds to tell a new socket to wait when too many are waiting already, else None."""
        if self.max_waiting and len(self._queue) >= self.max_waiting:
            return random.randint(*RETRY_AFTER)
        return None

    def admit(self, claims):
        """A future of ``(user, chat ids, peer ids)`` for a decoded access token; it raises ``AppError`` when
        the session was revoked or the user deactivated, ``DatabaseUnavailable`` when the database is out."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((claims, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.ensure_future(self._drain())
        return future

    async def _drain(self):
        while self._queue:
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            self.batches += 1
            try:
                answers = await db_call(admit_sockets, [claims for claims, _ in batch])
            except Exception as exc:  # DatabaseUnavailable (1011), or a bug: every socket of the batch hears
                if not isinstance(exc, DatabaseUnavailable):
                    logger.exception("Admitting %s sockets failed", len(batch))
                answers = [exc] * len(batch)
            for (_, future), answer in zip(batch, answers):
                if future.done():
                    continue
                if isinstance(answer, Exception):
                    future.set_exception(answer)
                else:
                    future.set_result(answer)
