"""The Trio shell's front: the client, its pool of connections, and what they share.

Everything protocol-shaped lives in the sans-IO core (codec, protocol, subscription book,
backoff, heartbeat, placement); this module keeps the desired subscriptions, places them on
connections (:class:`~okx_trio._link.Link`, one per endpoint and shard), and owns what every
connection shares: the streams, the latest records, latency and the connection-rate
budget::

    open_okx_client                      owns the client nursery
    ├── link (endpoint, shard) ...       one per endpoint in use, and per shard (_link.py)
    │   └── supervisor → attempt → session: receiver, watchdog, commander (_session.py)
    ├── stats publisher                  every ``stats_interval``
    └── fan-out pumps                    short-lived, only while a consumer lags
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any, Final

import trio

from ._book_levels import OrderBook
from ._client_books import ClientBooks, book_subscription
from ._client_stats import client_stats
from ._config import ClientConfig
from ._connection import Connection, Connector
from ._decoders import Record
from ._fanout import Fanout, Gap
from ._pool import Pool
from ._protocol_events import BookInvalid
from ._ratelimit import SlidingWindowLimit
from ._rest import RestBooks
from ._state import ConnectionState, StateChange
from ._stats import ConnectionStats
from ._streams import Streams
from ._subscription import Subscription
from ._subscription_input import as_subscription, ticker_subscription
from ._ticker import Ticker

__all__ = ["OkxClient"]

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
_ENDPOINT_ORDER: Final[dict[str, int]] = {"public": 0, "business": 1, "private": 2}

Item = Record | Gap


class OkxClient:
    """A self-healing client for OKX's public channels. Made by :func:`open_okx_client`.

    Methods that change subscriptions are synchronous and never block: they update the
    desired set at once (raising ``ValueError`` for a bad one, changing nothing); at the
    next scheduling point the client's placer hands a whole burst of changes to each
    connection concerned, whose command task sends one subscribe and one unsubscribe for
    everything changed since it last looked. The desired set survives reconnects.
    Public and business subscriptions live on separate connections; with
    ``max_subscriptions_per_connection`` each endpoint's are sharded over several
    connections, each supervised on its own. The client's state is the least healthy one's.
    """

    def __init__(
        self,
        subscriptions: Iterable[Subscription],
        config: ClientConfig,
        connector: Connector,
        nursery: trio.Nursery,
        wall_clock: Callable[[], float] = time.time,
        rest: RestBooks | None = None,
    ) -> None:
        self._config = config
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
            rest = RestBooks(None, config.rest_url, config.connect_timeout)
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

    # -- public: subscriptions --------------------------------------------------------------

    @property
    def subscriptions(self) -> frozenset[Subscription]:
        """The desired subscriptions (what the client keeps subscribed, across reconnects)."""
        return frozenset(self._desired)

    @property
    def acknowledged(self) -> frozenset[Subscription]:
        """Subscriptions the server acknowledged on the current connections."""
        out: set[Subscription] = set()
        for link in self._links.values():
            out |= link.acknowledged
        return frozenset(out)

    @property
    def rejected(self) -> dict[Subscription, str]:
        """Subscriptions the server refused, with its reason. Adding one again retries it;
        removing it forgets the refusal."""
        return dict(self._rejected)

    def add(self, *subs: Subscription | str) -> None:
        """Subscribe *subs* on the live connections (``Subscription`` or ``"trades:BTC-USDT"``).

        Raises:
            ValueError: for a bad subscription (nothing changes then).
        """
        new = [as_subscription(s) for s in subs]
        for sub in new:
            self._rejected.pop(sub, None)
        self._desired.update(new)
        self._place()

    def remove(self, *subs: Subscription | str) -> None:
        """Unsubscribe *subs*; one not held is a no-op. Raises ValueError for a bad one."""
        gone = [as_subscription(s) for s in subs]
        for sub in gone:
            self._desired.discard(sub)
            self._rejected.pop(sub, None)
            self._streams.forget(sub)
        self._place()

    def replace(self, subs: Iterable[Subscription | str]) -> None:
        """Make *subs* the desired set. Raises ValueError (changing nothing) for a bad one."""
        if isinstance(subs, str | Subscription):
            raise TypeError("replace() takes an iterable of subscriptions; wrap one in a list")
        new = {as_subscription(s) for s in subs}
        for sub in new - self._desired:
            self._rejected.pop(sub, None)
        for sub in self._desired - new:
            self._streams.forget(sub)
        self._desired = new
        self._place()

    # -- public: the tickers shortcuts --------------------------------------------------------

    @property
    def pairs(self) -> frozenset[str]:
        """The desired ``tickers`` pairs (what the client keeps subscribed)."""
        return frozenset(_tickers_ids(self._desired))

    @property
    def subscribed_pairs(self) -> frozenset[str]:
        """``tickers`` pairs the server acknowledged on the current connection(s)."""
        return frozenset(_tickers_ids(self.acknowledged))

    @property
    def rejected_pairs(self) -> dict[str, str]:
        """``tickers`` pairs the server refused, with its reason. Adding one again retries
        it; removing it forgets the refusal."""
        return {
            sub.inst_id: reason
            for sub, reason in self._rejected.items()
            if sub.channel == "tickers" and sub.inst_id is not None
        }

    def add_pair(self, inst_id: str) -> None:
        """Subscribe *inst_id*'s tickers on the live connection. ValueError if malformed."""
        self.add(ticker_subscription(inst_id))

    def remove_pair(self, inst_id: str) -> None:
        """Unsubscribe *inst_id*'s tickers. ValueError if malformed; one not held: no-op."""
        self.remove(ticker_subscription(inst_id))

    def subscribe(self, pairs: Iterable[str]) -> None:
        """Make *pairs* the desired ``tickers`` set (other channels stay as they are).

        Raises ValueError (changing nothing) if one is bad.
        """
        new = {ticker_subscription(p) for p in pairs}
        others = {s for s in self._desired if s.channel != "tickers"}
        self.replace(others | new)

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

    # -- public: streams ---------------------------------------------------------------------

    def stream(self, channel: str) -> trio.MemoryReceiveChannel[Any]:
        """A new channel with every record of *channel* (OKX's name) from now on.

        Each call gets its own channel (fan-out): every caller gets every record. State
        channels (tickers, books5, mark-price, ...) conflate to the latest record per
        instrument for a consumer that falls ``tick_buffer`` behind; event channels (trades,
        candles, ...) never conflate: such a consumer loses the oldest and then receives a
        :class:`Gap` in its stream saying how many. The channel ends when the client does.

        Raises:
            ValueError: for a channel OKX does not have.
        """
        return self._streams.subscribe(channel)

    def book(self, inst_id: str, channel: str = "books") -> OrderBook | None:
        """The order book of *inst_id* on *channel* (``books``, ``books-l2-tbt``,
        ``books50-l2-tbt``) as an immutable :class:`OrderBook`, or None whenever no valid
        book exists: not subscribed, before the first snapshot, during a resync, while its
        connection is down. A book is never wrong: one that breaks OKX's sequence rules is
        None at once and resubscribed on its own. Each call between two updates returns the
        same consistent view; hold it as long as you like (it never changes).

        Raises:
            ValueError: for another channel or a malformed instrument id.
        """
        return self._books.book(book_subscription(inst_id, channel))

    def ticks(self) -> trio.MemoryReceiveChannel[Ticker]:
        """``stream("tickers")``: every ticker of every pair from now on.

        A consumer that falls more than ``tick_buffer`` behind gets the latest ticker per
        instrument instead of every one; the skipped ones count in ``ticks_dropped``.
        """
        return self.stream("tickers")

    def state_changes(self) -> trio.MemoryReceiveChannel[StateChange]:
        """A new channel with every :class:`StateChange` from now on.

        Each connection reports its own transitions (``StateChange.connection`` says which
        in a pool; business connections' messages start with ``[business N]``).
        """
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
        """The least healthy connection's state (FAILED before RECONNECTING before ...)."""
        if not self._links:
            return ConnectionState.DISCONNECTED
        return min((link.state for link in self._links.values()), key=_HEALTH.__getitem__)

    @property
    def is_connected(self) -> bool:
        """Every connection connected, and each had a message within ``connection_timeout``."""
        now = trio.current_time()
        return bool(self._links) and all(link.is_alive(now) for link in self._links.values())

    def latest(self, sub: Subscription | str) -> Any:
        """The last record received for *sub* (a Subscription, its short form, or a bare
        instrument id for its ticker), or None."""
        if isinstance(sub, str):
            sub = ticker_subscription(sub) if ":" not in sub else Subscription.parse(sub)
        return self._streams.latest(sub)

    def get_stats(self) -> ConnectionStats:
        """A snapshot: totals over the connections, and one entry per connection."""
        now = trio.current_time()
        per_link = [link.stats(now) for link in self._pool.sorted()]
        retired = [link.stats(now) for link in self._pool.retired]
        return client_stats(
            state=self.state,
            per_link=per_link,
            retired=retired,
            url=self._config.url,
            desired=self._desired,
            rejected=self._rejected,
            streams=self._streams.fans,
            latency=self._streams.latency,
            connects_delayed=self._connects_delayed,
        )

    def quality(self, now: float | None = None) -> int:
        """Connection quality 0-100 over the last hour (the lowest over the connections).

        The formula is :class:`okx_trio._quality.QualityTracker`'s.
        """
        now = trio.current_time() if now is None else now
        median = self._streams.latency.median()
        return min((link.quality.score(now, median) for link in self._links.values()), default=100)

    def reconnect(self) -> None:
        """Drop the current connection(s) (or cut a backoff wait short) and connect again now.

        From FAILED, start again with a fresh retry count. Does nothing before the first
        attempt has started or once the client is closing.
        """
        if self._closing or self._nursery.cancel_scope.cancel_called:
            return
        for link in self._links.values():
            link.reconnect()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Return as soon as ``predicate()`` is true.

        It is checked now and after every change of state, subscription or record, so the
        return happens at the exact moment the condition became true (useful in tests under
        the autojump clock). Cancellation leaves nothing behind.
        """
        while not predicate():
            if self._progress is None:
                self._progress = trio.Event()
            await self._progress.wait()

    async def wait_state(self, *states: ConnectionState) -> ConnectionState:
        """Wait until the client is in one of *states* and return it."""
        await self.wait_until(lambda: self.state in states)
        return self.state

    async def wait_subscribed(self) -> None:
        """Wait until every connection holds exactly its subscriptions, acknowledged."""
        await self.wait_until(self._settled)

    def _settled(self) -> bool:
        if self._place_pending:
            return False
        if not self._desired:
            return not self._links
        return bool(self._links) and all(
            link.settled and link.subs == link.acknowledged for link in self._links.values()
        )

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
        self.notify()

    def book_invalid(self, event: BookInvalid) -> None:
        if event.sub in self._desired:
            self._streams.book_gap(event.sub, event.reason)
        self.notify()

    def want_rest_book(self, link: Any, sub: Subscription, depth: int) -> None:
        self._books.want(link, sub, depth)

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
        self._state_changes.publish(StateChange(self.state, message, 0))

    # -- stats and closing ---------------------------------------------------------------------

    async def _publish_stats(self) -> None:
        while True:
            await trio.sleep(self._config.stats_interval)
            self._stats.publish(self.get_stats())

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


def _tickers_ids(subs: Iterable[Subscription]) -> Iterable[str]:
    return (s.inst_id for s in subs if s.channel == "tickers" and s.inst_id is not None)
