"""Serving a :class:`FakeExchange` over a real WebSocket on a local TCP port.

Built from ``trio.serve_listeners`` and ``trio_websocket.wrap_server_stream`` rather than
``serve_websocket``: a drop with code 1006 must abort the TCP connection without a closing
handshake, and only the owner of the raw stream can do that (``serve_websocket`` keeps it
private). The protocol logic is the same ``ExchangeSession`` the in-memory connector runs.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final
from urllib.parse import urlsplit

import trio
from trio_websocket import (
    CloseReason,
    ConnectionClosed,
    HandshakeError,
    WebSocketConnection,
    WebSocketRequest,
    wrap_server_stream,
)

from .._okx import PUBLIC_PATH
from ._exchange import FakeExchange, endpoint_of_path
from ._groups import raise_single
from ._http import open_fake_rest_server

__all__ = ["open_fake_exchange_server"]

# Real-time bounds for peers that stall. Generous for loopback, short enough that a broken
# client cannot keep the server's context manager from exiting for long.
_HANDSHAKE_TIMEOUT: Final = 5.0
_CLOSE_TIMEOUT: Final = 1.0

# 1005, 1006 and 1015 may never appear in a close frame (RFC 6455 7.4.1).
_LOCAL_ONLY_CODES: Final = frozenset({1005, 1006, 1015})


class _StallableStream(trio.abc.Stream):
    """A TCP stream that can stall entirely (``FakeExchange.blackhole``): while stalled,
    nothing it receives reaches trio-websocket (so not even a WebSocket ping is answered)
    and nothing is sent. End of stream still passes, so a client that leaves is seen."""

    def __init__(self, inner: trio.abc.Stream) -> None:
        self._inner = inner
        self._open = trio.Event()
        self._open.set()

    def stall(self, stalled: bool) -> None:
        if stalled and self._open.is_set():
            self._open = trio.Event()
        elif not stalled:
            self._open.set()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        data = await self._inner.receive_some(max_bytes)
        while data and not self._open.is_set():
            await self._open.wait()
        return data

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        while not self._open.is_set():
            await self._open.wait()
        await self._inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._inner.wait_send_all_might_not_block()

    async def send_eof(self) -> None:  # pragma: no cover - trio-websocket never half-closes
        raise trio.BrokenResourceError("half-close is not supported")

    async def aclose(self) -> None:
        await self._inner.aclose()


class _WebSocketTransport:
    """``ServerTransport`` over an accepted trio-websocket connection and its raw stream."""

    def __init__(self, ws: WebSocketConnection, stream: _StallableStream) -> None:
        self._ws = ws
        self._stream = stream
        self._aborted: CloseReason | None = None

    def stall(self, stalled: bool) -> None:
        """Stall (or release) the TCP stream under the WebSocket."""
        self._stream.stall(stalled)

    @property
    def close_reason(self) -> CloseReason | None:
        return self._aborted or self._ws.closed

    async def receive(self) -> str | bytes:
        return await self._ws.get_message()

    async def send(self, message: str | bytes) -> None:
        await self._ws.send_message(message)

    async def close(self, code: int, reason: str) -> None:
        if code in _LOCAL_ONLY_CODES or not 1000 <= code <= 4999:
            # Abort: the client sees its connection die, as with a cut network path.
            self._aborted = CloseReason(code, reason or None)
        else:
            with trio.move_on_after(_CLOSE_TIMEOUT):
                await self._ws.aclose(code, reason or None)
        # The server closes TCP right after the close handshake (RFC 6455 7.1.1); for an
        # abort this is the whole close. trio-websocket's reader sees the closed stream and
        # finishes by itself.
        await trio.aclose_forcefully(self._stream)


async def _serve_connection(exchange: FakeExchange, raw: trio.abc.Stream) -> None:
    """Handle one TCP connection; never raises for anything the peer does."""
    stream = _StallableStream(raw)
    try:
        # trio-websocket's reader task for this connection lives here, so it cannot
        # outlive the connection.
        async with trio.open_nursery() as nursery:
            await _handshake_and_serve(exchange, nursery, stream)
            nursery.cancel_scope.cancel()
    except* (ConnectionClosed, HandshakeError, trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # the peer went away, e.g. mid-handshake; there is nothing left to serve
    finally:
        await trio.aclose_forcefully(stream)


async def _handshake_and_serve(
    exchange: FakeExchange, nursery: trio.Nursery, stream: _StallableStream
) -> None:
    request: WebSocketRequest | None = None
    with trio.move_on_after(_HANDSHAKE_TIMEOUT):
        request = await wrap_server_stream(nursery, stream)
    if request is None:  # not a WebSocket client, or too slow to be one
        return
    endpoint = endpoint_of_path(urlsplit(request.path).path)
    if endpoint is None:
        await request.reject(404, body=f"no endpoint at {request.path}".encode())
        return
    try:
        exchange.admit()
    except ConnectionRefusedError as exc:
        await request.reject(503, body=str(exc).encode())
        return
    ws = await request.accept()
    session = exchange.accept(_WebSocketTransport(ws, stream), endpoint)
    await session.run()


def _bound_port(listener: trio.SocketListener | trio.SSLListener[trio.SocketStream]) -> int:
    inner = listener.transport_listener if isinstance(listener, trio.SSLListener) else listener
    if not isinstance(inner, trio.SocketListener):  # pragma: no cover - trio always gives these
        raise TypeError(f"cannot tell the port of {inner!r}")
    port: int = inner.socket.getsockname()[1]
    return port


@asynccontextmanager
async def open_fake_exchange_server(
    exchange: FakeExchange,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[str]:
    """Serve *exchange* over a real WebSocket and yield its URL.

    The URL is ``ws://HOST:PORT/ws/v5/public`` (``wss://`` with *ssl_context*); *port* 0
    picks a free port. ``/ws/v5/business`` on the same port is the business endpoint; any
    other path is refused with HTTP 404. Use a numeric *host*: a name
    that resolves to several addresses would get several listeners, and only the first
    one's port is in the URL.

    Behaviour matches the in-memory :meth:`FakeExchange.connector`: refused attempts are
    rejected in the handshake with HTTP 503 (clients see ``trio_websocket.ConnectionRejected``);
    :meth:`FakeExchange.drop_connections` really closes the socket (code 1006 aborts the
    TCP connection, other codes send a close frame first). The REST API is served over HTTP
    (HTTPS with *ssl_context*) on a second port of *host*: ``exchange.rest_url`` inside the
    block (see :func:`open_fake_rest_server`). The server runs on real time;
    do not use it under an autojump clock.

    Leaving the block stops listening and aborts every open connection (the exchange
    records code 1006); no task outlives the block.

    Raises:
        OSError: if the address cannot be bound.
    """
    if ssl_context is None:
        listeners: list[trio.SocketListener] | list[trio.SSLListener[trio.SocketStream]]
        listeners = await trio.open_tcp_listeners(port, host=host)
        scheme = "ws"
    else:
        listeners = await trio.open_ssl_over_tcp_listeners(
            port, ssl_context, host=host, https_compatible=True
        )
        scheme = "wss"
    url_host = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{url_host}:{_bound_port(listeners[0])}{PUBLIC_PATH}"

    async def handler(stream: trio.abc.Stream) -> None:
        await _serve_connection(exchange, stream)

    try:
        async with trio.open_nursery() as nursery:
            # serve_listeners owns (and closes) the listeners from here on.
            await nursery.start(trio.serve_listeners, handler, listeners)
            try:
                async with open_fake_rest_server(exchange, host, ssl_context=ssl_context):
                    yield url
            finally:
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise_single(group)
