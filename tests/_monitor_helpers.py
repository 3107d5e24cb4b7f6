"""Builders shared by the monitor's tests: tickers, stats snapshots, books, trades and
candles made by hand, and a book source stub (also runnable: ``python -m
tests._monitor_helpers --demo``, the monitor with that stub)."""

from __future__ import annotations

import re
from decimal import Decimal

from okx_trio import Candle, ConnectionState, ConnectionStats, Ticker, Trade
from okx_trio._book import BookEngine
from okx_trio._book_levels import OrderBook

__all__ = [
    "AWS",
    "OKX",
    "StubBooks",
    "make_book",
    "make_candle",
    "make_conn",
    "make_pool",
    "make_stats",
    "make_ticker",
    "make_trade",
    "serve_stub_books",
    "untimed",
]


def make_ticker(
    inst_id: str = "BTC-USDT",
    last: str = "46053",
    open_24h: str = "45000",
    *,
    bid: str | None = None,
    ask: str | None = None,
    vol: str = "17602.14225433",
    vol_ccy: str = "525802435.42181708",
    inst_type: str = "SPOT",
) -> Ticker:
    price = Decimal(last)
    return Ticker(
        inst_id=inst_id,
        inst_type=inst_type,
        last=price,
        last_size=Decimal("0.1"),
        bid=Decimal(bid) if bid is not None else price,
        bid_size=Decimal("1"),
        ask=Decimal(ask) if ask is not None else price,
        ask_size=Decimal("1"),
        open_24h=Decimal(open_24h),
        high_24h=price,
        low_24h=price,
        vol_24h=Decimal(vol),
        vol_ccy_24h=Decimal(vol_ccy),
        ts=1_700_000_000_000,
    )


def make_stats(**overrides: object) -> ConnectionStats:
    values: dict[str, object] = {
        "state": ConnectionState.CONNECTED,
        "reconnect_count": 1,
        "retry_count": 0,
        "subscribed_pairs": 3,
        "connection_duration": 12.34,
        "last_message_age": 0.12,
        "last_error": "",
        "url": "wss://ws.okx.com:8443/ws/v5/public",
        "desired_pairs": 3,
        "ticks_received": 1234,
        "ticks_dropped": 0,
    }
    values.update(overrides)
    return ConnectionStats(**values)  # type: ignore[arg-type]


OKX = "wss://ws.okx.com:8443/ws/v5/public"
AWS = "wss://wsaws.okx.com:8443/ws/v5/public"


def make_conn(index: int, **overrides: object) -> ConnectionStats:
    """One connection's snapshot, as in ``stats.connections``."""
    values: dict[str, object] = {
        "index": index,
        "endpoint": "public",
        "subscribed_pairs": 2,
        "desired_pairs": 2,
        "ticks_received": 100 * (index + 1),
        "url_failures": ((OKX, 0), (AWS, 0)),
        "url": OKX,
    }
    values.update(overrides)
    return make_stats(**values)


def make_pool(*conns: ConnectionStats, **overrides: object) -> ConnectionStats:
    """Pool totals over *conns*, as ``OkxClient.get_stats`` gives them."""
    values: dict[str, object] = {
        "subscribed_pairs": sum(c.subscribed_pairs for c in conns),
        "desired_pairs": sum(c.desired_pairs for c in conns),
        "ticks_received": sum(c.ticks_received for c in conns),
        "quality": min(c.quality for c in conns),
        "url_failures": ((OKX, 0), (AWS, 0)),
        "connections": conns,
    }
    values.update(overrides)
    return make_stats(**values)


_TIMESTAMP = re.compile(r"\d\d:\d\d:\d\d\.\d\d ")


def untimed(lines: list[str]) -> list[str]:
    """Log lines without their leading ``HH:MM:SS.ss`` (each line must have one)."""
    result = []
    for line in lines:
        assert _TIMESTAMP.match(line), f"no timestamp: {line!r}"
        result.append(line[12:])
    return result


# --- the other channels ---------------------------------------------------------------------


def make_book(
    inst_id: str = "BTC-USDT",
    *,
    mid: str = "46000",
    levels: int = 20,
    seq_id: int = 123456,
    channel: str = "books",
) -> OrderBook:
    """A valid book around *mid* (0.5 apart per level, the best 0.1 apart), made as the
    client makes them: a BookEngine fed one snapshot."""
    centre = Decimal(mid)
    bids = [
        [str(centre - Decimal("0.5") * i), f"{(i + 1) * 0.37:.4f}", "0", str(i + 1)]
        for i in range(levels)
    ]
    asks = [
        [str(centre + Decimal("0.1") + Decimal("0.5") * i), f"{(levels - i) * 0.21:.4f}", "0", "2"]
        for i in range(levels)
    ]
    engine = BookEngine(inst_id, channel)
    engine.apply("snapshot", -1, seq_id, 1_700_000_000_000, bids, asks)
    book = engine.book()
    assert book is not None
    return book


class StubBooks:
    """A :class:`okx_trio.monitor.BookSource` serving *books* by ``(inst_id, channel)``;
    any other book is None (no valid book: the view says resyncing)."""

    def __init__(self, *books: OrderBook) -> None:
        self.books = {(book.inst_id, book.channel): book for book in books}
        self.asked: list[tuple[str, str]] = []

    def book(self, inst_id: str, channel: str = "books") -> OrderBook | None:
        self.asked.append((inst_id, channel))
        return self.books.get((inst_id, channel))


def make_trade(
    inst_id: str = "BTC-USDT",
    price: str = "46000.1",
    size: str = "0.5",
    side: str = "buy",
    ts: int = 0,
) -> Trade:
    return Trade(
        inst_id=inst_id,
        trade_id=str(ts),
        price=Decimal(price),
        size=Decimal(size),
        side=side,
        count=1,
        ts=1_700_000_000_000 + ts,
    )


def make_candle(
    inst_id: str = "BTC-USDT",
    minute: int = 0,
    o: str = "100",
    h: str = "110",
    low: str = "95",
    c: str = "105",
    *,
    confirm: bool = True,
) -> Candle:
    return Candle(
        inst_id=inst_id,
        bar="1m",
        ts=1_699_999_980_000 + 60_000 * minute,
        open=Decimal(o),
        high=Decimal(h),
        low=Decimal(low),
        close=Decimal(c),
        vol=Decimal("12.5"),
        vol_ccy=Decimal("1250"),
        vol_ccy_quote=Decimal("1250"),
        confirm=confirm,
    )


def serve_stub_books() -> None:
    """Run the monitor (``sys.argv[1:]``) with a book source serving a BTC-USDT book, and
    none for any other pair: what a screen test looks at until the client keeps books."""
    import sys

    import okx_trio.monitor._app as app
    from okx_trio.monitor import main

    source = StubBooks(make_book("BTC-USDT"))
    app.book_source = lambda client: source
    raise SystemExit(main(sys.argv[1:]))


if __name__ == "__main__":
    serve_stub_books()
