"""Numbers and durations as the monitor shows them: pure functions, no I/O, no rich."""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Final

from okx_trio import Ticker

__all__ = [
    "SPARK_BLOCKS",
    "base_volume",
    "clock",
    "format_age",
    "format_duration",
    "format_percent",
    "format_price",
    "format_volume",
    "one_line",
    "sparkline",
]

SPARK_BLOCKS: Final = "▁▂▃▄▅▆▇█"


def _to_decimal(value: Decimal | float | int) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:  # pragma: no cover - str() of a number is always parseable
        return Decimal("NaN")


def format_price(value: Decimal | float | int) -> str:
    """A price with at least 2 decimals and more for prices below 1, no thousands separators.

    Prices below 1 keep four significant digits: ``0.38125 -> "0.3813"``,
    ``0.0000123456 -> "0.00001235"``; everything else gets two decimals:
    ``45000 -> "45000.00"``. Non-finite values read ``"n/a"``.
    """
    price = _to_decimal(value)
    if not price.is_finite():
        return "n/a"
    # adjusted() is floor(log10(|price|)): -1 for 0.38, -5 for 0.0000123.
    small = price != 0 and abs(price) < 1
    decimals = min(12, max(4, -price.adjusted() + 3)) if small else 2
    return f"{price:.{decimals}f}"


def format_percent(value: Decimal | float | None) -> str:
    """A signed percentage with two decimals (``"+2.34%"``, ``"-0.50%"``); ``"n/a"`` for None."""
    if value is None:
        return "n/a"
    pct = _to_decimal(value)
    if not pct.is_finite():
        return "n/a"
    text = f"{pct:+.2f}%"
    return "+0.00%" if text == "-0.00%" else text


_VOLUME_UNITS: Final = (
    (Decimal(10) ** 12, "T"),
    (Decimal(10) ** 9, "B"),
    (Decimal(10) ** 6, "M"),
    (Decimal(10) ** 3, "k"),
)


def format_volume(value: Decimal | float | int) -> str:
    """A volume with a k/M/B/T suffix and two decimals: ``17602.1 -> "17.60k"``."""
    volume = _to_decimal(value)
    if not volume.is_finite():
        return "n/a"
    for size, suffix in _VOLUME_UNITS:
        # Round first so 999.999k becomes 1.00M rather than "1000.00k".
        if abs(volume) >= size * Decimal("0.999995"):
            return f"{volume / size:.2f}{suffix}"
    return f"{volume:.2f}"


def format_duration(seconds: float) -> str:
    """A duration: ``"12.3s"`` below a minute, ``"4m05s"`` below an hour, else ``"2h03m"``.

    Negative values (clock skew) are shown as ``"0.0s"``, non-finite ones as ``"-"``.
    """
    if math.isnan(seconds) or math.isinf(seconds):
        return "-"
    seconds = max(0.0, seconds)
    if seconds < 59.95:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 100 * 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def format_age(seconds: float | None) -> str:
    """The age of something, like :func:`format_duration`; ``"-"`` when it never happened."""
    if seconds is None:
        return "-"
    return format_duration(seconds)


def clock(seconds: float, *, fraction: bool = False) -> str:
    """Elapsed time as ``HH:MM:SS`` (``HH:MM:SS.ss`` with *fraction*), from 0 upwards."""
    seconds = max(0.0, seconds) if math.isfinite(seconds) else 0.0
    whole = int(seconds)
    text = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    if fraction:
        text += f".{int((seconds - whole) * 100):02d}"
    return text


def sparkline(values: Iterable[Decimal | float], width: int = 20) -> str:
    """The last *width* values as unicode blocks ``▁▂▃▄▅▆▇█`` scaled between their min and max.

    A flat series is drawn at mid height; non-finite values are skipped.
    """
    if width <= 0:
        return ""
    points = [float(v) for v in values]
    points = [p for p in points if math.isfinite(p)][-width:]
    if not points:
        return ""
    low, high = min(points), max(points)
    if high == low:
        return SPARK_BLOCKS[len(SPARK_BLOCKS) // 2 - 1] * len(points)
    top = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[round((p - low) / (high - low) * top)] for p in points)


def base_volume(ticker: Ticker) -> Decimal:
    """The 24 h volume in base currency: ``vol24h`` for SPOT, ``volCcy24h`` for derivatives.

    (For SWAP and FUTURES OKX reports ``vol24h`` in contracts and ``volCcy24h`` in base
    currency; for SPOT ``vol24h`` is base and ``volCcy24h`` quote currency.)
    """
    return ticker.vol_24h if ticker.inst_type == "SPOT" else ticker.vol_ccy_24h


def one_line(text: str) -> str:
    """*text* with every run of whitespace (newlines included) as one space."""
    return " ".join(text.split())
