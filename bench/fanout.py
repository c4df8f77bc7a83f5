"""Cost of fanning one event out to many connections in the hub (no network).

Attaches N in-memory connections to one chat, publishes E events through the
real bus and hub, and reports microseconds per event and per delivery, next to
the cost of encoding the event once per receiver (what the hub avoids).

    python bench/fanout.py [--connections 1000] [--events 2000]
"""
import argparse
import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from handlers.realtime.bus import LocalBus, encode  # noqa: E402
from handlers.realtime.hub import Hub  # noqa: E402


class MemoryConnection:
    def __init__(self, user_id, conn_id):
        self.user_id, self.conn_id, self.session_id = user_id, conn_id, None
        self.received = 0

    def send_text(self, text):
        self.received += 1

    def close(self, code, reason):
        pass


async def run(connections, events):
    bus = LocalBus()
    hub = Hub(bus, presence_grace=0)
    conns = [MemoryConnection(user_id=i, conn_id=str(i)) for i in range(connections)]
    for conn in conns:
        hub.attach(conn, [1])
    for conn in conns:
        conn.received = 0  # count only the benchmark's events, not presence
    message = {"id": 1, "chat_id": 1, "sender_id": 0, "sender_name": "Bench", "text": "x" * 200,
               "created_at": "2026-01-01T00:00:00.000Z", "client_msg_id": "b"}
    started = time.perf_counter()
    for n in range(events):
        bus.publish({"type": "new_message", "message": {**message, "id": n}}, chat_ids=[1])
    hub_seconds = time.perf_counter() - started
    assert all(c.received == events for c in conns)
    started = time.perf_counter()
    for n in range(max(1, events // 20)):
        for _ in conns:
            encode({"type": "new_message", "message": {**message, "id": n}})
    per_receiver_seconds = (time.perf_counter() - started) * 20
    return {
        "connections": connections, "events": events,
        "hub_us_per_event": round(hub_seconds / events * 1e6, 1),
        "hub_us_per_delivery": round(hub_seconds / (events * connections) * 1e6, 3),
        "encode_per_receiver_us_per_event": round(per_receiver_seconds / events * 1e6, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    import logging
    logging.disable(logging.INFO)
    print(json.dumps(asyncio.run(run(args.connections, args.events)), indent=2))


if __name__ == "__main__":
    main()
