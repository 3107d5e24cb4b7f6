"""The transport seam: what the client needs from a WebSocket, and the default one."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol
from urllib.parse import urlsplit

import trio
import trio_websocket

__all__ = ["Connection", "Connector", "WebSocketConnector", "default_connector"]


class Connection(Protocol):
    """The part of :class:`trio_websocket.WebSocketConnection` the client uses.

    ``get_message`` raises :class:`trio_websocket.ConnectionClosed` once the peer closed.
    """

    async def send_message(self, message: str) -> None: ...

    async def get_message(self) -> str | bytes: ...


#: ``connector(url)`` returns an async context manager that opens a connection on entry
#: and closes it on exit, like :func:`trio_websocket.open_websocket_url`.
Connector = Callable[[str], AbstractAsyncContextManager[Connection]]


_MESSAGE_QUEUE_SIZE = 256


class _ConnectorSettings:
    """What both built-in connectors take, and the verifying TLS context they share.

    Certificates are verified for ``wss://`` (Python's default context, built once per
    connector, off the event loop) unless a ``ssl_context`` of your own is given.
    """

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        disconnect_timeout: float = 2.0,
        ssl_context: ssl.SSLContext | None = None,
        max_message_size: int = 4 * 1024 * 1024,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.disconnect_timeout = disconnect_timeout
        self.ssl_context = ssl_context
        self.max_message_size = max_message_size

    async def _context(self) -> ssl.SSLContext:
        if self.ssl_context is None:
            # Loading the system's CA store blocks for tens of milliseconds: once, off-loop.
            self.ssl_context = await trio.to_thread.run_sync(ssl.create_default_context)
        return self.ssl_context


class WebSocketConnector(_ConnectorSettings):
    """The default connector: trio-websocket over a TCP (and TLS) stream opened here.

    Certificates are verified for ``wss://`` (Python's default context, built once per
    connector) unless a ``ssl_context`` of your own is given; there is no switch that turns
    verification off. The TLS handshake runs before the WebSocket one, so a certificate
    problem fails the attempt at once, naming its cause, and a server that hangs up during
    the WebSocket handshake fails it at once too (trio-websocket alone would wait for
    ``connect_timeout`` in both cases and report neither). ``disconnect_timeout`` bounds the
    closing handshake, so a dead peer cannot hold a reconnect back.

    Raises (from entering the context): ``OSError`` for TCP failures, ``ssl.SSLError`` /
    :class:`trio.BrokenResourceError` for TLS failures,
    :class:`trio_websocket.HandshakeError` (or its subclass ``ConnectionRejected``) for a
    failed WebSocket handshake, ``ValueError`` for a url that is not ``ws://``/``wss://``.
    """

    def __call__(self, url: str) -> AbstractAsyncContextManager[Connection]:
        return self._open(url)

    @asynccontextmanager
    async def _open(self, url: str) -> AsyncIterator[Connection]:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"not a ws:// or wss:// url: {url!r}")
        secure = parts.scheme == "wss"
        host = parts.hostname
        port = parts.port or (443 if secure else 80)
        resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = host if port in (80, 443) else f"{host}:{port}"
        with trio.fail_after(self.connect_timeout):
            stream: trio.abc.Stream = await trio.open_tcp_stream(host, port)
            try:
                if secure:
                    tls = trio.SSLStream(
                        stream, await self._context(), server_hostname=host, https_compatible=True
                    )
                    stream = tls
                    await tls.do_handshake()
            except BaseException:
                await trio.aclose_forcefully(stream)
                raise
        watched = _HandshakeWatch(stream)
        # Errors are raised again outside the nursery, so the caller sees them unwrapped.
        error: BaseException | None = None
        try:
            async with trio.open_nursery() as nursery:
                ws: trio_websocket.WebSocketConnection | None = None
                try:
                    with trio.fail_after(self.connect_timeout):
                        ws = await watched.wrap(
                            nursery, host_header, resource, self.max_message_size
                        )
                except BaseException as exc:
                    error = exc
                    nursery.cancel_scope.cancel()
                    await trio.aclose_forcefully(stream)
                if ws is not None:
                    try:
                        yield ws
                    except BaseException as exc:
                        error = exc
                    finally:
                        with trio.move_on_after(self.disconnect_timeout) as closing:
                            # A body that failed with an error still says goodbye; a cancelled
                            # one (Cancelled, or a group of them) hangs up at once.
                            closing.shield = isinstance(error, Exception)
                            await ws.aclose()
                        nursery.cancel_scope.cancel()
                        await trio.aclose_forcefully(stream)
        except BaseExceptionGroup as group:
            # trio-websocket's reader task raises a refused handshake (ConnectionRejected)
            # from inside the nursery; hand the one real error on, unwrapped.
            sole = _sole_error(group)
            if sole is None:
                raise
            raise sole from None
        if error is not None:
            try:
                raise error
            finally:
                error = None


def _sole_error(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The one exception in *group* that is not a Cancelled, if there is exactly one."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        exc = pending.pop()
        if isinstance(exc, BaseExceptionGroup):
            pending.extend(exc.exceptions)
        elif not isinstance(exc, trio.Cancelled):
            leaves.append(exc)
    return leaves[0] if len(leaves) == 1 else None


class _HandshakeWatch(trio.abc.Stream):
    """Passes a stream through; notices the peer hanging up before the handshake is done."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self._stream = stream
        self._handshaking = True
        self._hung_up = trio.Event()
        self._cause: BaseException | None = None

    async def wrap(
        self, nursery: trio.Nursery, host: str, resource: str, max_message_size: int
    ) -> trio_websocket.WebSocketConnection:
        with trio.CancelScope() as handshake:

            async def give_up_on_hang_up() -> None:
                await self._hung_up.wait()
                handshake.cancel()

            nursery.start_soon(give_up_on_hang_up)
            try:
                return await trio_websocket.wrap_client_stream(
                    nursery,
                    self,  # type: ignore[arg-type]  # any Stream works; the hint is narrow
                    host,
                    resource,
                    max_message_size=max_message_size,
                    # trio-websocket's default queue holds one message, so its reader task
                    # stops after every frame until ours takes it: a task switch per message.
                    message_queue_size=_MESSAGE_QUEUE_SIZE,
                )
            finally:
                self._handshaking = False
                self._hung_up.set()  # ends give_up_on_hang_up either way
        raise trio_websocket.HandshakeError(
            "the server closed the connection during the WebSocket handshake"
        ) from self._cause

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        try:
            data = await self._stream.receive_some(max_bytes)
        except BaseException as exc:
            if self._handshaking and not isinstance(exc, trio.Cancelled):
                self._cause = exc
                self._hung_up.set()
            raise
        if not data and self._handshaking:
            self._hung_up.set()
        return data

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self._stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        await self._stream.aclose()


def default_connector(transport: str, *, connect_timeout: float) -> Connector:
    """The connector for ``ClientConfig.transport``.

    Raises:
        ValueError: for an unknown transport, or ``"websockets"`` when the ``websockets``
            package (the ``fast`` extra) is not installed.
    """
    if transport == "trio-websocket":
        return WebSocketConnector(connect_timeout=connect_timeout)
    if transport == "websockets":
        try:
            from ._transport_websockets import WebsocketsConnector
        except ImportError as exc:
            raise ValueError(
                "ClientConfig.transport 'websockets' needs the websockets package: "
                "pip install 'okx-trio[fast]'"
            ) from exc
        return WebsocketsConnector(connect_timeout=connect_timeout)
    raise ValueError(f"unknown transport {transport!r}")
