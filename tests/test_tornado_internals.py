"""handlers/ws_protocol.py overrides private parts of Tornado's WebSocket protocol and reads one private
attribute of its IOStream.  setup.cfg pins the Tornado minor version they were written against; this
test fails loudly, naming the part, when an upgrade changes any of them, instead of letting the
keepalive, the 1009 drain or the outbox figure break silently."""
import inspect
import re

import tornado
from tornado import iostream, websocket

from tests.harness import ROOT

P13 = websocket.WebSocketProtocol13


def _source(function):
    return inspect.getsource(function)


def test_the_pinned_minor_version_is_the_installed_one():
    with open(f"{ROOT}/setup.cfg", encoding="utf-8") as f:
        pin = re.search(r"tornado>=(\d+)\.(\d+)(?:\.\d+)?,<(\d+)\.(\d+)", f.read())
    assert pin, "setup.cfg must pin tornado to one minor version (tornado>=X.Y,<X.Y+1)"
    low, high = (int(pin[1]), int(pin[2])), (int(pin[3]), int(pin[4]))
    assert high == (low[0], low[1] + 1), "the pin spans more than one minor version"
    installed = tuple(int(part) for part in tornado.version.split(".")[:2])
    assert installed == low, f"Tornado {tornado.version} installed; ws_protocol.py was checked against {low}"


def test_keepalive_sets_and_reads_received_pong():
    """DrainingProtocol turns _received_pong into a property: Tornado must still set it on a pong and
    start the keepalive through start_pinging() once the handshake is accepted."""
    assert "self._received_pong = True" in _source(P13._handle_message)
    assert "self.start_pinging()" in _source(P13._accept_connection)
    assert "self._received_pong = False" in _source(P13.periodic_ping)
    assert inspect.signature(P13.start_pinging).parameters.keys() == {"self"}
    assert "def write_ping" in _source(P13)


def test_an_oversized_frame_closes_with_1009_then_aborts():
    """The 1009 drain relies on close(1009, ...) being followed by _abort() in the frame reader."""
    source = _source(P13._receive_frame)
    assert re.search(r'self\.close\(1009, "message too big"\)\s+self\._abort\(\)', source)
    abort = _source(websocket.WebSocketProtocol._abort)
    assert "self.client_terminated = True" in abort and "self.server_terminated = True" in abort
    assert "self._waiting" in _source(P13.close)


def test_frame_writing_uses_the_attributes_send_text_writes_directly():
    init = _source(P13.__init__)
    for attribute in ("self._message_bytes_out", "self._wire_bytes_out", "self._waiting",
                      "self._received_pong"):
        assert attribute in init, f"WebSocketProtocol13.__init__ no longer sets {attribute}"
    assert (P13.FIN, P13.RSV1) == (0x80, 0x40)
    assert "self._compressor" in _source(P13._create_compressors)


def test_iostream_keeps_a_sized_write_buffer():
    """outbox_bytes() reads len(stream._write_buffer): Tornado keeps no public counter."""
    assert "self._write_buffer = _StreamBuffer()" in _source(iostream.BaseIOStream.__init__)
    assert hasattr(iostream._StreamBuffer, "__len__")
