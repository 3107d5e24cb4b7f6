"""The ``websockets-sansio`` transport: websockets' sans-IO protocol, read by the receiver.

Selected with ``ClientConfig(transport="websockets-sansio")`` (the ``fast`` extra: it uses
the protocol code of the ``websockets`` package, and its C speedups for masking what we
send). The name says both what it needs (``websockets``) and how it differs from
``transport="websockets"`` (``websockets.trio``, whose reader task hands every frame over a
channel): here there is no task of the transport's own; the task that awaits
``get_message`` reads the socket and runs the protocol itself (see
:mod:`okx_trio._transport_sansio_connection`), which saves a wake-up per message.

It keeps the contract of :class:`~okx_trio.WebSocketConnector` exactly, so the client cannot
tell the transports apart:

* certificates are verified for ``wss://`` (Python's default context) unless a
  ``ssl_context`` of your own is given; there is no switch that turns verification off;
* ``get_message`` returns ``str`` for text frames (``bytes`` for binary ones) and raises
  :class:`okx_trio.ConnectionClosed` (``code``, ``reason``) once the connection closed,
  after every message received before the close (code 1006 when it died without a
  closing handshake); ``get_messages_nowait(limit)`` is synchronous and never raises;
* a handshake the server refuses raises :class:`trio_websocket.ConnectionRejected`, any
  other broken handshake :class:`trio_websocket.HandshakeError`; network and TLS failures
  come out as ``OSError`` / :class:`trio.BrokenResourceError`, a connect (TCP, TLS and the
  upgrade together) that takes longer than ``connect_timeout`` as ``TimeoutError``;
* leaving the block sends a normal close (1000) and waits for the answer, bounded by
  ``disconnect_timeout``; if the block is cancelled, the socket is closed at once. No task
  is started, and the socket never outlives the block.

It sends no WebSocket ping frames of its own (the client runs OKX's text ``ping``
heartbeat; a server's pings are answered), offers no compression, ignores proxy
environment variables, and never logs frames (websockets' DEBUG log would show what we
send, a login's signature among it).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import cast

import trio
import trio_websocket
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidStatus, InvalidURI
from websockets.frames import Frame
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from ._connection import Connection
from ._transport_sansio_connection import RECEIVE_SIZE, SansIOConnection
from ._transport_trio_websocket import ConnectorSettings

__all__ = ["SansIOConnector"]


class SansIOConnector(ConnectorSettings):
    """A connector on websockets' sans-IO :class:`~websockets.client.ClientProtocol`, with
    no reader task: the caller of ``get_message`` reads the socket (``websockets`` >= 17).

    Same parameters and guarantees as :class:`~okx_trio.WebSocketConnector`: certificates
    are verified for ``wss://`` unless a ``ssl_context`` of your own is given;
    ``connect_timeout`` bounds TCP, TLS and the WebSocket upgrade together;
    ``disconnect_timeout`` bounds the closing handshake; ``max_message_size`` bounds one
    incoming message (a bigger one fails the connection with code 1009).

    Raises (from entering the context): ``ValueError`` for a url that is not
    ``ws://``/``wss://``, ``OSError`` for TCP failures, :class:`trio.BrokenResourceError`
    for TLS failures (the ``ssl.SSLError`` is its cause), ``TimeoutError`` for a slow
    connect, :class:`trio_websocket.ConnectionRejected` for a refused upgrade and
    :class:`trio_websocket.HandshakeError` for any other failed one.
    """

    def __call__(self, url: str) -> AbstractAsyncContextManager[Connection]:
        return _SansIOSession(self, url)


class _SansIOSession:
    """The async context manager one ``connector(url)`` call returns."""

    def __init__(self, connector: SansIOConnector, url: str) -> None:
        self._connector = connector
        self._url = url
        self._conn: SansIOConnection | None = None

    async def __aenter__(self) -> Connection:
        timeout = self._connector.connect_timeout
        with trio.move_on_after(timeout) as connecting:
            self._conn = await self._open()
        if connecting.cancelled_caught:
            raise TimeoutError(f"WebSocket connect timed out after {timeout:g}s")
        assert self._conn is not None
        return self._conn

    async def _open(self) -> SansIOConnection:
        """TCP, TLS, the upgrade; the stream is closed again if any of them fails."""
        connector = self._connector
        try:
            uri = parse_uri(self._url)
        except InvalidURI as exc:
            raise ValueError(f"not a ws:// or wss:// url: {self._url!r} ({exc})") from None
        stream: trio.abc.Stream = await trio.open_tcp_stream(uri.host, uri.port)
        try:
            if uri.secure:
                tls = trio.SSLStream(
                    stream,
                    await connector._context(),
                    server_hostname=uri.host,
                    https_compatible=True,
                )
                stream = tls
                await tls.do_handshake()
            # No extensions offered: no compression.
            protocol = ClientProtocol(uri, max_size=connector.max_message_size)
            # Never log frames: what we send includes a login's signature.
            protocol.debug = False
            return await _handshake(stream, protocol)
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            # A body that ended or failed with an error still says goodbye (shielded, so
            # an error raised while cancelling cannot skip it); a cancelled one (Cancelled,
            # or a group of them) hangs up at once.
            if exc_value is None or isinstance(exc_value, Exception):
                with trio.move_on_after(self._connector.disconnect_timeout) as closing:
                    closing.shield = exc_value is not None
                    await conn.close()
        finally:
            await conn.abort()


async def _handshake(stream: trio.abc.Stream, protocol: ClientProtocol) -> SansIOConnection:
    """The opening handshake on *stream*: the open connection, or why not."""
    protocol.send_request(protocol.connect())
    for request in protocol.data_to_send():
        await stream.send_all(request)
    while True:
        data = await stream.receive_some(RECEIVE_SIZE)
        if data:
            protocol.receive_data(data)
        else:
            protocol.receive_eof()
        events = protocol.events_received()
        failure = protocol.handshake_exc
        if failure is not None:
            if isinstance(failure, InvalidStatus):
                response = failure.response
                headers = [
                    (name.encode("latin-1"), value.encode("latin-1"))
                    for name, value in response.headers.raw_items()
                ]
                raise trio_websocket.ConnectionRejected(
                    response.status_code, tuple(headers), bytes(response.body)
                ) from failure
            raise trio_websocket.HandshakeError(
                f"WebSocket handshake failed: {failure}"
            ) from failure
        if protocol.state is not State.CONNECTING:
            break
        if not data:  # pragma: no cover - the protocol reports an early EOF as above
            raise trio_websocket.HandshakeError(
                "the server closed the connection during the WebSocket handshake"
            )
    conn = SansIOConnection(stream, protocol)
    # Frames may have come in the read that ended the response: they are the first
    # messages (or the close) of the connection.
    assert events and isinstance(events[0], Response)
    conn.accept(cast("list[Frame]", events[1:]))
    for reply in protocol.data_to_send():  # a pong, or the echo of a close
        if reply:
            await stream.send_all(reply)
    return conn
