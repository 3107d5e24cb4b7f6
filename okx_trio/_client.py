"""The Trio shell's front: the client, its pool of connections, and what they share.

Everything protocol-shaped lives in the sans-IO modules (codec, subscription book, backoff,
heartbeat, placement); this module keeps the desired pairs, places them on connections
(:class:`~okx_trio._link.Link`, one per shard), and owns what every connection shares:
the fan-out channels, the latest tickers, latency and the connection-rate budget::

    open_okx_client                      owns the client nursery
    ├── link 0..n                        one per shard (see _link.py; one unless sharded)
    │   └── supervisor → attempt → session: receiver, watchdog, commander (_session.py)
    ├── stats publisher                  every ``stats_interval``
    └── fan-out pumps                    short-lived, only while a consumer lags
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Final

import trio

from ._config import ClientConfig
from ._fanout import Fanout
from ._instruments import validate_inst_id
from ._link import Link
from ._quality import LatencyWindow
from ._ratelimit import SlidingWindowLimit
from ._sharding import Placement
from ._state import ConnectionState, StateChange
from ._stats import ConnectionStats
from ._ticker import Ticker
from ._transport import Connection, Connector, default_connector

__all__ = ["OkxClient", "open_okx_client"]

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


class OkxClient:
    """A self-healing client for OKX's ``tickers`` channel. Made by :func:`open_okx_client`.

    Methods that change pairs are synchronous and never block: they update the desired set
    at once (raising ``ValueError`` for a malformed id, changing nothing) and wake the
    command task of each connection concerned, which sends one subscribe and one
    unsubscribe for everything changed since it last looked. The desired set survives
    reconnects. With ``max_pairs_per_connection`` the pairs are sharded over several
    connections, each supervised on its own; the client's state is the least healthy one's.
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
        self._connector = connector
        self._nursery = nursery
        self._wall_clock = wall_clock
        self._latency = LatencyWindow()
        self._latency_high = False
        self._desired: set[str] = set(pairs)
        self._rejected: dict[str, str] = {}
        self._placement = Placement(config.max_pairs_per_connection)
        self._links: dict[int, Link] = {}
        self._retired: list[Link] = []
        self._connect_limit = (
            SlidingWindowLimit(config.max_connects_per_second, 1.0)
            if config.max_connects_per_second is not None
            else None
        )
        self._connects_delayed = 0
        self._closing = False
        self._ticks: Fanout[Ticker] = Fanout(
            config.tick_buffer, nursery.start_soon, key=lambda t: t.inst_id
        )
        self._state_changes: Fanout[StateChange] = Fanout(_STATE_BUFFER, nursery.start_soon)
        self._stats: Fanout[ConnectionStats] = Fanout(1, nursery.start_soon, key=lambda s: None)
        self._latest: dict[str, Ticker] = {}
        # Set (and dropped) whenever something a waiter may look at changes; created only
        # while somebody waits, so the per-message cost is one attribute test.
        self._progress: trio.Event | None = None

    # -- public: pairs ---------------------------------------------------------------------

    @property
    def pairs(self) -> frozenset[str]:
        """The desired pairs (what the client keeps subscribed, across reconnects)."""
        return frozenset(self._desired)

    @property
    def subscribed_pairs(self) -> frozenset[str]:
        """Pairs the server acknowledged on the current connection(s)."""
        acknowledged: set[str] = set()
        for link in self._links.values():
            acknowledged |= link.acknowledged
        return frozenset(acknowledged)

    @property
    def rejected_pairs(self) -> dict[str, str]:
        """Pairs the server refused, with its reason. Adding one again retries it."""
        return dict(self._rejected)

    def add_pair(self, inst_id: str) -> None:
        """Subscribe *inst_id* on the live connection. Raises ValueError if malformed."""
        validate_inst_id(inst_id)
        self._rejected.pop(inst_id, None)
        self._desired.add(inst_id)
        self._place()

    def remove_pair(self, inst_id: str) -> None:
        """Unsubscribe *inst_id*. Raises ValueError if malformed; a pair not held is a no-op."""
        validate_inst_id(inst_id)
        self._desired.discard(inst_id)
        # A pair the user no longer wants is no longer "rejected": it is simply gone.
        self._rejected.pop(inst_id, None)
        self._latest.pop(inst_id, None)
        self._place()

    def subscribe(self, pairs: Iterable[str]) -> None:
        """Make *pairs* the desired set. Raises ValueError (changing nothing) if one is bad."""
        new = {validate_inst_id(p) for p in pairs}
        for inst_id in new - self._desired:
            self._rejected.pop(inst_id, None)
        self._desired = new
        for inst_id in set(self._latest) - new:
            del self._latest[inst_id]
        self._place()

    def _place(self) -> None:
        """Bring the links in line with the desired set: place, start, update, retire."""
        layout = self._placement.assign(self._desired)
        for index, pairs in layout.items():
            link = self._links.get(index)
            if link is None:
                self._start_link(index, pairs)
            elif link.pairs != pairs:
                link.set_pairs(pairs)
        for index in [i for i in self._links if i not in layout]:
            link = self._links.pop(index)
            link.retire()
            self._retired.append(link)
        self.notify()

    def _start_link(self, index: int, pairs: frozenset[str]) -> None:
        if self._closing:
            return
        link = Link(self, index, pairs)
        self._links[index] = link
        self._nursery.start_soon(link.run)

    # -- public: streams ---------------------------------------------------------------------

    def ticks(self) -> trio.MemoryReceiveChannel[Ticker]:
        """A new channel with every ticker of every pair from now on.

        Each call gets its own channel (fan-out). A consumer that falls more than
        ``tick_buffer`` behind gets the latest ticker per instrument instead of every one;
        the skipped ones count in ``ticks_dropped``. The channel ends when the client does.
        """
        return self._ticks.subscribe()

    def state_changes(self) -> trio.MemoryReceiveChannel[StateChange]:
        """A new channel with every :class:`StateChange` from now on.

        With a sharded pool each connection reports its own transitions
        (``StateChange.connection`` says which).
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
        return bool(self._links) and all(
            link.state is ConnectionState.CONNECTED
            and link.session is not None
            and link.session.heartbeat.is_alive(now)
            for link in self._links.values()
        )

    def latest(self, inst_id: str) -> Ticker | None:
        """The last ticker received for *inst_id*, or None."""
        return self._latest.get(inst_id)

    def get_stats(self) -> ConnectionStats:
        """A snapshot: totals over the connections, and one entry per connection."""
        now = trio.current_time()
        per_link = [link.stats(now) for link in sorted(self._links.values(), key=_index)]
        retired = [link.stats(now) for link in self._retired]
        counted = per_link + retired
        first = per_link[0] if per_link else None
        budgets = [s.request_budget for s in per_link if s.request_budget is not None]
        failures: dict[str, int] = {}
        for snapshot in counted:
            for url, count in snapshot.url_failures:
                failures[url] = failures.get(url, 0) + count
        return ConnectionStats(
            state=self.state,
            reconnect_count=sum(s.reconnect_count for s in counted),
            retry_count=max((s.retry_count for s in per_link), default=0),
            subscribed_pairs=sum(s.subscribed_pairs for s in per_link),
            connection_duration=min((s.connection_duration for s in per_link), default=0.0),
            last_message_age=min(
                (s.last_message_age for s in per_link if s.last_message_age is not None),
                default=None,
            ),
            last_error=next((s.last_error for s in per_link if s.last_error), ""),
            url=first.url if first is not None else self._config.url,
            desired_pairs=len(self._desired),
            messages_received=sum(s.messages_received for s in counted),
            ticks_received=sum(s.ticks_received for s in counted),
            ticks_dropped=self._ticks.dropped,
            bad_messages=sum(s.bad_messages for s in counted),
            ignored_messages=sum(s.ignored_messages for s in counted),
            rejected_pairs=tuple(sorted(self._rejected)),
            connections_opened=sum(s.connections_opened for s in counted),
            pings_sent=sum(s.pings_sent for s in counted),
            latency_median=self._latency.median(),
            latency_p99=self._latency.p99(),
            quality=min((s.quality for s in per_link), default=100),
            url_failures=tuple(failures.items()),
            stale_resubscribes=sum(s.stale_resubscribes for s in counted),
            connects_delayed=self._connects_delayed,
            requests_delayed=sum(s.requests_delayed for s in counted),
            request_budget=min(budgets, default=None),
            handovers=sum(s.handovers for s in counted),
            connections=tuple(per_link),
        )

    def quality(self, now: float | None = None) -> int:
        """Connection quality 0-100 over the last hour (the lowest over the connections).

        The formula is :class:`okx_trio._quality.QualityTracker`'s.
        """
        now = trio.current_time() if now is None else now
        median = self._latency.median()
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
        await self.wait_until(lambda: self.state in states)
        return self.state

    async def wait_subscribed(self) -> None:
        """Wait until every connection holds exactly its desired pairs, acknowledged."""
        await self.wait_until(self._settled)

    def _settled(self) -> bool:
        return bool(self._links) and all(
            link.settled and link.pairs == link.acknowledged for link in self._links.values()
        )

    # -- for the links and sessions ------------------------------------------------------------

    @property
    def connector(self) -> Callable[[str], AbstractAsyncContextManager[Connection]]:
        return self._connector

    def notify(self) -> None:
        if self._progress is not None:
            self._progress.set()
            self._progress = None

    def publish_state(self, change: StateChange) -> None:
        self._state_changes.publish(change)

    def latency_median(self) -> float | None:
        return self._latency.median()

    def deliver(self, ticker: Ticker) -> None:
        """Hand one ticker to the consumers (the per-tick path: keep it lean)."""
        self._latest[ticker.inst_id] = ticker
        self._ticks.publish(ticker)
        seconds = self._wall_clock() - ticker.ts / 1000.0
        self._latency.add(seconds)
        threshold = self._config.latency_warning
        # Hysteresis, so a latency hovering at the threshold does not flood the stream.
        if not self._latency_high and seconds > threshold:
            self._latency_high = True
            self._note(f"high latency: {seconds:.1f}s (warning above {threshold:g}s)")
        elif self._latency_high and seconds < 0.8 * threshold:
            self._latency_high = False
            self._note(f"latency back to normal: {seconds:.1f}s", level=logging.INFO)

    def pair_rejected(self, inst_id: str, reason: str) -> None:
        """The server refused *inst_id*: stop wanting it, everywhere, and remember why."""
        self._rejected[inst_id] = reason
        self._desired.discard(inst_id)
        self._latest.pop(inst_id, None)
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
        self._place()

    def _close(self) -> None:
        self._closing = True
        for link in sorted(self._links.values(), key=_index):
            link.close()
        self._ticks.close()
        self._state_changes.close()
        self._stats.close()


def _index(link: Link) -> int:
    return link.index


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
        client._start()
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
