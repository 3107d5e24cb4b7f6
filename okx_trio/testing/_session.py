"""One client connection as the fake exchange serves it, over any ``ServerTransport``.

The same session runs behind the in-memory connector and behind the real WebSocket server,
so a test that passes in memory exercises exactly the protocol logic the socket path runs.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import trio
from trio_websocket import ConnectionClosed

from ._protocol import (
    CHANNEL,
    PONG,
    Arg,
    IllegalRequest,
    Ping,
    Request,
    encode_ack,
    encode_arg_error,
    encode_illegal,
    encode_push,
    encode_too_frequent,
    message_text,
    parse_request,
)
from ._records import FakeConnection, RecordedRequest
from ._transport import ServerTransport

if TYPE_CHECKING:
    from ._exchange import FakeExchange

__all__ = ["ExchangeSession", "admit_into_window"]

# How long a close may wait behind queued messages before it happens anyway (seconds).
_CLOSE_GRACE: Final = 1.0

# OKX counts subscribe/unsubscribe requests per connection per hour.
_REQUEST_WINDOW: Final = 3600.0


def admit_into_window(times: deque[float], now: float, span: float, limit: int | None) -> bool:
    """Whether one more event at *now* stays within *limit* per sliding *span* seconds.

    *times* holds the events admitted so far, oldest first; an event at ``t`` counts until
    ``t + span`` and not at that instant (the same rule as ``okx_trio._ratelimit``, so a
    client that waits exactly until its limiter allows is admitted). If admitted, *now* is
    appended; a refused event is not counted, so refusals never extend a refusal. With a
    *limit* of ``None`` everything is admitted, and still counted, so a limit set later
    sees the recent past.
    """
    while times and times[0] + span <= now:
        times.popleft()
    if limit is not None and len(times) >= limit:
        return False
    times.append(now)
    return True


@dataclass(frozen=True, slots=True)
class _Close:
    """Queued behind the messages already in the outbox, so a close never overtakes them."""

    code: int
    reason: str


class ExchangeSession:
    """Serves one accepted connection for a :class:`FakeExchange`.

    Tasks in the session's nursery: a reader that answers requests, a writer that drains
    the outbox to the transport, a pusher for the subscribed instruments, and a watchdog
    that makes a requested close happen even if the writer is stuck.
    Everything that wants to talk to the client, including the exchange's synchronous
    fault-injection methods, puts text into the outbox without waiting.
    """

    def __init__(
        self, exchange: FakeExchange, record: FakeConnection, transport: ServerTransport
    ) -> None:
        self.record = record
        self._exchange = exchange
        self._transport = transport
        self._outbox_send, self._outbox_recv = trio.open_memory_channel[str | bytes | _Close](
            math.inf
        )
        # Auto-push schedule: inst_id -> (first push time, pushes so far), in subscription order.
        self._schedule: dict[str, tuple[float, int]] = {}
        self._wakeup = trio.Event()
        self._closing: _Close | None = None
        self._writer_scope = trio.CancelScope()
        self._writer_done = trio.Event()
        self._close_requested = trio.Event()
        # When the subscribe/unsubscribe requests the rate limit let through arrived.
        self._request_times: deque[float] = deque()

    @property
    def is_open(self) -> bool:
        return self.record.closed_at is None

    @property
    def silent(self) -> bool:
        """Whether this connection neither pushes nor answers (exchange-wide or singled out)."""
        return self._exchange.silent or self.record.silent

    async def run(self) -> None:
        """Serve until the client leaves or the exchange closes the connection.

        Never raises for anything the client does. Cancellation ends the session; either way
        the connection is recorded as closed (with the transport's close code, 1006 if none)
        before this returns.
        """
        interval = self._exchange.tick_interval
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._read_loop, nursery.cancel_scope)
                nursery.start_soon(self._write_loop, nursery.cancel_scope)
                nursery.start_soon(self._enforce_close, nursery.cancel_scope)
                if 0 < interval < math.inf:
                    nursery.start_soon(self._push_loop, interval)
        finally:
            reason = self._transport.close_reason
            self._mark_closed(reason.code if reason is not None else 1006)

    # -- called by the exchange (synchronous, from any task) ---------------------------------

    def close_nowait(self, code: int, reason: str) -> bool:
        """Record the connection as closed now and have the writer close the transport.

        Messages already queued go out first, unless the client does not take them within
        ``_CLOSE_GRACE`` seconds; then the transport is closed regardless. Returns False if
        the connection was already closed.
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

    def push(self, inst_id: str) -> None:
        """Queue one ``tickers`` push for *inst_id*, whether or not it is subscribed.

        Nothing is sent if the connection is closed or *inst_id* is frozen on it. Each
        instrument's ``ts`` never decreases: the market repeats its last ticker rather than
        stamp one earlier (e.g. after ``latency`` grows).
        """
        record = self.record
        if not self.is_open or inst_id in record.frozen:
            return
        exchange = self._exchange
        self._outbox_send.send_nowait(encode_push(inst_id, exchange._next_ticker(inst_id)))
        record.pushes += 1
        record.last_push_at[inst_id] = trio.current_time()
        exchange._count_push()

    # -- tasks -------------------------------------------------------------------------------

    async def _read_loop(self, session_scope: trio.CancelScope) -> None:
        while self.is_open:
            try:
                message = await self._transport.receive()
            except ConnectionClosed:
                break
            if self.is_open:
                self._handle(message)
        # If the exchange is closing the connection, the writer finishes the close handshake
        # and ends the session; otherwise the client left and there is nobody to serve.
        if self._closing is None:
            session_scope.cancel()

    async def _write_loop(self, session_scope: trio.CancelScope) -> None:
        with self._writer_scope:
            async for item in self._outbox_recv:
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

    async def _push_loop(self, interval: float) -> None:
        # One pusher per connection, walking the instruments in subscription order: pushes
        # due at the same instant go out in a fixed order, which one task per instrument
        # could not promise (Trio deliberately varies the order of runnable tasks).
        while True:
            now = trio.current_time()
            for inst_id, (start, n) in list(self._schedule.items()):
                if start + n * interval <= now:
                    if not self.silent:
                        self.push(inst_id)
                    self._schedule[inst_id] = (start, n + 1)
            # Absolute deadlines (start + n * interval), so pushes never drift.
            next_at = min(
                (start + n * interval for start, n in self._schedule.values()), default=math.inf
            )
            self._wakeup = trio.Event()
            with trio.move_on_at(next_at):
                await self._wakeup.wait()

    # -- protocol ----------------------------------------------------------------------------

    def _handle(self, message: str | bytes) -> None:
        exchange = self._exchange
        conn_id = self.record.conn_id
        parsed = parse_request(message)
        exchange._record_request(self.record, _recorded(parsed, message, conn_id))
        if self.silent:
            return  # half-open: the request arrived, nobody answers
        if isinstance(parsed, Ping):
            self.send_nowait(PONG)
        elif isinstance(parsed, IllegalRequest):
            self.send_nowait(encode_illegal(parsed.text, conn_id))
        elif exchange.ignoring_requests:
            pass  # lost on the way: not answered, not applied, not counted
        elif not admit_into_window(
            self._request_times,
            trio.current_time(),
            _REQUEST_WINDOW,
            exchange.max_requests_per_hour,
        ):
            # One error for the whole request, and none of its arguments is applied.
            self.send_nowait(encode_too_frequent(parsed.id, conn_id))
            exchange.requests_refused_by_limit += 1
            exchange._notify()
        else:
            for arg in parsed.args:
                self._answer(parsed, arg)
            exchange._notify()

    def _answer(self, request: Request, arg: Arg) -> None:
        conn_id = self.record.conn_id
        inst_id = arg.inst_id
        if arg.channel != CHANNEL or inst_id is None:
            # The fake serves tickers only; OKX answers an unknown channel this way.
            self.send_nowait(encode_arg_error("60018", arg, request.id, conn_id))
            return
        if request.op == "subscribe":
            code = self._exchange._rejection_code(inst_id)
            if code is not None:
                self.send_nowait(encode_arg_error(code, arg, request.id, conn_id))
                return
            # Ack before the first push: the pusher starts later, so its push queues behind.
            self.send_nowait(encode_ack(request.op, arg, request.id, conn_id))
            self._subscribe(inst_id)
        else:
            # OKX acks an unsubscribe of something not subscribed, too.
            self.send_nowait(encode_ack(request.op, arg, request.id, conn_id))
            self._unsubscribe(inst_id)

    def _subscribe(self, inst_id: str) -> None:
        if inst_id in self.record.subscriptions:
            return  # a repeated subscribe is acked again, not subscribed twice
        self.record.subscriptions.add(inst_id)
        # A new subscription starts healthy, unless the freeze outlives resubscribing.
        if self._exchange._frozen_for_new_subscriptions(inst_id):
            self.record.frozen.add(inst_id)
        # First push now, i.e. as soon as the pusher runs, which is after this ack is queued.
        self._schedule[inst_id] = (trio.current_time(), 0)
        self._wakeup.set()

    def _unsubscribe(self, inst_id: str) -> None:
        self.record.subscriptions.discard(inst_id)
        self.record.frozen.discard(inst_id)
        self._schedule.pop(inst_id, None)

    def _mark_closed(self, code: int) -> None:
        if not self.is_open:
            return
        self.record.closed_at = trio.current_time()
        self.record.close_code = code
        self._schedule.clear()
        self._exchange._forget(self)


def _recorded(
    parsed: Ping | Request | IllegalRequest, message: str | bytes, conn_id: str
) -> RecordedRequest:
    now = trio.current_time()
    raw = message_text(message)
    if isinstance(parsed, Ping):
        return RecordedRequest(now, conn_id, "ping", None, (), raw)
    if isinstance(parsed, IllegalRequest):
        return RecordedRequest(now, conn_id, "invalid", None, (), raw)
    inst_ids = tuple(arg.inst_id for arg in parsed.args if arg.inst_id is not None)
    return RecordedRequest(now, conn_id, parsed.op, parsed.id, inst_ids, raw)
