"""A frame over the limit always reaches the client as 1009, never as an unexplained 1006."""
import json

from websockets.exceptions import ConnectionClosed

from tests.test_ws import closed_with, connected

ROUNDS = 20


def test_oversized_frame_with_more_data_behind_it_is_always_1009(server):
    """Most of a 4 MiB frame, and another frame, are still unread when the server refuses the first."""
    token = server.login("user1")
    big = json.dumps({"type": "ping", "pad": "x" * (4 * 1024 * 1024)})
    more = json.dumps({"type": "ping", "pad": "y" * (256 * 1024)})
    codes = []
    for _ in range(ROUNDS):
        client, _ = connected(server, token)
        try:
            client.send(big)
            client.send(more)
        except ConnectionClosed:
            pass  # the close frame may arrive while the client is still sending; it is what counts
        codes.append(closed_with(client, timeout=10)[0])
    assert codes == [1009] * ROUNDS
    assert server.call(lambda: server.hub.close_codes["1009"]) == ROUNDS
    client, _ = connected(server, token)  # the server is unharmed
    client.send({"type": "ping", "id": 1})
    assert client.recv_type("pong")["id"] == 1
    client.close()
