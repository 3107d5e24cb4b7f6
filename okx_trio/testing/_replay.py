"""Replaying a recorded OKX session to a client, with the recorded timing, in Trio time.

The capture format is the one of ``okx-public-2022-05-13.txt`` (from cryptofeed's sample
data), one message a line, extended compatibly for sessions of several connections::

    URL <-> T            a connection to URL opened at Unix time T
    URL <- T: TEXT       the client sent TEXT on the connection to URL at time T
    T: TEXT              the server sent TEXT at time T, on the connection opened last
                         (the latest ``<->`` line above it)
    URL -> T: TEXT       the server sent TEXT at time T on the connection to URL (the
                         latest one opened to URL): how a recording of several connections
                         writes the frames of any connection but the last one opened

Every old file reads the same as before; the ``->`` form is new. ``TEXT`` is the frame
exactly as it went over the wire. A frame that cannot stand on one line is written with
another separator instead of ``": "`` (these forms are new too, and rare: OKX sends
one-line JSON text)::

    T:json: "..."        a text frame holding a line break, as a JSON string literal
    T:b64: ...           a binary frame, base64-encoded

(in all three message forms: ``URL <- T:json: ...``, ``URL -> T:b64: ...``). Lines of several
connections interleave in time order. URLs carry a scheme (``wss://``) and no spaces.
:func:`okx_trio.testing.record_session` writes such files; the shipped capture is
``okx_trio.testing.CAPTURE_DIR / "okx-public-2022-05-13.txt"``.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urlsplit

import trio
from trio_websocket import ConnectionClosed

from ._memory import MemoryWebSocket, open_memory_connection
from ._protocol import PING, PONG
from ._transport import ServerTransport

__all__ = ["CaptureLine", "ReplayExchange", "load_capture", "parse_capture"]

_TIME: Final = r"(\d+(?:\.\d+)?)"
_URL: Final = r"([A-Za-z][A-Za-z0-9+.-]*://\S+)"
# The separator between time and text says how the text is written.
_SEP: Final = r"(: |:json: |:b64: )"
_OPEN: Final = re.compile(rf"{_URL} <-> {_TIME}")
_SENT: Final = re.compile(rf"{_URL} <- {_TIME}{_SEP}(.*)")
_RECEIVED_ON: Final = re.compile(rf"{_URL} -> {_TIME}{_SEP}(.*)")
_RECEIVED: Final = re.compile(rf"{_TIME}{_SEP}(.*)")
_URL_ONLY: Final = re.compile(_URL)
# Everything str.splitlines() breaks at: a frame holding one is not written verbatim, so
# that any line-based reader (this one, or a test's own) sees one frame per line.
_LINE_BREAKS: Final = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


@dataclass(frozen=True, slots=True)
class CaptureLine:
    """One line of a capture.

    Attributes:
        kind: ``"open"`` (connection opened), ``"sent"`` (client to server) or
            ``"received"`` (server to client).
        time: Unix time of the line, in seconds.
        url: The connection's URL; for a received line in the short form, that of the
            last ``open`` line before it (``""`` if there is none).
        text: The message exactly as recorded (empty for ``open``); ``bytes`` for a binary
            frame.
    """

    kind: Literal["open", "sent", "received"]
    time: float
    url: str
    text: str | bytes

    def to_line(self, *, last_opened: str | None = None) -> str:
        """This line as a capture file holds it, without the newline.

        A received line is written in the short form ``T: TEXT`` when its url is
        *last_opened* (the url of the connection opened last before it in the file), and
        as ``URL -> T: TEXT`` otherwise. Time is written with microseconds.

        Raises:
            ValueError: for a url with no scheme or with spaces (a received line in the
                short form needs none), or a negative or non-finite time.
        """
        if not 0 <= self.time < float("inf"):
            raise ValueError(f"capture time must be seconds since the epoch, got {self.time!r}")
        time = f"{self.time:.6f}"
        if self.kind == "received" and self.url == last_opened:
            return f"{time}{_encode(self.text)}"
        if not isinstance(self.url, str) or _URL_ONLY.fullmatch(self.url) is None:
            raise ValueError(f"capture url must look like wss://host/path, got {self.url!r}")
        if self.kind == "open":
            return f"{self.url} <-> {time}"
        arrow = "<-" if self.kind == "sent" else "->"
        return f"{self.url} {arrow} {time}{_encode(self.text)}"


def _encode(text: str | bytes) -> str:
    if isinstance(text, bytes):
        return ":b64: " + base64.b64encode(text).decode("ascii")
    if _LINE_BREAKS.isdisjoint(text):
        return ": " + text
    return ":json: " + json.dumps(text)  # ASCII only, so no line break survives


def _decode(sep: str, raw: str) -> str | bytes:
    if sep == ": ":
        return raw
    if sep == ":b64: ":
        return base64.b64decode(raw, validate=True)
    text = json.loads(raw)
    if not isinstance(text, str):
        raise ValueError(f"expected a JSON string after ':json:', got {raw[:40]!r}")
    return text


def parse_capture(lines: Iterable[str], *, source: str = "<capture>") -> list[CaptureLine]:
    """Parse the lines of a capture (see the module docstring), in order.

    Blank lines are skipped; line endings (``\\r\\n`` or ``\\n``) are stripped.

    Raises:
        ValueError: naming *source* and the line number, for a line in none of the shapes,
            or a ``:json:``/``:b64:`` text that does not decode.
    """
    out: list[CaptureLine] = []
    last_opened = ""
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        try:
            if m := _OPEN.fullmatch(line):
                last_opened = m[1]
                out.append(CaptureLine("open", float(m[2]), m[1], ""))
            elif m := _SENT.fullmatch(line):
                out.append(CaptureLine("sent", float(m[2]), m[1], _decode(m[3], m[4])))
            elif m := _RECEIVED_ON.fullmatch(line):
                out.append(CaptureLine("received", float(m[2]), m[1], _decode(m[3], m[4])))
            elif m := _RECEIVED.fullmatch(line):
                out.append(CaptureLine("received", float(m[1]), last_opened, _decode(m[2], m[3])))
            else:
                raise ValueError("not a capture line")
        except ValueError as exc:  # json's and base64's errors are ValueErrors too
            raise ValueError(f"{source}:{number}: {exc}: {line[:80]!r}") from None
    return out


def load_capture(path: str | os.PathLike[str]) -> list[CaptureLine]:
    """Parse a capture file into its lines, in file order (see :func:`parse_capture`).

    Raises:
        OSError: if the file cannot be read.
        ValueError: naming the file and line number, for a malformed line.
    """
    with open(path, encoding="utf-8") as f:
        return parse_capture(f, source=os.fspath(path))


def _path_of(url: str) -> str:
    return urlsplit(url).path if "://" in url else url


@dataclass(slots=True)
class _Stream:
    """What one kind of connection (one url path) replays."""

    received: list[CaptureLine]
    t0: float
    finished: trio.Event


class ReplayExchange:
    """Plays a recorded server side to whoever connects, in Trio time.

    A capture with connections on several url paths is routed by path: a connection to
    ``.../ws/v5/business`` replays the received lines of the capture's business
    connection(s), one to ``.../ws/v5/public`` the public ones (host and query are not
    compared). A capture on one path plays to any url.

    On each connection, once the client's first message arrives (whatever it is), every
    ``received`` line of its path is sent in order, raw (any channel, any text), at the
    recorded offsets divided by *speed*, measured from the path's first ``sent`` line (the
    request the client's first message stands in for; the first received line if none
    was recorded). Afterwards the connection stays open and silent. Throughout, a text
    ``ping`` is answered with ``pong`` and everything the client sends is kept in
    :attr:`client_messages`. Under an autojump clock the replay takes no real time.

    Args:
        capture: Lines from :func:`load_capture`, or the path of a capture file (the
            shipped one: ``CAPTURE_DIR / "okx-public-2022-05-13.txt"``).
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
        by_path: dict[str, list[CaptureLine]] = {}
        for line in lines:
            by_path.setdefault(_path_of(line.url), []).append(line)
        self._streams: dict[str, _Stream] = {}
        for path, group in by_path.items():
            received = [line for line in group if line.kind == "received"]
            anchors = [line.time for line in group if line.kind == "sent"] or [
                line.time for line in received
            ]
            self._streams[path] = _Stream(received, anchors[0] if anchors else 0.0, trio.Event())
        if not self._streams:  # an empty capture: connections stay silent
            self._streams[""] = _Stream([], 0.0, trio.Event())
        self._speed = speed
        self.client_messages: list[str | bytes] = []
        """Everything any client sent, in arrival order."""
        self.finished = trio.Event()
        """Set once a connection has been sent every recorded line of its path."""

    @property
    def paths(self) -> list[str]:
        """The url paths the capture holds connections on, in order of first appearance."""
        return list(self._streams)

    def connector(self, url: str) -> AbstractAsyncContextManager[MemoryWebSocket]:
        """Open an in-memory connection; same contract as :meth:`FakeExchange.connector`.

        Each connection replays the whole of its path's lines.

        Raises (from entering the context):
            ValueError: naming *url*, if the capture has several paths and none is *url*'s.
        """
        return self._connect(url)

    def _stream_for(self, url: str) -> _Stream:
        if len(self._streams) == 1:
            return next(iter(self._streams.values()))
        stream = self._streams.get(_path_of(url))
        if stream is None:
            raise ValueError(
                f"no recorded connection for {url!r}: the capture holds paths "
                f"{', '.join(map(repr, self._streams))}"
            )
        return stream

    @asynccontextmanager
    async def _connect(self, url: str) -> AsyncIterator[MemoryWebSocket]:
        stream = self._stream_for(url)
        await trio.lowlevel.checkpoint()
        async with open_memory_connection(
            lambda transport: lambda: self._serve(transport, stream)
        ) as ws:
            yield ws

    async def wait_finished(self, url: str | None = None) -> None:
        """Return once a connection has been sent every recorded line of its path (of
        *url*'s path, when given).

        Raises:
            ValueError: as :meth:`connector`, for a *url* the capture cannot serve.
        """
        if url is None:
            await self.finished.wait()
        else:
            await self._stream_for(url).finished.wait()

    async def _serve(self, transport: ServerTransport, stream: _Stream) -> None:
        try:
            first = await transport.receive()
        except ConnectionClosed:
            return
        start = trio.current_time()
        self.client_messages.append(first)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._play, transport, stream, start)
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

    async def _play(self, transport: ServerTransport, stream: _Stream, start: float) -> None:
        for line in stream.received:
            # Lines recorded before the anchor go out at once (sleep_until a past deadline).
            await trio.sleep_until(start + (line.time - stream.t0) / self._speed)
            try:
                await transport.send(line.text)
            except ConnectionClosed:
                return
        stream.finished.set()
        self.finished.set()

    @staticmethod
    async def _pong(transport: ServerTransport) -> None:
        with suppress(ConnectionClosed):
            await transport.send(PONG)
