"""Candlesticks built from a price series: bar boundaries as OKX draws them, no Trio, no I/O.

Bars of 6 hours and longer open at UTC+8 midnight-aligned times unless their name ends in
``utc``; weeks open on Monday; ``1M``/``3M``/``1Y`` bars follow the calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from ._market import format_decimal

__all__ = ["CandleSeries", "bar_open"]

_SECONDS: Final = {
    "1s": 1,
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1H": 3600,
    "2H": 7200,
    "4H": 14400,
    "6H": 21600,
    "12H": 43200,
    "1D": 86400,
    "2D": 2 * 86400,
    "3D": 3 * 86400,
    "5D": 5 * 86400,
    "1W": 7 * 86400,
}
_MONTHS: Final = {"1M": 1, "3M": 3, "1Y": 12}
_SHORT: Final = frozenset({"1s", "1m", "3m", "5m", "15m", "30m", "1H", "2H", "4H"})
_UTC8_MS: Final = 8 * 3600 * 1000
# 1970-01-01 was a Thursday: Monday 1970-01-05 is four days in.
_MONDAY_MS: Final = 4 * 86400 * 1000


def bar_open(bar: str, ts_ms: int) -> int:
    """The open time (ms) of the *bar* (``1m``, ``1Dutc``, ``3M``...) containing *ts_ms*.

    Raises:
        ValueError: for a bar OKX does not have.
    """
    utc = bar.endswith("utc")
    base = bar[:-3] if utc else bar
    offset = 0 if utc or base in _SHORT else _UTC8_MS
    if base in _MONTHS:
        months = _MONTHS[base]
        moment = datetime.fromtimestamp((ts_ms + offset) / 1000, UTC)
        first = (moment.month - 1) // months * months + 1
        start = datetime(moment.year, first, 1, tzinfo=UTC)
        return round(start.timestamp() * 1000) - offset
    seconds = _SECONDS.get(base)
    if seconds is None:
        raise ValueError(f"unknown candle bar {bar!r}")
    span = seconds * 1000
    anchor = _MONDAY_MS if base == "1W" else 0
    return (ts_ms + offset - anchor) // span * span + anchor - offset


@dataclass(slots=True)
class _Bar:
    open_ts: int
    o: Decimal
    h: Decimal
    low: Decimal
    c: Decimal
    vol: Decimal
    vol_ccy: Decimal
    vol_quote: Decimal

    def row(self, confirm: bool, with_volume: bool) -> list[str]:
        prices = [
            str(self.open_ts),
            *(format_decimal(p) for p in (self.o, self.h, self.low, self.c)),
        ]
        if with_volume:
            prices += [format_decimal(v) for v in (self.vol, self.vol_ccy, self.vol_quote)]
        return [*prices, "1" if confirm else "0"]


class CandleSeries:
    """One instrument's bars of one size, fed trade by trade (or price by price).

    *with_volume*: trade candles carry ``vol``, ``volCcy`` and ``volCcyQuote``; mark-price
    and index candles do not.
    """

    def __init__(self, bar: str, *, with_volume: bool) -> None:
        bar_open(bar, 0)  # validates
        self.bar = bar
        self.with_volume = with_volume
        self._current: _Bar | None = None
        self._closed: _Bar | None = None

    def add(
        self,
        ts_ms: int,
        price: Decimal,
        vol: Decimal = Decimal(0),
        vol_ccy: Decimal = Decimal(0),
        vol_quote: Decimal = Decimal(0),
    ) -> None:
        """Account one trade (or price) at *ts_ms*; a trade past the bar's end opens the next."""
        opened = bar_open(self.bar, ts_ms)
        bar = self._current
        if bar is None or opened > bar.open_ts:
            if bar is not None:
                self._closed = bar
            self._current = _Bar(opened, price, price, price, price, vol, vol_ccy, vol_quote)
            return
        bar.h = max(bar.h, price)
        bar.low = min(bar.low, price)
        bar.c = price
        bar.vol += vol
        bar.vol_ccy += vol_ccy
        bar.vol_quote += vol_quote

    @property
    def current_open(self) -> int | None:
        return None if self._current is None else self._current.open_ts

    def rows_after(self, last_open: int | None) -> list[list[str]]:
        """What a push shows a subscriber whose last push showed the bar opened *last_open*.

        The bar that closed since then comes first with ``confirm`` "1", then the open bar.
        """
        rows: list[list[str]] = []
        closed = self._closed
        if closed is not None and last_open is not None and closed.open_ts >= last_open:
            rows.append(closed.row(True, self.with_volume))
        if self._current is not None:
            rows.append(self._current.row(False, self.with_volume))
        return rows
