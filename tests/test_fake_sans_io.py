"""The fake exchange's sans-IO parts: no Trio imported, candle bars as OKX draws them,
the listing's per-channel rules."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import okx_trio.testing
from okx_trio._subscription import Subscription
from okx_trio.testing._candles import CandleSeries, bar_open
from okx_trio.testing._listing import DEFAULT_LISTING, Listing, instrument

SANS_IO = [
    "_candles",
    "_channel_data",
    "_derivatives_data",
    "_feeds",
    "_fidelity",
    "_limits",
    "_listing",
    "_market",
    "_protocol",
    "_records",
    "_server_protocol",
    "_venue",
]


@pytest.mark.parametrize("module", SANS_IO)
def test_sans_io_modules_import_no_trio(module: str) -> None:
    path = Path(okx_trio.testing.__file__).parent / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"trio", "trio_websocket", "socket", "time", "asyncio"}, imported


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return round(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("bar", "moment", "opened"),
    [
        ("1s", ms(2026, 12, 1, 23, 59, 59) + 999, ms(2026, 12, 1, 23, 59, 59)),
        ("1m", ms(2026, 12, 1, 23, 59, 59), ms(2026, 12, 1, 23, 59)),
        ("4H", ms(2026, 12, 1, 23, 59), ms(2026, 12, 1, 20)),
        # 6H and longer open at UTC+8 unless they end in utc.
        ("6H", ms(2026, 12, 1, 23, 59), ms(2026, 12, 1, 22)),
        ("6Hutc", ms(2026, 12, 1, 23, 59), ms(2026, 12, 1, 18)),
        ("1D", ms(2026, 12, 1, 23, 59), ms(2026, 12, 1, 16)),
        ("1Dutc", ms(2026, 12, 1, 23, 59), ms(2026, 12, 1)),
        ("1Wutc", ms(2026, 12, 3, 12), ms(2026, 11, 30)),  # a Monday
        ("1M", ms(2026, 12, 1, 12), ms(2026, 11, 30, 16)),
        ("3Mutc", ms(2026, 12, 1), ms(2026, 10, 1)),
        ("1Yutc", ms(2026, 12, 1), ms(2026, 1, 1)),
    ],
)
def test_bar_open(bar: str, moment: int, opened: int) -> None:
    assert bar_open(bar, moment) == opened


def test_candle_series_confirms_a_closed_bar_once() -> None:
    series = CandleSeries("1m", with_volume=True)
    start = ms(2026, 12, 1, 12)
    series.add(start + 1000, Decimal("10"), Decimal("1"), Decimal("10"), Decimal("10"))
    series.add(start + 2000, Decimal("12"), Decimal("2"), Decimal("24"), Decimal("24"))
    series.add(start + 3000, Decimal("9"), Decimal("1"), Decimal("9"), Decimal("9"))
    assert series.rows_after(None) == [[str(start), "10", "12", "9", "9", "4", "43", "43", "0"]]
    series.add(start + 61_000, Decimal("11"), Decimal("1"), Decimal("11"), Decimal("11"))
    rows = series.rows_after(start)
    assert rows == [
        [str(start), "10", "12", "9", "9", "4", "43", "43", "1"],
        [str(start + 60_000), "11", "11", "11", "11", "1", "11", "11", "0"],
    ]
    assert series.rows_after(start + 60_000) == rows[1:]
    with pytest.raises(ValueError, match="unknown candle bar '7m'"):
        CandleSeries("7m", with_volume=False)


def test_listing_rules_by_channel() -> None:
    listing = Listing(*DEFAULT_LISTING)
    assert listing.serves(Subscription("funding-rate", "BTC-USDT-SWAP"))
    assert not listing.serves(Subscription("funding-rate", "BTC-USDT"))
    assert not listing.serves(Subscription("open-interest", "BTC-USDT"))
    assert listing.serves(Subscription("mark-price", "BTC-USDT"))
    assert listing.serves(Subscription("index-tickers", "BTC-USD"))
    assert not listing.serves(Subscription("index-tickers", "BTC-USDT-SWAP"))
    assert listing.serves(Subscription("opt-summary", inst_family="BTC-USD"))
    assert not listing.serves(Subscription("opt-summary", inst_family="SOL-USD"))
    assert listing.serves(Subscription("estimated-price", "BTC-USD-251226", inst_type="FUTURES"))
    assert not listing.serves(Subscription("estimated-price", "BTC-USD-251226", inst_type="SWAP"))
    assert listing.serves(Subscription("instruments", inst_type="OPTION"))
    assert not listing.serves(Subscription("tickers", "FOO-BAR"))
    listing.add("FOO-BAR")
    assert listing.serves(Subscription("candle1m", "FOO-BAR"))
    listing.remove("FOO-BAR")
    assert not listing.serves(Subscription("candle1m", "FOO-BAR"))
    option = instrument("BTC-USD-251226-95000-C")
    assert (option.inst_type, option.family, option.strike, option.opt_type) == (
        "OPTION",
        "BTC-USD",
        "95000",
        "C",
    )
    with pytest.raises(ValueError, match="not an OKX instrument id: 'btc'"):
        listing.add("btc")
