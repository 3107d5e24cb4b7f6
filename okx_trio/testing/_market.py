"""A seeded random-walk market that produces OKX ``tickers`` data objects.

Plain Python, no Trio, no clock: the caller passes the timestamp. Every instrument walks on its
own random stream derived from ``(seed, inst_id)``, so what one instrument shows never depends
on which other instruments were asked for, or in which order.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

__all__ = ["MarketSimulator", "format_decimal", "inst_type"]

# Rough USD levels, late 2025. Only the order of magnitude matters for realism.
_USD_LEVELS: Final[dict[str, float]] = {
    "BTC": 95_000.0,
    "ETH": 3_400.0,
    "SOL": 180.0,
    "BNB": 690.0,
    "XRP": 2.3,
    "DOGE": 0.38,
    "ADA": 0.95,
    "LTC": 105.0,
    "DOT": 7.0,
    "AVAX": 38.0,
    "LINK": 24.0,
    "TRX": 0.26,
    "TON": 5.5,
    "UNI": 13.0,
    "BCH": 480.0,
    "ETC": 27.0,
    "FIL": 5.0,
    "ATOM": 6.5,
    "NEAR": 5.2,
    "APT": 9.5,
    "ARB": 0.75,
    "OP": 1.9,
    "SUI": 4.1,
    "PEPE": 0.000018,
    "SHIB": 0.000022,
    "OKB": 52.0,
    "AAVE": 180.0,
    "INJ": 25.0,
    "XLM": 0.42,
    "HBAR": 0.28,
    "ICP": 10.5,
    "ALGO": 0.36,
    "CRV": 0.9,
    "WLD": 2.2,
    "POL": 0.5,
    "TIA": 6.0,
    "USDT": 1.0,
    "USDC": 1.0,
    "USD": 1.0,
    "DAI": 1.0,
    "EUR": 1.08,
}

# A typical trade is worth this much; sizes come out as notional / price.
_MEDIAN_TRADE_USD: Final = 400.0
_EIGHT_PLACES: Final = Decimal("0.00000001")


def inst_type(inst_id: str) -> str:
    """OKX's ``instType`` for an instrument id.

    ``AAA-BBB`` is ``SPOT``, ``AAA-BBB-SWAP`` is ``SWAP``, ``AAA-BBB-YYMMDD`` is ``FUTURES``,
    ``AAA-BBB-YYMMDD-STRIKE-C`` (or ``-P``) is ``OPTION``;
    anything else is treated as ``SPOT``.
    """
    parts = inst_id.split("-")
    if len(parts) == 3 and parts[2] == "SWAP":
        return "SWAP"
    if len(parts) == 3 and len(parts[2]) == 6 and parts[2].isdigit():
        return "FUTURES"
    if len(parts) == 5 and parts[4] in ("C", "P"):
        return "OPTION"
    return "SPOT"


def _stable_fraction(text: str) -> float:
    """A number in [0, 1) that depends only on *text* (unlike ``hash()``, not salted per run)."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _usd_level(currency: str) -> float:
    known = _USD_LEVELS.get(currency)
    if known is not None:
        return known
    # Unknown coins land somewhere between 0.001 and 1000, the same place every run.
    return 10 ** (-3 + 6 * _stable_fraction(currency))


def _currencies(inst_id: str) -> tuple[str, str]:
    parts = inst_id.split("-")
    return (parts[0], parts[1]) if len(parts) >= 2 else (inst_id, "USD")


def _fmt(value: Decimal) -> str:
    """OKX style: no exponent, no trailing zeros (``"31073"``, ``"30243.5"``, ``"0.00000062"``)."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


@dataclass(slots=True)
class _Book:
    """Per-instrument state. Prices are integers counted in ticks, so they never drift off-grid."""

    rng: random.Random
    kind: str
    tick: Decimal
    lot: Decimal
    contract_value: Decimal  # base currency per contract (derivatives); 1 for spot
    quote_usd: float  # what one unit of the quote currency is worth, to size trades in USD
    log_price: float
    spread_ticks: int
    open_ticks: int
    high_ticks: int
    low_ticks: int
    sod_utc0_ticks: int
    sod_utc8_ticks: int
    vol: Decimal
    vol_ccy: Decimal
    last_ts: int | None = None
    last_ticker: dict[str, str] | None = None


class MarketSimulator:
    """Seeded random-walk market producing OKX ``tickers`` data objects.

    Realistic price levels for common pairs (BTC-USDT near 95000, ETH-USDT near 3400,
    SOL-USDT near 180, DOGE-USDT near 0.38, XRP, ADA, BNB, LTC and more, also their ``-SWAP``
    and dated futures); any other instrument gets a level derived from a stable hash of its
    base currency, so it is the same on every run. Each instrument keeps ``open24h``,
    ``high24h``, ``low24h``, ``vol24h`` and ``volCcy24h`` consistent with its own walk,
    keeps ``bidPx < last <= askPx`` with a spread of a few ticks, and formats prices on a
    tick grid chosen from the instrument's price level.

    Args:
        seed: Selects the random streams; the same seed gives the same tickers.
        volatility: Standard deviation of the log-return per :meth:`next_ticker` step.

    Raises:
        ValueError: if *volatility* is negative or not finite.
    """

    def __init__(self, seed: int = 0, *, volatility: float = 0.0005) -> None:
        if not (math.isfinite(volatility) and volatility >= 0):
            raise ValueError(f"volatility must be a finite number >= 0, got {volatility!r}")
        self._seed = seed
        self._volatility = volatility
        self._books: dict[str, _Book] = {}

    def next_ticker(self, inst_id: str, ts_ms: int) -> dict[str, str]:
        """Advance *inst_id* by one step and return its ticker, stamped ``ts_ms``.

        Returns a fresh dict with OKX's keys in OKX's order, every value a string. Asking
        again with the same (or an older) ``ts_ms`` does not step the walk: it returns the
        same ticker again, so several connections served at one instant see one market.
        """
        book = self._book(inst_id)
        if book.last_ticker is not None and book.last_ts is not None and ts_ms <= book.last_ts:
            return dict(book.last_ticker)
        ticker = self._step(inst_id, book, ts_ms)
        book.last_ts = ts_ms
        book.last_ticker = ticker
        return dict(ticker)

    def tick_size(self, inst_id: str) -> Decimal:
        """The price grid of *inst_id* (its ``tickSz``)."""
        return self._book(inst_id).tick

    def lot_size(self, inst_id: str) -> Decimal:
        """The size grid of *inst_id* (its ``lotSz``: contracts, or base currency for spot)."""
        return self._book(inst_id).lot

    def contract_value(self, inst_id: str) -> Decimal:
        """Base currency per contract (1 for spot)."""
        return self._book(inst_id).contract_value

    def _book(self, inst_id: str) -> _Book:
        book = self._books.get(inst_id)
        if book is None:
            book = self._books[inst_id] = self._new_book(inst_id)
        return book

    def _new_book(self, inst_id: str) -> _Book:
        # Seeding Random with a str hashes it with SHA-512: stable across runs and platforms.
        rng = random.Random(f"okx-trio-market:{self._seed}:{inst_id}")
        kind = inst_type(inst_id)
        base, quote = _currencies(inst_id)
        quote_usd = _usd_level(quote)
        base_usd = _usd_level(base)
        level = base_usd / quote_usd * math.exp(rng.gauss(0.0, 0.01))
        # About five significant digits, like OKX's BTC-USDT (0.1) and ETH-USDT (0.01).
        tick = Decimal(1).scaleb(math.floor(math.log10(level)) - 5)
        if kind == "SPOT":
            lot, contract_value = _EIGHT_PLACES, Decimal(1)
        else:
            # Derivatives trade contracts worth ~ $10..$100 each.
            lot = Decimal(1) if kind == "FUTURES" else Decimal("0.01")
            contract_value = Decimal(1).scaleb(math.floor(math.log10(10.0 / base_usd)) + 1)
        last = _to_ticks(level, tick)
        open_ticks = _to_ticks(level * math.exp(rng.gauss(0.0, 0.02)), tick)
        spread = max(1, round(level * 0.00002 / float(tick)))
        high = max(open_ticks, last) + rng.randint(0, spread * 50)
        low = max(1, min(open_ticks, last) - rng.randint(0, spread * 50))
        # 24h volume worth $5M..$500M, in base currency.
        base_vol = Decimal(str(round(rng.uniform(5e6, 5e8) / base_usd, 2)))
        return _Book(
            rng=rng,
            kind=kind,
            tick=tick,
            lot=lot,
            contract_value=contract_value,
            quote_usd=quote_usd,
            log_price=math.log(level),
            spread_ticks=spread,
            open_ticks=open_ticks,
            high_ticks=high,
            low_ticks=low,
            sod_utc0_ticks=_to_ticks(level * math.exp(rng.gauss(0.0, 0.01)), tick),
            sod_utc8_ticks=_to_ticks(level * math.exp(rng.gauss(0.0, 0.01)), tick),
            vol=base_vol if kind == "SPOT" else (base_vol / contract_value).quantize(lot),
            vol_ccy=(base_vol * Decimal(str(level))).quantize(_EIGHT_PLACES)
            if kind == "SPOT"
            else base_vol,
        )

    def _step(self, inst_id: str, book: _Book, ts_ms: int) -> dict[str, str]:
        rng = book.rng
        book.log_price += rng.gauss(0.0, self._volatility)
        last = _to_ticks(math.exp(book.log_price), book.tick)
        price = Decimal(last) * book.tick
        # ask - bid is the spread; last sits at the ask or strictly inside, never at the bid.
        ask = last + rng.randint(0, book.spread_ticks - 1)
        bid = ask - book.spread_ticks
        book.high_ticks = max(book.high_ticks, last)
        book.low_ticks = min(book.low_ticks, last)

        last_sz = self._size(book, price)
        if book.kind == "SPOT":
            book.vol += last_sz
            book.vol_ccy += (last_sz * price).quantize(_EIGHT_PLACES)
        else:
            book.vol += last_sz
            book.vol_ccy += last_sz * book.contract_value
        tick = book.tick
        return {
            "instType": book.kind,
            "instId": inst_id,
            "last": _fmt(price),
            "lastSz": _fmt(last_sz),
            "askPx": _fmt(Decimal(ask) * tick),
            "askSz": _fmt(self._size(book, price) * 4),
            "bidPx": _fmt(Decimal(bid) * tick),
            "bidSz": _fmt(self._size(book, price) * 4),
            "open24h": _fmt(Decimal(book.open_ticks) * tick),
            "high24h": _fmt(Decimal(book.high_ticks) * tick),
            "low24h": _fmt(Decimal(book.low_ticks) * tick),
            "sodUtc0": _fmt(Decimal(book.sod_utc0_ticks) * tick),
            "sodUtc8": _fmt(Decimal(book.sod_utc8_ticks) * tick),
            "volCcy24h": _fmt(book.vol_ccy),
            "vol24h": _fmt(book.vol),
            "ts": str(ts_ms),
        }

    @staticmethod
    def _size(book: _Book, price: Decimal) -> Decimal:
        """A log-normal trade size on the instrument's lot grid, at least one lot."""
        notional = _MEDIAN_TRADE_USD / book.quote_usd * math.exp(book.rng.gauss(0.0, 1.0))
        base = Decimal(str(notional)) / price
        units = base if book.kind == "SPOT" else base / book.contract_value
        return max(book.lot, units.quantize(book.lot))


format_decimal = _fmt


def _to_ticks(price: float, tick: Decimal) -> int:
    return max(1, round(price / float(tick)))
