"""The message write path: check, queue, commit in batches, then fan out in id order.

Sends from WebSockets and REST enter through :meth:`MessageWriter.send`
(rate limit, cleaning) and join one queue.  A single drain loop takes
everything queued (up to ``max_batch``), commits it in one transaction on the
database executor, and only then publishes ``new_message`` events and acks,
in the order the ids were assigned.  One batch is in flight at a time, so
every receiver sees a chat's messages in id order, and throughput is many
messages per commit rather than one.
"""
import asyncio
import logging
import time

from handlers.realtime import events
from handlers.realtime.bus import encode
from models import disk_space
from models.db import DatabaseUnavailable, db_call, unavailable_error
from models.errors import AppError
from models.i18n import N_
from models.files import clean_file_ids
from models.message_send import store_messages
from models.messages import clean_client_msg_id, clean_reply_to, clean_text
from models.validate import check_id

logger = logging.getLogger(__name__)
NOT_STORED = N_("message not stored")
UNCONFIRMED = N_("Message not confirmed: send it again with the same client_msg_id (it is never stored twice)")


def chats_before_and_after(results):
    """{chat id: (id of the chat's message before the batch or None, the batch's newest id in it)} for the
    chats the batch added messages to."""
    chats = {}
    for result in results:
        if result.get("created"):
            message = result["message"]
            before = chats[message["chat_id"]][0] if message["chat_id"] in chats else result["previous_id"]
            chats[message["chat_id"]] = (before, message["id"])
    return chats


class MessageWriter:
    def __init__(self, bus, limiter, max_batch=256):
        self.bus = bus
        self.limiter = limiter  # a RateLimiter
        self.max_batch = max_batch
        self._queue = []
        self._drainer = None
        self.batches = 0
        self.committed = 0
        self.on_commit = None  # callback(batch size, seconds) after each batch (handlers/metrics.py)

    def backlog(self):
        return len(self._queue)

    async def send(self, sender_id, chat_id, text, client_msg_id=None, origin=None, reply_to=None, file_ids=None):
        """The one way in for a message, from REST and WebSocket alike.

        Takes one send from the sender's rate budget (in the database when the
        limit is shared by several processes) and cleans the input (both raise
        ``AppError``, queueing nothing), then queues it.  Returns a future of
        the store result, ``{"message", "created", ...}`` or
        ``{"error": AppError}`` when it was not stored, set once it is
        committed and published.  ``origin`` is the sending connection: it gets
        ``message_ack`` in order with everything else it receives, and no
        ``new_message`` copy.  ``reply_to``: the id of the message this one answers; ``file_ids``:
        files the sender uploaded (the text may then be empty).
        """
        await self.limiter.check(sender_id)
        file_ids = clean_file_ids(file_ids)
        request = {"sender_id": sender_id, "chat_id": check_id(chat_id, "chat_id"),
                   "text": clean_text(text, allow_empty=bool(file_ids)),
                   "client_msg_id": clean_client_msg_id(client_msg_id), "reply_to": clean_reply_to(reply_to),
                   "file_ids": file_ids}
        future = asyncio.get_running_loop().create_future()
        self._queue.append((request, origin, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.ensure_future(self._drain())
        return future

    async def flush(self):
        """Wait until everything queued so far is committed (used at shutdown)."""
        while self._drainer is not None and not self._drainer.done():
            await asyncio.shield(self._drainer)

    async def _drain(self):
        while self._queue:
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            try:
                await self._write(batch)
            except Exception:  # a bug: this batch's senders still hear back, and the next batch goes on
                logger.exception("Message batch of %s failed unexpectedly", len(batch))
            finally:
                for _, _, future in batch:
                    if not future.done():
                        future.set_result({"error": AppError(500, "internal_error", UNCONFIRMED)})

    async def _write(self, batch):
        """Commit one batch (or its items one by one when it fails), then publish and ack it."""
        self.batches += 1
        token = self.bus.next_batch_token()
        started = time.perf_counter()
        try:
            results = await db_call(self._store, [request for request, _, _ in batch], token)
        except DatabaseUnavailable as exc:  # nobody in the batch is acked
            logger.warning("Message batch of %s failed: %s", len(batch), exc)
            results = [{"error": unavailable_error(exc, NOT_STORED)} for _ in batch]
        except Exception:
            logger.exception("Message batch of %s failed; retrying one by one", len(batch))
            results = None
        if self.on_commit is not None:
            self.on_commit(len(batch), time.perf_counter() - started)
        if results is None:  # one item broke the transaction: store them one by one so only that one fails
            for item in batch:
                await self._store_alone(item)
        else:
            await self._deliver(batch, results, token)

    async def _deliver(self, batch, results, token):
        """Publish and ack what was stored, in id order with what other processes committed before it."""
        def deliver():
            for (request, origin, future), result in zip(batch, results):
                try:
                    self._publish(result, origin)
                except Exception:  # a bug in one message's fan-out: the others still go out
                    logger.exception("Publishing the message of user %s to chat %s failed",
                                     request["sender_id"], request["chat_id"])
                if not future.done():
                    future.set_result(result)
        chats = chats_before_and_after(results)
        if chats:
            await self.bus.deliver_in_order(token, deliver, chats)
        else:
            deliver()

    def _store(self, requests, token):
        """On a database thread, inside ``db_call``'s transaction: store the batch and let a
        backplane NOTIFY its new messages and the batch marker ``token`` before the commit, with the
        batch's last statements (so other processes get them in commit order, and this one knows when
        it has caught up)."""
        announcement = self.bus.announcement
        if announcement is None:
            return store_messages(requests)
        return store_messages(requests, then=lambda created: [announcement(
            [(events.new_message(r["message"]), r["member_ids"]) for r in created], token)])

    async def _store_alone(self, item):
        request = item[0]
        token = self.bus.next_batch_token()
        try:
            result = (await db_call(self._store, [request], token))[0]
        except AppError as exc:
            result = {"error": exc}
        except DatabaseUnavailable as exc:
            result = {"error": unavailable_error(exc, NOT_STORED)}
        except Exception:
            logger.exception("Message from user %s to chat %s could not be stored",
                             request["sender_id"], request["chat_id"])
            result = {"error": AppError(500, "internal_error", N_("Message not stored"))}
        await self._deliver([item], [result], token)

    def _publish(self, result, origin):
        if "error" in result:
            return
        message = result["message"]
        self.committed += result["created"]
        if result["created"]:
            disk_space.clear_refusal()
            self.bus.publish(events.new_message(message),
                             user_ids=result["member_ids"],
                             exclude_conn=origin.conn_id if origin else None,
                             local_only=self.bus.announcement is not None)
        if origin is not None:  # through the hub, which contains a failing connection
            self.bus.hub.send(origin, encode(events.message_ack(message)))
