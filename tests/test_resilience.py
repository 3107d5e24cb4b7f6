"""Endpoint failover, make-before-break, stale instruments, the sharded pool and rate limits.

All against the in-memory fake exchange under the autojump clock, so times are exact.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio
import trio.testing

from okx_trio import ConnectionState, OkxClient, Ticker, open_okx_client
from okx_trio.testing import FakeExchange, MemoryWebSocket

from .conftest import make_config, recording

S = ConnectionState
PAIRS = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
PRIMARY = "ws://primary.okx.test/ws/v5/public"
BACKUP = "ws://backup.okx.test/ws/v5/public"


class TickLog:
    """Every ticker a consumer saw, with its arrival time, per instrument."""

    def __init__(self) -> None:
        self.by_pair: dict[str, list[tuple[float, Ticker]]] = defaultdict(list)

    async def collect(self, client: OkxClient) -> None:
        async for ticker in client.ticks():
            self.by_pair[ticker.inst_id].append((trio.current_time(), ticker))

    def gaps(self, inst_id: str, start: float, end: float) -> list[float]:
        times = [start] + [t for t, _ in self.by_pair[inst_id] if start <= t <= end] + [end]
        return [b - a for a, b in itertools.pairwise(times)]

    def timestamps(self, inst_id: str) -> list[int]:
        return [ticker.ts for _, ticker in self.by_pair[inst_id]]


# -- 1. endpoint failover --------------------------------------------------------------------------


async def test_a_failed_attempt_moves_to_the_next_url_and_a_healthy_one_returns_to_the_first(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    down = {PRIMARY}
    tried: list[tuple[float, str]] = []

    @asynccontextmanager
    async def connector(url: str) -> AsyncIterator[MemoryWebSocket]:
        tried.append((trio.current_time(), url))
        if url in down:
            raise OSError(f"{url} unreachable")
        async with exchange.connector(url) as ws:
            yield ws

    config = make_config(url=PRIMARY, urls=(PRIMARY, BACKUP))
    async with open_okx_client(PAIRS, config=config, connector=connector) as client:
        await client.wait_subscribed()
        assert tried == [(0.0, PRIMARY), (1.0, BACKUP)]
        stats = client.get_stats()
        assert stats.url == BACKUP
        assert stats.url_failures == ((PRIMARY, 1), (BACKUP, 0))

        # Healthy on the backup (stable_after = 30 s), then dropped: back to the first url.
        down.clear()
        await trio.sleep(40)
        exchange.drop_connections()
        await client.wait_until(lambda: client.get_stats().connections_opened == 2)
        await client.wait_subscribed()
        assert [url for _, url in tried] == [PRIMARY, BACKUP, PRIMARY]
        assert client.get_stats().url == PRIMARY

        # Dropped before it proved healthy: a failure of that url, so the next one is tried.
        exchange.drop_connections()
        await client.wait_until(lambda: client.get_stats().connections_opened == 3)
        assert [url for _, url in tried][-1] == BACKUP
        assert client.get_stats().url_failures == ((PRIMARY, 2), (BACKUP, 0))


async def test_the_default_config_fails_over_to_okx_aws_endpoint() -> None:
    from okx_trio import AWS_URL, DEFAULT_URL, ClientConfig

    assert ClientConfig().urls == (DEFAULT_URL, AWS_URL)
    assert ClientConfig(url="ws://127.0.0.1:1/ws").urls == ("ws://127.0.0.1:1/ws",)
    assert ClientConfig().replace(url="ws://h/ws").urls == ("ws://h/ws",)
    assert ClientConfig(urls=("ws://a/ws", "ws://b/ws")).url == "ws://a/ws"


# -- 2. make-before-break on 64008 -----------------------------------------------------------------


async def test_upgrade_notice_switches_to_a_new_connection_without_a_gap(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0, epoch_ms=0)
    log = TickLog()
    async with open_okx_client(
        PAIRS, config=make_config(), connector=exchange.connector, wall_clock=exchange.wall_clock
    ) as client:
        async with recording(client) as rec, trio.open_nursery() as nursery:
            nursery.start_soon(log.collect, client)
            await client.wait_subscribed()
            await trio.sleep(40.5)
            old = exchange.connections[0]
            noticed_at = trio.current_time()
            exchange.send_notice("64008")
            await client.wait_until(lambda: client.get_stats().handovers == 1)
            # The in-memory exchange answers at once: every pair ticked on the new
            # connection at the moment of the notice, so the switch happens then.
            assert trio.current_time() == noticed_at
            await exchange.wait_until(lambda: old.closed_at is not None)
            assert old.closed_at == noticed_at
            await trio.sleep(20)
            end = trio.current_time()
            nursery.cancel_scope.cancel()

        assert rec.states() == [S.CONNECTING, S.CONNECTED]  # no RECONNECTING at all
        assert [c.message for c in rec.notices()] == [
            "service upgrade notice (64008): opening a new connection before this one closes",
            "new connection open: subscribing there before switching",
            "switched to the new connection (service upgrade)",
        ]
        for inst_id in PAIRS:
            assert max(log.gaps(inst_id, 1.0, end)) <= 1.0
            stamps = log.timestamps(inst_id)
            assert stamps == sorted(set(stamps))  # strictly increasing: no duplicate, no going back
        stats = client.get_stats()
        assert (stats.connections_opened, stats.reconnect_count, stats.handovers) == (2, 1, 1)
        assert stats.state is S.CONNECTED and client.subscribed_pairs == set(PAIRS)
        assert len(exchange.connections) == 1
        assert exchange.connections[0].subscriptions == set(PAIRS)


async def test_if_the_new_connection_fails_the_old_one_stays_and_its_close_reconnects_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(PAIRS, config=make_config(), connector=exchange.connector) as client:
        async with recording(client) as rec:
            await client.wait_subscribed()
            await trio.sleep(40)
            exchange.refuse_connections(1)
            exchange.send_notice("64008")
            await rec.wait_until(lambda rec: any("staying on" in c.message for c in rec.notices()))
            assert client.state is S.CONNECTED and client.get_stats().handovers == 0
            await trio.sleep(5)
            dropped_at = trio.current_time()
            exchange.drop_connections(1012, "service upgrade")
            await rec.wait_until(lambda rec: len(rec.times_of(S.CONNECTED)) == 2)
            assert rec.times_of(S.CONNECTED)[-1] == dropped_at  # no backoff after a notice
            await client.wait_subscribed()


# -- 3. stale instruments --------------------------------------------------------------------------


async def test_a_frozen_instrument_is_resubscribed_on_its_own(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0, epoch_ms=0)
    config = make_config(stale_after=10.0)
    async with open_okx_client(
        PAIRS, config=config, connector=exchange.connector, wall_clock=exchange.wall_clock
    ) as client:
        async with recording(client) as rec:
            await client.wait_subscribed()
            await trio.sleep(5.5)  # BTC-USDT last ticked at 5.0
            exchange.freeze_instruments("BTC-USDT")
            await client.wait_until(lambda: client.get_stats().stale_resubscribes == 1)
            assert trio.current_time() == 15.0
            frozen_at = trio.current_time()
            await client.wait_until(
                lambda: (t := client.latest("BTC-USDT")) is not None and t.ts >= 15_000
            )
            assert trio.current_time() == frozen_at  # resubscribed and ticking at once
            conn = exchange.connections[0]
            assert [(r.op, r.inst_ids) for r in conn.requests] == [
                ("subscribe", tuple(sorted(PAIRS))),
                ("unsubscribe", ("BTC-USDT",)),
                ("subscribe", ("BTC-USDT",)),
            ]
            assert "no update for 10s on BTC-USDT: resubscribing" in [
                c.message for c in rec.notices()
            ]
            assert len(exchange.connections) == 1 and client.is_connected
            await trio.sleep(60)  # cured: no further resubscribe
            assert client.get_stats().stale_resubscribes == 1


# -- 7. the sharded pool ---------------------------------------------------------------------------

MANY = [f"C{i:04d}-USDT" for i in range(2000)]


async def test_two_thousand_pairs_over_four_connections_survive_one_drop(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0, reject_unlisted=False)
    config = make_config(max_pairs_per_connection=500)
    log = TickLog()
    async with open_okx_client(
        MANY, config=config, connector=exchange.connector, wall_clock=exchange.wall_clock
    ) as client:
        async with recording(client) as rec, trio.open_nursery() as nursery:
            nursery.start_soon(log.collect, client)
            await client.wait_subscribed()
            # OKX's 3 connections per second: the fourth waited a second.
            assert exchange.connect_times == [0.0, 0.0, 0.0, 1.0]
            layout = [c.subscriptions.copy() for c in exchange.connections]
            assert all(len(s) <= 500 for s in layout) and set().union(*layout) == set(MANY)
            stats = client.get_stats()
            assert len(stats.connections) == 4 and stats.subscribed_pairs == 2000
            assert stats.connects_delayed == 1

            await trio.sleep(10.5)
            victim = next(c for c in exchange.connections if MANY[0] in c.subscriptions)
            dropped_at = trio.current_time()
            exchange.drop_connections(only=[victim])
            await client.wait_until(lambda: client.get_stats().connections_opened == 5)
            await client.wait_subscribed()
            await trio.sleep(10)
            end = trio.current_time()
            nursery.cancel_scope.cancel()

        # The others never missed a beat; the victim's pairs came back on one new connection.
        for inst_id in MANY:
            if inst_id not in victim.subscriptions:
                assert max(log.gaps(inst_id, dropped_at - 1.0, end)) <= 1.0
        assert exchange.connections[-1].subscriptions == victim.subscriptions
        # Only the victim's link went through RECONNECTING; the others stayed CONNECTED.
        reconnecting = [c.connection for _, c in rec.changes if c.state is S.RECONNECTING]
        assert len(reconnecting) == 1
        connected = [c.connection for _, c in rec.changes if c.state is S.CONNECTED]
        assert sorted(connected) == sorted([0, 1, 2, 3, reconnecting[0]])
        assert rec.changes[-1][1].message.startswith(f"[connection {reconnecting[0]}] ")


async def test_pool_changes_move_no_pair_that_stays(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange(tick_interval=5.0, reject_unlisted=False)
    config = make_config(max_pairs_per_connection=500, max_connects_per_second=None)
    async with open_okx_client(MANY[:1000], config=config, connector=exchange.connector) as client:
        await client.wait_subscribed()
        before = {p: i for i, c in enumerate(exchange.connections) for p in c.subscriptions}
        client.subscribe(MANY[100:1100])
        await client.wait_subscribed()
        after = {
            p: i
            for i, c in enumerate(exchange.connections)
            if c.closed_at is None
            for p in c.subscriptions
        }
        assert all(after[p] == before[p] for p in MANY[100:1000])
        assert set(after) == set(MANY[100:1100])
        unsubscribed = [
            p
            for c in exchange.connections
            for r in c.requests
            if r.op == "unsubscribe"
            for p in r.inst_ids
        ]
        assert sorted(unsubscribed) == sorted(MANY[:100])


# -- 8. rate limits --------------------------------------------------------------------------------


async def test_a_spent_request_budget_waits_instead_of_being_cut_off(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0, max_requests_per_hour=3)
    config = make_config(max_requests_per_hour=3)
    async with open_okx_client(PAIRS, config=config, connector=exchange.connector) as client:
        async with recording(client) as rec:
            await client.wait_subscribed()  # request 1 at t=0
            await trio.sleep(10)
            client.add_pair("DOGE-USDT")  # request 2
            await client.wait_subscribed()
            await trio.sleep(10)
            client.remove_pair("DOGE-USDT")  # request 3
            await client.wait_subscribed()
            await trio.sleep(10)
            client.add_pair("ADA-USDT")  # over budget until the first leaves the hour
            await trio.sleep(1)
            stats = client.get_stats()
            assert (stats.request_budget, stats.requests_delayed) == (0, 1)
            assert "ADA-USDT" not in exchange.subscriptions()
            await client.wait_subscribed()
            assert trio.current_time() == 3600.0
            assert exchange.requests_refused_by_limit == 0
            assert len(exchange.connections) == 1
            assert any(
                "budget spent (3 per hour): waiting 3570s" in c.message for c in rec.notices()
            )


async def test_every_pooled_connection_hands_over_on_its_own_upgrade_notice(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0, epoch_ms=0, reject_unlisted=False)
    pairs = MANY[:40]
    config = make_config(max_pairs_per_connection=10)
    log = TickLog()
    async with open_okx_client(
        pairs, config=config, connector=exchange.connector, wall_clock=exchange.wall_clock
    ) as client:
        async with recording(client) as rec, trio.open_nursery() as nursery:
            nursery.start_soon(log.collect, client)
            await client.wait_subscribed()
            await trio.sleep(30.5)
            noticed_at = trio.current_time()
            exchange.send_notice("64008")
            await client.wait_until(lambda: client.get_stats().handovers == 4)
            # Four new connections at 3 per second: the fourth waits for the next second,
            # and its pairs keep ticking on the old connection meanwhile.
            assert trio.current_time() == noticed_at + 1.0
            await trio.sleep(10)
            end = trio.current_time()
            nursery.cancel_scope.cancel()
        assert [c.state for _, c in rec.changes if c.state is not S.CONNECTED] == [S.CONNECTING] * 4
        for inst_id in pairs:
            assert max(log.gaps(inst_id, 1.0, end)) <= 1.0
            stamps = log.timestamps(inst_id)
            assert stamps == sorted(set(stamps))
        assert len(exchange.connections) == 4
        assert {p for c in exchange.connections for p in c.subscriptions} == set(pairs)
