"""okx_trio.monitor._format: prices, percentages, volumes, durations, sparklines."""

from __future__ import annotations

from decimal import Decimal

import pytest

import okx_trio.monitor as monitor

from ._monitor_helpers import make_ticker

# --- formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("45000"), "45000.00"),
        (Decimal("30243.5"), "30243.50"),
        (Decimal("1234567.891"), "1234567.89"),
        (Decimal("1"), "1.00"),
        (Decimal("0.38127"), "0.3813"),
        (Decimal("0.5"), "0.5000"),
        (Decimal("0.0000123456"), "0.00001235"),
        (Decimal("-0.05"), "-0.05000"),
        (Decimal("0"), "0.00"),
        (45000, "45000.00"),
        (0.1, "0.1000"),
        (Decimal("NaN"), "n/a"),
        (float("inf"), "n/a"),
    ],
)
def test_format_price(value: Decimal | float, expected: str) -> None:
    assert monitor.format_price(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2.3449"), "+2.34%"),
        (Decimal("-0.5"), "-0.50%"),
        (Decimal("0"), "+0.00%"),
        (Decimal("-0.001"), "+0.00%"),
        (12.0, "+12.00%"),
        (None, "n/a"),
        (Decimal("NaN"), "n/a"),
    ],
)
def test_format_percent(value: Decimal | float | None, expected: str) -> None:
    assert monitor.format_percent(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("999"), "999.00"),
        (Decimal("0.5"), "0.50"),
        (Decimal("17602.14225433"), "17.60k"),
        (Decimal("525802435.42"), "525.80M"),
        (2.5e9, "2.50B"),
        (3e12, "3.00T"),
        (Decimal("999999.999"), "1.00M"),
        (Decimal("NaN"), "n/a"),
    ],
)
def test_format_volume(value: Decimal | float, expected: str) -> None:
    assert monitor.format_volume(value) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.0, "0.0s"),
        (12.34, "12.3s"),
        (59.99, "1m00s"),
        (245.0, "4m05s"),
        (7380.0, "2h03m"),
        (5 * 86400 + 3600.0, "5d01h"),
        (-3.0, "0.0s"),
        (float("inf"), "-"),
        (float("nan"), "-"),
    ],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert monitor.format_duration(seconds) == expected


def test_format_age() -> None:
    assert monitor.format_age(None) == "-"
    assert monitor.format_age(0.123) == "0.1s"
    assert monitor.format_age(90.0) == "1m30s"


def test_sparkline() -> None:
    assert monitor.sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert monitor.sparkline([Decimal("2"), Decimal("1"), Decimal("2")]) == "█▁█"
    assert monitor.sparkline([5, 5, 5]) == "▄▄▄"
    assert monitor.sparkline([]) == ""
    assert monitor.sparkline([1, 2, 3], width=0) == ""
    assert monitor.sparkline(range(100), width=10) == "▁▂▃▃▄▅▆▆▇█"
    assert monitor.sparkline([1.0, float("nan"), 2.0]) == "▁█"


def test_base_volume_is_base_currency_for_spot_and_derivatives() -> None:
    spot = make_ticker(vol="17", vol_ccy="500000")
    swap = make_ticker("BTC-USDT-SWAP", vol="1700", vol_ccy="17", inst_type="SWAP")
    assert monitor.base_volume(spot) == Decimal("17")
    assert monitor.base_volume(swap) == Decimal("17")
