"""Closing a connection so that the peer reads our last words.

When a socket is closed with the peer's data still unread, the kernel answers
with a reset.  A peer that is still sending (a large upload, an oversized
WebSocket frame) then fails on its next write, usually before it reads what we
sent last: the JSON 413, or the 1009 close frame, which a browser then reports
as 1006.  So, like a web server's "lingering close": stop sending (half-close),
read and discard what still comes, and close once the peer has closed, or after
``max_bytes`` or ``seconds``, whichever comes first.
"""
import asyncio
import socket

CHUNK = 65536


async def drain_and_close(sock, max_bytes, seconds, flushed=None):
    """Half-close ``sock`` once ``flushed`` (a write future) is done, discard what arrives, then close it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    received = 0
    try:
        if flushed is not None:
            await asyncio.wait_for(asyncio.shield(flushed), seconds)
        sock.setblocking(False)
        sock.shutdown(socket.SHUT_WR)
        while received < max_bytes:
            data = await asyncio.wait_for(loop.sock_recv(sock, CHUNK), max(0.0, deadline - loop.time()))
            if not data:
                break
            received += len(data)
    except (OSError, asyncio.TimeoutError):
        pass  # the peer reset or went quiet: nothing more to do for it
    finally:
        sock.close()
    return received


def keep_open(stream):
    """A second handle on ``stream``'s socket, so the connection outlives the framework closing its own."""
    sock = getattr(stream, "socket", None)
    return sock.dup() if sock is not None else None
