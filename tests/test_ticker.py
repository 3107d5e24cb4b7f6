"""Ticker: the record, and change_pct in exact Decimal arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest

from okx_trio._codec import TickerPush, decode
from okx_trio._ticker import Ticker


def _ticker(last: str, open_24h: str) -> Ticker:
    d = Decimal
    return Ticker(
        inst_id="BTC-USDT",
        inst_type="SPOT",
        last=d(last),
        last_size=d("1"),
        bid=d("1"),
        bid_size=d("1"),
        ask=d("1"),
        ask_size=d("1"),
        open_24h=d(open_24h),
        high_24h=d("1"),
        low_24h=d("1"),
        vol_24h=d("1"),
        vol_ccy_24h=d("1"),
        ts=1652459224956,
    )


@pytest.mark.parametrize(
    ("last", "open_24h", "expected"),
    [
        ("110", "100", "10"),
        ("90", "100", "-10"),
        ("100", "100", "0"),
        ("0", "100", "-100"),
        ("300", "100", "200"),
        ("30236", "29700.4", "1.803342715923017871813174233"),
        ("103700", "103897.5", "-0.1900911956495584590582064054"),
        ("5.123", "4.799", "6.751406543029797874557199417"),
        ("1", "3", "-66.66666666666666666666666667"),
        ("0.00000062", "0.00000031", "100"),
    ],
)
def test_change_pct_exact(last: str, open_24h: str, expected: str) -> None:
    # Expected values: the exact quotient rounded to 28 significant digits (the default
    # decimal context), checked against a 60-digit computation.
    change = _ticker(last, open_24h).change_pct
    assert isinstance(change, Decimal)
    assert change == Decimal(expected)


def test_change_pct_is_decimal_arithmetic_not_float() -> None:
    change = _ticker("0.3", "0.1").change_pct
    assert change == Decimal("200")  # floats would give 199.99999999999997


@pytest.mark.parametrize("zero", ["0", "0.0", "-0", "0E-8"])
def test_change_pct_none_for_zero_open(zero: str) -> None:
    assert _ticker("5", zero).change_pct is None


def test_change_pct_none_for_unknown_open() -> None:
    event = decode(
        '{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT",'
        '"last":"5","open24h":"","ts":"1"}]}'
    )
    assert isinstance(event, TickerPush)
    assert event.tickers[0].change_pct is None


def test_ticker_is_frozen_with_slots() -> None:
    ticker = _ticker("1", "1")
    with pytest.raises(AttributeError):
        ticker.last = Decimal("2")  # type: ignore[misc]
    assert not hasattr(ticker, "__dict__")
    assert hash(ticker) == hash(_ticker("1", "1"))
    assert list(Ticker.__struct_fields__) == [
        "inst_id",
        "inst_type",
        "last",
        "last_size",
        "bid",
        "bid_size",
        "ask",
        "ask_size",
        "open_24h",
        "high_24h",
        "low_24h",
        "vol_24h",
        "vol_ccy_24h",
        "ts",
    ]


def test_tickers_compare_and_hash_by_value() -> None:
    assert _ticker("1", "2") == _ticker("1", "2")
    assert _ticker("1", "2") != _ticker("1.1", "2")
    assert hash(_ticker("1", "2")) == hash(_ticker("1.0", "2.00"))
