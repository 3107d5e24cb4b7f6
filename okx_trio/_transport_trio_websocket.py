"""The default transport: trio-websocket behind the :mod:`okx_trio._connection` seam."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import trio
import trio_websocket

from ._connection import Connection, ConnectionClosed

__all__ = ["ConnectorSettings", "WebSocketConnector"]


_MESSAGE_QUEUE_SIZE = 256
# trio-websocket reads the socket 4 KiB at a time by default: ten pushes a read.
_RECEIVE_BUFFER_SIZE = 64 * 1024
# Its reader task queues messages without a checkpoint each (see _EagerSendChannel).
# bench/drain_micro.py turns this and the buffer size back to stock to compare.
_EAGER_READER = True


def _too_slow(timeout: float) -> TimeoutError:
    return TimeoutError(f"WebSocket connect timed out after {timeout:g}s")


class ConnectorSettings:
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


class WebSocketConnector(ConnectorSettings):
    """The default connector: trio-websocket over a TCP (and TLS) stream opened here.

    Certificates are verified for ``wss://`` (Python's default context, built once per
    connector) unless a ``ssl_context`` of your own is given; there is no switch that turns
    verification off. The TLS handshake runs before the WebSocket one, so a certificate
    problem fails the attempt at once, naming its cause, and a server that hangs up during
    the WebSocket handshake fails it at once too (trio-websocket alone would wait for
    ``connect_timeout`` in both cases and report neither). ``disconnect_timeout`` bounds the
    closing handshake, so a dead peer cannot hold a reconnect back.

    It yields trio-websocket's :class:`~trio_websocket.WebSocketConnection` behind a thin
    wrapper that adds ``get_messages_nowait`` (see :class:`Connection`); every other
    attribute is the connection's own, and ``.ws`` is the connection itself. Its reader
    task reads 64 KiB at a time and queues a whole read's messages before it yields.

    Raises (from entering the context): ``OSError`` for TCP failures, ``ssl.SSLError`` /
    :class:`trio.BrokenResourceError` for TLS failures,
    :class:`trio_websocket.HandshakeError` (or its subclass ``ConnectionRejected``) for a
    failed WebSocket handshake, ``TimeoutError`` when TCP, TLS and the handshake together
    take longer than ``connect_timeout``, ``ValueError`` for a url that is not
    ``ws://``/``wss://``.
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
        # One deadline for TCP, TLS and the WebSocket upgrade together.
        deadline = trio.current_time() + self.connect_timeout
        try:
            with trio.fail_at(deadline):
                stream: trio.abc.Stream = await trio.open_tcp_stream(host, port)
                try:
                    if secure:
                        tls = trio.SSLStream(
                            stream,
                            await self._context(),
                            server_hostname=host,
                            https_compatible=True,
                        )
                        stream = tls
                        await tls.do_handshake()
                except BaseException:
                    await trio.aclose_forcefully(stream)
                    raise
        except trio.TooSlowError:
            raise _too_slow(self.connect_timeout) from None
        watched = _HandshakeWatch(stream)
        # Errors are raised again outside the nursery, so the caller sees them unwrapped.
        error: BaseException | None = None
        try:
            async with trio.open_nursery() as nursery:
                ws: trio_websocket.WebSocketConnection | None = None
                try:
                    with trio.fail_at(deadline):
                        ws = await watched.wrap(
                            nursery, host_header, resource, self.max_message_size
                        )
                except BaseException as exc:
                    error = (
                        _too_slow(self.connect_timeout) if type(exc) is trio.TooSlowError else exc
                    )
                    nursery.cancel_scope.cancel()
                    await trio.aclose_forcefully(stream)
                if ws is not None:
                    try:
                        yield _TrioWebsocketConnection(ws)
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


class _EagerSendChannel:
    """trio-websocket's queue as its reader task sees it: ``send`` without a checkpoint.

    The reader puts every message with ``await send_channel.send(message)``, and trio's
    ``send`` always checkpoints: the reader yields after every message, the consumer is
    scheduled in between, and the queue never holds more than a message or two however
    fast the server sends (``get_messages_nowait`` would find nothing to batch). Here a
    message goes in with ``send_nowait`` while the queue has room, so the reader parses a
    whole socket read before it yields (at its next ``receive_some``); only a full queue
    makes it wait, as before. Everything else is the real channel's.
    """

    __slots__ = ("_channel",)

    def __init__(self, channel: trio.MemorySendChannel[str | bytes]) -> None:
        self._channel = channel

    async def send(self, value: str | bytes) -> None:
        try:
            # Closed or broken channels raise as send() would; trio-websocket handles both.
            self._channel.send_nowait(value)
        except trio.WouldBlock:
            await self._channel.send(value)

    def __getattr__(self, name: str) -> Any:
        if name == "_channel":
            raise AttributeError(name)
        return getattr(self._channel, name)


class _TrioWebsocketConnection:
    """What :class:`WebSocketConnector` yields: the trio-websocket connection, plus
    ``get_messages_nowait``.

    ``send_message`` and ``get_message`` raise :class:`okx_trio.ConnectionClosed` in place
    of trio-websocket's own type (one frame more per call: the receiver calls
    ``get_message`` once per batch, not per message); any other attribute is looked up on
    the wrapped :class:`trio_websocket.WebSocketConnection` (``ws``).
    """

    __slots__ = ("_get", "_receive_nowait", "_send", "ws")

    def __init__(self, ws: trio_websocket.WebSocketConnection) -> None:
        self.ws = ws
        if _EAGER_READER:
            ws._send_channel = _EagerSendChannel(ws._send_channel)  # type: ignore[assignment]
        self._send: Callable[[str], Coroutine[Any, Any, None]] = ws.send_message
        self._get: Callable[[], Coroutine[Any, Any, str | bytes]] = ws.get_message
        # trio-websocket's reader task puts each whole message into this memory channel
        # (``message_queue_size`` deep); ``get_message`` is ``await receive()`` on it.
        self._receive_nowait: Callable[[], str | bytes] = ws._recv_channel.receive_nowait

    async def send_message(self, message: str) -> None:
        """Send one text message. Raises :class:`okx_trio.ConnectionClosed` once closed."""
        try:
            await self._send(message)
        except trio_websocket.ConnectionClosed as exc:
            raise _closed(exc) from exc

    async def get_message(self) -> str | bytes:
        """The next message. Raises :class:`okx_trio.ConnectionClosed` once closed (after
        every message received before the close)."""
        try:
            return await self._get()
        except trio_websocket.ConnectionClosed as exc:
            raise _closed(exc) from exc

    def get_messages_nowait(self, limit: int) -> list[str | bytes]:
        """Up to *limit* messages already received, in order; ``[]`` if none. No checkpoint.

        Never raises: an empty queue, a peer that closed (``EndOfChannel`` once the queue is
        drained) and a local close (``ClosedResourceError``) all end the batch; the next
        ``get_message`` reports the latter two as ``ConnectionClosed``.
        """
        messages: list[str | bytes] = []
        receive = self._receive_nowait
        append = messages.append
        try:
            for _ in range(limit):
                append(receive())
        except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
            pass
        return messages

    def __getattr__(self, name: str) -> Any:
        if name in self.__slots__:  # not set yet (e.g. a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.ws, name)


def _closed(exc: trio_websocket.ConnectionClosed) -> ConnectionClosed:
    reason = exc.reason
    if reason is None:
        return ConnectionClosed(None)
    return ConnectionClosed(reason.code, reason.reason or "")


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
                    receive_buffer_size=_RECEIVE_BUFFER_SIZE,
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
