"""The parts of a link (:mod:`okx_trio._link`) that are not its supervisor: what it needs from
the client (:class:`LinkHost`), its state, and what the client and the REST answers call.

:class:`LinkCore` is the base of :class:`~okx_trio._link.Link`; one object, two modules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import trio

from ._attempt import Attempt
from ._backoff import ReconnectStrategy
from ._config import ClientConfig
from ._connection import Connection
from ._decoders import Record
from ._failover import EndpointRotation
from ._link_stats import LinkCounters, link_stats
from ._okx import Endpoint
from ._protocol import (
    BookInvalid,
    OkxProtocol,
)
from ._quality import QualityTracker
from ._rest_books import RestBook
from ._session import Session
from ._signing import LoginRequest
from ._state import ConnectionState, StateChange, is_allowed
from ._stats import ConnectionStats
from ._subscription import Subscription

__all__ = ["LinkCore", "LinkHost"]

log = logging.getLogger("okx_trio")


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

    def want_rest_book(self, link: LinkCore, sub: Subscription, depth: int) -> None:
        """Fetch OKX's REST snapshot of *sub*'s book and hand it to :meth:`Link.rest_book`."""

    def login_signer(self) -> Callable[[], LoginRequest] | None:
        """A maker of fresh login requests, or None without credentials."""

    def logged_in(self, link: LinkCore) -> None:
        """*link*'s delivering connection logged in (fetch what a reconnect may have missed)."""

    def measure_clock(self, link: LinkCore) -> None:
        """Measure the clock offset to OKX, then call :meth:`Link.clock_measured`."""

    def latency_median(self) -> float | None: ...


class LinkCore:
    """A link's state and its client-facing side; see :class:`~okx_trio._link.Link`."""

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

    def clock_measured(self) -> None:
        """The clock offset a login's timestamp refusal asked for is known: log in again."""
        for session in (self.session, self.successor):
            if session is not None:
                session.protocol.clock_measured()
                session.poke()

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
            StateChange(
                self.state, message, self.strategy.retry_count, self.index, endpoint=self.endpoint
            )
        )

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
        self.host.publish_state(
            StateChange(state, message, retry_count, self.index, delay, self.endpoint)
        )

