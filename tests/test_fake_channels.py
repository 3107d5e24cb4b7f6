"""Every channel of the fake exchange, in OKX's exact push shape, with consistent values.

Each channel's first push is checked against OKX's docs sample for it (same keys in the same
order, same value types); books, trades and candles are checked for what they promise
(seqId chaining, book around the ticker, candles summing the trades). Autojump clock, exact
virtual times.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
import trio
import trio.testing

from okx_trio._subscription import Subscription
from okx_trio.testing import FakeExchange, MemoryWebSocket

from .conftest import CAPTURES

PUBLIC = "wss://ws.okx.com:8443/ws/v5/public"
BUSINESS = "wss://ws.okx.com:8443/ws/v5/business"
EPOCH = 1_700_000_000_000


def _samples() -> dict[str, dict[str, Any]]:
    out = {}
    for line in (CAPTURES / "okx-docs-samples.jsonl").read_text().splitlines():
        sample = json.loads(line)
        if sample["kind"] == "push":
            out[sample["channel"]] = sample["message"]
    return out


SAMPLES = _samples()

# channel sample name -> the subscription the fake serves it for (a listed instrument).
CASES: list[tuple[str, Subscription]] = [
    ("tickers", Subscription("tickers", "BTC-USDT")),
    ("trades", Subscription("trades", "BTC-USDT")),
    ("trades-all", Subscription("trades-all", "BTC-USDT")),
    ("books", Subscription("books", "BTC-USDT")),
    ("books5", Subscription("books5", "BCH-USDT-SWAP")),
    ("bbo-tbt", Subscription("bbo-tbt", "BCH-USDT-SWAP")),
    ("candle1D", Subscription("candle1D", "BTC-USDT")),
    ("mark-price", Subscription("mark-price", "BTC-USD-251226")),
    ("funding-rate", Subscription("funding-rate", "BTC-USD-SWAP")),
    ("instruments", Subscription("instruments", inst_type="SPOT")),
    ("open-interest", Subscription("open-interest", "BTC-USDT-SWAP")),
    ("price-limit", Subscription("price-limit", "BTC-USD-251226")),
    ("opt-summary", Subscription("opt-summary", inst_family="BTC-USD")),
    (
        "estimated-price",
        Subscription("estimated-price", inst_type="FUTURES", inst_family="BTC-USD"),
    ),
    ("index-tickers", Subscription("index-tickers", "BTC-USDT")),
    ("mark-price-candle1D", Subscription("mark-price-candle1D", "BTC-USD-251226")),
    ("index-candle30m", Subscription("index-candle30m", "BTC-USD")),
    ("liquidation-orders", Subscription("liquidation-orders", inst_type="SWAP")),
]


def shape(value: Any) -> Any:
    """Keys in order and value types; lists of scalars also by length (candle rows, levels)."""
    if isinstance(value, dict):
        return ("dict", tuple((key, shape(item)) for key, item in value.items()))
    if isinstance(value, list):
        if not value:
            return ("list",)
        if all(not isinstance(item, dict | list) for item in value):
            return ("row", len(value), shape(value[0]))
        return ("list", shape(value[0]))
    return type(value).__name__


def same_shape(ours: Any, theirs: Any) -> bool:
    """:func:`shape` equality, except that an empty list matches any list (``upcChg: []``)."""
    if isinstance(ours, list) and isinstance(theirs, list) and not (ours and theirs):
        return True
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return list(ours) == list(theirs) and all(
            same_shape(ours[key], theirs[key]) for key in ours
        )
    return bool(shape(ours) == shape(theirs))


def subscribe_text(sub: Subscription, req_id: str = "1", op: str = "subscribe") -> str:
    return json.dumps({"id": req_id, "op": op, "args": [sub.arg]})


@asynccontextmanager
async def connection(
    exchange: FakeExchange, url: str, *subs: Subscription
) -> AsyncIterator[MemoryWebSocket]:
    """A connection with *subs* subscribed, the acks consumed and checked."""
    async with exchange.connector(url) as ws:
        for sub in subs:
            await ws.send_message(subscribe_text(sub))
        acks = 0
        while acks < len(subs):
            message = json.loads(await ws.get_message())
            if message.get("event") == "subscribe":
                acks += 1
            else:
                assert message.get("event") != "error", message
                pending.append(message)
        yield ws


pending: list[dict[str, Any]] = []


async def next_push(ws: MemoryWebSocket, sub: Subscription) -> dict[str, Any]:
    """The next push of *sub* (earlier messages of other subscriptions are skipped)."""
    while pending:
        message = pending.pop(0)
        if message.get("arg") == sub.arg:
            return message
    while True:
        message = json.loads(await ws.get_message())
        if message.get("arg") == sub.arg:
            return dict(message)


@pytest.mark.parametrize(("sample", "sub"), CASES, ids=[name for name, _ in CASES])
async def test_first_push_has_the_docs_sample_shape(
    autojump_clock: trio.testing.MockClock, sample: str, sub: Subscription
) -> None:
    pending.clear()
    exchange = FakeExchange(tick_interval=0.1, epoch_ms=EPOCH)
    url = BUSINESS if sub.endpoint == "business" else PUBLIC
    async with connection(exchange, url, sub) as ws:
        push = await next_push(ws, sub)
    assert trio.current_time() == 0.0  # the first push follows the ack at once
    expected = SAMPLES[sample]
    # The liquidation sample is a subscribe response that carries the request's id.
    assert list(push) == [key for key in expected if key != "id"]
    assert push["arg"] == sub.arg
    data, sample_data = push["data"], expected["data"]
    assert data, push
    ours, theirs = data[0], sample_data[0]
    if sample == "tickers":
        # Same keys; the order is the one of recorded traffic (the docs page differs), which
        # test_fake_exchange checks.
        assert set(ours) == set(theirs)
        theirs = {key: theirs[key] for key in ours}
    assert same_shape(ours, theirs), (shape(ours), shape(theirs))


async def test_books_chain_seq_ids_and_stay_around_the_ticker(
    autojump_clock: trio.testing.MockClock,
) -> None:
    pending.clear()
    exchange = FakeExchange(tick_interval=0.1, epoch_ms=EPOCH)
    tickers, books = Subscription("tickers", "ETH-USDT"), Subscription("books", "ETH-USDT")
    async with connection(exchange, PUBLIC, tickers, books) as ws:
        snapshot = await next_push(ws, books)
        assert snapshot["action"] == "snapshot"
        [data] = snapshot["data"]
        assert (data["prevSeqId"], data["checksum"]) == (-1, 0)
        asks = {Decimal(p): level for p, *level in data["asks"]}
        bids = {Decimal(p): level for p, *level in data["bids"]}
        assert len(asks) == len(bids) == 400
        assert [Decimal(p) for p, *_ in data["asks"]] == sorted(asks)
        assert [Decimal(p) for p, *_ in data["bids"]] == sorted(bids, reverse=True)
        last_seq, steps = data["seqId"], set()
        for _ in range(30):
            ticker = (await next_push(ws, tickers))["data"][0]
            update = await next_push(ws, books)
            assert update["action"] == "update"
            [data] = update["data"]
            assert data["prevSeqId"] == last_seq
            steps.add(data["seqId"] - last_seq)
            last_seq = data["seqId"]
            for side, book in (("asks", asks), ("bids", bids)):
                for price, size, zero, orders in data[side]:
                    assert zero == "0"
                    if size == "0":
                        del book[Decimal(price)]
                    else:
                        book[Decimal(price)] = [size, zero, orders]
            assert min(asks) == Decimal(ticker["askPx"]) and max(bids) == Decimal(ticker["bidPx"])
            assert asks[min(asks)][0] == ticker["askSz"]
            assert len(asks) == len(bids) == 400
    assert trio.current_time() == 3.0
    assert len(steps) > 3 and min(steps) >= 1  # irregular steps, never backwards


async def test_trades_are_near_last_and_candles_sum_them(
    autojump_clock: trio.testing.MockClock,
) -> None:
    pending.clear()
    exchange = FakeExchange(tick_interval=0.1, epoch_ms=EPOCH)
    trades, candles = Subscription("trades-all", "SOL-USDT"), Subscription("candle1s", "SOL-USDT")
    seen: list[dict[str, str]] = []
    rows: list[list[str]] = []
    async with connection(exchange, BUSINESS, trades, candles) as ws:
        with trio.move_on_after(5.05):
            while True:
                message = json.loads(await ws.get_message())
                if message["arg"] == trades.arg:
                    seen.extend(message["data"])
                else:
                    rows.extend(message["data"])
    confirmed = [row for row in rows if row[-1] == "1"]
    assert len(confirmed) >= 3
    assert all(int(row[0]) % 1000 == 0 for row in rows)
    for row in confirmed[1:]:  # the first bar began before the candle subscription
        start = int(row[0])
        inside = [t for t in seen if start <= int(t["ts"]) < start + 1000]
        assert inside
        o, h, low, c = (Decimal(x) for x in row[1:5])
        assert (o, c) == (Decimal(inside[0]["px"]), Decimal(inside[-1]["px"]))
        assert h == max(Decimal(t["px"]) for t in inside)
        assert low == min(Decimal(t["px"]) for t in inside)
        assert Decimal(row[5]) == sum(Decimal(t["sz"]) for t in inside)
        assert Decimal(row[7]) == sum(Decimal(t["sz"]) * Decimal(t["px"]) for t in inside)
    assert {t["side"] for t in seen} == {"buy", "sell"}
    ids = [int(t["tradeId"]) for t in seen]
    assert ids == sorted(set(ids))


async def test_instruments_come_once_by_type_and_cadence_is_configurable(
    autojump_clock: trio.testing.MockClock,
) -> None:
    pending.clear()
    exchange = FakeExchange(tick_interval=0.1, cadence={"candle": 0.5, "instruments": 2.0})
    listing = Subscription("instruments", inst_type="SWAP")
    candle = Subscription("candle1m", "BTC-USDT")
    async with exchange.connector(BUSINESS) as business:
        await business.send_message(subscribe_text(candle))
        await business.get_message()
        times = []
        for _ in range(3):
            await next_push(business, candle)
            times.append(trio.current_time())
        assert times == [0.0, 0.5, 1.0]
    async with connection(exchange, PUBLIC, listing) as ws:
        start = trio.current_time()
        push = await next_push(ws, listing)
        ids = {item["instId"] for item in push["data"]}
        assert ids == {i for i in exchange.listed if i.endswith("-SWAP")}
        await next_push(ws, listing)
        assert trio.current_time() == start + 2.0
    with pytest.raises(ValueError, match="unknown channel 'candles'"):
        FakeExchange(cadence={"candles": 1.0})
    with pytest.raises(ValueError, match="must be a number > 0"):
        FakeExchange(cadence={"trades": 0})


async def test_explicit_push_with_and_without_data(autojump_clock: trio.testing.MockClock) -> None:
    pending.clear()
    exchange = FakeExchange(tick_interval=math.inf, epoch_ms=EPOCH, stagger_ms=0)
    sub = Subscription("mark-price", "ETH-USDT-SWAP")
    async with connection(exchange, PUBLIC, sub) as ws:
        exchange.push("mark-price:ETH-USDT-SWAP")
        push = await next_push(ws, sub)
        assert push["data"][0]["ts"] == str(EPOCH)
        exchange.push(sub, data=[{"instType": "SWAP", "instId": "ETH-USDT-SWAP", "markPx": "1"}])
        assert (await next_push(ws, sub))["data"][0]["markPx"] == "1"
        exchange.push(Subscription("mark-price", "BTC-USDT-SWAP"))  # nobody has it
        with trio.move_on_after(1):
            pytest.fail(f"unexpected {await ws.get_message()!r}")
    assert exchange.pushes == 2
