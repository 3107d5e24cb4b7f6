"""okx_trio.monitor's views of the other channels: the book ladder, the trades tape, the
candle chart and the funding line, alone and on the whole screen at 80x24 and 160x50."""

from __future__ import annotations

import dataclasses
import io
import re
from decimal import Decimal

import pytest
from rich.console import Console

import okx_trio.monitor as monitor
from okx_trio import FundingRate, MarkPrice, Subscription
from okx_trio._book import BookEngine
from okx_trio.monitor._book_view import bar, render_book
from okx_trio.monitor._candles_view import candle_cells, render_candles
from okx_trio.monitor._channels import ChannelsModel
from okx_trio.monitor._funding_view import format_rate, render_funding
from okx_trio.monitor._trades_view import exchange_time, render_trades
from okx_trio.monitor._views import view_of_channel

from ._monitor_helpers import (
    StubBooks,
    make_book,
    make_candle,
    make_stats,
    make_ticker,
    make_trade,
)


def _text(renderable: object, *, width: int = 80, styles: bool = False) -> str:
    console = Console(record=True, width=width, file=io.StringIO(), force_terminal=True)
    console.print(renderable)
    return console.export_text(styles=styles)


# --- the book ladder ------------------------------------------------------------------------


def test_the_ladder_has_asks_above_bids_below_and_the_best_levels_in_the_middle() -> None:
    book = make_book("BTC-USDT", levels=20, seq_id=777)
    text = _text(render_book(book, "BTC-USDT", "books", lines=11, width=80, position="1/2"))
    lines = text.splitlines()
    assert lines[0].startswith("order book BTC-USDT  valid  (books)")
    assert "1/2" in lines[0]
    asks = [line for line in lines if line.startswith("ask ")]
    bids = [line for line in lines if line.startswith("bid ")]
    assert len(asks) == len(bids) == 4  # (11 - 3) // 2 levels a side
    ask_prices = [Decimal(line.split()[1]) for line in asks]
    bid_prices = [Decimal(line.split()[1]) for line in bids]
    assert ask_prices == sorted(ask_prices, reverse=True)  # the highest on top
    assert bid_prices == sorted(bid_prices, reverse=True)  # the best bid first
    middle = lines.index(asks[-1]) + 1
    assert lines[middle].strip().startswith("spread 0.1 ")
    assert "seq_id 777" in lines[middle] and "mid 46000.05" in lines[middle]
    assert lines[middle + 1] == bids[0]
    assert bid_prices[0] < ask_prices[-1]  # best bid < best ask, either side of the middle
    assert all(len(line) <= 80 for line in lines)
    # Sizes as bars: the largest shown fills the bar, the others less.
    bars = [len(line.split()[-1]) for line in asks + bids]
    assert max(bars) > 40 and min(bars) < max(bars)


def test_the_ladder_grows_with_the_room_up_to_its_maximum() -> None:
    book = make_book(levels=30)
    tall = _text(render_book(book, "BTC-USDT", "books", lines=100, width=160))
    assert sum(line.startswith("ask ") for line in tall.splitlines()) == 12
    tiny = _text(render_book(book, "BTC-USDT", "books", lines=2, width=40))
    assert sum(line.startswith("bid ") for line in tiny.splitlines()) == 1


def test_no_valid_book_reads_resyncing_and_no_source_reads_waiting_for_book() -> None:
    first = _text(render_book(None, "BTC-USDT", "books", lines=11, width=80))
    assert "resyncing" in first and "first snapshot" in first
    broke = _text(render_book(None, "BTC-USDT", "books", lines=11, width=80, had_book=True))
    assert "resyncing" in broke and "new snapshot" in broke
    assert "ask " not in broke  # no stale levels
    none = _text(render_book(None, "BTC-USDT", "books", lines=11, width=80, available=False))
    assert "waiting for book" in none
    unsubscribed = _text(render_book(None, None, "books", lines=11, width=80))
    assert "+books:BTC-USDT" in unsubscribed


def test_a_one_sided_book_draws_without_a_spread() -> None:
    engine = BookEngine("X-USDT", "books")
    engine.apply("snapshot", -1, 5, 1, [["100", "1", "0", "1"]], [])
    text = _text(render_book(engine.book(), "X-USDT", "books", lines=9, width=60))
    assert "spread -" in text and "bid " in text and "ask " not in text


def test_bars_scale_in_eighths() -> None:
    assert bar(Decimal(10), Decimal(10), 4) == "████"
    assert bar(Decimal(5), Decimal(10), 4) == "██"
    assert bar(Decimal(1), Decimal(10), 4) == "▍"  # 3.2 eighths -> 3
    assert bar(Decimal("0.0001"), Decimal(10), 4) == "▏"  # never invisible
    assert bar(Decimal(0), Decimal(10), 4) == "" == bar(Decimal(1), Decimal(0), 4)


# --- trades, candles, funding ---------------------------------------------------------------


def test_the_tape_shows_the_newest_trades_first_with_side_colours() -> None:
    trades = [
        make_trade(price=f"{46000 + i}", side="buy" if i % 2 else "sell", ts=i) for i in range(30)
    ]
    text = _text(render_trades(trades, "BTC-USDT", lines=8, position="1/1"))
    lines = text.splitlines()
    assert lines[0].startswith("trades BTC-USDT")
    assert lines[1].split()[:3] == ["Time", "(UTC)", "Side"]
    rows = lines[2:]
    assert len(rows) == 6
    assert rows[0].split()[1:3] == ["buy", "46029"] and rows[1].split()[1] == "sell"
    assert rows[0].split()[0] == "22:13:20.029"
    styled = _text(render_trades(trades, "BTC-USDT", lines=4), styles=True)
    assert "\x1b[32mbuy" in styled and "\x1b[31msell" in styled
    assert "waiting for trades" in _text(render_trades(None, "BTC-USDT", lines=8))
    assert "+trades:" in _text(render_trades(None, None, lines=8))


def test_exchange_time_is_utc_and_never_raises() -> None:
    assert exchange_time(1_700_000_000_123) == "22:13:20.123"
    assert exchange_time(1_700_000_000_123, millis=False) == "22:13:20"
    assert exchange_time(10**20) == "--:--:--"


def test_the_candle_chart_has_wicks_bodies_and_the_latest_figures() -> None:
    up = make_candle(minute=0, o="100", h="120", low="90", c="110")
    down = make_candle(minute=1, o="110", h="115", low="80", c="85", confirm=False)
    # Rows of 10 from the top: 110-120, 100-110, 90-100, 80-90.
    assert candle_cells(up, Decimal(80), Decimal(120), 4) == ["│", "█", "│", " "]
    assert candle_cells(down, Decimal(80), Decimal(120), 4) == ["│", "█", "█", "█"]
    text = _text(render_candles([up, down], "BTC-USDT", "candle1m", lines=8, width=80))
    lines = text.splitlines()
    assert lines[0].startswith("candles 1m BTC-USDT") and "2 of 2 candles" in lines[0]
    assert lines[1].startswith("120 ┤") and lines[6].startswith(" 80 ┤")
    assert lines[-1].strip().startswith("22:14:00 UTC O 110  H 115  L 80  C 85")
    assert lines[-1].rstrip().endswith("open")
    styled = _text(
        render_candles([up, down], "BTC-USDT", "candle1m", lines=8, width=80), styles=True
    )
    assert "\x1b[32m█" in styled and "\x1b[31m█" in styled
    # Narrow: only the newest candles that fit.
    many = [make_candle(minute=i) for i in range(100)]
    narrow = _text(render_candles(many, "BTC-USDT", "candle1m", lines=8, width=40), width=40)
    assert "17 of 100 candles" in narrow
    assert all(len(line) <= 40 for line in narrow.splitlines())
    assert "waiting for candles" in _text(
        render_candles([], "X-USDT", "candle1m", lines=8, width=80)
    )


def _funding(rate: str = "0.0001", ts: int = 1_700_000_000_000) -> FundingRate:
    return FundingRate(
        inst_id="BTC-USDT-SWAP", inst_type="SWAP", method="current_period", formula_type="",
        funding_rate=Decimal(rate), next_funding_rate=Decimal(0), funding_time=ts + 3_725_000,
        next_funding_time=None, min_funding_rate=Decimal("-0.0075"),
        max_funding_rate=Decimal("0.0075"), interest_rate=Decimal(0), impact_value=Decimal(0),
        premium=Decimal(0), sett_state="", sett_funding_rate=Decimal(0), ts=ts,
    )  # fmt: skip


def test_the_funding_line_has_the_rate_the_next_funding_and_the_mark() -> None:
    model = ChannelsModel()
    model.add(Subscription.parse("funding-rate:BTC-USDT-SWAP"))
    model.add(Subscription.parse("mark-price:BTC-USDT-SWAP"))
    model.add(Subscription.parse("mark-price:ETH-USDT-SWAP"))
    assert model.on_record("funding-rate", _funding())
    for px in ("46000.5", "46001.5"):
        mark = MarkPrice(inst_id="BTC-USDT-SWAP", inst_type="SWAP", mark_px=Decimal(px), ts=1)
        assert model.on_record("mark-price", mark)
    text = _text(render_funding(list(model.swaps.values()), rows=5))
    btc = next(line for line in text.splitlines() if line.startswith("BTC-USDT-SWAP"))
    assert btc.split() == ["BTC-USDT-SWAP", "46001.5", "+0.0100%", "1h02m", "23:15:25"]
    assert format_rate(Decimal("-0.00005")) == "-0.0050%"
    assert "no swaps subscribed" in _text(render_funding([], rows=5))


# --- the model of the other channels --------------------------------------------------------


def test_the_channels_model_keeps_records_of_shown_subscriptions_only() -> None:
    model = ChannelsModel()
    assert model.add(Subscription.parse("trades:BTC-USDT"))
    assert not model.add(Subscription.parse("trades:BTC-USDT"))
    assert model.add(Subscription.parse("trades:ETH-USDT"))
    assert model.on_record("trades", make_trade("BTC-USDT"))
    assert not model.on_record("trades", make_trade("SOL-USDT"))  # not shown
    assert not model.on_record("tickers", make_ticker())  # no view keeps these records
    assert model.pairs("trades") == ["BTC-USDT", "ETH-USDT"]
    model.switch("trades")
    assert model.selected() == "BTC-USDT"
    assert model.pick_next(1) == "ETH-USDT" and model.pick_next(1) == "BTC-USDT"
    assert model.pick_next(-1) == "ETH-USDT"
    assert model.remove(Subscription.parse("trades:ETH-USDT"))
    assert model.selected() == "BTC-USDT"
    assert model.remove(Subscription.parse("trades:BTC-USDT"))
    assert model.trades == {} and model.selected() is None
    assert not model.remove(Subscription.parse("trades:BTC-USDT"))
    with pytest.raises(ValueError, match="no view shows open-interest:BTC-USDT-SWAP"):
        model.add(Subscription.parse("open-interest:BTC-USDT-SWAP"))
    cycled = [model.cycle(1) for _ in range(6)]
    assert cycled == ["candles", "funding", "account", "tickers", "book", "trades"]
    assert model.cycle(-1) == "book"


def test_candles_stay_in_time_order_and_an_update_replaces_its_bar() -> None:
    model = ChannelsModel()
    model.add(Subscription.parse("candle1m:BTC-USDT"))
    for minute in (0, 2, 1):
        model.on_record("candle1m", make_candle(minute=minute, c="100"))
    model.on_record("candle1m", make_candle(minute=2, c="107"))
    bars = list(model.candles["BTC-USDT"].values())
    assert [bar.ts for bar in bars] == sorted(bar.ts for bar in bars)
    assert bars[-1].close == Decimal(107) and len(bars) == 3


# --- the whole screen in each view ----------------------------------------------------------

PRICE_CUT = re.compile(r"\d…")


def _screen_model() -> monitor.MonitorModel:
    model = monitor.MonitorModel(["BTC-USDT", "ETH-USDT"])
    model.on_ticker(make_ticker(), 0.0)
    channels = model.channels
    for key in ("books:BTC-USDT", "books:ETH-USDT", "trades:BTC-USDT", "candle1m:BTC-USDT"):
        channels.add(Subscription.parse(key))
    channels.add(Subscription.parse("funding-rate:BTC-USDT-SWAP"))
    for i in range(40):
        channels.on_record("trades", make_trade(price=f"{46000 + i}.5", ts=i))
    for minute in range(30):
        channels.on_record("candle1m", make_candle(minute=minute, c=str(100 + minute % 7)))
    channels.on_record("funding-rate", _funding())
    for i in range(8):
        model.add_event("info", f"event {i}", float(i))
    return model


@pytest.mark.parametrize(("width", "height"), [(80, 24), (160, 50)])
@pytest.mark.parametrize("view", ["book", "trades", "candles", "funding"])
def test_each_view_fits_the_terminal_and_keeps_the_state_and_input_line(
    view: monitor.View, width: int, height: int
) -> None:
    model = _screen_model()
    model.channels.switch(view)
    model.input_text = "+books:eth"
    books = StubBooks(make_book("BTC-USDT"))
    screen = monitor.render(model, make_stats(), 5.0, height=height, books=books)
    lines = _text(screen, width=width).splitlines()
    assert len(lines) <= height
    assert all(len(line) <= width for line in lines)
    text = "\n".join(lines)
    assert re.search(r"State\s+connected", text)  # the state is always there
    assert lines[-1].startswith("> +books:eth")  # the input line echoes the typed text
    assert "events" in text
    title = {"book": "order book BTC-USDT", "trades": "trades BTC-USDT",
             "candles": "candles 1m BTC-USDT", "funding": "funding & mark"}[view]  # fmt: skip
    assert lines[0].startswith(title)
    above = text.split("╭─")[0]
    assert not PRICE_CUT.search(above)  # no cut prices
    if view == "book":
        asks = [line for line in lines if line.startswith("ask ")]
        bids = [line for line in lines if line.startswith("bid ")]
        assert asks and bids
        assert Decimal(bids[0].split()[1]) < Decimal(asks[-1].split()[1])
        assert ("BTC-USDT", "books") in books.asked


def test_the_book_view_of_a_pair_without_a_valid_book_says_resyncing_on_screen() -> None:
    model = _screen_model()
    model.channels.switch("book")
    model.channels.pick("ETH-USDT")
    books = StubBooks(make_book("BTC-USDT"))
    text = _text(monitor.render(model, make_stats(), 5.0, height=24, books=books))
    assert text.splitlines()[0].startswith("order book ETH-USDT  resyncing  (books)  2/2")
    # Narrow: the details go before the state does.
    narrow = _text(monitor.render(model, make_stats(), 5.0, height=24, books=books), width=36)
    assert narrow.splitlines()[0].startswith("order book ETH-USDT  resyncing")
    assert narrow.splitlines()[0].endswith("…")
    no_source = _text(monitor.render(model, make_stats(), 5.0, height=24, books=None))
    assert "waiting for book" in no_source


def test_books_and_their_resyncs_show_in_the_status_panel_once_there_are_books() -> None:
    model = _screen_model()
    plain = _text(monitor.render(model, make_stats(), 5.0, height=24))
    assert "Books" not in plain
    stats = dataclasses.replace(make_stats(), books=2, books_valid=1, book_resyncs=3)
    text = _text(monitor.render(model, stats, 5.0, height=24))
    assert re.search(r"Books\s+1/2 valid, 3 resyncs", text)


def test_a_refused_subscription_is_named_above_its_view() -> None:
    model = _screen_model()
    model.channels.switch("trades")
    sub = Subscription.parse("trades:BTC-USDT")
    model.channels.rejected = {sub: "60018 instrument does not exist"}
    text = _text(monitor.render(model, make_stats(), 5.0, height=24))
    lines = text.splitlines()
    assert lines[0] == "trades:BTC-USDT refused by the exchange: 60018 instrument does not exist"
    assert lines[1].startswith("trades BTC-USDT")
    assert len(lines) <= 24
    model.channels.switch("book")  # another view: not named there
    assert "refused" not in _text(monitor.render(model, make_stats(), 5.0, height=24))


def test_a_business_connection_beside_one_public_one_is_no_pool() -> None:
    from ._monitor_helpers import make_conn, make_pool

    business = make_conn(0, url="wss://ws.okx.com:8443/ws/v5/business")
    assert not monitor.is_pooled(make_pool(make_conn(0), business))
    pool = make_pool(make_conn(0), make_conn(1), business)
    assert monitor.is_pooled(pool)
    rows = _text(monitor.render_connections(pool)).splitlines()[1:]
    assert [row.split()[0] for row in rows] == ["0", "1", "b0"]


def test_only_the_books_the_client_keeps_have_the_book_view() -> None:
    # OkxClient.book() refuses books5 and bbo-tbt (whole shallow books, kept by latest()):
    # the view must never ask it for them.
    assert view_of_channel("books") == "book"
    assert view_of_channel("books-l2-tbt") == "book"
    assert view_of_channel("books5") is None and view_of_channel("bbo-tbt") is None
