"""What each channel pushes, in OKX's exact shape, from the instrument feeds: no Trio, no I/O.

``ChannelData.pushes(sub, cursor, ts_ms)`` renders the next push(es) of one subscription;
the :class:`Cursor` is that subscription's memory (the book it last showed, its last trade,
its open bar), so every connection gets its own correct ``prevSeqId`` chain and candle
``confirm`` while all of them share one market. Key order and value types follow OKX's docs
samples (``captures/okx-docs-samples.jsonl``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .._subscription import Subscription
from ._book_stream import BookFaults, BookStream
from ._derivatives_data import DerivativesData
from ._feeds import Feeds, InstrumentFeed
from ._fidelity import Fidelity
from ._listing import Listing, instrument
from ._market import format_decimal
from ._protocol import encode_push

__all__ = ["ChannelData", "Cursor"]

# At most this many trades go out in one round of a subscription's pushes.
_MAX_TRADES: Final = 20
_CANDLE_KINDS: Final = (
    ("mark-price-candle", "mark"),
    ("index-candle", "index"),
    ("candle", "trade"),
)


@dataclass(slots=True)
class Cursor:
    """One subscription's place in its channel's stream; *book_faults* are the connection's
    pending faults for it (a ``books`` subscription), kept across resubscribes."""

    trade_id: int | None = None
    candle_open: int | None = None
    book_faults: BookFaults | None = None
    book: BookStream | None = None


def index_underlying(index_id: str) -> str:
    """The spot pair whose prices make index *index_id* (``BTC-USD`` reads ``BTC-USDT``)."""
    inst = instrument(index_id, index=True)
    return f"{inst.base}-{'USDT' if inst.quote == 'USD' else inst.quote}"


class ChannelData:
    """Renders pushes for every public and business channel the fake serves."""

    def __init__(self, feeds: Feeds, listing: Listing, seed: int, fidelity: Fidelity) -> None:
        self.feeds = feeds
        self.fidelity = fidelity
        self.listing = listing
        self.derivatives = DerivativesData(feeds, listing, seed)

    def pushes(self, sub: Subscription, cursor: Cursor, ts_ms: int) -> list[str]:
        """The messages one push of *sub* sends now (maybe none: no new trade yet).

        Raises:
            ValueError: for a channel the fake does not serve (login channels).
        """
        arg = sub.arg
        channel = sub.channel
        if sub.inst_id is None:
            data = self.derivatives.by_type(sub, ts_ms)
            return [encode_push(arg, data)] if data else []
        inst_id = sub.inst_id
        for prefix, kind in _CANDLE_KINDS:
            if channel.startswith(prefix) and sub.spec.bar is not None:
                return self._candles(sub, cursor, kind, ts_ms)
        if channel == "index-tickers":
            return [encode_push(arg, [self._index_ticker(inst_id, ts_ms)])]
        feed = self.feeds.feed(inst_id)
        ticker = feed.at(ts_ms)
        if channel == "tickers":
            return [encode_push(arg, [ticker])]
        if channel in ("trades", "trades-all"):
            return self._trades(sub, feed, cursor)
        if channel in ("books", "books5", "bbo-tbt"):
            return self._book(sub, feed, cursor, ts_ms)
        if channel == "mark-price":
            mark = {"instType": ticker["instType"], "instId": inst_id}
            mark.update(markPx=format_decimal(feed.mid().quantize(feed.tick)), ts=ticker["ts"])
            return [encode_push(arg, [mark])]
        return [encode_push(arg, [self.derivatives.by_instrument(sub, feed, ts_ms)])]

    # -- trades -----------------------------------------------------------------------------

    def _trades(self, sub: Subscription, feed: InstrumentFeed, cursor: Cursor) -> list[str]:
        trades = feed.trades_after(cursor.trade_id)[-_MAX_TRADES:]
        if trades:
            cursor.trade_id = trades[-1].trade_id
        out = []
        for trade in trades:
            data: dict[str, Any] = {
                "instId": feed.inst_id,
                "tradeId": str(trade.trade_id),
                "px": format_decimal(trade.px),
                "sz": format_decimal(trade.sz),
                "side": trade.side,
            }
            if sub.channel == "trades":
                data.update(ts=str(trade.ts), count="1", source="0", seqId=trade.seq_id)
            else:
                data.update(source="0", ts=str(trade.ts))
            out.append(encode_push(sub.arg, [data]))
        return out

    # -- books ------------------------------------------------------------------------------

    def _book(
        self, sub: Subscription, feed: InstrumentFeed, cursor: Cursor, ts_ms: int
    ) -> list[str]:
        book = feed.current_book()
        if sub.channel != "books":
            depth = 5 if sub.channel == "books5" else 1
            data: dict[str, Any] = {"asks": book.rows(False, depth), "bids": book.rows(True, depth)}
            if sub.channel == "books5":
                data["instId"] = feed.inst_id
            data.update(ts=str(book.ts), seqId=book.seq_id)
            return [encode_push(sub.arg, [data])]
        stream = cursor.book
        if stream is None:
            stream = cursor.book = BookStream(cursor.book_faults or BookFaults())
        fidelity = self.fidelity
        return stream.render(
            sub,
            book,
            ts_ms,
            checksums=fidelity.book_checksums,
            snapshots=fidelity.book_snapshots,
        )

    # -- candles and indexes ----------------------------------------------------------------

    def _candles(self, sub: Subscription, cursor: Cursor, kind: str, ts_ms: int) -> list[str]:
        assert sub.inst_id is not None and sub.spec.bar is not None
        inst_id = index_underlying(sub.inst_id) if kind == "index" else sub.inst_id
        feed = self.feeds.feed(inst_id)
        feed.at(ts_ms)
        series = feed.candle_series(kind, sub.spec.bar)
        rows = series.rows_after(cursor.candle_open)
        cursor.candle_open = series.current_open
        return [encode_push(sub.arg, rows)] if rows else []

    def _index_ticker(self, index_id: str, ts_ms: int) -> dict[str, str]:
        feed = self.feeds.feed(index_underlying(index_id))
        ticker = feed.at(ts_ms)
        return {
            "instId": index_id,
            "idxPx": format_decimal(feed.mid().quantize(feed.tick)),
            "high24h": ticker["high24h"],
            "low24h": ticker["low24h"],
            "open24h": ticker["open24h"],
            "sodUtc0": ticker["sodUtc0"],
            "sodUtc8": ticker["sodUtc8"],
            "ts": ticker["ts"],
        }
