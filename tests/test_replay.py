"""A recorded OKX session replays through the client into exactly the tickers it holds."""

from __future__ import annotations

import json
from decimal import Decimal

import trio
import trio.testing

from okx_trio import Ticker, open_okx_client
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
