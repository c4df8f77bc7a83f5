"""Reads that many sockets ask for at once, gathered into one ``db_call`` per batch.

After a restart every client comes back within seconds: each socket needs its
session, user and chats before ``connected``, then asks to catch up.  One
``db_call`` each meant thousands of hops to the database thread, and on SQLite
(one thread) the admissions waited behind the catch-ups.  A :class:`Batcher`
keeps a queue; a single drain loop takes everything waiting (up to
``max_batch``) into one ``db_call``, and what arrives meanwhile makes the next
batch, as the message writer does (``writer.py``).

:class:`Admissions` admits sockets that way (``models/admission.py``): a
token's signature and expiry are checked in memory first, the session is read
here, from the database, so a logout, a password change or a deactivation by
any process (or by the command line) refuses the token at once with no hook to
call.  When more than ``max_waiting`` sockets already wait, :meth:`Admissions.busy`
says so with a jittered number of seconds, and the socket is told to come
back then (``server_busy`` and close 1013) instead of making everyone wait longer.
"""
import asyncio
import logging
import random

from models.admission import admit_sockets
from models.db import DatabaseUnavailable, db_call

logger = logging.getLogger(__name__)
RETRY_AFTER = (1, 5)  # seconds a refused socket is told to wait, drawn at random so they come back spread out


class Batcher:
    def __init__(self, fn, max_batch=500):
        """``fn`` takes a list of argument tuples and returns, in order, a result or an exception for each."""
        self.fn = fn
        self.max_batch = max_batch
        self._queue = []
        self._drainer = None
        self.batches = 0

    def waiting(self):
        return len(self._queue)

    def call(self, *args):
        """A future of ``fn``'s answer for ``args`` (raising the exception ``fn`` gave for them, or the
        ``DatabaseUnavailable`` of the whole batch)."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((args, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.ensure_future(self._drain())
        return future

    async def _drain(self):
        while self._queue:
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            self.batches += 1
            try:
                answers = await db_call(self.fn, [args for args, _ in batch])
            except Exception as exc:  # DatabaseUnavailable, or a bug: every caller of the batch hears of it
                if not isinstance(exc, DatabaseUnavailable):
                    logger.exception("A batch of %s %s calls failed", len(batch), self.fn.__name__)
                answers = [exc] * len(batch)
            for (_, future), answer in zip(batch, answers):
                if future.done():
                    continue
                if isinstance(answer, Exception):
                    future.set_exception(answer)
                else:
                    future.set_result(answer)


class Admissions(Batcher):
    def __init__(self, max_waiting, max_batch=500):
        super().__init__(admit_sockets, max_batch)
        self.max_waiting = max_waiting  # 0: no bound

    def busy(self):
        """Seconds to tell a new socket to wait when too many are waiting already, else None."""
        if self.max_waiting and len(self._queue) >= self.max_waiting:
            return random.randint(*RETRY_AFTER)
        return None
