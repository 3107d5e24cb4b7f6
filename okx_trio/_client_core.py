"""The client's machinery under its public API: the shared state, placement, and everything
the links ask of it (:class:`~okx_trio._link_core.LinkHost`): connecting, delivering, the
connection-rate budget, REST book seeds, login signing and the clock offset.

:class:`ClientCore` is the base of :class:`~okx_trio._client.OkxClient`; one object, two
modules.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any, Final

import trio

from ._client_books import ClientBooks
from ._config import ClientConfig
from ._connection import Connection, Connector
from ._credentials import Credentials
from ._decoders import Record
from ._fanout import Fanout
from ._pool import Pool
from ._protocol_events import BookInvalid
from ._ratelimit import SlidingWindowLimit
from ._reconcile import Reconciler
from ._rest import RestClient, RestError
from ._signing import LoginRequest, login_request
from ._state import ConnectionState, StateChange
from ._stats import ConnectionStats
from ._streams import Streams
from ._subscription import Subscription

__all__ = ["ClientCore"]

log = logging.getLogger("okx_trio")

_STATE_BUFFER: Final = 256
#: The client's state is its least healthy connection's.
_HEALTH: Final = {
    ConnectionState.FAILED: 0,
    ConnectionState.RECONNECTING: 1,
    ConnectionState.CONNECTING: 2,
    ConnectionState.DISCONNECTED: 3,
    ConnectionState.CONNECTED: 4,
}




class ClientCore:
    """The client's state and its link-facing side; see :class:`~okx_trio._client.OkxClient`."""

    def __init__(
        self,
        subscriptions: Iterable[Subscription],
        config: ClientConfig,
        connector: Connector,
        nursery: trio.Nursery,
        wall_clock: Callable[[], float] = time.time,
        rest: RestClient | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self._config = config
        self._credentials = credentials
        self._wall_clock = wall_clock
        #: Seconds to add to the wall clock to read OKX's (measured on a timestamp refusal).
        self.clock_offset = 0.0
        self._last_login_second = 0
        self._connector = connector
        self._nursery = nursery
        self._desired: set[Subscription] = set(subscriptions)
        self._rejected: dict[Subscription, str] = {}
        self._place_pending = False
        self._place_wake_send, self._place_wake_receive = trio.open_memory_channel[None](1)
        self._pool = Pool(
            self, config.max_subscriptions_per_connection, lambda link: nursery.start_soon(link.run)
        )
        self._links = self._pool.links
        self._connect_limit = (
            SlidingWindowLimit(config.max_connects_per_second, 1.0)
            if config.max_connects_per_second is not None
            else None
        )
        self._connects_delayed = 0
        self._closing = False
        if rest is None:
            rest = RestClient(None, config.rest_url, config.connect_timeout)
        self._rest = rest
        self._reconciler = (
            Reconciler(
                rest,
                credentials,
                wall_clock=wall_clock,
                offset=lambda: self.clock_offset,
                demo=config.is_demo,
                deliver=self.deliver,
                note=lambda message, level: self._note(message, level=level),
                spawn=nursery.start_soon,
            )
            if credentials is not None
            else None
        )
        self._books = ClientBooks(rest, self._links.values, nursery.start_soon)
        self._streams = Streams(
            config.tick_buffer,
            nursery.start_soon,
            wall_clock=wall_clock,
            latency_warning=config.latency_warning,
            note=lambda message, level: self._note(message, level=level),
            books=self._books.current,
        )
        self._state_changes: Fanout[StateChange] = Fanout(_STATE_BUFFER, nursery.start_soon)
        self._stats: Fanout[ConnectionStats] = Fanout(1, nursery.start_soon, key=lambda s: None)
        # Set (and dropped) whenever something a waiter may look at changes; created only
        # while somebody waits, so the per-message cost is one attribute test.
        self._progress: trio.Event | None = None

    @property
    def config(self) -> ClientConfig:
        return self._config

    @property
    def state(self) -> ConnectionState:
        """The least healthy connection's state (FAILED before RECONNECTING before ...)."""
        if not self._links:
            return ConnectionState.DISCONNECTED
        return min((link.state for link in self._links.values()), key=_HEALTH.__getitem__)


    # -- placement -------------------------------------------------------------------------

    def _place(self) -> None:
        """Have the links brought in line with the desired set, once per burst of changes.

        Placing looks at every subscription, so a loop of a thousand ``add_pair`` calls
        would cost a million steps if each placed at once: they are placed together, by a
        task that runs at the next scheduling point (before any request could go out).
        """
        if self._closing:
            return
        if not self._place_pending:
            self._place_pending = True
            # Holds one wake-up at most: one pending placement covers any number of changes.
            with contextlib.suppress(trio.WouldBlock, trio.ClosedResourceError):
                self._place_wake_send.send_nowait(None)
        self.notify()

    async def _placer(self) -> None:
        """The client's placement task: places each burst of changes in one step."""
        async for _ in self._place_wake_receive:
            self._place_pending = False
            self._pool.place(self._desired)
            self.notify()

    # -- for the links (LinkHost) ------------------------------------------------------------

    def connect(self, url: str) -> AbstractAsyncContextManager[Connection]:
        return self._connector(url)

    def notify(self) -> None:
        if self._progress is not None:
            self._progress.set()
            self._progress = None

    def publish_state(self, change: StateChange) -> None:
        self._state_changes.publish(change)

    def latency_median(self) -> float | None:
        return self._streams.latency.median()

    def last_delivered(self, sub: Subscription) -> Record | None:
        return self._streams.latest(sub)

    def deliver(self, sub: Subscription, records: tuple[Record, ...]) -> None:
        """Hand records to the consumers (the per-message path: keep it lean)."""
        if sub in self._desired:
            # (Not: dropped by the user a moment ago, its connection not told yet.)
            self._streams.deliver(sub, records)
            if self._reconciler is not None:
                self._reconciler.seen(sub, records)
        self.notify()

    def logged_in(self, link: Any) -> None:
        """A delivering private connection logged in: fetch what the outage may have hidden."""
        if self._reconciler is not None:
            self._reconciler.start(link.subs)

    def book_invalid(self, event: BookInvalid) -> None:
        if event.sub in self._desired:
            self._streams.book_gap(event.sub, event.reason)
        self.notify()

    def want_rest_book(self, link: Any, sub: Subscription, depth: int) -> None:
        self._books.want(link, sub, depth)

    def login_signer(self) -> Callable[[], LoginRequest] | None:
        """Makes a fresh login request per call (None without credentials).

        Timestamps are whole seconds, and OKX refuses one it has seen (60006), so two of
        the client's connections logging in within one second (a pool, a handover) get
        strictly increasing ones: the later a second ahead at most per login, well inside
        OKX's 30 s window.
        """
        credentials = self._credentials
        if credentials is None:
            return None

        def sign() -> LoginRequest:
            offset = self.clock_offset
            now = self._wall_clock() + offset
            second = max(math.floor(now), self._last_login_second + 1)
            self._last_login_second = second
            # The middle of that second, so that flooring it gives the second itself.
            return login_request(credentials, second + 0.5 - offset, offset=offset)

        return sign

    def measure_clock(self, link: Any) -> None:
        """OKX refused a login's timestamp: measure the offset, then let *link* log in again."""
        self._nursery.start_soon(self._measure_clock, link)

    async def _measure_clock(self, link: Any) -> None:
        try:
            self.clock_offset = await self._rest.fetch_clock_offset(self._wall_clock)
            offset = self.clock_offset
            self._note(f"clock offset to OKX measured: {offset:+.3f}s", level=logging.INFO)
        except RestError as exc:
            self._note(f"could not measure the clock offset to OKX ({exc})")
        link.clock_measured()

    def subscription_rejected(self, sub: Subscription, reason: str) -> None:
        """The server refused *sub*: stop wanting it, everywhere, and remember why."""
        self._rejected[sub] = reason
        self._desired.discard(sub)
        self._streams.forget(sub)
        self._place()

    async def connect_slot(self) -> None:
        """Wait for the pool's connection-rate budget (``max_connects_per_second``).

        Cancellation leaves the budget untouched.
        """
        limit = self._connect_limit
        if limit is None:
            return
        now = trio.current_time()
        if limit.next_allowed(now) > now:
            self._connects_delayed += 1
            while (at := limit.next_allowed(now)) > now:
                await trio.sleep_until(at)
                now = trio.current_time()
        # No checkpoint between the check and the record: no other link can slip in.
        limit.record(now)

    def _note(self, message: str, *, level: int = logging.WARNING) -> None:
        """Report something about the whole client on the state stream."""
        log.log(level, "%s", message)
        self.notify()
        self._state_changes.publish(StateChange(self.state, message, 0, endpoint=None))

    # -- stats and closing ---------------------------------------------------------------------

    def _start(self) -> None:
        self._pool.place(self._desired)

    def _close(self) -> None:
        self._closing = True
        self._pool.closing = True
        for link in self._pool.sorted():
            link.close()
        self._streams.close()
        self._state_changes.close()
        self._stats.close()


