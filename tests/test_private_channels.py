"""Behaviour: orders, positions and balances survive every reconnect.

The client logs in on every connection of the private endpoint before it subscribes there,
and after every (re)login fetches the open orders and the positions over signed REST, so a
consumer that applies its streams holds the truth even when an order filled during the
outage. Refused credentials fail the private endpoint only; secrets reach no log.
"""

from __future__ import annotations

import logging
import math
import secrets
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from okx_trio import (
    ClientConfig,
    ConnectionState,
    Credentials,
    Order,
    OrdersSnapshot,
    PositionsSnapshot,
    Subscription,
    open_okx_client,
)
from okx_trio.testing import FakeExchange

ORDERS = Subscription("orders", inst_type="ANY")
POSITIONS = Subscription("positions", inst_type="ANY")
ACCOUNT = Subscription("account")
EPOCH_MS = 1_800_000_000_000


def make_credentials() -> Credentials:
    return Credentials(
        "k" + secrets.token_hex(8), secrets.token_urlsafe(24), "P" + secrets.token_hex(6)
    )


def make_config(**changes: Any) -> ClientConfig:
    return ClientConfig(
        jitter=0.0, max_connects_per_second=None, max_requests_per_hour=None, **changes
    )


class Collector:
    def __init__(self) -> None:
        self.items: list[tuple[float, Any]] = []
        self._arrived = trio.Event()

    async def collect(self, channel: trio.MemoryReceiveChannel[Any]) -> None:
        async for item in channel:
            self.items.append((trio.current_time(), item))
            self._arrived.set()
            self._arrived = trio.Event()

    async def wait_until(self, predicate: Any) -> None:
        """Until *predicate()* holds for what this consumer took. (Not the client's
        ``wait_until``: that wakes on the client's changes, and this consumer takes its
        items a scheduling step later.)"""
        while not predicate():
            await self._arrived.wait()

    def of(self, kind: type) -> list[Any]:
        return [item for _, item in self.items if isinstance(item, kind)]

    async def wait_for(self, kind: type, count: int) -> None:
        await self.wait_until(lambda: len(self.of(kind)) >= count)


async def test_a_fill_during_an_outage_is_in_the_snapshot_after_the_relogin(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    exchange = FakeExchange(tick_interval=math.inf, epoch_ms=EPOCH_MS)
    credentials = make_credentials()
    account = exchange.add_account(credentials)
    orders = Collector()
    async with httpx.AsyncClient(transport=exchange.http_transport()) as http, open_okx_client(
        subscriptions=[ORDERS, POSITIONS],
        config=make_config(initial_delay=1.0),
        connector=exchange.connector,
        wall_clock=exchange.wall_clock,
        http_client=http,
        credentials=credentials,
    ) as client, trio.open_nursery() as nursery:
        nursery.start_soon(orders.collect, client.stream("orders"))
        await client.wait_subscribed()
        await orders.wait_for(OrdersSnapshot, 1)
        assert orders.of(OrdersSnapshot)[0].orders == ()  # nothing open yet
        first = account.place_order("BTC-USDT-SWAP", "buy", "2", "30000")
        second = account.place_order("BTC-USDT-SWAP", "buy", "1", "29000")
        await orders.wait_for(Order, 2)
        assert [o.ord_id for o in orders.of(Order)] == [first, second]

        exchange.drop_connections(endpoint="private")
        account.fill_order(first)  # nobody hears of it: the connection is down
        await orders.wait_for(OrdersSnapshot, 2)
        snapshot = orders.of(OrdersSnapshot)[1]
        assert [o.ord_id for o in snapshot.orders] == [second]  # the truth after the outage
        stats = client.get_stats()
        assert stats.reconnect_count == 1
        nursery.cancel_scope.cancel()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "logged in" in text
    assert credentials.reveal_passphrase() not in text
    secret = credentials._secret_key.reveal()
    assert secret not in text


async def test_refused_credentials_fail_the_private_endpoint_and_nothing_else(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0, epoch_ms=EPOCH_MS)
    exchange.add_account(make_credentials())
    wrong = make_credentials()  # not an account of this exchange
    async with open_okx_client(
        ["BTC-USDT"],
        subscriptions=[ORDERS],
        config=make_config(),
        connector=exchange.connector,
        wall_clock=exchange.wall_clock,
        credentials=wrong,
    ) as client:
        changes = client.state_changes()
        await client.wait_until(lambda: client.state is ConnectionState.FAILED)
        private = next(c for c in client.get_stats().connections if c.endpoint == "private")
        assert private.state is ConnectionState.FAILED
        assert "60005" in private.last_error
        public = next(c for c in client.get_stats().connections if c.endpoint == "public")
        await client.wait_until(lambda: client.latest("BTC-USDT") is not None)
        assert public.state is ConnectionState.CONNECTED
        failed = [c for c in drain(changes) if c.state is ConnectionState.FAILED]
        assert failed and "60005" in failed[0].message
        attempts = exchange.connection_attempts
        await trio.sleep(120)
        assert exchange.connection_attempts == attempts  # never retried


def drain(channel: trio.MemoryReceiveChannel[Any]) -> list[Any]:
    out = []
    while True:
        try:
            out.append(channel.receive_nowait())
        except trio.WouldBlock:
            return out


async def test_a_clock_off_by_a_minute_is_measured_and_the_login_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf, epoch_ms=EPOCH_MS)
    credentials = make_credentials()
    exchange.add_account(credentials)

    def slow_clock() -> float:
        return exchange.wall_clock() - 60.0

    async with httpx.AsyncClient(transport=exchange.http_transport()) as http, open_okx_client(
        subscriptions=[ACCOUNT],
        config=make_config(),
        connector=exchange.connector,
        wall_clock=slow_clock,
        http_client=http,
        credentials=credentials,
    ) as client:
        await client.wait_subscribed()
        assert client.clock_offset == pytest.approx(60.0, abs=0.01)
        stats = client.get_stats()
        assert stats.clock_offset == client.clock_offset and stats.logged_in
        assert client.get_stats().reconnect_count == 0  # the same connection, logged in


async def test_private_channels_need_credentials_at_the_call() -> None:
    with pytest.raises(ValueError, match="'orders' is private: it needs a login"):
        async with open_okx_client(subscriptions=[ORDERS], connector=FakeExchange().connector):
            pass
    async with open_okx_client(connector=FakeExchange().connector) as client:
        with pytest.raises(ValueError, match="'positions' is private"):
            client.add(POSITIONS)


async def test_positions_are_reconciled_too(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange(tick_interval=math.inf, epoch_ms=EPOCH_MS)
    credentials = make_credentials()
    account = exchange.add_account(credentials)
    account.set_position("BTC-USDT-SWAP", "3", "30000")
    seen = Collector()
    async with httpx.AsyncClient(transport=exchange.http_transport()) as http, open_okx_client(
        subscriptions=[POSITIONS],
        config=make_config(),
        connector=exchange.connector,
        wall_clock=exchange.wall_clock,
        http_client=http,
        credentials=credentials,
    ) as client, trio.open_nursery() as nursery:
        nursery.start_soon(seen.collect, client.stream("positions"))
        await seen.wait_until(lambda: any(s.source == "rest" for s in seen.of(PositionsSnapshot)))
        rest = next(s for s in seen.of(PositionsSnapshot) if s.source == "rest")
        assert [(p.inst_id, str(p.pos)) for p in rest.positions] == [("BTC-USDT-SWAP", "3")]
        nursery.cancel_scope.cancel()


async def test_credentials_in_the_config_log_in_as_well(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf, epoch_ms=EPOCH_MS)
    credentials = make_credentials()
    exchange.add_account(credentials)
    async with httpx.AsyncClient(transport=exchange.http_transport()) as http, open_okx_client(
        subscriptions=[ACCOUNT],
        config=make_config(credentials=credentials),
        connector=exchange.connector,
        wall_clock=exchange.wall_clock,
        http_client=http,
    ) as client:
        await client.wait_subscribed()
        assert client.acknowledged == {ACCOUNT}


async def test_private_connections_of_a_pool_log_in_with_distinct_timestamps(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Three private connections open in the same second; OKX refuses a timestamp it has
    # seen (60006), so each must sign its own.
    exchange = FakeExchange(tick_interval=math.inf, epoch_ms=EPOCH_MS)
    credentials = make_credentials()
    exchange.add_account(credentials)
    async with httpx.AsyncClient(transport=exchange.http_transport()) as http, open_okx_client(
        subscriptions=[ORDERS, POSITIONS, ACCOUNT],
        config=make_config(max_subscriptions_per_connection=1),
        connector=exchange.connector,
        wall_clock=exchange.wall_clock,
        http_client=http,
        credentials=credentials,
    ) as client:
        await client.wait_subscribed()
        stats = client.get_stats()
        private = [c for c in stats.connections if c.endpoint == "private"]
        assert len(private) == 3 and all(c.logged_in for c in private)
        assert stats.reconnect_count == 0
        assert trio.current_time() < 1.0
