"""The plain path of per-channel push decoding: parsed JSON into typed records (sans-IO).

:func:`decode_data` turns one parsed push (the whole JSON object) of any market-data channel
but ``tickers`` into a tuple of records, in data order, or raises :class:`PushError` naming
what was wrong. :func:`decode_push_text` (in :mod:`._fast_decoders`) is the msgspec fast
path over the raw text: the same records, or None to defer to :func:`decode_data`.

Conventions (the records' modules say more): numbers are OKX's strings made ``Decimal``
exactly; ``""`` is NaN where a field may be empty and an error where it may not; a field
missing from a push is an error unless noted (fields older traffic lacks: ``trades``'
``count``/``source``/``seqId``, the books' ``seqId``/``prevSeqId``/``checksum``,
``price-limit``'s ``instType``, the newer ``instruments`` fields); unknown fields are
ignored. Where ``data`` lacks ``instId`` (books, candles) it comes from the push's ``arg``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType
from typing import Any, Final, TypeAlias, TypeVar

from . import _push_values as v
from ._book_records import BookAction, BookLevel, BookSnapshot, BookUpdate
from ._instrument_record import Instrument
from ._okx import CANDLE_BARS, INDEX_CANDLE_BARS, MARK_PRICE_CANDLE_BARS
from ._public_data_decoders import (
    decode_instrument,
    decode_option_summary,
    estimated_price,
    funding_rate,
    index_ticker,
    liquidation_orders,
    mark_price,
    open_interest,
    price_limit,
)
from ._push_values import PushError
from ._records import (
    Candle,
    EstimatedPrice,
    FundingRate,
    IndexTicker,
    LiquidationOrder,
    MarkPrice,
    OpenInterest,
    OptionSummary,
    PriceCandle,
    PriceLimit,
    Trade,
)
from ._ticker import Ticker

__all__ = [
    "INCREMENTAL_BOOK_CHANNELS",
    "RECORD_TYPES",
    "SNAPSHOT_BOOK_CHANNELS",
    "PushError",
    "Record",
    "decode_data",
]

#: Every record a push can decode to (``Ticker`` from the codec's own ``tickers`` path).
Record: TypeAlias = (
    Ticker
    | Trade
    | BookSnapshot
    | BookUpdate
    | Candle
    | PriceCandle
    | MarkPrice
    | IndexTicker
    | FundingRate
    | OpenInterest
    | PriceLimit
    | EstimatedPrice
    | LiquidationOrder
    | OptionSummary
    | Instrument
)
Item = dict[str, Any]
_T = TypeVar("_T")
_Decoder = Callable[[str, dict[str, Any], dict[str, Any]], tuple[Record, ...]]

INCREMENTAL_BOOK_CHANNELS: Final = frozenset({"books", "books-l2-tbt", "books50-l2-tbt"})
SNAPSHOT_BOOK_CHANNELS: Final = frozenset({"books5", "bbo-tbt"})


def decode_data(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[Record, ...]:
    """The records of one push of *channel*, in data order.

    *arg* is the push's ``arg`` object (``instId`` is read from it where ``data`` lacks
    one); *push* is the whole parsed message (``data``, and ``action`` for books).

    Raises:
        PushError: for anything malformed (the message names the field and value), for a
            channel this module does not decode (``tickers``: the codec's own path;
            private and unknown channels), and never anything else, whatever the JSON.
    """
    decoder = _DECODERS.get(channel) if type(channel) is str else None
    if decoder is None:
        raise PushError(f"channel {str(channel)[:40]!r} is not handled by decode_data")
    if type(arg) is not dict or type(push) is not dict:
        raise PushError(f"{channel}: arg and push must be JSON objects")
    return decoder(channel, arg, push)


def _items(channel: str, push: dict[str, Any]) -> list[Any]:
    data = push.get("data")
    if type(data) is not list or not data:
        raise PushError(f"{channel}: data: {v.show(data)} is not a non-empty array")
    return data


def _each(channel: str, push: dict[str, Any], build: Callable[[Item], _T]) -> tuple[_T, ...]:
    """``build`` of each object of ``data``; errors name the item."""
    out: list[_T] = []
    for index, item in enumerate(_items(channel, push)):
        if type(item) is not dict:
            raise PushError(f"{channel}: data[{index}]: {v.show(item)} is not an object")
        try:
            out.append(build(item))
        except PushError as exc:
            raise PushError(f"{channel}: data[{index}].{exc}") from None
    return tuple(out)


def _arg_inst_id(channel: str, arg: dict[str, Any]) -> str:
    try:
        return v.text(arg.get("instId"), "instId")
    except PushError as exc:
        raise PushError(f"{channel}: arg.{exc}") from None


# -- trades ------------------------------------------------------------------------------


def _trade(item: Item) -> Trade:
    return trade_from_values(
        v.get(item, "instId"),
        v.get(item, "tradeId"),
        v.get(item, "px"),
        v.get(item, "sz"),
        v.get(item, "side"),
        item.get("count"),
        v.get(item, "ts"),
        item.get("source"),
        item.get("seqId"),
    )


def trade_from_values(
    inst_id: Any,
    trade_id: Any,
    px: Any,
    sz: Any,
    side: Any,
    count: Any,
    ts: Any,
    source: Any,
    seq: Any,
) -> Trade:
    """One trade from its JSON values (both paths); ``None``: an absent optional field."""
    return Trade(
        v.text(inst_id, "instId"),
        v.text(trade_id, "tradeId"),
        v.number(px, "px"),
        v.number(sz, "sz"),
        v.side(side),
        1 if count is None else v.digits(count, "count"),
        v.digits(ts, "ts"),
        "" if source is None else v.opt_text(source, "source"),
        v.int_or_none(seq, "seqId"),
    )


def _trades(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[Record, ...]:
    return _each(channel, push, _trade)


# -- books -------------------------------------------------------------------------------


def _books(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[Record, ...]:
    inst_id = _arg_inst_id(channel, arg)
    raw_action = push.get("action")
    if raw_action != "snapshot" and raw_action != "update":
        raise PushError(f"{channel}: action: {v.show(raw_action)} is not snapshot or update")
    action: BookAction = "snapshot" if raw_action == "snapshot" else "update"

    def build(item: Item) -> Record:
        return book_update(
            inst_id,
            channel,
            action,
            item.get("seqId"),
            item.get("prevSeqId"),
            v.get(item, "ts"),
            v.levels(v.get(item, "bids"), "bids"),
            v.levels(v.get(item, "asks"), "asks"),
            item.get("checksum"),
        )

    return _each(channel, push, build)


def book_update(
    inst_id: str,
    channel: str,
    action: BookAction,
    seq: Any,
    prev: Any,
    ts: Any,
    bids: tuple[BookLevel, ...],
    asks: tuple[BookLevel, ...],
    checksum: Any,
) -> BookUpdate:
    """One update from its JSON values and decoded levels (both paths)."""
    return BookUpdate(
        inst_id,
        channel,
        action,
        v.int_or_none(seq, "seqId"),
        (-1 if action == "snapshot" else None) if prev is None else v.seq_id(prev, "prevSeqId"),
        v.digits(ts, "ts"),
        bids,
        asks,
        v.int_or_none(checksum, "checksum") or 0,
    )


def _book_snapshots(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[Record, ...]:
    inst_id = _arg_inst_id(channel, arg)

    def build(item: Item) -> Record:
        return book_snapshot(
            inst_id,
            channel,
            v.levels(v.get(item, "bids"), "bids"),
            v.levels(v.get(item, "asks"), "asks"),
            v.get(item, "ts"),
            item.get("seqId"),
        )

    return _each(channel, push, build)


def book_snapshot(
    inst_id: str,
    channel: str,
    bids: tuple[BookLevel, ...],
    asks: tuple[BookLevel, ...],
    ts: Any,
    seq: Any,
) -> BookSnapshot:
    """One snapshot from its JSON values and decoded levels (both paths)."""
    return BookSnapshot(
        inst_id, channel, bids, asks, v.digits(ts, "ts"), v.int_or_none(seq, "seqId")
    )


# -- candles -----------------------------------------------------------------------------


def _rows(channel: str, push: dict[str, Any], width: int) -> list[list[str]]:
    rows = _items(channel, push)
    for index, row in enumerate(rows):
        if type(row) is not list or len(row) < width or not all(type(x) is str for x in row):
            raise PushError(
                f"{channel}: data[{index}]: {v.show(row)} is not an array of {width} strings"
            )
    return rows


def candle_from_row(inst_id: str, bar: str, row: list[str]) -> Candle:
    """One ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`` row (both paths)."""
    return Candle(
        inst_id,
        bar,
        v.digits(row[0], "ts"),
        v.number(row[1], "open"),
        v.number(row[2], "high"),
        v.number(row[3], "low"),
        v.number(row[4], "close"),
        v.opt_number(row[5], "vol"),
        v.opt_number(row[6], "volCcy"),
        v.opt_number(row[7], "volCcyQuote"),
        v.flag(row[8], "confirm"),
    )


def price_candle_from_row(inst_id: str, channel: str, bar: str, row: list[str]) -> PriceCandle:
    """One ``[ts, o, h, l, c, confirm]`` row (both paths)."""
    return PriceCandle(
        inst_id,
        channel,
        bar,
        v.digits(row[0], "ts"),
        v.number(row[1], "open"),
        v.number(row[2], "high"),
        v.number(row[3], "low"),
        v.number(row[4], "close"),
        v.flag(row[5], "confirm"),
    )


def candles_from_rows(
    channel: str, inst_id: str, bar: str, price_only: bool, rows: list[list[str]]
) -> tuple[Record, ...]:
    """Records of rows already known to be arrays of enough strings; errors name the row."""
    out: list[Record] = []
    for index, row in enumerate(rows):
        try:
            if price_only:
                out.append(price_candle_from_row(inst_id, channel, bar, row))
            else:
                out.append(candle_from_row(inst_id, bar, row))
        except PushError as exc:
            raise PushError(f"{channel}: data[{index}] {exc}") from None
    return tuple(out)


def _candles(
    channel: str, arg: dict[str, Any], push: dict[str, Any], *, bar: str, price_only: bool
) -> tuple[Record, ...]:
    inst_id = _arg_inst_id(channel, arg)
    rows = _rows(channel, push, 6 if price_only else 9)
    return candles_from_rows(channel, inst_id, bar, price_only, rows)


def _liquidations(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[Record, ...]:
    out: list[Record] = []
    for orders in _each(channel, push, liquidation_orders):
        out.extend(orders)
    return tuple(out)


def _per_item(build: Callable[[Item], Record]) -> _Decoder:
    def decode(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[Record, ...]:
        return _each(channel, push, build)

    return decode


def _table() -> tuple[dict[str, _Decoder], dict[str, type]]:
    decoders: dict[str, _Decoder] = {
        "trades": _trades,
        "trades-all": _trades,
        "mark-price": _per_item(mark_price),
        "index-tickers": _per_item(index_ticker),
        "funding-rate": _per_item(funding_rate),
        "open-interest": _per_item(open_interest),
        "price-limit": _per_item(price_limit),
        "estimated-price": _per_item(estimated_price),
        "liquidation-orders": _liquidations,
        "opt-summary": _per_item(decode_option_summary),
        "instruments": _instruments,
    }
    types: dict[str, type] = {
        "tickers": Ticker,
        "trades": Trade,
        "trades-all": Trade,
        "mark-price": MarkPrice,
        "index-tickers": IndexTicker,
        "funding-rate": FundingRate,
        "open-interest": OpenInterest,
        "price-limit": PriceLimit,
        "estimated-price": EstimatedPrice,
        "liquidation-orders": LiquidationOrder,
        "opt-summary": OptionSummary,
        "instruments": Instrument,
    }
    for name in INCREMENTAL_BOOK_CHANNELS:
        decoders[name], types[name] = _books, BookUpdate
    for name in SNAPSHOT_BOOK_CHANNELS:
        decoders[name], types[name] = _book_snapshots, BookSnapshot
    for prefix, bars, price_only, record in (
        ("candle", CANDLE_BARS, False, Candle),
        ("mark-price-candle", MARK_PRICE_CANDLE_BARS, True, PriceCandle),
        ("index-candle", INDEX_CANDLE_BARS, True, PriceCandle),
    ):
        for bar in bars:
            decoders[prefix + bar] = partial(_candles, bar=bar, price_only=price_only)
            types[prefix + bar] = record
    return decoders, types


def _instruments(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[Record, ...]:
    # A full list may legitimately be empty (every instrument of the type delisted).
    data = push.get("data")
    if type(data) is list and not data:
        return ()
    return _each(channel, push, decode_instrument)


_DECODERS, _TYPES = _table()
#: Channel -> the record type its pushes decode to (every candle channel included;
#: ``tickers`` -> ``Ticker``, decoded by the codec, not by :func:`decode_data`).
RECORD_TYPES: Final[Mapping[str, type]] = MappingProxyType(_TYPES)
