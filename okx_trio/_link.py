"""One supervised connection slot of the client: its attempt loop, backoff and endpoints.

A client has one :class:`Link` per shard of its pairs (one, unless
``max_pairs_per_connection`` shards them). The link keeps a connection open for its pairs,
one :class:`~okx_trio._session.Session` at a time, except during a make-before-break
handover, when a successor session subscribes beside the old one and takes over delivery
once every pair has ticked on it. In trio terms::

    Link.run                             in the client's nursery; cancelled when retired
    └── link nursery
        ├── supervisor                   one attempt after another, with backoff
        │   └── CancelScope (attempt)    cancelled on heartbeat timeout, errors, reconnect()
        │       └── session nursery      receiver, watchdog, commander
        └── successor attempt            only during a handover
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import trio
import trio_websocket

from ._backoff import ReconnectStrategy
from ._codec import Notice
from ._connection import ConnectionClosed
from ._errors import TRANSPORT_ERRORS, close_code, closed_reason, describe
from ._failover import EndpointRotation
from ._okx import AUTH_CLOSE_CODE
from ._quality import QualityTracker
from ._session import Session
from ._state import ConnectionState, StateChange, is_allowed
from ._stats import ConnectionStats

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from ._client import OkxClient

    TaskFn = Callable[[], Awaitable[None]]

__all__ = ["Attempt", "Link"]

log = logging.getLogger("okx_trio")


class Attempt:
    """One connection attempt: its cancel scope and why it ended (the first reason wins)."""

    __slots__ = (
        "done",
        "fatal",
        "handover_to",
        "heartbeat_miss",
        "immediate",
        "promoted",
        "reason",
        "scope",
        "upgrade_announced",
    )

    def __init__(self) -> None:
        self.scope = trio.CancelScope()
        self.done = trio.Event()
        self.reason: str | None = None
        self.fatal = False
        self.immediate = False
        self.heartbeat_miss = False
        #: The successor's attempt that took over from this one, in a handover.
        self.handover_to: Attempt | None = None
        self.promoted = False
        self.upgrade_announced = False

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


class Link:
    """Keeps one connection subscribed to *pairs*; see the module docstring.

    Counters are plain attributes, bumped by the sessions on the per-message path.
    """

    def __init__(self, client: OkxClient, index: int, pairs: frozenset[str]) -> None:
        config = client.config
        now = trio.current_time()
        self.client = client
        self.config = config
        self.index = index
        self.pairs = pairs
        self.rotation = EndpointRotation(config.urls, config.stable_after)
        self.strategy: ReconnectStrategy = config.reconnect_strategy()
        self.state = ConnectionState.DISCONNECTED
        self.session: Session | None = None
        self.successor: Session | None = None
        self.attempt: Attempt | None = None
        self.quality = QualityTracker(now)
        self.scope = trio.CancelScope()
        self.connected_at: float | None = None
        self.stable = False
        self.last_message_at: float | None = None
        self.last_error = ""
        self.reconnect_count = 0
        self.connections_opened = 0
        self.messages_received = 0
        self.ticks_received = 0
        self.bad_messages = 0
        self.ignored_messages = 0
        self.pings_sent = 0
        self.stale_resubscribes = 0
        self.requests_delayed = 0
        self.handovers = 0
        self._nursery: trio.Nursery | None = None
        self._successor_attempt: Attempt | None = None
        self._backoff_scope: trio.CancelScope | None = None
        self._restart_requested = False
        self._wake_from_failed = trio.Event()

    # -- called by the client --------------------------------------------------------------

    async def run(self) -> None:
        """Supervise connections until cancelled or retired. Never raises but Cancelled."""
        with self.scope:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                await self._supervise()

    def retire(self) -> None:
        """Stop this link (its shard emptied): close its connection without a reconnect."""
        self.scope.cancel()
        if self.state is not ConnectionState.DISCONNECTED:
            self._set_state(ConnectionState.DISCONNECTED, "closed: no pairs left on it", 0)

    def set_pairs(self, pairs: frozenset[str]) -> None:
        self.pairs = pairs
        for session in (self.session, self.successor):
            if session is not None:
                session.set_pairs(pairs)

    @property
    def settled(self) -> bool:
        return self.session is not None and self.session.book.settled

    @property
    def acknowledged(self) -> frozenset[str]:
        return self.session.book.acknowledged if self.session is not None else frozenset()

    def reconnect(self) -> None:
        if self.state is ConnectionState.DISCONNECTED:
            return  # not started: the first attempt is about to happen anyway
        self._restart_requested = True
        if self.state is ConnectionState.FAILED:
            self._wake_from_failed.set()
        elif self.attempt is not None:
            self.attempt.end("reconnect requested", immediate=True)
        elif self._backoff_scope is not None:
            self._backoff_scope.cancel()

    def close(self) -> None:
        """The client is closing (its nursery is cancelled): report it once."""
        if self.state is not ConnectionState.DISCONNECTED:
            self._set_state(ConnectionState.DISCONNECTED, "client closed", 0)

    def stats(self, now: float) -> ConnectionStats:
        session = self.session
        return ConnectionStats(
            state=self.state,
            reconnect_count=self.reconnect_count,
            retry_count=self.strategy.retry_count,
            subscribed_pairs=len(self.acknowledged),
            connection_duration=(now - self.connected_at if self.connected_at is not None else 0.0),
            last_message_age=(
                now - self.last_message_at if self.last_message_at is not None else None
            ),
            last_error=self.last_error,
            url=self.rotation.current,
            desired_pairs=len(self.pairs),
            messages_received=self.messages_received,
            ticks_received=self.ticks_received,
            connections_opened=self.connections_opened,
            pings_sent=self.pings_sent,
            bad_messages=self.bad_messages,
            ignored_messages=self.ignored_messages,
            quality=self.quality.score(now, self.client.latency_median()),
            url_failures=tuple(self.rotation.failures().items()),
            stale_resubscribes=self.stale_resubscribes,
            requests_delayed=self.requests_delayed,
            request_budget=session.request_budget(now) if session is not None else None,
            handovers=self.handovers,
            index=self.index,
        )

    # -- called by the sessions ------------------------------------------------------------

    def note(self, message: str, *, level: int = logging.WARNING) -> None:
        """Report something on the state stream without changing state."""
        message = self._label(message)
        log.log(level, "%s", message)
        self.client.notify()
        self.client.publish_state(
            StateChange(self.state, message, self.strategy.retry_count, self.index)
        )

    def progressed(self, session: Session) -> None:
        """A session's subscriptions moved: a successor may now be ready to take over."""
        if session is self.successor and session.ready:
            self._promote(session)
        self.client.notify()

    def rejected(self, inst_id: str, reason: str) -> None:
        self.last_error = f"instrument rejected: {inst_id} ({reason})"
        self.client.pair_rejected(inst_id, reason)
        self.note(self.last_error)

    def became_stable(self) -> None:
        # Only a connection that stayed subscribed and receiving this long earns a fresh
        # retry count; one that acks and then drops keeps backing off.
        self.stable = True
        self.strategy.reset()

    def upgrade_notice(self, session: Session, notice: Notice) -> None:
        """OKX will close *session* for a service upgrade (notice 64008)."""
        if session is not self.session:
            return  # the successor heard it too; it is already the way out
        attempt = session.attempt
        what = f"service upgrade notice ({notice.code})"
        if not self.config.make_before_break or self._nursery is None:
            self.note(f"{what}: reconnecting now")
            attempt.end(what, immediate=True)
            return
        attempt.upgrade_announced = True
        if self._successor_attempt is not None:
            return
        # Routine (OKX upgrades often) and handled without a gap: worth INFO, not WARNING.
        self.note(f"{what}: opening a new connection before this one closes", level=logging.INFO)
        self._successor_attempt = Attempt()
        self._nursery.start_soon(self._run_attempt, self._successor_attempt, False)

    # -- state -------------------------------------------------------------------------------

    def _label(self, message: str) -> str:
        if self.config.max_pairs_per_connection is None:
            return message
        return f"[connection {self.index}] {message}"

    def _set_state(
        self,
        state: ConnectionState,
        message: str,
        retry_count: int = 0,
        *,
        delay: float | None = None,
    ) -> None:
        if not is_allowed(self.state, state):
            raise AssertionError(f"illegal transition {self.state.value} -> {state.value}")
        self.state = state
        message = self._label(message)
        log.info("state %s: %s", state.value, message)
        self.client.notify()
        self.client.publish_state(StateChange(state, message, retry_count, self.index, delay))

    # -- the supervisor ---------------------------------------------------------------------

    async def _supervise(self) -> None:
        """Connect, and keep connecting, until cancelled. Never raises except Cancelled."""
        while True:
            if self.state is ConnectionState.FAILED:
                await self._wake_from_failed.wait()
                self._wake_from_failed = trio.Event()
                self._restart_requested = False
                self.strategy.reset()
            self._set_state(
                ConnectionState.CONNECTING,
                f"connecting (attempt {self.strategy.retry_count + 1})",
                self.strategy.retry_count,
            )
            attempt = self.attempt = Attempt()
            # Every attempt runs as a task of its own, the successor of a handover too, so
            # the new connection can outlive the attempt it replaces.
            assert self._nursery is not None
            self._nursery.start_soon(self._run_attempt, attempt, True)
            await attempt.done.wait()
            attempt = await self._follow_handover(attempt)
            self.attempt = None
            reason = attempt.reason or "connection closed"
            self.last_error = reason
            self.rotation.ended(trio.current_time())
            if attempt.fatal:
                self._set_state(
                    ConnectionState.FAILED, f"{reason}; not retrying", self.strategy.retry_count
                )
                continue
            if self._restart_requested:
                self._restart_requested = False
                self.strategy.reset()
            elif self.strategy.exhausted:
                self._set_state(
                    ConnectionState.FAILED,
                    f"max retries exceeded ({reason})",
                    self.strategy.retry_count,
                )
                continue
            delay = self.strategy.next_delay()
            if (attempt.immediate or attempt.upgrade_announced) and self.strategy.retry_count == 1:
                # An announced upgrade or a requested reconnect after a stable connection:
                # waiting would only lengthen the gap. Repeats still back off.
                delay = 0.0
            self._set_state(
                ConnectionState.RECONNECTING, reason, self.strategy.retry_count, delay=delay
            )
            with trio.CancelScope() as self._backoff_scope:
                await trio.sleep(delay)
            self._backoff_scope = None
            if self._restart_requested:
                self._restart_requested = False
                self.strategy.reset()

    async def _follow_handover(self, attempt: Attempt) -> Attempt:
        """After *attempt* ends, wait out the successors that took its place, if any."""
        while True:
            if attempt.handover_to is None and self.successor is not None:
                # The old connection went before the new one had every pair ticking:
                # switch now; the gap is the server's doing.
                successor = self.successor
                self._promote(successor)
                attempt.handover_to = successor.attempt
            elif attempt.handover_to is None and self._successor_attempt is not None:
                self._successor_attempt.end("superseded: the old connection closed first")
            if attempt.handover_to is None:
                return attempt
            attempt = attempt.handover_to
            self.attempt = attempt
            await attempt.done.wait()

    def _promote(self, new: Session) -> None:
        old = self.session
        latest = self.client.latest
        guard: dict[str, int] = {}
        for inst_id in new.book.desired:
            ticker = latest(inst_id)
            if ticker is not None:
                guard[inst_id] = ticker.ts
        if old is not None:
            old.delivering = False
        new.start_delivering(guard)
        new.attempt.promoted = True
        self.successor = None
        self.session = new
        self.handovers += 1
        self.connected_at = new.opened_at
        if old is None:
            self.quality.connected(trio.current_time())
        self.note("switched to the new connection (service upgrade)", level=logging.INFO)
        if old is not None:
            old.attempt.handover_to = new.attempt
            old.attempt.end("replaced by a new connection after a service upgrade notice")

    async def _run_attempt(self, attempt: Attempt, delivering: bool) -> None:
        """One connection, from opening to its end; the reason ends up in *attempt*.

        *delivering* is False for a handover's successor, which delivers once promoted.
        """
        session: Session | None = None
        url = self.rotation.current
        timeout = self.config.connect_timeout
        try:
            with attempt.scope:
                await self.client.connect_slot()
                # The connect deadline sits on the attempt's own scope rather than on a
                # scope of its own around entering the connector: connectors open
                # nurseries that outlive their __aenter__, and a scope may not close
                # before a nursery opened inside it.
                attempt.scope.deadline = trio.current_time() + timeout
                async with self.client.connector(url) as conn:
                    attempt.scope.deadline = math.inf
                    session = Session(
                        self, conn, attempt, self.pairs, trio.current_time(), delivering=delivering
                    )
                    self._opened(session)
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(self._guarded, session.receiver, attempt)
                        nursery.start_soon(self._guarded, session.watchdog, attempt)
                        nursery.start_soon(self._guarded, session.commander, attempt)
            if attempt.scope.cancelled_caught and attempt.reason is None:
                attempt.end(f"connect timed out after {timeout:g}s")
        except (ConnectionClosed, trio_websocket.ConnectionClosed) as exc:
            attempt.end(closed_reason(exc), fatal=close_code(exc) == AUTH_CLOSE_CODE)
        except TRANSPORT_ERRORS as exc:
            # Refused, DNS, TLS, a rejected handshake, a close that timed out: a failed
            # attempt, not a crash.
            phase = "connect failed" if session is None else "connection error"
            attempt.end(f"{phase}: {describe(exc)}")
            log.debug("attempt ended by %r", exc, exc_info=True)
        except Exception as exc:
            # A connector of the user's may raise anything; the client must live on, but
            # the traceback is worth an ERROR line.
            phase = "connect failed" if session is None else "connection error"
            attempt.end(f"{phase}: {describe(exc)}")
            log.error("unexpected error in a connection attempt", exc_info=True)
        finally:
            if session is not None:
                self._closed(session, attempt)
            if self._successor_attempt is attempt:
                self._successor_attempt = None
                if not attempt.promoted and self.session is not None:
                    self.note(
                        f"new connection for the upgrade ended ({attempt.reason or 'closed'}); "
                        "staying on the current one"
                    )
            attempt.done.set()

    def _opened(self, session: Session) -> None:
        now = session.opened_at
        self.connections_opened += 1
        if self.connections_opened > 1:
            # A handover's new connection counts too: it is a reconnect without a gap.
            self.reconnect_count += 1
        if not session.delivering:
            self.successor = session
            self.note("new connection open: subscribing there before switching", level=logging.INFO)
            return
        self.session = session
        self.rotation.connected(now)
        self.connected_at = now
        self.stable = False
        self.quality.connected(now)
        self._set_state(ConnectionState.CONNECTED, "connected to OKX", self.strategy.retry_count)

    def _closed(self, session: Session, attempt: Attempt) -> None:
        session.close()
        if self.successor is session:
            self.successor = None
        if self.session is session:
            self.session = None
            self.connected_at = None
            self.quality.disconnected(trio.current_time(), heartbeat_miss=attempt.heartbeat_miss)
        self.client.notify()

    async def _guarded(self, task: TaskFn, attempt: Attempt) -> None:
        """Run one per-connection task; a transport failure ends the attempt, with a reason."""
        try:
            await task()
        except (ConnectionClosed, trio_websocket.ConnectionClosed) as exc:
            attempt.end(closed_reason(exc), fatal=close_code(exc) == AUTH_CLOSE_CODE)
        except TRANSPORT_ERRORS as exc:
            attempt.end(f"connection error: {describe(exc)}")
