"""The msgspec fast path of :mod:`._decoders`: raw push text straight into records.

:func:`decode_push_text` parses the text with msgspec into typed Structs (no dicts, no
per-value type checks for what msgspec has already typed) and then builds the records
through the very functions :func:`~._decoders.decode_data` uses, so it returns exactly what
``decode_data(channel, obj["arg"], obj)`` would for ``obj = json.loads(text)``, or None to
defer: for a channel it has no fast path for, for text msgspec reads differently or refuses
(JSON numbers where OKX sends strings, null for a required field, non-JSON), and for
anything malformed (``decode_data`` then says what is wrong). ``tests/test_decoders.py``
holds the two paths equal. Sans-IO; never raises.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Final

import msgspec

from . import _push_values as v
from ._okx import CANDLE_BARS, INDEX_CANDLE_BARS, MARK_PRICE_CANDLE_BARS
from ._plain_decoders import (
    INCREMENTAL_BOOK_CHANNELS,
    SNAPSHOT_BOOK_CHANNELS,
    Record,
    book_snapshot,
    book_update,
    candles_from_rows,
    trade_from_values,
)
from ._push_values import PushError

__all__ = ["decode_push_text"]

_Level = tuple[str, str, str, str]


class _Arg(msgspec.Struct, gc=False):
    instId: str = ""  # "" is refused later, as decode_data refuses a missing instId


class _Trade(msgspec.Struct, gc=False):
    instId: str
    tradeId: str
    px: str
    sz: str
    side: str
    ts: str
    count: str | None = None
    source: str | None = None
    seqId: int | None = None


class _Trades(msgspec.Struct, gc=False):
    arg: dict[str, Any]  # unused, but decode_data refuses a push whose arg is no object
    data: list[_Trade]


class _Book(msgspec.Struct, gc=False):
    bids: list[_Level]
    asks: list[_Level]
    ts: str
    seqId: int | None = None
    prevSeqId: int | None = None
    checksum: int | None = None


class _Books(msgspec.Struct, gc=False):
    arg: _Arg
    data: list[_Book]
    action: str | None = None


class _Snapshots(msgspec.Struct, gc=False):
    arg: _Arg
    data: list[_Book]


class _Candles(msgspec.Struct, gc=False):
    arg: _Arg
    data: list[list[str]]


_TRADES: Final = msgspec.json.Decoder(_Trades)
_BOOKS: Final = msgspec.json.Decoder(_Books)
_SNAPSHOTS: Final = msgspec.json.Decoder(_Snapshots)
_CANDLES: Final = msgspec.json.Decoder(_Candles)


def decode_push_text(channel: str, text: str) -> tuple[Record, ...] | None:
    """The records of the push *text* of *channel*, exactly as
    :func:`~._decoders.decode_data` gives them, or None to let it decide. Never raises."""
    fast = _FAST.get(channel) if type(channel) is str and type(text) is str else None
    if fast is None:
        return None
    try:
        return fast(channel, text)
    except (msgspec.MsgspecError, PushError, RecursionError):  # deep nesting in an ignored field
        return None


def _trades(channel: str, text: str) -> tuple[Record, ...] | None:
    data = _TRADES.decode(text).data
    if not data:
        return None
    return tuple(
        [
            trade_from_values(
                t.instId, t.tradeId, t.px, t.sz, t.side, t.count, t.ts, t.source, t.seqId
            )
            for t in data
        ]
    )


def _books(channel: str, text: str) -> tuple[Record, ...] | None:
    push = _BOOKS.decode(text)
    action = push.action
    if not push.data or (action != "snapshot" and action != "update"):
        return None
    inst_id = v.text(push.arg.instId, "instId")
    levels = v.levels_from_texts
    return tuple(
        [
            book_update(
                inst_id,
                channel,
                "snapshot" if action == "snapshot" else "update",
                book.seqId,
                book.prevSeqId,
                book.ts,
                levels(book.bids, "bids"),
                levels(book.asks, "asks"),
                book.checksum,
            )
            for book in push.data
        ]
    )


def _snapshots(channel: str, text: str) -> tuple[Record, ...] | None:
    push = _SNAPSHOTS.decode(text)
    if not push.data:
        return None
    inst_id = v.text(push.arg.instId, "instId")
    levels = v.levels_from_texts
    return tuple(
        [
            book_snapshot(
                inst_id,
                channel,
                levels(book.bids, "bids"),
                levels(book.asks, "asks"),
                book.ts,
                book.seqId,
            )
            for book in push.data
        ]
    )


def _candles(channel: str, text: str, *, bar: str, price_only: bool) -> tuple[Record, ...] | None:
    push = _CANDLES.decode(text)
    rows = push.data
    width = 6 if price_only else 9
    if not rows or any(len(row) < width for row in rows):
        return None
    inst_id = v.text(push.arg.instId, "instId")
    return candles_from_rows(channel, inst_id, bar, price_only, rows)


def _table() -> dict[str, Callable[[str, str], tuple[Record, ...] | None]]:
    table: dict[str, Callable[[str, str], tuple[Record, ...] | None]] = {
        "trades": _trades,
        "trades-all": _trades,
    }
    table.update(dict.fromkeys(INCREMENTAL_BOOK_CHANNELS, _books))
    table.update(dict.fromkeys(SNAPSHOT_BOOK_CHANNELS, _snapshots))
    for prefix, bars, price_only in (
        ("candle", CANDLE_BARS, False),
        ("mark-price-candle", MARK_PRICE_CANDLE_BARS, True),
        ("index-candle", INDEX_CANDLE_BARS, True),
    ):
        for bar in bars:
            table[prefix + bar] = partial(_candles, bar=bar, price_only=price_only)
    return table


_FAST: Final = _table()
