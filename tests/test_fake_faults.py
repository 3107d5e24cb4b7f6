"""Faults per endpoint and per subscription, on channels beyond tickers."""

from __future__ import annotations

import json

import pytest
import trio
import trio.testing

from okx_trio._connection import ConnectionClosed
from okx_trio._subscription import Subscription
from okx_trio.testing import FakeExchange, MemoryWebSocket

PUBLIC = "wss://ws.okx.com:8443/ws/v5/public"
BUSINESS = "wss://ws.okx.com:8443/ws/v5/business"
TRADES = Subscription("trades", "BTC-USDT")
BOOKS = Subscription("books5", "ETH-USDT")
CANDLE = Subscription("candle1m", "BTC-USDT")


async def subscribe(ws: MemoryWebSocket, *subs: Subscription) -> None:
    await ws.send_message(json.dumps({"op": "subscribe", "args": [s.arg for s in subs]}))
    acks = 0
    while acks < len(subs):
        if json.loads(await ws.get_message()).get("event") == "subscribe":
            acks += 1


async def channels_within(ws: MemoryWebSocket, seconds: float) -> set[str]:
    seen: set[str] = set()
    with trio.move_on_after(seconds):
        while True:
            seen.add(json.loads(await ws.get_message())["arg"]["channel"])
    return seen


async def test_freeze_withholds_every_channel_of_the_instrument(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.5)
    async with exchange.connector(PUBLIC) as ws:
        await subscribe(ws, TRADES, BOOKS, Subscription("tickers", "BTC-USDT"))
        [conn] = exchange.connections
        assert await channels_within(ws, 0.75) == {"trades", "books5", "tickers"}
        exchange.freeze_instruments("BTC-USDT")
        assert conn.frozen == {"BTC-USDT"}
        assert await channels_within(ws, 2) == {"books5"}
        exchange.thaw_instruments()
        assert await channels_within(ws, 0.5) == {"trades", "books5", "tickers"}
        assert conn.last_push_of[TRADES] == trio.current_time() - 0.25
        assert [r.subscriptions for r in conn.requests] == [
            (TRADES, BOOKS, Subscription("tickers", "BTC-USDT"))
        ]
        assert conn.requests[0].inst_ids == ("BTC-USDT", "ETH-USDT", "BTC-USDT")


async def test_faults_pick_an_endpoint(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange(tick_interval=0.5)
    async with exchange.connector(PUBLIC) as public, exchange.connector(BUSINESS) as business:
        await subscribe(public, TRADES)
        await subscribe(business, CANDLE)
        pub, bus = exchange.connections
        assert await channels_within(business, 0.25) == {"candle1m"}
        exchange.go_silent(endpoint="business")
        assert (pub.silent, bus.silent, exchange.silent) == (False, True, False)
        assert await channels_within(business, 3) == set()
        assert await channels_within(public, 0.5) == {"trades"}
        exchange.resume(endpoint="business")
        assert await channels_within(business, 1) == {"candle1m"}
        exchange.send_raw("x", endpoint="public")
        while (message := await public.get_message()) != "x":
            assert json.loads(message)["arg"] == TRADES.arg
        assert exchange.drop_connections(4000, "bye", endpoint="business") == 1
        with pytest.raises(ConnectionClosed) as info:
            while True:
                await business.get_message()
        assert info.value.code == 4000
        assert exchange.connections == [pub]
        with pytest.raises(ValueError, match="endpoint must be"):
            exchange.drop_connections(endpoint="spot")  # type: ignore[arg-type]


async def test_reject_instruments_reaches_every_channel(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.5)
    exchange.reject_instruments("BTC-USDT", code="60013")
    async with exchange.connector(BUSINESS) as ws:
        await ws.send_message(json.dumps({"id": "9", "op": "subscribe", "args": [CANDLE.arg]}))
        error = json.loads(await ws.get_message())
        assert (error["id"], error["code"]) == ("9", "60013")
        assert exchange.subscribed() == set()


async def test_reject_subscriptions_reaches_one_channel(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.5)
    exchange.reject_subscriptions("trades:BTC-USDT", code="64003")
    async with exchange.connector(PUBLIC) as ws:
        await ws.send_message(json.dumps({"op": "subscribe", "args": [TRADES.arg]}))
        assert json.loads(await ws.get_message())["code"] == "64003"
        await subscribe(ws, Subscription("tickers", "BTC-USDT"))
        exchange.accept_subscriptions(TRADES)
        await subscribe(ws, TRADES)
        assert exchange.subscribed() == {TRADES, Subscription("tickers", "BTC-USDT")}
