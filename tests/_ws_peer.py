"""A hand-made WebSocket server for transport tests: scripted frames, the client's read.

A script gets the accepted stream after the handshake (the response goes out together with
whatever bytes the test asks to send first, in one write, so the client finds them in the
read that ends its handshake) and plays its part; :class:`Peer` reads the client's masked
frames.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Final

import trio

_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def ws_frame(payload: bytes | str, opcode: int = TEXT, *, fin: bool = True) -> bytes:
    """One unmasked server frame."""
    data = payload.encode() if isinstance(payload, str) else payload
    head = bytes([(0x80 if fin else 0) | opcode])
    if len(data) < 126:
        head += bytes([len(data)])
    elif len(data) < 65536:
        head += bytes([126]) + struct.pack("!H", len(data))
    else:
        head += bytes([127]) + struct.pack("!Q", len(data))
    return head + data


def close_frame(code: int, reason: str = "") -> bytes:
    return ws_frame(struct.pack("!H", code) + reason.encode(), CLOSE)


class Peer:
    """The server's side of one connection: raw writes, and the client's frames parsed."""

    def __init__(self, stream: trio.SocketStream, buffered: bytes, request: bytes) -> None:
        self.stream = stream
        self._buffer = bytearray(buffered)
        #: The client's handshake request, up to the blank line.
        self.request = request

    async def _read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = await self.stream.receive_some(65536)
            if not chunk:
                raise EOFError("the client closed the stream")
            self._buffer += chunk
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    async def frame(self) -> tuple[int, bytes]:
        """The client's next frame: (opcode, unmasked payload). Checks that it is masked."""
        head1, head2 = await self._read(2)
        assert head2 & 0x80, "a client frame must be masked"
        length = head2 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self._read(8))
        mask = await self._read(4)
        data = await self._read(length)
        return head1 & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    async def close_code(self) -> int:
        """Read until the client's close frame; its code."""
        while True:
            opcode, payload = await self.frame()
            if opcode == CLOSE:
                if not payload:
                    return 1005  # an empty close frame: no status code
                code: int = struct.unpack("!H", payload[:2])[0]
                return code

    async def at_eof(self) -> bool:
        """True once the client has closed the stream (reading what is left)."""
        try:
            while await self.stream.receive_some(65536):
                pass
        except trio.BrokenResourceError:
            pass
        return True


Script = Callable[[Peer], Awaitable[None]]


async def answer_close(peer: Peer) -> None:
    """What a polite server does once its script is done: answer the client's close."""
    try:
        await peer.close_code()
        await peer.stream.send_all(close_frame(1000))
    except (EOFError, trio.BrokenResourceError):
        pass


@asynccontextmanager
async def open_scripted_server(
    first: bytes = b"", script: Script = answer_close, *, response: bytes | None = None
) -> AsyncIterator[str]:
    """A WebSocket server that answers the handshake (with *response*, if given, instead of
    a valid one) and *first* in one write, then runs *script*."""

    async def handle(stream: trio.SocketStream) -> None:
        async with stream:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = await stream.receive_some(4096)
                if not chunk:
                    return
                request += chunk
            head, _, rest = request.partition(b"\r\n\r\n")
            key = next(
                line.split(b":", 1)[1].strip()
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            )
            accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
            if response is None:
                answer = (
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
                )
            else:
                answer = response
            try:
                await stream.send_all(answer + first)
                await script(Peer(stream, rest, head))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass

    async with trio.open_nursery() as nursery:
        (listener,) = await nursery.start(partial(trio.serve_tcp, handle, 0, host="127.0.0.1"))
        port = listener.socket.getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ws/v5/public"
        nursery.cancel_scope.cancel()
