"""Replaying a recorded OKX session to a client, with the recorded timing, in Trio time.

The capture format is the one of ``okx-public-2022-05-13.txt`` (from cryptofeed's sample
data), one message a line::

    URL <-> T            the connection opened at Unix time T
    URL <- T: TEXT       the client sent TEXT at time T
    T: TEXT              the server sent TEXT at time T
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Final, Literal

import trio
from trio_websocket import ConnectionClosed

from ._memory import MemoryWebSocket, open_memory_connection
from ._protocol import PING, PONG
from ._transport import ServerTransport

__all__ = ["CaptureLine", "ReplayExchange", "load_capture"]

_TIME: Final = r"(\d+(?:\.\d+)?)"
_OPEN: Final = re.compile(rf"(\S+) <-> {_TIME}")
_SENT: Final = re.compile(rf"(\S+) <- {_TIME}: (.*)")
_RECEIVED: Final = re.compile(rf"{_TIME}: (.*)")


@dataclass(frozen=True, slots=True)
class CaptureLine:
    """One line of a capture.

    Attributes:
        kind: ``"open"`` (connection opened), ``"sent"`` (client to server) or
            ``"received"`` (server to client).
        time: Unix time of the line, in seconds.
        url: The connection's URL; for received lines, that of the last ``open`` line.
        text: The message exactly as recorded (empty for ``open``).
    """

    kind: Literal["open", "sent", "received"]
    time: float
    url: str
    text: str


def load_capture(path: str | os.PathLike[str]) -> list[CaptureLine]:
    """Parse a capture file into its lines, in file order. Blank lines are skipped.

    Raises:
        OSError: if the file cannot be read.
        ValueError: naming the line number, for a line in none of the three shapes.
    """
    lines: list[CaptureLine] = []
    url = ""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if m := _OPEN.fullmatch(line):
                url = m[1]
                lines.append(CaptureLine("open", float(m[2]), url, ""))
            elif m := _SENT.fullmatch(line):
                lines.append(CaptureLine("sent", float(m[2]), m[1], m[3]))
            elif m := _RECEIVED.fullmatch(line):
                lines.append(CaptureLine("received", float(m[1]), url, m[2]))
            else:
                raise ValueError(f"{os.fspath(path)}:{number}: not a capture line: {line[:80]!r}")
    return lines


class ReplayExchange:
    """Plays a recorded server side to whoever connects, in Trio time.

    On each connection, once the client's first message arrives (whatever it is), every
    ``received`` line is sent in order at the recorded offsets divided by *speed*, measured
    from the first ``sent`` line (the request the client's first message stands in for).
    Afterwards the connection stays open and silent. Throughout, a text ``ping`` is
    answered with ``pong`` and everything the client sends is kept in
    :attr:`client_messages`. Under an autojump clock the replay takes no real time.

    Args:
        capture: Lines from :func:`load_capture`, or the path of a capture file.
        speed: Playback speed; 2.0 plays twice as fast, ``math.inf`` without gaps.

    Raises:
        ValueError: if *speed* is not positive, or the capture file is malformed.
        OSError: if the capture file cannot be read.
    """

    def __init__(
        self, capture: Sequence[CaptureLine] | str | os.PathLike[str], *, speed: float = 1.0
    ) -> None:
        if not speed > 0:  # also rejects NaN
            raise ValueError(f"speed must be > 0, got {speed!r}")
        lines = load_capture(capture) if isinstance(capture, str | os.PathLike) else list(capture)
        self._received = [line for line in lines if line.kind == "received"]
        anchors = [line.time for line in lines if line.kind == "sent"] or [
            line.time for line in self._received
        ]
        self._t0 = anchors[0] if anchors else 0.0
        self._speed = speed
        self.client_messages: list[str | bytes] = []
        """Everything any client sent, in arrival order."""
        self.finished = trio.Event()
        """Set once a connection has been sent every recorded line."""

    def connector(self, url: str) -> AbstractAsyncContextManager[MemoryWebSocket]:
        """Open an in-memory connection; same contract as :meth:`FakeExchange.connector`.

        Each connection replays the whole capture. *url* is accepted and ignored.
        """
        return self._connect()

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[MemoryWebSocket]:
        await trio.lowlevel.checkpoint()
        async with open_memory_connection(lambda transport: lambda: self._serve(transport)) as ws:
            yield ws

    async def wait_finished(self) -> None:
        """Return once a connection has been sent every recorded line."""
        await self.finished.wait()

    async def _serve(self, transport: ServerTransport) -> None:
        try:
            first = await transport.receive()
        except ConnectionClosed:
            return
        start = trio.current_time()
        self.client_messages.append(first)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._play, transport, start)
            if first == PING:
                await self._pong(transport)
            while True:
                try:
                    message = await transport.receive()
                except ConnectionClosed:
                    break
                self.client_messages.append(message)
                if message == PING:
                    await self._pong(transport)
            nursery.cancel_scope.cancel()

    async def _play(self, transport: ServerTransport, start: float) -> None:
        for line in self._received:
            # Lines recorded before the anchor go out at once (sleep_until a past deadline).
            await trio.sleep_until(start + (line.time - self._t0) / self._speed)
            try:
                await transport.send(line.text)
            except ConnectionClosed:
                return
        self.finished.set()

    @staticmethod
    async def _pong(transport: ServerTransport) -> None:
        with suppress(ConnectionClosed):
            await transport.send(PONG)
