"""Behaviour: the order books a user reads are never wrong.

``client.book()`` is a valid book or None; a consumer that applies ``stream("books")`` holds
the client's book at every checkpoint, through a broken update (one book resynced, nothing
else touched), a slow read (a Gap, then the whole book), a dropped connection and a service
upgrade (spliced by seqId: no gap, no repeat).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import trio
import trio.testing

from okx_trio import BookUpdate, ClientConfig, Gap, OkxClient, Ticker, open_okx_client
from okx_trio._book import BookEngine
from okx_trio._book_levels import OrderBook
from okx_trio.testing import FakeExchange, MarketSimulator

BTC = "books:BTC-USDT"
ETH = "books:ETH-USDT"


def calm_exchange(**kwargs: Any) -> FakeExchange:
    """OKX-sized book updates (a few levels each): the default market moves a lot per step."""
    kwargs.setdefault("tick_interval", 0.1)
    return FakeExchange(market=MarketSimulator(5, volatility=0.00003), **kwargs)


def make_config(**changes: Any) -> ClientConfig:
    changes.setdefault("tick_buffer", 64)
    return ClientConfig(
        jitter=0.0,
        max_connects_per_second=None,
        max_requests_per_hour=None,
        **changes,
    )


class Follower:
    """A consumer that keeps its own books from ``stream("books")``, as a user would."""

    def __init__(self) -> None:
        self.engines: dict[str, BookEngine] = {}
        self.items: list[tuple[float, Any]] = []

    def apply(self, item: Any) -> None:
        self.items.append((trio.current_time(), item))
        if isinstance(item, Gap):
            assert item.inst_id is not None
            self.engines.pop(item.inst_id, None)
            return
        assert isinstance(item, BookUpdate)
        engine = self.engines.setdefault(item.inst_id, BookEngine(item.inst_id, item.channel))
        raw = [
            [(lv.price_text, lv.size_text, "0", str(lv.orders)) for lv in side]
            for side in (item.bids, item.asks)
        ]
        result = engine.apply(
            item.action, item.prev_seq_id, item.seq_id, item.ts, raw[0], raw[1], item.checksum
        )
        assert engine.valid, (item, result, engine.invalid_detail)

    def book(self, inst_id: str) -> OrderBook | None:
        engine = self.engines.get(inst_id)
        return engine.book() if engine is not None else None

    async def follow(self, channel: trio.MemoryReceiveChannel[Any]) -> None:
        async for item in channel:
            self.apply(item)

    def gaps(self) -> list[Gap]:
        return [item for _, item in self.items if isinstance(item, Gap)]


def same_book(a: OrderBook | None, b: OrderBook | None) -> bool:
    if a is None or b is None:
        return False
    return (a.seq_id, a.bids, a.asks) == (b.seq_id, b.bids, b.asks)


async def checkpoints(client: OkxClient, follower: Follower, inst_id: str, n: int) -> int:
    """At *n* checkpoints 0.05 s apart: the client's book is None or the follower's."""
    valid = 0
    for _ in range(n):
        await trio.sleep(0.05)
        book = client.book(inst_id)
        if book is not None:
            assert same_book(book, follower.book(inst_id))
            valid += 1
    return valid


def broken_update(client: OkxClient, inst_id: str, **entry: Any) -> str:
    book = client.book(inst_id)
    assert book is not None and book.seq_id is not None
    data = {"asks": [], "bids": [], "ts": str(book.ts + 1), "checksum": 0}
    data.update(prevSeqId=book.seq_id, seqId=book.seq_id + 1)
    data.update(entry)
    return json.dumps(
        {"arg": {"channel": "books", "instId": inst_id}, "action": "update", "data": [data]}
    )


async def test_a_consumer_applying_the_stream_holds_the_clients_book(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm_exchange()
    follower = Follower()
    async with open_okx_client(
        subscriptions=[BTC, ETH], config=make_config(), connector=exchange.connector
    ) as client, trio.open_nursery() as nursery:
        assert client.book("BTC-USDT") is None  # nothing before the first snapshot
        nursery.start_soon(follower.follow, client.stream("books"))
        await client.wait_until(lambda: client.book("BTC-USDT") is not None)
        assert await checkpoints(client, follower, "BTC-USDT", 100) == 100
        for inst_id in ("BTC-USDT", "ETH-USDT"):
            book = client.book(inst_id)
            assert book is not None and len(book.bids) == 400 and len(book.asks) == 400
            assert book.best_bid is not None and book.best_ask is not None
            assert book.best_bid.price < book.best_ask.price
        stats = client.get_stats()
        assert (stats.books, stats.books_valid, stats.book_resyncs) == (2, 2, 0)
        assert not follower.gaps()
        nursery.cancel_scope.cancel()


async def test_a_broken_update_resyncs_that_book_alone(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm_exchange()
    follower = Follower()
    ticks: list[float] = []

    async def count_ticks(channel: trio.MemoryReceiveChannel[Any]) -> None:
        async for item in channel:
            if isinstance(item, Ticker):
                ticks.append(trio.current_time())

    async with open_okx_client(
        ["BTC-USDT"], subscriptions=[BTC, ETH], config=make_config(), connector=exchange.connector
    ) as client, trio.open_nursery() as nursery:
        nursery.start_soon(follower.follow, client.stream("books"))
        nursery.start_soon(count_ticks, client.ticks())
        await client.wait_until(
            lambda: client.book("BTC-USDT") is not None and client.book("ETH-USDT") is not None
        )
        await trio.sleep(1.0)
        broke_at = trio.current_time()
        exchange.send_raw(broken_update(client, "BTC-USDT", prevSeqId=1))
        await client.wait_until(lambda: client.book("BTC-USDT") is None)
        assert trio.current_time() == broke_at  # invalid at once
        assert client.book("ETH-USDT") is not None  # the other book is untouched
        await client.wait_until(lambda: client.book("BTC-USDT") is not None)
        healed_at = trio.current_time()
        assert healed_at - broke_at < 0.5
        assert await checkpoints(client, follower, "BTC-USDT", 20) == 20
        (gap,) = follower.gaps()
        assert (gap.channel, gap.inst_id, gap.reason, gap.missed) == ("books", "BTC-USDT", "gap", 0)
        after_gap = [i for _, i in follower.items[follower.items.index((broke_at, gap)) + 1 :]]
        first_btc = next(i for i in after_gap if i.inst_id == "BTC-USDT")
        assert first_btc.action == "snapshot"
        stats = client.get_stats()
        assert stats.book_resyncs == 1 and stats.book_resync_reasons == (("gap", 1),)
        assert stats.reconnect_count == 0  # the connection was never touched
        assert len(exchange.connections) == 1
        assert [t for t in ticks if broke_at <= t <= healed_at + 1]  # tickers went on
        nursery.cancel_scope.cancel()


async def test_a_crossed_book_is_never_shown(autojump_clock: trio.testing.MockClock) -> None:
    exchange = calm_exchange()
    async with open_okx_client(
        subscriptions=[BTC], config=make_config(), connector=exchange.connector
    ) as client:
        await client.wait_until(lambda: client.book("BTC-USDT") is not None)
        book = client.book("BTC-USDT")
        assert book is not None and book.best_ask is not None
        crossing = [book.best_ask.price_text, "5", "0", "1"]
        exchange.send_raw(broken_update(client, "BTC-USDT", bids=[crossing]))
        await client.wait_until(lambda: client.get_stats().book_resyncs == 1)
        assert client.book("BTC-USDT") is None
        assert client.get_stats().book_resync_reasons == (("crossed", 1),)
        await client.wait_until(lambda: client.book("BTC-USDT") is not None)


async def test_a_slow_book_consumer_gets_a_gap_and_then_the_whole_book(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm_exchange()
    follower = Follower()
    async with open_okx_client(
        subscriptions=[BTC], config=make_config(tick_buffer=4), connector=exchange.connector
    ) as client:
        slow = client.stream("books")
        await client.wait_until(lambda: client.book("BTC-USDT") is not None)
        await trio.sleep(3.0)  # some 30 deltas arrive; 4 fit the buffer
        for _ in range(4):
            follower.apply(slow.receive_nowait())
        gap = await slow.receive()
        assert isinstance(gap, Gap) and gap.inst_id == "BTC-USDT"
        # Counted when the consumer fell behind; the snapshot covers those and any after.
        assert gap.reason == "slow consumer" and gap.missed >= 1
        follower.apply(gap)
        snapshot = await slow.receive()
        assert isinstance(snapshot, BookUpdate) and snapshot.action == "snapshot"
        follower.apply(snapshot)
        assert same_book(follower.book("BTC-USDT"), client.book("BTC-USDT"))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(follower.follow, slow)
            assert await checkpoints(client, follower, "BTC-USDT", 40) == 40
            nursery.cancel_scope.cancel()
        assert client.get_stats().records_dropped > 20


async def test_a_dropped_connection_tells_the_consumer_and_the_book_comes_back(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm_exchange()
    follower = Follower()
    async with open_okx_client(
        subscriptions=[BTC], config=make_config(initial_delay=1.0), connector=exchange.connector
    ) as client, trio.open_nursery() as nursery:
        nursery.start_soon(follower.follow, client.stream("books"))
        await client.wait_until(lambda: client.book("BTC-USDT") is not None)
        await trio.sleep(1.0)
        exchange.drop_connections()
        await client.wait_until(lambda: client.book("BTC-USDT") is None)
        dropped_at = trio.current_time()
        await client.wait_until(lambda: client.book("BTC-USDT") is not None)
        assert trio.current_time() - dropped_at < 1.0 + 0.5  # initial_delay, then a snapshot
        (gap,) = follower.gaps()
        assert gap.reason == "disconnected"
        assert await checkpoints(client, follower, "BTC-USDT", 20) == 20
        assert client.get_stats().book_resyncs == 0  # a reconnect is not a book's fault
        nursery.cancel_scope.cancel()


async def test_books_are_spliced_by_seq_id_across_a_service_upgrade(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm_exchange()
    follower = Follower()
    never_none: list[bool] = []

    async def watch(client: OkxClient) -> None:
        while True:
            await trio.sleep(0.01)
            never_none.append(client.book("BTC-USDT") is not None)

    async with open_okx_client(
        subscriptions=[BTC, ETH], config=make_config(), connector=exchange.connector
    ) as client, trio.open_nursery() as nursery:
        nursery.start_soon(follower.follow, client.stream("books"))
        await client.wait_until(
            lambda: client.book("BTC-USDT") is not None and client.book("ETH-USDT") is not None
        )
        nursery.start_soon(watch, client)
        await trio.sleep(1.0)
        exchange.send_notice("64008", endpoint="public")
        await client.wait_until(lambda: client.get_stats().handovers == 1)
        await trio.sleep(70)  # past the close OKX makes 60 s after the notice
        assert all(never_none) and len(never_none) > 7000
        assert not follower.gaps()
        # Every update links to the one before it, across the switch: no gap, no repeat.
        for inst_id in ("BTC-USDT", "ETH-USDT"):
            updates = [i for _, i in follower.items if i.inst_id == inst_id]
            assert updates[0].action == "snapshot"
            assert all(u.action == "update" for u in updates[1:])
            for a, b in itertools.pairwise(updates):
                assert b.prev_seq_id == a.seq_id
        assert await checkpoints(client, follower, "BTC-USDT", 20) == 20
        assert client.get_stats().book_resyncs == 0
        nursery.cancel_scope.cancel()


async def test_book_asks_for_a_book_channel() -> None:
    exchange = FakeExchange()
    async with open_okx_client(connector=exchange.connector) as client:
        try:
            client.book("BTC-USDT", "books5")
        except ValueError as exc:
            assert "books5" in str(exc) and "latest()" in str(exc)
        else:
            raise AssertionError("book() took books5")
        try:
            client.book("not an id")
        except ValueError as exc:
            assert "not an id" in str(exc)
        else:
            raise AssertionError("book() took a malformed id")
        assert client.book("BTC-USDT") is None  # not subscribed: no book


async def test_a_login_book_channel_is_refused_with_okxs_reason_and_nothing_else_moves(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm_exchange()
    async with open_okx_client(
        subscriptions=[BTC], config=make_config(), connector=exchange.connector
    ) as client:
        await client.wait_until(lambda: client.book("BTC-USDT") is not None)
        client.add("books-l2-tbt:ETH-USDT")
        await client.wait_until(lambda: bool(client.rejected))
        ((sub, reason),) = client.rejected.items()
        assert sub.key == "books-l2-tbt:ETH-USDT" and "60011" in reason and "log in" in reason
        assert client.book("ETH-USDT", "books-l2-tbt") is None
        assert client.book("BTC-USDT") is not None
        assert client.get_stats().reconnect_count == 0
