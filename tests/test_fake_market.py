"""MarketSimulator: deterministic, realistic, internally consistent OKX tickers."""

from __future__ import annotations

import itertools
import math
import re
from decimal import Decimal

import pytest

from okx_trio.testing import MarketSimulator

KEYS = [
    "instType", "instId", "last", "lastSz", "askPx", "askSz", "bidPx", "bidSz", "open24h",
    "high24h", "low24h", "sodUtc0", "sodUtc8", "volCcy24h", "vol24h", "ts",
]  # fmt: skip
# OKX's number format: plain decimal, no exponent, no trailing zeros after the point.
NUMBER = re.compile(r"(0|[1-9]\d*)(\.\d*[1-9])?")
PRICES = ("last", "askPx", "bidPx", "open24h", "high24h", "low24h", "sodUtc0", "sodUtc8")


def walk(market: MarketSimulator, inst_id: str, steps: int) -> list[dict[str, str]]:
    return [market.next_ticker(inst_id, 1_000 + 100 * i) for i in range(steps)]


def test_same_seed_same_walk_other_seed_other_walk() -> None:
    assert walk(MarketSimulator(1), "BTC-USDT", 50) == walk(MarketSimulator(1), "BTC-USDT", 50)
    assert walk(MarketSimulator(1), "BTC-USDT", 50) != walk(MarketSimulator(2), "BTC-USDT", 50)


def test_instruments_do_not_affect_each_other() -> None:
    a, b = MarketSimulator(3), MarketSimulator(3)
    a.next_ticker("ETH-USDT", 1)
    from_a = walk(a, "BTC-USDT", 10)
    assert from_a == walk(b, "BTC-USDT", 10)


def test_same_timestamp_same_ticker() -> None:
    market = MarketSimulator()
    first = market.next_ticker("SOL-USDT", 5)
    assert market.next_ticker("SOL-USDT", 5) == first
    assert market.next_ticker("SOL-USDT", 4) == first
    assert market.next_ticker("SOL-USDT", 6) != first
    first["last"] = "mutated"  # callers get copies
    assert market.next_ticker("SOL-USDT", 6)["last"] != "mutated"


@pytest.mark.parametrize(
    ("inst_id", "inst_type", "level"),
    [
        ("BTC-USDT", "SPOT", 95_000),
        ("ETH-USDT", "SPOT", 3_400),
        ("SOL-USDT", "SPOT", 180),
        ("DOGE-USDT", "SPOT", 0.38),
        ("BTC-USDT-SWAP", "SWAP", 95_000),
        ("ETH-USD-251226", "FUTURES", 3_400),
        ("ETH-BTC", "SPOT", 3_400 / 95_000),
    ],
)
def test_realistic_levels_and_types(inst_id: str, inst_type: str, level: float) -> None:
    ticker = MarketSimulator().next_ticker(inst_id, 0)
    assert ticker["instType"] == inst_type
    assert ticker["instId"] == inst_id
    assert abs(float(ticker["last"]) / level - 1) < 0.1


def test_unknown_instruments_get_a_stable_level() -> None:
    levels = [float(MarketSimulator(seed).next_ticker("ZZTOP-USDT", 0)["last"]) for seed in (0, 9)]
    assert abs(levels[0] / levels[1] - 1) < 0.1
    assert 0.0005 < levels[0] < 2000


@pytest.mark.parametrize(
    ("inst_id", "tick_decimals"),
    [("BTC-USDT", 1), ("DOGE-USDT", 6), ("ETH-USDT-SWAP", 2), ("FOO-BAR-250101", None)],
)
def test_walk_stays_consistent(inst_id: str, tick_decimals: int | None) -> None:
    tickers = walk(MarketSimulator(5, volatility=0.002), inst_id, 300)
    decimals = max(len(t[k].partition(".")[2]) for t in tickers for k in PRICES)
    # On one tick grid: the price level decides the tick, like OKX's 0.1 for BTC-USDT.
    if tick_decimals is not None:
        assert decimals == tick_decimals
    assert decimals <= 10
    vol = Decimal(tickers[0]["vol24h"])
    for ticker in tickers:
        assert list(ticker) == KEYS
        for key in KEYS[2:-1]:
            assert NUMBER.fullmatch(ticker[key]), (key, ticker[key])
        last, bid, ask = (Decimal(ticker[k]) for k in ("last", "bidPx", "askPx"))
        assert bid < last <= ask
        assert (ask - bid) / last < Decimal("0.001")
        low, high = Decimal(ticker["low24h"]), Decimal(ticker["high24h"])
        assert low <= last <= high
        assert low <= Decimal(ticker["open24h"]) <= high
        assert Decimal(ticker["lastSz"]) > 0
    for before, after in itertools.pairwise(tickers):
        # Volume grows by exactly the size of each trade.
        assert Decimal(after["vol24h"]) == Decimal(before["vol24h"]) + Decimal(after["lastSz"])
        assert Decimal(after["volCcy24h"]) > Decimal(before["volCcy24h"])
    assert Decimal(tickers[-1]["vol24h"]) > vol
    assert len({t["last"] for t in tickers}) > 10  # the walk moves


def test_volatility_must_be_finite_and_not_negative() -> None:
    for bad in (-0.1, math.inf, math.nan):
        with pytest.raises(ValueError):
            MarketSimulator(volatility=bad)
    flat = walk(MarketSimulator(volatility=0.0), "BTC-USDT", 20)
    assert len({t["last"] for t in flat}) == 1
