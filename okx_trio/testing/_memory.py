"""An in-memory WebSocket connection: a client end for the app, a transport for the server.

No sockets, no threads: two unbounded memory channels and a shared close reason. Under
``trio.testing.MockClock(autojump_threshold=0)`` everything happens at exact virtual times.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import trio
from trio_websocket import CloseReason, ConnectionClosed

from .._connection import ConnectionClosed as ClientConnectionClosed
from ._groups import raise_single
from ._transport import ServerTransport

__all__ = ["MemoryWebSocket", "open_memory_connection"]


class _Link:
    """The state both ends share. The first close, from either side, decides the reason."""

    def __init__(self) -> None:
        # Unbounded on purpose: a fake must never apply backpressure the real network would
        # not, and a sync fault-injection call must be able to enqueue without waiting.
        self.to_server_send, self.to_server_recv = trio.open_memory_channel[str | bytes](math.inf)
        self.to_client_send, self.to_client_recv = trio.open_memory_channel[str | bytes](math.inf)
        self.reason: CloseReason | None = None

    def close(self, code: int, reason: str | None, *, by_client: bool) -> None:
        if self.reason is not None:
            return
        self.reason = CloseReason(code, reason or None)
        # Closing the send sides lets each receiver drain what is already queued, then see
        # EndOfChannel: messages sent before a close are still delivered, as on a socket.
        self.to_server_send.close()
        self.to_client_send.close()
        if by_client:
            # trio-websocket discards pending messages when the local side closes.
            self.to_client_recv.close()


class MemoryWebSocket:
    """The client end of an in-memory connection, shaped like trio-websocket's connection.

    Only the subset an OKX client needs: :meth:`send_message`, :meth:`get_message`,
    :meth:`aclose` and :attr:`closed`. It raises the client's own
    ``okx_trio._connection.ConnectionClosed(code, reason)``, as every transport does. (The
    server end keeps raising ``trio_websocket.ConnectionClosed``: the ``ServerTransport``
    contract the replay exchange also serves.)
    """

    def __init__(self, link: _Link) -> None:
        self._link = link

    @property
    def closed(self) -> CloseReason | None:
        """Why the connection closed, or ``None`` while it is open."""
        return self._link.reason

    async def get_message(self) -> str | bytes:
        """Receive the next message from the server.

        Messages the server sent before it closed are still returned, in order.

        Raises:
            okx_trio._connection.ConnectionClosed: once the connection is closed and nothing is left
                to read (immediately if this side closed it), with its code and reason.
        """
        try:
            return await self._link.to_client_recv.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise self._closed_error() from None

    def _closed_error(self) -> ClientConnectionClosed:
        reason = self._link.reason
        if reason is None:  # pragma: no cover - a closed channel always has a reason
            return ClientConnectionClosed(None, "")
        return ClientConnectionClosed(reason.code, reason.reason or "")

    async def send_message(self, message: str | bytes) -> None:
        """Send one text (``str``) or binary (``bytes``) message to the server.

        Raises:
            okx_trio._connection.ConnectionClosed: if the connection is closed.
            ValueError: if *message* is neither ``str`` nor ``bytes``.
        """
        if not isinstance(message, str | bytes):
            raise ValueError("message must be str or bytes")
        await trio.lowlevel.checkpoint()
        if self._link.reason is not None:
            raise self._closed_error()
        self._link.to_server_send.send_nowait(message)

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection with *code*; idempotent. Closes even if cancelled."""
        self._link.close(code, reason, by_client=True)
        await trio.lowlevel.checkpoint()


class _MemoryServerTransport:
    """The server end of a :class:`_Link`, implementing ``ServerTransport``."""

    def __init__(self, link: _Link) -> None:
        self._link = link

    @property
    def close_reason(self) -> CloseReason | None:
        return self._link.reason

    async def receive(self) -> str | bytes:
        try:
            return await self._link.to_server_recv.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise ConnectionClosed(self._link.reason) from None

    async def send(self, message: str | bytes) -> None:
        await trio.lowlevel.checkpoint()
        if self._link.reason is not None:
            raise ConnectionClosed(self._link.reason)
        self._link.to_client_send.send_nowait(message)

    async def close(self, code: int, reason: str) -> None:
        self._link.close(code, reason, by_client=False)
        await trio.lowlevel.checkpoint()


@asynccontextmanager
async def open_memory_connection(
    accept: Callable[[ServerTransport], Callable[[], Awaitable[None]]],
) -> AsyncIterator[MemoryWebSocket]:
    """Connect in memory: ``accept(transport)`` returns the server's task, run here.

    *accept* is called synchronously before anything is yielded, so the server can register
    the connection before the client sees it. The task it returns runs in a nursery owned by
    this context manager. Leaving the block closes the connection with code 1000 (the server
    sees it) and cancels whatever is left of the server's task; no task outlives the block.
    An exception from the block comes out unwrapped, not inside an ``ExceptionGroup``.
    """
    link = _Link()
    serve = accept(_MemoryServerTransport(link))
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve)
            try:
                yield MemoryWebSocket(link)
            finally:
                # Synchronous, so it happens even when we leave because of cancellation.
                link.close(1000, None, by_client=True)
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise_single(group)
