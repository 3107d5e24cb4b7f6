"""One client connection as the fake exchange serves it: the Trio shell around a
``FakeServerProtocol``, over any ``ServerTransport``.

The same session runs behind the in-memory connector and behind the real WebSocket server,
so a test that passes in memory exercises exactly the protocol logic the socket path runs.
The session only moves messages, sleeps until the protocol's next deadline, and closes;
every decision is the protocol's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import trio
from trio_websocket import ConnectionClosed

from .._subscription import Subscription
from ._records import FakeConnection
from ._server_protocol import FakeServerProtocol
from ._transport import ServerTransport

__all__ = ["ExchangeSession"]

# How long a close may wait behind queued messages before it happens anyway (seconds).
_CLOSE_GRACE: Final = 1.0


@dataclass(frozen=True, slots=True)
class _Close:
    """Queued behind the messages already in the outbox, so a close never overtakes them."""

    code: int
    reason: str


class ExchangeSession:
    """Serves one accepted connection: drives *protocol* over *transport*.

    Tasks in the session's nursery: a reader that feeds the protocol, a writer that drains
    the outbox to the transport, a clock that sleeps until the protocol's next deadline
    (pushes, idle and upgrade closes), and a watchdog that makes a requested close happen
    even if the writer is stuck. Everything that wants to talk to the client, including the
    exchange's synchronous fault-injection methods, puts text into the outbox without waiting.
    *on_closed* is called once, synchronously, when the connection is recorded as closed.
    """

    def __init__(
        self,
        protocol: FakeServerProtocol,
        transport: ServerTransport,
        on_closed: Callable[[ExchangeSession], None],
    ) -> None:
        self.protocol = protocol
        self.record: FakeConnection = protocol.record
        self._transport = transport
        self._on_closed = on_closed
        self._outbox_send, self._outbox_recv = trio.open_memory_channel[str | bytes | _Close](
            math.inf
        )
        self._wakeup = trio.Event()
        self._unstalled = trio.Event()
        self._unstalled.set()
        self._held: list[str | bytes] = []  # what arrived while the stream was stalled
        self._closing: _Close | None = None
        self._writer_scope = trio.CancelScope()
        self._writer_done = trio.Event()
        self._close_requested = trio.Event()

    @property
    def is_open(self) -> bool:
        return self.record.closed_at is None

    async def run(self) -> None:
        """Serve until the client leaves or the exchange closes the connection.

        Never raises for anything the client does. Cancellation ends the session; either way
        the connection is recorded as closed (with the transport's close code, 1006 if none)
        before this returns.
        """
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._read_loop, nursery.cancel_scope)
                nursery.start_soon(self._write_loop, nursery.cancel_scope)
                nursery.start_soon(self._enforce_close, nursery.cancel_scope)
                nursery.start_soon(self._clock)
        finally:
            reason = self._transport.close_reason
            self._mark_closed(reason.code if reason is not None else 1006)

    # -- called by the exchange (synchronous, from any task) ---------------------------------

    def close_nowait(self, code: int, reason: str) -> bool:
        """Record the connection as closed now and have the writer close the transport.

        Messages already queued go out first, unless the client does not take them within
        ``_CLOSE_GRACE`` seconds (or the stream is stalled); then the transport is closed
        regardless. Returns False if the connection was already closed.
        """
        if not self.is_open:
            return False
        self._closing = _Close(code, reason)
        self._outbox_send.send_nowait(self._closing)
        self._close_requested.set()
        self._mark_closed(code)
        return True

    def send_nowait(self, message: str | bytes) -> None:
        """Queue *message* for the client; dropped silently if the connection is closed."""
        if self.is_open:
            self._outbox_send.send_nowait(message)

    def push(self, sub: Subscription, data: list[Any] | None = None) -> None:
        """Queue one push of *sub* now (see ``FakeServerProtocol.push``)."""
        if self.is_open:
            for message in self.protocol.push(sub, trio.current_time(), data):
                self._outbox_send.send_nowait(message)

    def notice(self, code: str, msg: str) -> None:
        """Queue a ``notice`` event (a 64008 schedules the close that follows it)."""
        if self.is_open:
            self._outbox_send.send_nowait(self.protocol.notice(code, msg, trio.current_time()))
            self.wake()

    def wake(self) -> None:
        """Re-read the protocol's deadlines and the connection's stall state now."""
        self._wakeup.set()
        stalled = self.record.blackholed
        stall = getattr(self._transport, "stall", None)
        if stall is not None:
            stall(stalled)
        if stalled and self._unstalled.is_set():
            self._unstalled = trio.Event()
        elif not stalled:
            self._unstalled.set()
            held, self._held = self._held, []
            for message in held:
                self._handle(message)

    # -- tasks -------------------------------------------------------------------------------

    async def _read_loop(self, session_scope: trio.CancelScope) -> None:
        while self.is_open:
            try:
                message = await self._transport.receive()
            except ConnectionClosed:
                break
            if self.record.blackholed:
                # A stalled stream: the frame is not read until the stall ends.
                self._held.append(message)
                continue
            self._handle(message)
        # If the exchange is closing the connection, the writer finishes the close handshake
        # and ends the session; otherwise the client left and there is nobody to serve.
        if self._closing is None:
            session_scope.cancel()

    def _handle(self, message: str | bytes) -> None:
        if not self.is_open:
            return
        for reply in self.protocol.receive(message, trio.current_time()):
            self._outbox_send.send_nowait(reply)
        self._wakeup.set()  # a new subscription's first push is due now, after its ack

    async def _write_loop(self, session_scope: trio.CancelScope) -> None:
        with self._writer_scope:
            async for item in self._outbox_recv:
                while self.record.blackholed:
                    await self._unstalled.wait()
                if isinstance(item, _Close):
                    await self._transport.close(item.code, item.reason)
                    break
                try:
                    await self._transport.send(item)
                except ConnectionClosed:
                    break
        self._writer_done.set()
        session_scope.cancel()

    async def _enforce_close(self, session_scope: trio.CancelScope) -> None:
        # The writer closes after the messages queued before the close. On a real socket a
        # client that stopped reading can block it indefinitely, and a drop must still drop.
        await self._close_requested.wait()
        with trio.move_on_after(_CLOSE_GRACE):
            await self._writer_done.wait()
            return
        self._writer_scope.cancel()
        assert self._closing is not None
        await self._transport.close(self._closing.code, self._closing.reason)
        session_scope.cancel()

    async def _clock(self) -> None:
        # One task per connection walks the protocol's schedule: pushes due at the same
        # instant go out in subscription order, which one task per subscription could not
        # promise (Trio deliberately varies the order of runnable tasks).
        protocol = self.protocol
        while self.is_open:
            now = trio.current_time()
            for message in protocol.pushes_due(now):
                self._outbox_send.send_nowait(message)
            close = protocol.close_due(now)
            if close is not None:
                self.close_nowait(*close)
                return
            self._wakeup = trio.Event()
            with trio.move_on_at(protocol.next_deadline()):
                await self._wakeup.wait()

    def _mark_closed(self, code: int) -> None:
        if not self.is_open:
            return
        self.record.closed_at = trio.current_time()
        self.record.close_code = code
        self.protocol.connection_lost()
        self._on_closed(self)
