"""A recorded OKX session replays through the client into exactly the tickers it holds."""

from __future__ import annotations

import json
from decimal import Decimal

import trio
import trio.testing

from okx_trio import BookUpdate, Subscription, Ticker, Trade, open_okx_client
from okx_trio.testing import ReplayExchange

from .conftest import CAPTURES, make_config

CAPTURE = CAPTURES / "okx-public-2022-05-13.txt"
PAIRS = ["BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT"]


def expected_tickers() -> list[Ticker]:
    """The capture's ticker pushes, read independently of the client's codec."""
    tickers = []
    for line in CAPTURE.read_text(encoding="utf-8").splitlines():
        if " <- " in line or " <-> " in line:
            continue  # what the client sent, and connection openings
        message = json.loads(line.split(": ", 1)[1])
        if message.get("arg", {}).get("channel") != "tickers" or "data" not in message:
            continue
        for d in message["data"]:
            tickers.append(
                Ticker(
                    inst_id=d["instId"],
                    inst_type=d["instType"],
                    last=Decimal(d["last"]),
                    last_size=Decimal(d["lastSz"]),
                    bid=Decimal(d["bidPx"]),
                    bid_size=Decimal(d["bidSz"]),
                    ask=Decimal(d["askPx"]),
                    ask_size=Decimal(d["askSz"]),
                    open_24h=Decimal(d["open24h"]),
                    high_24h=Decimal(d["high24h"]),
                    low_24h=Decimal(d["low24h"]),
                    vol_24h=Decimal(d["vol24h"]),
                    vol_ccy_24h=Decimal(d["volCcy24h"]),
                    ts=int(d["ts"]),
                )
            )
    return tickers


async def test_replay_of_the_2022_session_yields_all_28_tickers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    expected = expected_tickers()
    assert len(expected) == 28
    replay = ReplayExchange(CAPTURE)
    async with open_okx_client(PAIRS, config=make_config(), connector=replay.connector) as client:
        ticks = client.ticks()
        received = [await ticks.receive() for _ in range(28)]
        await replay.wait_finished()
        stats = client.get_stats()
    assert received == expected
    first = received[0]
    assert first.inst_id == "BTC-USD-220527" and first.inst_type == "FUTURES"
    assert first.last == Decimal("30218.8") and first.ts == 1652459223003
    assert str(first.vol_ccy_24h) == "2620.289"
    assert stats.reconnect_count == 0
    assert stats.bad_messages == 0
    assert stats.subscribed_pairs == 3
    # trades and books pushes, and their acks, are another channel's: ignored, not bad.
    assert stats.ignored_messages > 0


def capture_frames() -> list[str]:
    """Every frame the server sent in the capture, read as plain text."""
    frames = []
    for line in CAPTURE.read_text(encoding="utf-8").splitlines():
        if " <- " in line or " <-> " in line:
            continue
        frames.append(line.split(": ", 1)[1])
    return frames


def is_trades_push(frame: str) -> bool:
    message = json.loads(frame)
    return message.get("arg", {}).get("channel") == "trades" and "data" in message


def trades_of(frames: list[str]) -> list[tuple[str, str, str, str, str, int]]:
    """(instId, tradeId, px, sz, side, ts) of every trade in *frames*, in order (plain json)."""
    return [
        (d["instId"], d["tradeId"], d["px"], d["sz"], d["side"], int(d["ts"]))
        for frame in frames
        if is_trades_push(frame)
        for d in json.loads(frame)["data"]
    ]


async def test_replay_of_the_2022_session_gives_every_trade_exactly(
    autojump_clock: trio.testing.MockClock,
) -> None:
    frames = capture_frames()
    expected_pushes = [frame for frame in frames if is_trades_push(frame)]
    expected = trades_of(frames)
    assert len(expected_pushes) == len(expected) == 74
    first_request = CAPTURE.read_text(encoding="utf-8").splitlines()[1].split(": ", 1)[1]
    replay = ReplayExchange(CAPTURE)
    # A capture of one url plays to any url.
    async with replay.connector("ws://127.0.0.1:8765/ws/v5/public") as ws:
        await ws.send_message(first_request)
        received = [await ws.get_message() for _ in frames]
        await replay.wait_finished()
    assert all(isinstance(frame, str) for frame in received)
    texts = [str(frame) for frame in received]
    # Every trades push reaches the connection byte for byte, in order, among the others.
    assert [frame for frame in texts if is_trades_push(frame)] == expected_pushes
    assert texts == frames
    trades = trades_of(texts)
    assert trades == expected
    assert trades[0] == ("BTC-USD-220527", "7849", "30218.8", "1", "buy", 1652459199958)
    assert trades[1] == ("UNI-USD-SWAP", "12883020", "5.123", "100", "sell", 1652459215150)
    assert trades[-1] == ("BTC-USDT", "338476375", "30227.6", "0.00000088", "buy", 1652459235576)
    by_inst = {inst: [t for t in trades if t[0] == inst] for inst in PAIRS}
    assert {inst: len(ts) for inst, ts in by_inst.items()} == {
        "BTC-USD-220527": 4,
        "UNI-USD-SWAP": 1,
        "BTC-USDT": 69,
    }
    for inst_trades in by_inst.values():  # each instrument's trades come in id order
        ids = [int(t[1]) for t in inst_trades]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # All channels came through: books and tickers too.
    channels = [json.loads(frame).get("arg", {}).get("channel") for frame in texts]
    pushes = [c for c, f in zip(channels, texts, strict=True) if '"data"' in f]
    assert (pushes.count("tickers"), pushes.count("trades"), pushes.count("books")) == (28, 74, 290)


def expected_trades() -> list[tuple[str, str, Decimal, Decimal, str, int]]:
    """The capture's trades, read independently of the client's codec."""
    out = []
    for frame in capture_frames():
        message = json.loads(frame)
        if message.get("arg", {}).get("channel") != "trades" or "data" not in message:
            continue
        for d in message["data"]:
            out.append(
                (
                    d["instId"],
                    d["tradeId"],
                    Decimal(d["px"]),
                    Decimal(d["sz"]),
                    d["side"],
                    int(d["ts"]),
                )
            )
    return out


async def test_the_client_replaying_the_2022_session_delivers_every_trade_exactly(
    autojump_clock: trio.testing.MockClock,
) -> None:
    expected = expected_trades()
    assert len(expected) >= 74
    replay = ReplayExchange(CAPTURE)
    subs = [
        Subscription(channel, inst_id) for channel in ("tickers", "trades") for inst_id in PAIRS
    ]
    async with open_okx_client(
        subscriptions=subs, config=make_config(), connector=replay.connector
    ) as client:
        trades = client.stream("trades")
        received = [await trades.receive() for _ in range(len(expected))]
        await replay.wait_finished()
        stats = client.get_stats()
    assert all(isinstance(t, Trade) for t in received)
    assert [(t.inst_id, t.trade_id, t.price, t.size, t.side, t.ts) for t in received] == expected
    assert stats.bad_messages == 0 and stats.acknowledged == 6


async def test_replaying_the_2022_session_verifies_the_checksum_of_every_books_push(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The 2022 recording predates seqId: each of its 290 books pushes (snapshots and updates
    # of three instruments) carries a non-zero CRC32, the one integrity signal, and every one
    # must verify against the book the client keeps.
    replay = ReplayExchange(CAPTURE)
    subs = [Subscription("books", inst_id) for inst_id in PAIRS]
    async with open_okx_client(
        subscriptions=subs, config=make_config(), connector=replay.connector
    ) as client:
        books = client.stream("books")
        received = [await books.receive() for _ in range(290)]
        await replay.wait_finished()
        stats = client.get_stats()
    assert all(isinstance(item, BookUpdate) for item in received)
    assert all(item.checksum != 0 for item in received)
    assert sum(item.action == "snapshot" for item in received) == 3
    # A push whose checksum failed would have made its book invalid (a resync), and nothing
    # of an invalid book is delivered: all 290 came through, none failed.
    assert stats.book_resyncs == 0 and stats.bad_messages == 0
