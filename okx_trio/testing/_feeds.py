"""One instrument's market as every channel sees it: trades, a 400-level book, candles.

Everything derives from the ticker market (``MarketSimulator``): each ticker step is one
taker trade at ``last`` for ``lastSz``; the book's best levels are the ticker's bid and ask;
candles aggregate the trades (mark-price candles the mid price). No Trio, no clock.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ._books import BOOK_DEPTH, BookModel
from ._candles import CandleSeries
from ._market import MarketSimulator

__all__ = ["BOOK_DEPTH", "Feeds", "InstrumentFeed", "Trade"]

_TRADES_KEPT: Final = 256


@dataclass(frozen=True, slots=True)
class Trade:
    trade_id: int
    px: Decimal
    sz: Decimal
    side: str
    ts: int
    seq_id: int


class InstrumentFeed:
    """The channels' shared view of one instrument (see the module docstring)."""

    def __init__(self, inst_id: str, market: MarketSimulator, seed: int) -> None:
        self.inst_id = inst_id
        self._market = market
        self._rng = random.Random(f"okx-trio-feed:{seed}:{inst_id}")
        self.tick = market.tick_size(inst_id)
        self.lot = market.lot_size(inst_id)
        self.contract_value = market.contract_value(inst_id)
        self.spot = self.contract_value == 1 and inst_id.count("-") == 1
        self.ticker: dict[str, str] | None = None
        self.trades: deque[Trade] = deque(maxlen=_TRADES_KEPT)
        self._next_trade_id = 100_000_000 + self._rng.randrange(900_000_000)
        self._trade_seq = self._rng.randrange(1_000_000)
        book_rng = random.Random(f"okx-trio-book:{seed}:{inst_id}")
        self.book = BookModel(self.tick, self.lot, book_rng)
        self.candles: dict[tuple[str, str], CandleSeries] = {}

    # -- stepping ---------------------------------------------------------------------------

    def at(self, ts_ms: int) -> dict[str, str]:
        """The ticker at *ts_ms*, stepping the market (one trade) if it is a new instant."""
        ticker = self._market.next_ticker(self.inst_id, ts_ms)
        if self.ticker is None or ticker["ts"] != self.ticker["ts"]:
            self.ticker = ticker
            self._trade(ticker, int(ticker["ts"]))
        return ticker

    def _trade(self, ticker: dict[str, str], ts: int) -> None:
        px, sz = Decimal(ticker["last"]), Decimal(ticker["lastSz"])
        side = "buy" if ticker["last"] == ticker["askPx"] or self._rng.random() < 0.5 else "sell"
        self._trade_seq += self._rng.randint(1, 3)
        self.trades.append(Trade(self._next_trade_id, px, sz, side, ts, self._trade_seq))
        self._next_trade_id += self._rng.randint(1, 4)
        mid = (Decimal(ticker["bidPx"]) + Decimal(ticker["askPx"])) / 2
        for (kind, _bar), series in self.candles.items():
            if kind == "trade":
                base = sz if self.spot else sz * self.contract_value
                quote = base * px
                series.add(ts, px, sz, quote if self.spot else base, quote)
            else:
                series.add(ts, mid.quantize(self.tick))
        if self.book.started:
            self._move_book(ticker, ts)

    # -- trades -----------------------------------------------------------------------------

    def trades_after(self, trade_id: int | None) -> list[Trade]:
        """The trades kept since *trade_id* (all kept ones for ``None``), oldest first."""
        if trade_id is None:
            return list(self.trades)[-1:]
        return [trade for trade in self.trades if trade.trade_id > trade_id]

    # -- candles ----------------------------------------------------------------------------

    def candle_series(self, kind: str, bar: str) -> CandleSeries:
        """The bars of *kind* (``trade``, ``mark``, ``index``) and *bar*, begun on first use."""
        key = (kind, bar)
        series = self.candles.get(key)
        if series is None:
            series = self.candles[key] = CandleSeries(bar, with_volume=kind == "trade")
            if self.ticker is not None:
                ticker, ts = self.ticker, int(self.ticker["ts"])
                if kind == "trade":
                    series.add(ts, Decimal(ticker["last"]))
                else:
                    series.add(ts, self.mid().quantize(self.tick))
        return series

    def mid(self) -> Decimal:
        assert self.ticker is not None
        return (Decimal(self.ticker["bidPx"]) + Decimal(self.ticker["askPx"])) / 2

    # -- the book ---------------------------------------------------------------------------

    def current_book(self) -> BookModel:
        """The full book now (built around the ticker's bid and ask on first use)."""
        book = self.book
        if not book.started:
            assert self.ticker is not None, "at() first"
            ticker = self.ticker
            book.start(*self._best(ticker), int(ticker["ts"]))
        return book

    def _best(self, ticker: dict[str, str]) -> tuple[int, int, Decimal, Decimal]:
        return (
            round(Decimal(ticker["bidPx"]) / self.tick),
            round(Decimal(ticker["askPx"]) / self.tick),
            Decimal(ticker["bidSz"]),
            Decimal(ticker["askSz"]),
        )

    def _move_book(self, ticker: dict[str, str], ts: int) -> None:
        self.book.move(*self._best(ticker), ts)


class Feeds:
    """Every instrument's feed, made on first use, over one ticker market."""

    def __init__(self, market: MarketSimulator, seed: int) -> None:
        self.market = market
        self._seed = seed
        self._feeds: dict[str, InstrumentFeed] = {}

    def feed(self, inst_id: str) -> InstrumentFeed:
        feed = self._feeds.get(inst_id)
        if feed is None:
            feed = self._feeds[inst_id] = InstrumentFeed(inst_id, self.market, self._seed)
        return feed
