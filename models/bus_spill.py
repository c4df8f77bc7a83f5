"""Storage side of the PostgreSQL backplane: events too large for NOTIFY are spilled to a table."""
import datetime

import peewee

from models.clock import utcnow
from models.db import BaseModel, db

NOTIFY_LIMIT = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more
SPILL_KEEP = datetime.timedelta(minutes=5)


class BusSpill(BaseModel):
    payload = peewee.TextField()
    created_at = peewee.DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "bus_spill"


def notify_all(channel, payloads):
    """Send the payloads on ``channel``, in order, in one statement (one round trip however many; a
    batch of 256 messages took 257 of them)."""
    if payloads:
        db.execute_sql(*notify_statement(channel, payloads))


def notify_statement(channel, payloads):
    """The ``(sql, params)`` that sends the payloads on ``channel`` in order; large ones are spilled now
    and go by reference."""
    sent = []
    for payload in payloads:
        if len(payload.encode()) > NOTIFY_LIMIT:
            spill = BusSpill.create(payload=payload)
            if spill.id % 100 == 0:
                prune_spilled()
            payload = f"ref:{spill.id}"
        sent.append(payload)
    return ("SELECT pg_notify(%s, p) FROM unnest(%s::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n",
            (channel, sent))


def read_spilled(spill_id):
    spill = BusSpill.get_or_none(BusSpill.id == spill_id)
    return spill.payload if spill else None


def prune_spilled():
    BusSpill.delete().where(BusSpill.created_at < utcnow() - SPILL_KEEP).execute()
