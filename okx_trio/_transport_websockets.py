"""The ``websockets`` transport: :mod:`websockets.trio` behind the same connector seam.

Selected with ``ClientConfig(transport="websockets")`` (the ``fast`` extra). It keeps the
contract of :class:`~okx_trio.WebSocketConnector` exactly, so the client cannot tell the two
apart:

* certificates are verified for ``wss://`` (Python's default context) unless a
  ``ssl_context`` of your own is given; there is no switch that turns verification off;
* ``get_message`` returns ``str`` for text frames and raises
  :class:`okx_trio.ConnectionClosed` (``code``, ``reason``) once the peer closed (code 1006
  when the connection died without a closing handshake);
* a handshake the server refuses raises :class:`trio_websocket.ConnectionRejected`, any other
  broken handshake :class:`trio_websocket.HandshakeError`; network and TLS failures come out
  as ``OSError`` / :class:`trio.BrokenResourceError`, a connect that takes too long as
  ``TimeoutError``;
* leaving the block sends a normal close (1000), bounded by ``disconnect_timeout``; if the
  block is cancelled, the socket is closed at once (no task or socket outlives the block).

Like trio-websocket, it sends no WebSocket ping frames of its own (the client runs OKX's
text ``ping`` heartbeat), offers no compression and ignores proxy environment variables.
"""

from __future__ import annotations

from collections import deque
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit

import trio
import trio_websocket
from websockets.exceptions import ConnectionClosed as _WsConnectionClosed
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
from websockets.frames import Frame, Opcode
from websockets.trio.client import ClientConnection, connect

from ._connection import Connection, ConnectionClosed
from ._transport_trio_websocket import ConnectorSettings

__all__ = ["WebsocketsConnector"]

_ABNORMAL_CLOSURE: Final = 1006
# Frames buffered ahead of the reader before websockets stops reading the socket. A burst
# of small pushes arrives many to a TCP read; 16 (the library's default) throttles reading.
_MAX_QUEUE: Final = 256


def _closed(exc: _WsConnectionClosed) -> ConnectionClosed:
    """Our ConnectionClosed for websockets' own: the peer's close frame, 1006 if none."""
    received = exc.rcvd
    if received is None:
        closed = ConnectionClosed(_ABNORMAL_CLOSURE)
    else:
        closed = ConnectionClosed(int(received.code), received.reason or "")
    closed.__cause__ = exc
    return closed


class _WebsocketsConnection:
    """A :class:`~okx_trio._transport.Connection` over a websockets ``ClientConnection``."""

    __slots__ = ("_assembler", "_buffered", "_frames", "_ws")

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        # websockets' reader task puts every data frame into its Assembler's unbounded
        # frame channel; recv() takes the frames of one message from it. What
        # get_messages_nowait needs of those internals (websockets 17); if a later version
        # moves them, it returns [] and everything still goes through recv().
        self._assembler: Any = None
        self._frames: trio.MemoryReceiveChannel[Frame] | None = None
        self._buffered: deque[Frame] | None = None
        try:
            assembler = ws.recv_messages
            frames = assembler.recv_frames
            buffered = frames._state.data
            if (
                isinstance(buffered, deque)
                and isinstance(assembler.get_in_progress, bool)
                and callable(assembler.maybe_resume)
            ):
                self._assembler, self._frames, self._buffered = assembler, frames, buffered
        except AttributeError:  # pragma: no cover - another websockets version
            pass

    async def send_message(self, message: str) -> None:
        try:
            await self._ws.send(message)
        except _WsConnectionClosed as exc:
            raise _closed(exc) from exc

    async def get_message(self) -> str | bytes:
        try:
            return await self._ws.recv()
        except _WsConnectionClosed as exc:
            raise _closed(exc) from exc

    def get_messages_nowait(self, limit: int) -> list[str | bytes]:
        """Up to *limit* messages already received, in order; ``[]`` if none. No checkpoint.

        Takes only whole single-frame messages from the head of websockets' frame queue, as
        ``recv()`` would return them (text frames decoded, binary ones as ``bytes``). It
        stops, leaving the rest to ``get_message``, at a fragmented message, at a text frame
        that is not valid UTF-8 (``recv()`` fails the connection with 1007 for it), and when
        another task is inside ``recv()``. Never raises: a closed connection is reported by
        the next ``get_message``, after the messages buffered before the close.
        """
        buffered = self._buffered
        if not buffered or self._assembler.get_in_progress:
            return []
        assert self._frames is not None
        receive = self._frames.receive_nowait
        messages: list[str | bytes] = []
        while buffered and len(messages) < limit:
            frame = buffered[0]
            if not frame.fin:
                break
            data = frame.data
            if frame.opcode is Opcode.TEXT:
                try:
                    message: str | bytes = (
                        str(data, "utf-8") if isinstance(data, memoryview) else data.decode()
                    )
                except UnicodeDecodeError:
                    break
            elif frame.opcode is Opcode.BINARY:
                message = bytes(data)
            else:  # pragma: no cover - a continuation frame is never at the head
                break
            receive()  # the frame just read: the channel's own way to take it
            messages.append(message)
        if messages:
            self._assembler.maybe_resume()  # reading may resume below the low-water mark
        return messages


def _stop_flow_control(ws: ClientConnection) -> None:
    """Let websockets' reader task read on (and end) once the block is left.

    websockets 17 stops reading the socket while more than ``max_queue`` frames wait in
    its queue, until ``recv()`` takes some; and nothing wakes its reader when the
    connection closes. Once the block is left nobody calls ``recv()``: a full queue (a
    server pushing faster than the consumer read) would keep the closing handshake from
    reading the server's answer, and the reader task, hence the block, from ever ending.
    So on the way out the unread frames are dropped and reading goes on unthrottled (for
    at most the closing handshake, bounded by ``disconnect_timeout``).
    """
    try:
        assembler = ws.recv_messages
        assembler.high = assembler.low = None  # maybe_pause/maybe_resume: no-ops now
        frames = assembler.recv_frames._state.data
        frames.clear()
        if ws.recv_flow_control is not None:
            ws.resume_reading()
    except AttributeError:  # pragma: no cover - another websockets version
        pass


class _WebsocketsSession:
    """The async context manager one ``connector(url)`` call returns."""

    def __init__(self, connector: WebsocketsConnector, url: str) -> None:
        self._connector = connector
        self._url = url
        self._connect: connect | None = None
        self._ws: ClientConnection | None = None

    async def __aenter__(self) -> Connection:
        connector = self._connector
        secure = urlsplit(self._url).scheme == "wss"
        try:
            self._connect = connect(
                self._url,
                ssl=await connector._context() if secure else None,
                open_timeout=connector.connect_timeout,
                close_timeout=connector.disconnect_timeout,
                ping_interval=None,
                ping_timeout=None,
                compression=None,
                proxy=None,
                max_size=connector.max_message_size,
                max_queue=_MAX_QUEUE,
            )
        except InvalidURI as exc:
            raise ValueError(f"invalid WebSocket URL {self._url!r}: {exc}") from exc
        try:
            ws = await self._connect.__aenter__()
        except InvalidStatus as exc:
            response = exc.response
            headers = tuple(
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in response.headers.raw_items()
            )
            raise trio_websocket.ConnectionRejected(
                response.status_code, headers, bytes(response.body)
            ) from exc
        except InvalidHandshake as exc:
            raise trio_websocket.HandshakeError(str(exc)) from exc
        # Never log frames: websockets' protocol logs each one at DEBUG (when its logger is
        # enabled for DEBUG as the connection opens), and what we send includes a login's
        # signature. Only the opening handshake (no secret in it) may have been logged.
        ws.protocol.debug = False
        self._ws = ws
        return _WebsocketsConnection(ws)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        ws, self._ws = self._ws, None
        try:
            if ws is not None:
                _stop_flow_control(ws)
                # A normal close whatever ended the block (trio-websocket does the same);
                # websockets would send 1011 for an exception. Bounded by close_timeout;
                # when cancelled, websockets closes the socket forcefully.
                try:
                    await ws.aclose()
                finally:
                    _stop_flow_control(ws)
        finally:
            # Ends websockets' nursery (its reader task); re-raises the block's exception.
            if self._connect is not None:
                await self._connect.__aexit__(exc_type, exc_value, traceback)


class WebsocketsConnector(ConnectorSettings):
    """A connector on :func:`websockets.trio.client.connect` (``websockets`` >= 17).

    Same parameters and guarantees as :class:`~okx_trio.WebSocketConnector`: certificates
    are verified for ``wss://`` unless a ``ssl_context`` of your own is given;
    ``disconnect_timeout`` bounds the closing handshake; ``max_message_size`` bounds one
    incoming message. A faster receive path than trio-websocket's.
    """

    def __call__(self, url: str) -> AbstractAsyncContextManager[Connection]:
        return _WebsocketsSession(self, url)
