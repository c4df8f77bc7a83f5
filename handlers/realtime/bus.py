"""How events travel: every event is published on a bus as an envelope naming its audience.

An envelope names its audience by user ids and/or chat ids; the hub of each
process delivers it to the matching connections it holds.  :class:`LocalBus`
is the in-process default.  A multi-process bus (``backplane.py``) subclasses
it: ``relay`` passes each envelope on to the other processes, which hand what
they receive to ``hub.dispatch``; ``announcement`` lets the writer send new
messages from inside the transaction that stores them, and
``deliver_in_order`` publishes a stored batch only after everything other
processes committed before it.
"""
import orjson


def make_envelope(event, user_ids=(), chat_ids=(), exclude_user=None, exclude_conn=None, control=None):
    """What travels through a bus: the event and its audience."""
    return {"event": event, "user_ids": list(user_ids), "chat_ids": list(chat_ids),
            "exclude_user": exclude_user, "exclude_conn": exclude_conn, "control": control}


def encode(event):
    return orjson.dumps(event).decode()


class LocalBus:
    """Publish/subscribe inside one process: delivery is immediate and in order."""

    def __init__(self):
        self.hub = None

    announcement = None  # nobody else to tell

    def next_batch_token(self):
        """A token for one message batch (see ``PostgresBus.settled``); in-process nothing waits on it."""
        return 0

    async def deliver_in_order(self, token, deliver, chats):
        """Run ``deliver`` (publishing a stored batch) in commit order: in-process, that is now.
        ``chats`` says what came before the batch (see ``PostgresBus.deliver_in_order``)."""
        deliver()

    def publish(self, event, local_only=False, **audience):
        """Deliver ``event`` to the audience (see ``make_envelope``) and hand it to ``relay``."""
        envelope = make_envelope(event, **audience)
        self.hub.dispatch(envelope)
        if not local_only:
            self.relay(envelope)

    def relay(self, envelope):
        """Pass an envelope on to other processes: nobody else in-process."""

    def start(self):
        """Nothing to connect to in-process."""

    def stop(self):
        """Nothing to release in-process."""

    async def flush(self):
        """Delivery is synchronous: nothing is ever pending."""

    def stats(self):
        return {"kind": "local"}
