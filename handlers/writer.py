"""The message write path: queue, commit in batches, then fan out in id order.

Sends from WebSockets and REST join one queue.  A single drain loop takes
everything queued (up to ``max_batch``), commits it in one transaction on the
database executor, and only then publishes ``new_message`` events and acks,
in the order the ids were assigned.  One batch is in flight at a time, so
every receiver sees a chat's messages in id order, and throughput is many
messages per commit rather than one.
"""
import asyncio
import logging
import time

from models.db import DatabaseUnavailable, db_call
from models.errors import AppError
from models.messages import store_messages

logger = logging.getLogger(__name__)


def not_stored_db():
    return AppError(503, "db_unavailable", "The database is unreachable; message not stored")


class MessageWriter:
    def __init__(self, bus, max_batch=256):
        self.bus = bus
        self.max_batch = max_batch
        self._queue = []
        self._drainer = None
        self.batches = 0
        self.committed = 0
        self.on_commit = None  # callback(batch size, seconds) after each batch (handlers/metrics.py)

    def backlog(self):
        return len(self._queue)

    async def submit(self, request, origin=None):
        """Queue one send; resolves to the store result (``{"error": AppError}`` when it was not
        stored) once it is committed and published.

        ``origin`` is the sending connection: it gets ``message_ack`` in order
        with everything else it receives, and no ``new_message`` copy.
        """
        future = asyncio.get_running_loop().create_future()
        self._queue.append((request, origin, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.ensure_future(self._drain())
        return await future

    async def flush(self):
        """Wait until everything queued so far is committed (used at shutdown)."""
        while self._drainer is not None and not self._drainer.done():
            await asyncio.shield(self._drainer)

    async def _drain(self):
        while self._queue:
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            started = time.perf_counter()
            try:
                results = await db_call(store_messages, [request for request, _, _ in batch],
                                        self.bus.announce_in_transaction)
            except DatabaseUnavailable as exc:  # nobody in the batch is acked
                logger.warning("Message batch of %s failed: %s", len(batch), exc)
                results = [{"error": not_stored_db()} for _ in batch]
            except Exception:
                # One item broke the transaction: store them one by one so only that one fails.
                logger.exception("Message batch of %s failed; retrying one by one", len(batch))
                results = [await self._store_alone(request) for request, _, _ in batch]
            self.batches += 1
            if self.on_commit is not None:
                self.on_commit(len(batch), time.perf_counter() - started)
            for (request, origin, future), result in zip(batch, results):
                self._publish(result, origin)
                if not future.done():
                    future.set_result(result)

    async def _store_alone(self, request):
        try:
            return (await db_call(store_messages, [request], self.bus.announce_in_transaction))[0]
        except AppError as exc:
            return {"error": exc}
        except DatabaseUnavailable:
            return {"error": not_stored_db()}
        except Exception:
            logger.exception("Message from user %s to chat %s could not be stored",
                             request["sender_id"], request["chat_id"])
            return {"error": AppError(500, "internal_error", "Message not stored")}

    def _publish(self, result, origin):
        if "error" in result:
            return
        message = result["message"]
        self.committed += result["created"]
        if result["created"]:
            self.bus.publish({"type": "new_message", "message": message},
                             user_ids=result["member_ids"],
                             exclude_conn=origin.conn_id if origin else None,
                             local_only=self.bus.announce_in_transaction is not None)
        if origin is not None:
            origin.send_event({"type": "message_ack", "client_msg_id": message["client_msg_id"],
                               "message": message})
