"""The Trio shell: the client, its supervisor loop and the three per-connection tasks.

Everything protocol-shaped lives in the sans-IO modules (codec, subscription book, backoff,
heartbeat); this module only moves bytes, keeps time with ``trio.current_time()`` and decides
what a failure means for the connection. The shape, in trio terms::

    open_okx_client                      owns the client nursery
    ├── supervisor                       one connection attempt at a time
    │   └── CancelScope (per attempt)    cancelled on heartbeat timeout, errors, reconnect()
    │       └── connection nursery
    │           ├── receiver             reads, decodes, hands ticks on (never blocks on consumers)
    │           ├── watchdog             heartbeat, unanswered requests, stability
    │           └── commander            sends what the subscription book says is needed
    ├── stats publisher                  every ``stats_interval``
    └── fan-out pumps                    short-lived, only while a consumer lags
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Final

import trio
import trio_websocket

from ._codec import (
    PING,
    Ack,
    BadMessage,
    ErrorEvent,
    Notice,
    OtherEvent,
    Pong,
    TickerPush,
    decode,
)
from ._config import ClientConfig
from ._fanout import Fanout
from ._heartbeat import Heartbeat, HeartbeatAction
from ._instruments import validate_inst_id
from ._quality import LatencyWindow, QualityTracker
from ._state import ConnectionState, StateChange, is_allowed
from ._stats import ConnectionStats
from ._subscriptions import SubscriptionBook
from ._ticker import Ticker
from ._transport import Connection, Connector, default_connector

__all__ = ["OkxClient", "open_okx_client"]

log = logging.getLogger("okx_trio")

#: Errors that mean our credentials or request are refused for good: retrying cannot help.
AUTH_ERROR_CODES: Final = frozenset({"60005", "60007", "60009", "60024"})
AUTH_CLOSE_CODE: Final = 4001
UPGRADE_NOTICE_CODE: Final = "64008"
_STATE_BUFFER: Final = 256
_TRANSPORT_ERRORS: Final = (
    trio_websocket.ConnectionClosed,
    trio_websocket.HandshakeError,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    OSError,
)


class _Attempt:
    """One connection attempt: its cancel scope and why it ended (the first reason wins)."""

    __slots__ = ("fatal", "heartbeat_miss", "immediate", "reason", "scope")

    def __init__(self) -> None:
        self.scope = trio.CancelScope()
        self.reason: str | None = None
        self.fatal = False
        self.immediate = False
        self.heartbeat_miss = False

    def end(
        self,
        reason: str,
        *,
        fatal: bool = False,
        immediate: bool = False,
        heartbeat_miss: bool = False,
    ) -> None:
        if self.reason is None:
            self.reason = reason
            self.fatal = fatal
            self.immediate = immediate
            self.heartbeat_miss = heartbeat_miss
        self.scope.cancel()


_Task = Callable[[Connection, _Attempt], Awaitable[None]]


class OkxClient:
    """A self-healing client for OKX's ``tickers`` channel. Made by :func:`open_okx_client`.

    Methods that change pairs are synchronous and never block: they update the desired set
    at once (raising ``ValueError`` for a malformed id, changing nothing) and wake the
    connection's command task, which sends one subscribe and one unsubscribe for everything
    changed since it last looked. The desired set survives reconnects.
    """

    def __init__(
        self,
        pairs: Iterable[str],
        config: ClientConfig,
        connector: Connector,
        nursery: trio.Nursery,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._wall_clock = wall_clock
        self._latency = LatencyWindow()
        self._latency_high = False
        self._quality = QualityTracker(trio.current_time())
        self._connector = connector
        self._nursery = nursery
        self._book = SubscriptionBook(pairs)
        self._strategy = config.reconnect_strategy()
        self._state = ConnectionState.DISCONNECTED
        self._ticks: Fanout[Ticker] = Fanout(
            config.tick_buffer, nursery.start_soon, key=lambda t: t.inst_id
        )
        self._state_changes: Fanout[StateChange] = Fanout(_STATE_BUFFER, nursery.start_soon)
        self._stats: Fanout[ConnectionStats] = Fanout(1, nursery.start_soon, key=lambda s: None)
        # Pair changes wake the command task through this channel. It holds at most one
        # wake-up: the desired set itself is already in the book, so one pending wake-up
        # covers any number of changes, and that is exactly the coalescing we want.
        self._changes_send, self._changes_receive = trio.open_memory_channel[None](1)
        self._latest: dict[str, Ticker] = {}
        self._attempt: _Attempt | None = None
        self._backoff_scope: trio.CancelScope | None = None
        self._restart_requested = False
        self._wake_from_failed = trio.Event()
        self._heartbeat: Heartbeat | None = None
        # Set (and dropped) whenever something a waiter may look at changes; created only
        # while somebody waits, so the per-message cost is one attribute test.
        self._progress: trio.Event | None = None
        self._connected_at: float | None = None
        self._stable = False
        self._last_message_at: float | None = None
        self._last_error = ""
        self._reconnect_count = 0
        self._connections_opened = 0
        self._messages_received = 0
        self._ticks_received = 0
        self._bad_messages = 0
        self._ignored_messages = 0
        self._pings_sent = 0

    # -- public: pairs ---------------------------------------------------------------------

    @property
    def pairs(self) -> frozenset[str]:
        """The desired pairs (what the client keeps subscribed, across reconnects)."""
        return self._book.desired

    @property
    def subscribed_pairs(self) -> frozenset[str]:
        """Pairs the server acknowledged on the current connection."""
        return self._book.acknowledged

    @property
    def rejected_pairs(self) -> dict[str, str]:
        """Pairs the server refused, with its reason. Adding one again retries it."""
        return dict(self._book.rejected)

    def add_pair(self, inst_id: str) -> None:
        """Subscribe *inst_id* on the live connection. Raises ValueError if malformed."""
        self._book.add(inst_id)
        self._poke()

    def remove_pair(self, inst_id: str) -> None:
        """Unsubscribe *inst_id*. Raises ValueError if malformed; a pair not held is a no-op."""
        self._book.remove(inst_id)
        self._latest.pop(inst_id, None)
        self._poke()

    def subscribe(self, pairs: Iterable[str]) -> None:
        """Make *pairs* the desired set. Raises ValueError (changing nothing) if one is bad."""
        pairs = list(pairs)
        self._book.replace(pairs)
        for inst_id in set(self._latest) - self._book.desired:
            del self._latest[inst_id]
        self._poke()

    def _poke(self) -> None:
        # If a wake-up is already pending, it will see this change too.
        with contextlib.suppress(trio.WouldBlock):
            self._changes_send.send_nowait(None)

    # -- public: streams ---------------------------------------------------------------------

    def ticks(self) -> trio.MemoryReceiveChannel[Ticker]:
        """A new channel with every ticker of every pair from now on.

        Each call gets its own channel (fan-out). A consumer that falls more than
        ``tick_buffer`` behind gets the latest ticker per instrument instead of every one;
        the skipped ones count in ``ticks_dropped``. The channel ends when the client does.
        """
        return self._ticks.subscribe()

    def state_changes(self) -> trio.MemoryReceiveChannel[StateChange]:
        """A new channel with every :class:`StateChange` from now on."""
        return self._state_changes.subscribe()

    def stats_updates(self) -> trio.MemoryReceiveChannel[ConnectionStats]:
        """A new channel with a :class:`ConnectionStats` every ``stats_interval`` seconds.

        A consumer that lags gets the newest snapshot, not a backlog.
        """
        return self._stats.subscribe()

    # -- public: status ----------------------------------------------------------------------

    @property
    def config(self) -> ClientConfig:
        return self._config

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def is_connected(self) -> bool:
        """Connected, and a message arrived within ``connection_timeout``."""
        return (
            self._state is ConnectionState.CONNECTED
            and self._heartbeat is not None
            and self._heartbeat.is_alive(trio.current_time())
        )

    def latest(self, inst_id: str) -> Ticker | None:
        """The last ticker received for *inst_id*, or None."""
        return self._latest.get(inst_id)

    def get_stats(self) -> ConnectionStats:
        now = trio.current_time()
        return ConnectionStats(
            state=self._state,
            reconnect_count=self._reconnect_count,
            retry_count=self._strategy.retry_count,
            subscribed_pairs=len(self._book.acknowledged),
            connection_duration=(
                now - self._connected_at if self._connected_at is not None else 0.0
            ),
            last_message_age=(
                now - self._last_message_at if self._last_message_at is not None else None
            ),
            last_error=self._last_error,
            url=self._config.url,
            desired_pairs=len(self._book.desired),
            messages_received=self._messages_received,
            ticks_received=self._ticks_received,
            ticks_dropped=self._ticks.dropped,
            bad_messages=self._bad_messages,
            ignored_messages=self._ignored_messages,
            rejected_pairs=tuple(sorted(self._book.rejected)),
            connections_opened=self._connections_opened,
            pings_sent=self._pings_sent,
            latency_median=self._latency.median(),
            latency_p99=self._latency.p99(),
            quality=self.quality(now),
        )

    def quality(self, now: float | None = None) -> int:
        """Connection quality 0-100 over the last hour (see ``QualityTracker``)."""
        now = trio.current_time() if now is None else now
        return self._quality.score(now, self._latency.median())

    def reconnect(self) -> None:
        """Drop the current connection (or cut the backoff wait short) and connect again now.

        From FAILED, start again with a fresh retry count. Does nothing before the first
        attempt has started or once the client is closing.
        """
        if self._nursery.cancel_scope.cancel_called or self._state is ConnectionState.DISCONNECTED:
            return  # closing, or not started: the first attempt is about to happen anyway
        self._restart_requested = True
        if self._state is ConnectionState.FAILED:
            self._wake_from_failed.set()
        elif self._attempt is not None:
            self._attempt.end("reconnect requested", immediate=True)
        elif self._backoff_scope is not None:
            self._backoff_scope.cancel()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Return as soon as ``predicate()`` is true.

        It is checked now and after every change of state, subscription or ticker, so the
        return happens at the exact moment the condition became true (useful in tests under
        the autojump clock). Cancellation leaves nothing behind.
        """
        while not predicate():
            if self._progress is None:
                self._progress = trio.Event()
            await self._progress.wait()

    async def wait_state(self, *states: ConnectionState) -> ConnectionState:
        """Wait until the client is in one of *states* and return it."""
        await self.wait_until(lambda: self._state in states)
        return self._state

    async def wait_subscribed(self) -> None:
        """Wait until connected with exactly the desired pairs acknowledged by the server."""
        await self.wait_until(lambda: self._book.settled)

    def _notify(self) -> None:
        if self._progress is not None:
            self._progress.set()
            self._progress = None

    # -- state -------------------------------------------------------------------------------

    def _set_state(self, state: ConnectionState, message: str, retry_count: int = 0) -> None:
        if not is_allowed(self._state, state):
            raise AssertionError(f"illegal transition {self._state.value} -> {state.value}")
        self._state = state
        self._notify()
        log.info("state %s: %s", state.value, message)
        self._state_changes.publish(StateChange(state, message, retry_count))

    def _note(self, message: str, *, level: int = logging.WARNING) -> None:
        """Report something on the state stream without changing state."""
        log.log(level, "%s", message)
        self._notify()
        self._state_changes.publish(StateChange(self._state, message, self._strategy.retry_count))

    # -- supervisor --------------------------------------------------------------------------

    async def _supervise(self) -> None:
        """Connect, and keep connecting, until cancelled. Never raises except Cancelled."""
        while True:
            if self._state is ConnectionState.FAILED:
                await self._wake_from_failed.wait()
                self._wake_from_failed = trio.Event()
                self._restart_requested = False
                self._strategy.reset()
            attempt_number = self._strategy.retry_count + 1
            self._set_state(
                ConnectionState.CONNECTING,
                f"connecting (attempt {attempt_number})",
                self._strategy.retry_count,
            )
            attempt = await self._run_attempt()
            reason = attempt.reason or "connection closed"
            self._last_error = reason
            if attempt.fatal:
                self._set_state(
                    ConnectionState.FAILED, f"{reason}; not retrying", self._strategy.retry_count
                )
                continue
            if self._restart_requested:
                self._restart_requested = False
                self._strategy.reset()
            elif self._strategy.exhausted:
                self._set_state(
                    ConnectionState.FAILED,
                    f"max retries exceeded ({reason})",
                    self._strategy.retry_count,
                )
                continue
            delay = self._strategy.next_delay()
            if attempt.immediate and self._strategy.retry_count == 1:
                # An announced upgrade or a requested reconnect after a stable connection:
                # waiting would only lengthen the gap. Repeats still back off.
                delay = 0.0
            self._set_state(ConnectionState.RECONNECTING, reason, self._strategy.retry_count)
            with trio.CancelScope() as self._backoff_scope:
                await trio.sleep(delay)
            self._backoff_scope = None
            if self._restart_requested:
                self._restart_requested = False
                self._strategy.reset()

    async def _run_attempt(self) -> _Attempt:
        """One connection, from opening to its end; returns the attempt with its reason."""
        attempt = self._attempt = _Attempt()
        # The connect deadline sits on the attempt's own scope rather than on a scope of
        # its own around entering the connector: connectors open nurseries that outlive
        # their __aenter__, and a scope may not close before a nursery opened inside it.
        attempt.scope.deadline = trio.current_time() + self._config.connect_timeout
        try:
            with attempt.scope:
                async with self._connector(self._config.url) as conn:
                    attempt.scope.deadline = math.inf
                    self._connection_opened()
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(self._guarded, self._receiver, conn, attempt)
                        nursery.start_soon(self._guarded, self._watchdog, conn, attempt)
                        nursery.start_soon(self._guarded, self._commander, conn, attempt)
            if attempt.scope.cancelled_caught and attempt.reason is None:
                attempt.end(f"connect timed out after {self._config.connect_timeout:g}s")
        except trio_websocket.ConnectionClosed as exc:
            attempt.end(_closed_reason(exc), fatal=_close_code(exc) == AUTH_CLOSE_CODE)
        except _TRANSPORT_ERRORS as exc:
            # Refused, DNS, TLS, a rejected handshake, a close that timed out: a failed
            # attempt, not a crash.
            attempt.end(f"{self._phase()}: {_describe(exc)}")
            log.debug("attempt ended by %r", exc, exc_info=True)
        except Exception as exc:
            # A connector of the user's may raise anything; the client must live on, but
            # the traceback is worth an ERROR line.
            attempt.end(f"{self._phase()}: {_describe(exc)}")
            log.error("unexpected error in a connection attempt", exc_info=True)
        finally:
            self._attempt = None
            if self._connected_at is not None:
                self._quality.disconnected(
                    trio.current_time(), heartbeat_miss=attempt.heartbeat_miss
                )
            self._connection_closed()
        return attempt

    def _phase(self) -> str:
        return "connect failed" if self._connected_at is None else "connection error"

    def _connection_opened(self) -> None:
        now = trio.current_time()
        self._book.connection_opened()
        config = self._config
        self._heartbeat = Heartbeat(config.ping_interval, config.connection_timeout, now)
        self._connected_at = now
        self._stable = False
        self._quality.connected(now)
        if self._connections_opened:
            self._reconnect_count += 1
        self._connections_opened += 1
        self._set_state(ConnectionState.CONNECTED, "connected to OKX", self._strategy.retry_count)

    def _connection_closed(self) -> None:
        self._book.connection_lost()
        self._notify()
        self._heartbeat = None
        self._connected_at = None

    async def _guarded(self, task: _Task, conn: Connection, attempt: _Attempt) -> None:
        """Run one per-connection task; a transport failure ends the attempt, with a reason."""
        try:
            await task(conn, attempt)
        except trio_websocket.ConnectionClosed as exc:
            attempt.end(_closed_reason(exc), fatal=_close_code(exc) == AUTH_CLOSE_CODE)
        except _TRANSPORT_ERRORS as exc:
            attempt.end(f"connection error: {_describe(exc)}")

    # -- the three per-connection tasks ------------------------------------------------------

    async def _receiver(self, conn: Connection, attempt: _Attempt) -> None:
        while True:
            message = await conn.get_message()
            self._handle_message(message, attempt)

    def _handle_message(self, message: str | bytes, attempt: _Attempt) -> None:
        now = trio.current_time()
        self._last_message_at = now
        self._messages_received += 1
        if self._heartbeat is not None:
            self._heartbeat.message_received(now)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("<- %.500r", message)
        event = decode(message)
        if type(event) is TickerPush:
            wall_ms = self._wall_clock() * 1000.0
            for ticker in event.tickers:
                # A push for a pair the user just dropped (its unsubscribe in flight) is
                # not delivered: the consumer already said it does not want it.
                if self._book.wants(ticker.inst_id):
                    self._ticks_received += 1
                    self._latest[ticker.inst_id] = ticker
                    self._ticks.publish(ticker)
                    self._track_latency((wall_ms - ticker.ts) / 1000.0)
            self._notify()
        elif type(event) is Ack:
            self._book.handle_ack(event)
            self._notify()
            if self._book.has_work():
                self._poke()
        elif type(event) is Pong:
            pass
        elif type(event) is ErrorEvent:
            self._handle_error(event, attempt)
        elif type(event) is Notice:
            if event.code == UPGRADE_NOTICE_CODE:
                self._note(f"service upgrade notice ({event.code}): reconnecting now")
                attempt.end(f"service upgrade notice ({event.code})", immediate=True)
            else:
                self._note(f"notice {event.code}: {event.msg}", level=logging.INFO)
        elif type(event) is BadMessage:
            self._bad_messages += 1
            log.warning("bad message from server (%s): %.200r", event.reason, event.raw)
        elif type(event) is OtherEvent:
            self._ignored_messages += 1
            log.debug("ignored %s message: %.200r", event.event, event.raw)

    def _track_latency(self, seconds: float) -> None:
        self._latency.add(seconds)
        threshold = self._config.latency_warning
        # Hysteresis, so a latency hovering at the threshold does not flood the stream.
        if not self._latency_high and seconds > threshold:
            self._latency_high = True
            self._note(f"high latency: {seconds:.1f}s (warning above {threshold:g}s)")
        elif self._latency_high and seconds < 0.8 * threshold:
            self._latency_high = False
            self._note(f"latency back to normal: {seconds:.1f}s", level=logging.INFO)

    def _handle_error(self, error: ErrorEvent, attempt: _Attempt) -> None:
        description = f"error {error.code}: {error.msg}".strip()
        if error.code in AUTH_ERROR_CODES:
            attempt.end(f"authentication failed ({description})", fatal=True)
            return
        outcome = self._book.handle_error(error)
        for inst_id, reason in outcome.rejected.items():
            self._latest.pop(inst_id, None)
            self._last_error = f"instrument rejected: {inst_id} ({reason})"
            self._note(self._last_error)
        if outcome.handled:
            if self._book.has_work():
                self._poke()
        elif outcome.request is not None:
            attempt.end(f"request {outcome.request.req_id} failed ({description})")
        else:
            self._last_error = f"server {description}"
            log.warning("server sent %s", description)

    async def _watchdog(self, conn: Connection, attempt: _Attempt) -> None:
        heartbeat = self._heartbeat
        assert heartbeat is not None and self._connected_at is not None
        timeout = self._config.connection_timeout
        stable_at = self._connected_at + self._config.stable_after
        while True:
            now = trio.current_time()
            decision = heartbeat.poll(now)
            if decision.action is HeartbeatAction.TIMEOUT:
                attempt.end(f"heartbeat timeout (no message for {timeout:g}s)", heartbeat_miss=True)
                return
            if decision.action is HeartbeatAction.PING:
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("-> %s", PING)
                await conn.send_message(PING)
                heartbeat.ping_sent(now)
                self._pings_sent += 1
                continue
            wake = decision.until
            oldest = self._book.oldest_pending_since()
            if oldest is not None:
                if now >= oldest + timeout:
                    attempt.end(f"subscription request unanswered for {timeout:g}s")
                    return
                wake = min(wake, oldest + timeout)
            if not self._stable:
                if now >= stable_at and self._book.settled:
                    # Only a connection that stayed subscribed and receiving this long earns
                    # a fresh retry count; one that acks and then drops keeps backing off.
                    self._stable = True
                    self._strategy.reset()
                elif now < stable_at:
                    wake = min(wake, stable_at)
            await trio.sleep_until(wake)

    async def _commander(self, conn: Connection, attempt: _Attempt) -> None:
        while True:
            for request in self._book.next_requests(trio.current_time()):
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("-> %s", request.text)
                await conn.send_message(request.text)
            try:
                await self._changes_receive.receive()
            except trio.EndOfChannel:
                return  # the client is closing

    # -- stats and closing ---------------------------------------------------------------------

    async def _publish_stats(self) -> None:
        while True:
            await trio.sleep(self._config.stats_interval)
            self._stats.publish(self.get_stats())

    def _close(self) -> None:
        if self._state is not ConnectionState.DISCONNECTED:
            self._set_state(ConnectionState.DISCONNECTED, "client closed", 0)
        self._ticks.close()
        self._state_changes.close()
        self._stats.close()
        self._changes_send.close()


@asynccontextmanager
async def open_okx_client(
    pairs: Iterable[str] = (),
    *,
    config: ClientConfig | None = None,
    connector: Connector | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> AsyncIterator[OkxClient]:
    """Run a client for the block's lifetime and yield it.

    The client connects in the background; the block does not wait for it (watch
    :meth:`OkxClient.state_changes` or the ticks). Leaving the block, by any means, cancels
    every task of the client, closes the socket and ends every channel it handed out; an
    exception raised in the block comes out as itself, not wrapped in a group.

    *wall_clock* (seconds since the epoch) is what exchange timestamps are measured
    against for latency; tests pass the fake exchange's
    (:meth:`okx_trio.testing.FakeExchange.wall_clock`).

    Raises:
        ValueError: for a malformed instrument id in *pairs*.
    """
    config = config if config is not None else ClientConfig()
    pairs = [validate_inst_id(p) for p in pairs]
    if connector is None:
        connector = default_connector(config.transport, connect_timeout=config.connect_timeout)
    body_error: BaseException | None = None
    async with trio.open_nursery() as nursery:
        client = OkxClient(pairs, config, connector, nursery, wall_clock)
        nursery.start_soon(client._supervise)
        nursery.start_soon(client._publish_stats)
        try:
            yield client
        except BaseException as exc:
            # Re-raised below, outside the nursery, so the caller sees their own exception
            # rather than an ExceptionGroup around it.
            body_error = exc
        finally:
            nursery.cancel_scope.cancel()
            client._close()
    if body_error is not None:
        try:
            raise body_error
        finally:
            body_error = None


def _close_code(exc: trio_websocket.ConnectionClosed) -> int | None:
    reason = exc.reason
    return reason.code if reason is not None else None


def _closed_reason(exc: trio_websocket.ConnectionClosed) -> str:
    reason = exc.reason
    if reason is None:
        return "connection closed by server"
    text = f"code {reason.code}"
    if reason.reason:
        text += f", {reason.reason}"
    return f"connection closed by server ({text})"


def _describe(exc: BaseException) -> str:
    """One line for an exception and the root causes it wraps (a TLS error, a refusal)."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    seen = {id(exc)}
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        # trio.open_tcp_stream wraps each address's failure in a group: one is the story.
        while isinstance(cause, BaseExceptionGroup) and len(cause.exceptions) == 1:
            cause = cause.exceptions[0]
        if str(cause):
            text += f" ({type(cause).__name__}: {cause})"
        cause = cause.__cause__ or cause.__context__
    return text
