"""Behaviour: every way the exchange can break one book, through the client, with exact times.

Each of the fake exchange's book faults (a dropped, repeated or reordered update, a crossed
book, a wrong checksum, a late snapshot) makes exactly that book invalid at once and heals it
on the live connection; a follower of ``stream("books")`` never holds a wrong book. Without a
WebSocket snapshot the book is seeded from the REST snapshot.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import trio
import trio.testing

from okx_trio import ClientConfig, OkxClient, open_okx_client
from okx_trio.testing import FakeExchange, MarketSimulator

from .test_order_books import Follower, checkpoints, same_book

BTC = "books:BTC-USDT"
ETH = "books:ETH-USDT"


def exchange_for(**kwargs: Any) -> FakeExchange:
    kwargs.setdefault("tick_interval", 0.1)
    return FakeExchange(market=MarketSimulator(7, volatility=0.00003), **kwargs)


def make_config(**changes: Any) -> ClientConfig:
    changes.setdefault("tick_buffer", 256)
    return ClientConfig(
        jitter=0.0, max_connects_per_second=None, max_requests_per_hour=None, **changes
    )


async def both_valid(client: OkxClient) -> None:
    await client.wait_until(
        lambda: client.book("BTC-USDT") is not None and client.book("ETH-USDT") is not None
    )


@pytest.mark.parametrize(
    ("fault", "reason", "checksums"),
    [
        ("drop_book_update", "gap", False),
        ("repeat_book_update", "duplicate", False),
        ("reorder_book_updates", "gap", False),
        ("cross_book", "crossed", False),
        ("corrupt_book_checksum", "checksum", True),
    ],
)
async def test_each_book_fault_breaks_that_book_alone_and_it_heals(
    autojump_clock: trio.testing.MockClock, fault: str, reason: str, checksums: bool
) -> None:
    exchange = exchange_for(book_checksums=checksums)
    follower = Follower()
    async with open_okx_client(
        subscriptions=[BTC, ETH], config=make_config(), connector=exchange.connector
    ) as client, trio.open_nursery() as nursery:
        nursery.start_soon(follower.follow, client.stream("books"))
        await both_valid(client)
        await trio.sleep(2.0)
        getattr(exchange, fault)(BTC)
        await client.wait_until(lambda: client.book("BTC-USDT") is None)
        broke_at = trio.current_time()
        assert client.book("ETH-USDT") is not None
        await client.wait_until(lambda: client.book("BTC-USDT") is not None)
        # Resubscribed at once; the fake answers at once: healed at the same virtual instant.
        assert trio.current_time() == broke_at
        assert await checkpoints(client, follower, "BTC-USDT", 40) == 40
        assert await checkpoints(client, follower, "ETH-USDT", 10) == 10
        stats = client.get_stats()
        assert stats.book_resync_reasons == ((reason, 1),)
        assert stats.reconnect_count == 0 and stats.books_valid == 2
        assert [(g.inst_id, g.reason) for g in follower.gaps()] == [("BTC-USDT", reason)]
        nursery.cancel_scope.cancel()


async def test_a_late_snapshot_resyncs_again_at_its_deadline_then_with_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = exchange_for()
    config = make_config(book_snapshot_timeout=5.0, initial_delay=1.0)
    async with open_okx_client(
        subscriptions=[BTC], config=config, connector=exchange.connector
    ) as client:
        await client.wait_until(lambda: client.book("BTC-USDT") is not None)
        exchange.delay_book_snapshot(BTC, 8.0)  # the next snapshot comes 8 s late
        exchange.drop_book_update(BTC)
        await client.wait_until(lambda: client.book("BTC-USDT") is None)
        broke_at = trio.current_time()
        await client.wait_until(lambda: client.get_stats().book_resyncs == 2)
        timed_out_at = trio.current_time() - broke_at
        await client.wait_until(lambda: client.book("BTC-USDT") is not None)
        healed_at = trio.current_time() - broke_at
        stats = client.get_stats()
    assert dict(stats.book_resync_reasons) == {"gap": 1, "snapshot_timeout": 1}
    # The fake answers at once, so the resubscribe is acked at the break; 5 s later there is
    # no snapshot: resynced again after 1 s of backoff (the second failure in a row), and
    # that snapshot comes on time.
    assert (timed_out_at, healed_at) == (5.0, 6.0)


async def test_without_a_websocket_snapshot_the_book_is_seeded_from_rest(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = exchange_for(book_snapshots=False)
    follower = Follower()
    async with httpx.AsyncClient(transport=exchange.http_transport()) as http, open_okx_client(
        subscriptions=[BTC, ETH],
        config=make_config(),
        connector=exchange.connector,
        http_client=http,
    ) as client, trio.open_nursery() as nursery:
        nursery.start_soon(follower.follow, client.stream("books"))
        await both_valid(client)
        assert await checkpoints(client, follower, "BTC-USDT", 40) == 40
        for inst_id in ("BTC-USDT", "ETH-USDT"):
            expected = exchange.order_book(inst_id)
            book = client.book(inst_id)
            assert expected is not None and book is not None
            # The exchange's own book, level for level, at this instant.
            assert [[lv.price_text, lv.size_text] for lv in book.bids] == [
                level[:2] for level in expected["bids"]
            ]
        stats = client.get_stats()
        assert stats.book_rest_seeds == 2 and stats.book_resyncs == 0
        assert exchange.rest_requests.get("/api/v5/market/books") == 2
        assert same_book(client.book("ETH-USDT"), follower.book("ETH-USDT"))
        nursery.cancel_scope.cancel()


async def test_a_failing_rest_snapshot_is_retried_with_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = exchange_for(book_snapshots=False)
    exchange.fail_rest(2, status=503)
    async with httpx.AsyncClient(transport=exchange.http_transport()) as http, open_okx_client(
        subscriptions=[BTC],
        config=make_config(initial_delay=1.0),
        connector=exchange.connector,
        http_client=http,
    ) as client:
        await client.wait_until(lambda: client.book("BTC-USDT") is not None)
        stats = client.get_stats()
    assert dict(stats.book_resync_reasons) == {"rest_failed": 2}
    assert stats.book_rest_seeds == 3
