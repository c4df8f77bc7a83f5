"""A bare Tornado WebSocket relay: the practical ceiling the real server is measured against.

It speaks just enough of the messenger's protocol for ``bench/load-client.mjs``:
a ``connected`` frame on open, ``pong`` for ``ping``, and for ``send_message``
a ``message_ack`` to the sender and a ``new_message`` to every other open
connection (the load client puts all of a run's sockets in one chat), or, for
``bench/day-client.mjs``, which connects with ``?chats=1,2,3``, to every other
connection that named the message's chat.  No
database, no authentication, no membership, no rate limit, no batching: one
JSON encode per message and Tornado's own ``write_message`` per frame.

    python bench/relay.py [--port 0] [--backlog 4096]      # prints "Listening on http://127.0.0.1:PORT"
"""
import argparse
import asyncio
import datetime
import itertools
import resource

import orjson
import tornado.web
import tornado.websocket


class Relay(tornado.websocket.WebSocketHandler):
    connections = set()
    ids = itertools.count(1)
    users = itertools.count(1)

    def check_origin(self, origin):
        return True

    def open(self):
        self.user_id = next(self.users)
        named = self.get_argument("chats", "")
        self.chat_ids = {int(c) for c in named.split(",")} if named else None  # None: in every chat
        self.connections.add(self)
        self.write_message(orjson.dumps({"type": "connected", "user_id": self.user_id,
                                         "chat_ids": sorted(self.chat_ids or [1])}).decode())

    def on_message(self, raw):
        frame = orjson.loads(raw)
        if frame.get("type") == "ping":
            self.write_message('{"type":"pong"}')
            return
        if frame.get("type") != "send_message":
            return
        message = {"id": next(self.ids), "chat_id": frame["chat_id"], "sender_id": self.user_id,
                   "sender_name": f"user {self.user_id}", "text": frame["text"],
                   "created_at": datetime.datetime.utcnow().isoformat(timespec="milliseconds") + "Z",
                   "client_msg_id": frame.get("client_msg_id")}
        event = orjson.dumps({"type": "new_message", "message": message}).decode()
        for conn in list(self.connections):
            if conn is not self and (conn.chat_ids is None or message["chat_id"] in conn.chat_ids):
                conn.send(event)
        self.send(orjson.dumps({"type": "message_ack", "client_msg_id": message["client_msg_id"],
                                "message": message}).decode())

    def send(self, text):
        try:
            self.write_message(text)
        except tornado.websocket.WebSocketClosedError:
            pass

    def on_close(self):
        self.connections.discard(self)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--backlog", type=int, default=4096,
                        help="listen backlog, as the server's --listen-backlog (Tornado's default is 128)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # W3 holds 10,000 sockets
    app = tornado.web.Application([(r"/ws", Relay)], websocket_ping_interval=None)
    server = app.listen(args.port, address="127.0.0.1", backlog=args.backlog)
    port = next(iter(server._sockets.values())).getsockname()[1]
    print(f"Listening on http://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
