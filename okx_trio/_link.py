"""One supervised connection slot of the client: its attempt loop, backoff and endpoints.

A client has one :class:`Link` per endpoint and shard of its subscriptions. The link keeps a
connection open for its subscriptions, one :class:`~okx_trio._session.Session` at a time,
except during a make-before-break handover, when a successor session subscribes beside the
old one and takes over delivery once it is ready. In trio terms::

    Link.run                             in the client's nursery; cancelled when retired
    └── link nursery
        ├── supervisor                   one attempt after another, with backoff
        │   └── CancelScope (attempt)    cancelled on heartbeat timeout, errors, reconnect()
        │       └── session nursery      receiver, watchdog, commander
        └── successor attempt            only during a handover

The link knows the client only as a :class:`LinkHost`: what it needs from above.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import trio
import trio_websocket

from ._attempt import Attempt
from ._backoff import ReconnectStrategy
from ._config import ClientConfig
from ._connection import Connection, ConnectionClosed
from ._decoders import Record
from ._errors import TRANSPORT_ERRORS, close_code, closed_reason, describe
from ._failover import EndpointRotation
from ._link_stats import LinkCounters, link_stats
from ._okx import AUTH_CLOSE_CODE, Endpoint
from ._ordering import position
from ._protocol import (
    BecameStable,
    BookInvalid,
    BookSeedWanted,
    BudgetSpent,
    ConnectionFailed,
    Garbage,
    OkxProtocol,
    ProtocolEvent,
    Rejected,
    ServerError,
    ServerNotice,
    StaleResubscribed,
    SubscriptionsChanged,
    UpgradeAnnounced,
)
from ._quality import QualityTracker
from ._rest_books import RestBook
from ._session import Session
from ._state import ConnectionState, StateChange, is_allowed
from ._stats import ConnectionStats
from ._subscription import Subscription

__all__ = ["Link", "LinkHost"]

log = logging.getLogger("okx_trio")

TaskFn = Callable[[], Awaitable[None]]


class LinkHost(Protocol):
    """What a link needs from the client above it."""

    @property
    def config(self) -> ClientConfig: ...

    def connect(self, url: str) -> AbstractAsyncContextManager[Connection]:
        """Open a connection (the client's connector)."""
        ...

    async def connect_slot(self) -> None:
        """Wait for the pool's connection-rate budget."""

    def deliver(self, sub: Subscription, records: tuple[Record, ...]) -> None:
        """Hand records to the consumers."""

    def last_delivered(self, sub: Subscription) -> Record | None:
        """The last record delivered for *sub* (the handover guard starts from it)."""

    def subscription_rejected(self, sub: Subscription, reason: str) -> None:
        """OKX refused *sub* for good."""

    def notify(self) -> None:
        """Something a waiter may look at changed."""

    def publish_state(self, change: StateChange) -> None: ...

    def book_invalid(self, event: BookInvalid) -> None:
        """The delivered order book of ``event.sub`` stopped being valid (a Gap for its
        consumers)."""

    def want_rest_book(self, link: Link, sub: Subscription, depth: int) -> None:
        """Fetch OKX's REST snapshot of *sub*'s book and hand it to :meth:`Link.rest_book`."""

    def latency_median(self) -> float | None: ...


class Link:
    """Keeps one connection to *endpoint* subscribed to *subs*; see the module docstring."""

    def __init__(
        self,
        host: LinkHost,
        endpoint: Endpoint,
        index: int,
        subs: frozenset[Subscription],
        *,
        label: bool = False,
    ) -> None:
        config = host.config
        now = trio.current_time()
        self.host = host
        self.config = config
        self.endpoint = endpoint
        self.index = index
        self.subs = subs
        self._label_messages = label
        self.rotation = EndpointRotation(config.urls_for(endpoint), config.stable_after)
        self.strategy: ReconnectStrategy = config.reconnect_strategy()
        self.state = ConnectionState.DISCONNECTED
        self.session: Session | None = None
        self.successor: Session | None = None
        self.attempt: Attempt | None = None
        self.quality = QualityTracker(now)
        self.scope = trio.CancelScope()
        self.connected_at: float | None = None
        self.last_error = ""
        self.counters = LinkCounters()
        self._attempts: dict[Session, Attempt] = {}
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
            self._set_state(ConnectionState.DISCONNECTED, "closed: no subscriptions left on it")

    def set_subscriptions(self, subs: frozenset[Subscription]) -> None:
        self.subs = subs
        for session in (self.session, self.successor):
            if session is not None:
                session.set_subscriptions(subs)

    @property
    def protocol(self) -> OkxProtocol | None:
        return self.session.protocol if self.session is not None else None

    @property
    def settled(self) -> bool:
        protocol = self.protocol
        return protocol is not None and protocol.settled

    @property
    def acknowledged(self) -> frozenset[Subscription]:
        protocol = self.protocol
        return protocol.acknowledged if protocol is not None else frozenset()

    def is_alive(self, now: float) -> bool:
        protocol = self.protocol
        return (
            self.state is ConnectionState.CONNECTED
            and protocol is not None
            and protocol.heartbeat.is_alive(now)
        )

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
            self._set_state(ConnectionState.DISCONNECTED, "client closed")

    def stats(self, now: float) -> ConnectionStats:
        live = [s.protocol for s in (self.session, self.successor) if s is not None]
        return link_stats(self, live, now)

    # -- what the sessions report (SessionHost) ----------------------------------------------

    def session_event(self, session: Session, event: ProtocolEvent) -> None:
        kind = type(event)
        if kind is SubscriptionsChanged:
            if session is self.successor and session.protocol.ready:
                self._promote(session)
            self.host.notify()
        elif kind is Rejected:
            assert isinstance(event, Rejected)
            sub = event.sub
            if sub.channel == "tickers":
                self.last_error = f"instrument rejected: {sub.inst_id} ({event.reason})"
            else:
                self.last_error = f"subscription rejected: {sub.key} ({event.reason})"
            self.host.subscription_rejected(event.sub, event.reason)
            self.note(self.last_error)
        elif kind is ConnectionFailed:
            assert isinstance(event, ConnectionFailed)
            self._attempts[session].end(
                event.reason, fatal=event.fatal, heartbeat_miss=event.heartbeat_miss
            )
        elif kind is UpgradeAnnounced:
            assert isinstance(event, UpgradeAnnounced)
            self._upgrade_notice(session, event)
        elif kind is ServerNotice:
            assert isinstance(event, ServerNotice)
            self.note(f"notice {event.code}: {event.msg}", level=logging.INFO)
        elif kind is ServerError:
            assert isinstance(event, ServerError)
            self.last_error = event.description
            log.warning("%s", self._label(event.description))
        elif kind is Garbage:
            assert isinstance(event, Garbage)
            log.warning("bad message from server (%s): %.200r", event.reason, event.raw)
        elif kind is StaleResubscribed:
            assert isinstance(event, StaleResubscribed)
            keys = [sub.inst_id or sub.key for sub in event.subs]
            names = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
            self.note(f"no update for {event.age:g}s on {names}: resubscribing", level=logging.INFO)
        elif kind is BudgetSpent:
            assert isinstance(event, BudgetSpent)
            wait = max(0.0, event.until - trio.current_time())
            self.note(
                f"subscription request budget spent ({event.limit} per hour): waiting {wait:.0f}s"
            )
        elif kind is BookInvalid:
            assert isinstance(event, BookInvalid)
            self._book_invalid(session, event)
        elif kind is BookSeedWanted:
            assert isinstance(event, BookSeedWanted)
            self.host.want_rest_book(self, event.sub, event.depth)
        elif kind is BecameStable and session is self.session:
            self.strategy.reset()

    def _book_invalid(self, session: Session, event: BookInvalid) -> None:
        if session is not self.session:
            return  # a successor's book: nobody follows it yet, and it heals before the switch
        sub = event.sub
        if event.retry_in is not None:
            when = "now" if event.retry_in == 0 else f"in {event.retry_in:.1f}s"
            log.info(
                "%s", self._label(f"book {sub.key} invalid ({event.detail}): resyncing {when}")
            )
        self.host.book_invalid(event)

    def rest_book(self, sub: Subscription, result: RestBook | str) -> None:
        """OKX's REST snapshot of *sub*'s book (or why there is none) for whichever of this
        link's connections is seeding that book."""
        now = trio.current_time()
        for session in (self.session, self.successor):
            if session is None:
                continue
            protocol = session.protocol
            if isinstance(result, RestBook):
                session.inject(protocol.rest_book(sub, result, now))
            else:
                session.inject(protocol.rest_failed(sub, result, now))

    def note(self, message: str, *, level: int = logging.WARNING) -> None:
        """Report something on the state stream without changing state."""
        message = self._label(message)
        log.log(level, "%s", message)
        self.host.notify()
        self.host.publish_state(
            StateChange(self.state, message, self.strategy.retry_count, self.index)
        )

    def _upgrade_notice(self, session: Session, notice: UpgradeAnnounced) -> None:
        """OKX will close *session* for a service upgrade (notice 64008)."""
        if session is not self.session:
            return  # the successor heard it too; it is already the way out
        attempt = self._attempts[session]
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
        if not self._label_messages:
            return message
        if self.endpoint == "public":
            return f"[connection {self.index}] {message}"
        return f"[{self.endpoint} {self.index}] {message}"

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
        self.host.notify()
        self.host.publish_state(StateChange(state, message, retry_count, self.index, delay))

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
                # The old connection went before the new one was ready: switch now; the
                # gap is the server's doing.
                successor = self.successor
                self._promote(successor)
                attempt.handover_to = self._attempts[successor]
            elif attempt.handover_to is None and self._successor_attempt is not None:
                self._successor_attempt.end("superseded: the old connection closed first")
            if attempt.handover_to is None:
                return attempt
            attempt = attempt.handover_to
            self.attempt = attempt
            await attempt.done.wait()

    def _promote(self, new: Session) -> None:
        old = self.session
        guard: dict[Subscription, tuple[int, ...]] = {}
        last_books: dict[Subscription, Record] = {}
        for sub in new.protocol.subscriptions:
            record = self.host.last_delivered(sub)
            if record is not None:
                guard[sub] = position(record)
                last_books[sub] = record
        if old is not None:
            old.protocol.delivering = False
        for item in new.protocol.start_delivering(guard, last_books):
            if isinstance(item, BookInvalid):
                self.host.book_invalid(item)
            else:
                self.host.deliver(item.sub, item.records)
        self.host.notify()
        new_attempt = self._attempts[new]
        new_attempt.promoted = True
        self.successor = None
        self.session = new
        self.counters.handovers += 1
        self.connected_at = new.protocol.opened_at
        if old is None:
            self.quality.connected(trio.current_time())
        self.note("switched to the new connection (service upgrade)", level=logging.INFO)
        if old is not None:
            old_attempt = self._attempts[old]
            old_attempt.handover_to = new_attempt
            old_attempt.end("replaced by a new connection after a service upgrade notice")

    async def _run_attempt(self, attempt: Attempt, delivering: bool) -> None:
        """One connection, from opening to its end; the reason ends up in *attempt*.

        *delivering* is False for a handover's successor, which delivers once promoted.
        """
        session: Session | None = None
        url = self.rotation.current
        timeout = self.config.connect_timeout
        try:
            with attempt.scope:
                await self.host.connect_slot()
                # The connect deadline sits on the attempt's own scope rather than on a
                # scope of its own around entering the connector: connectors open
                # nurseries that outlive their __aenter__, and a scope may not close
                # before a nursery opened inside it.
                attempt.scope.deadline = trio.current_time() + timeout
                async with self.host.connect(url) as conn:
                    attempt.scope.deadline = math.inf
                    protocol = OkxProtocol(
                        self.subs, self.config, trio.current_time(), delivering=delivering
                    )
                    # Records go straight to the client: no hop through the link per message.
                    session = Session(self, self.host, conn, protocol)
                    self._attempts[session] = attempt
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
        now = session.protocol.opened_at
        counters = self.counters
        counters.connections_opened += 1
        if counters.connections_opened > 1:
            # A handover's new connection counts too: it is a reconnect without a gap.
            counters.reconnect_count += 1
        if not session.protocol.delivering:
            self.successor = session
            self.note("new connection open: subscribing there before switching", level=logging.INFO)
            return
        self.session = session
        self.rotation.connected(now)
        self.connected_at = now
        self.quality.connected(now)
        self._set_state(ConnectionState.CONNECTED, "connected to OKX", self.strategy.retry_count)

    def _closed(self, session: Session, attempt: Attempt) -> None:
        ended_books = session.close()
        if session is self.session:
            for event in ended_books:
                self.session_event(session, event)
        self.counters.add(session.protocol)
        self._attempts.pop(session, None)
        if self.successor is session:
            self.successor = None
        if self.session is session:
            self.session = None
            self.connected_at = None
            self.quality.disconnected(trio.current_time(), heartbeat_miss=attempt.heartbeat_miss)
        self.host.notify()

    async def _guarded(self, task: TaskFn, attempt: Attempt) -> None:
        """Run one per-connection task; a transport failure ends the attempt, with a reason."""
        try:
            await task()
        except (ConnectionClosed, trio_websocket.ConnectionClosed) as exc:
            attempt.end(closed_reason(exc), fatal=close_code(exc) == AUTH_CLOSE_CODE)
        except TRANSPORT_ERRORS as exc:
            attempt.end(f"connection error: {describe(exc)}")

