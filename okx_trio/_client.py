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

from collections.abc import Callable, Iterable
from typing import Any

import trio

from ._book_levels import OrderBook
from ._client_books import book_subscription
from ._client_core import ClientCore
from ._client_stats import client_stats
from ._state import ConnectionState, StateChange
from ._stats import ConnectionStats
from ._subscription import Subscription
from ._subscription_input import as_subscription, ticker_subscription
from ._ticker import Ticker

__all__ = ["OkxClient"]

class OkxClient(ClientCore):
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
        new = [as_subscription(s, can_log_in=self._credentials is not None) for s in subs]
        for sub in new:
            self._rejected.pop(sub, None)
        self._desired.update(new)
        self._place()

    def remove(self, *subs: Subscription | str) -> None:
        """Unsubscribe *subs*; one not held is a no-op. Raises ValueError for a bad one."""
        gone = [as_subscription(s, can_log_in=True) for s in subs]
        for sub in gone:
            self._desired.discard(sub)
            self._rejected.pop(sub, None)
            self._streams.forget(sub)
        self._place()

    def replace(self, subs: Iterable[Subscription | str]) -> None:
        """Make *subs* the desired set. Raises ValueError (changing nothing) for a bad one."""
        if isinstance(subs, str | Subscription):
            raise TypeError("replace() takes an iterable of subscriptions; wrap one in a list")
        can_log_in = self._credentials is not None
        new = {as_subscription(s, can_log_in=can_log_in) for s in subs}
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

        Each connection reports its own transitions: ``StateChange.endpoint`` and
        ``.connection`` say which (public, business and private connections are each
        numbered from 0; a notice about the whole client has ``endpoint`` None), and the
        messages of a pooled or non-public connection start with ``[connection N]`` or
        ``[business N]``.
        """
        return self._state_changes.subscribe()

    def stats_updates(self) -> trio.MemoryReceiveChannel[ConnectionStats]:
        """A new channel with a :class:`ConnectionStats` every ``stats_interval`` seconds.

        A consumer that lags gets the newest snapshot, not a backlog.
        """
        return self._stats.subscribe()

    # -- public: status ----------------------------------------------------------------------

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
            clock_offset=self.clock_offset,
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

    async def _publish_stats(self) -> None:
        while True:
            await trio.sleep(self._config.stats_interval)
            self._stats.publish(self.get_stats())


def _tickers_ids(subs: Iterable[Subscription]) -> Iterable[str]:
    return (s.inst_id for s in subs if s.channel == "tickers" and s.inst_id is not None)
