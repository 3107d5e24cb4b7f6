"""Per-channel decoding of OKX pushes into typed records (sans-IO, no Trio).

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
from typing import Any, Final, TypeAlias

from . import _push_values as v
from ._book_records import BookAction, BookSnapshot, BookUpdate
from ._instrument_decoders import decode_instrument, decode_option_summary
from ._instrument_record import Instrument
from ._okx import CANDLE_BARS, INDEX_CANDLE_BARS, MARK_PRICE_CANDLE_BARS
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


def _each(
    channel: str, push: dict[str, Any], build: Callable[[Item], Record]
) -> tuple[Record, ...]:
    """One record per object of ``data``; errors name the item."""
    out = []
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
    count = item.get("count")
    source = item.get("source")
    return Trade(
        v.text(v.get(item, "instId"), "instId"),
        v.text(v.get(item, "tradeId"), "tradeId"),
        v.number(v.get(item, "px"), "px"),
        v.number(v.get(item, "sz"), "sz"),
        trade_side(v.get(item, "side")),
        1 if count is None else v.digits(count, "count"),
        v.digits(v.get(item, "ts"), "ts"),
        "" if source is None else v.opt_text(source, "source"),
        v.int_or_none(item.get("seqId"), "seqId"),
    )


def trade_side(value: Any, key: str = "side") -> str:
    if value == "buy" or value == "sell":
        return str(value)
    v.fail(key, value, '"buy" or "sell"')


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
        prev = item.get("prevSeqId")
        return BookUpdate(
            inst_id,
            channel,
            action,
            v.int_or_none(item.get("seqId"), "seqId"),
            (-1 if action == "snapshot" else None) if prev is None else v.seq_id(prev, "prevSeqId"),
            v.digits(v.get(item, "ts"), "ts"),
            v.levels(v.get(item, "bids"), "bids"),
            v.levels(v.get(item, "asks"), "asks"),
            v.int_or_none(item.get("checksum"), "checksum") or 0,
        )

    return _each(channel, push, build)


def _book_snapshots(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[Record, ...]:
    inst_id = _arg_inst_id(channel, arg)

    def build(item: Item) -> Record:
        return BookSnapshot(
            inst_id,
            channel,
            v.levels(v.get(item, "bids"), "bids"),
            v.levels(v.get(item, "asks"), "asks"),
            v.digits(v.get(item, "ts"), "ts"),
            v.int_or_none(item.get("seqId"), "seqId"),
        )

    return _each(channel, push, build)


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


# -- public-data channels ------------------------------------------------------------------


def _mark_price(item: Item) -> Record:
    return MarkPrice(
        v.text(v.get(item, "instId"), "instId"),
        v.opt_text(v.get(item, "instType"), "instType"),
        v.number(v.get(item, "markPx"), "markPx"),
        v.digits(v.get(item, "ts"), "ts"),
    )


def _index_ticker(item: Item) -> Record:
    return IndexTicker(
        v.text(v.get(item, "instId"), "instId"),
        v.number(v.get(item, "idxPx"), "idxPx"),
        v.opt_number(v.get(item, "open24h"), "open24h"),
        v.opt_number(v.get(item, "high24h"), "high24h"),
        v.opt_number(v.get(item, "low24h"), "low24h"),
        v.opt_number(v.get(item, "sodUtc0"), "sodUtc0"),
        v.opt_number(v.get(item, "sodUtc8"), "sodUtc8"),
        v.digits(v.get(item, "ts"), "ts"),
    )


def _funding_rate(item: Item) -> Record:
    return FundingRate(
        v.text(v.get(item, "instId"), "instId"),
        v.opt_text(v.get(item, "instType"), "instType"),
        v.opt_text(v.get(item, "method"), "method"),
        v.opt_text(v.get(item, "formulaType"), "formulaType"),
        v.number(v.get(item, "fundingRate"), "fundingRate"),
        v.opt_number(v.get(item, "nextFundingRate"), "nextFundingRate"),
        v.digits(v.get(item, "fundingTime"), "fundingTime"),
        v.opt_time(v.get(item, "nextFundingTime"), "nextFundingTime"),
        v.opt_number(v.get(item, "minFundingRate"), "minFundingRate"),
        v.opt_number(v.get(item, "maxFundingRate"), "maxFundingRate"),
        v.opt_number(v.get(item, "interestRate"), "interestRate"),
        v.opt_number(v.get(item, "impactValue"), "impactValue"),
        v.opt_number(v.get(item, "premium"), "premium"),
        v.opt_text(v.get(item, "settState"), "settState"),
        v.opt_number(v.get(item, "settFundingRate"), "settFundingRate"),
        v.digits(v.get(item, "ts"), "ts"),
    )


def _open_interest(item: Item) -> Record:
    return OpenInterest(
        v.text(v.get(item, "instId"), "instId"),
        v.opt_text(v.get(item, "instType"), "instType"),
        v.number(v.get(item, "oi"), "oi"),
        v.opt_number(v.get(item, "oiCcy"), "oiCcy"),
        v.opt_number(v.get(item, "oiUsd"), "oiUsd"),
        v.digits(v.get(item, "ts"), "ts"),
    )


def _price_limit(item: Item) -> Record:
    inst_type = item.get("instType")
    return PriceLimit(
        v.text(v.get(item, "instId"), "instId"),
        "" if inst_type is None else v.opt_text(inst_type, "instType"),
        v.opt_number(v.get(item, "buyLmt"), "buyLmt"),
        v.opt_number(v.get(item, "sellLmt"), "sellLmt"),
        v.boolean(v.get(item, "enabled"), "enabled"),
        v.digits(v.get(item, "ts"), "ts"),
    )


def _estimated_price(item: Item) -> Record:
    return EstimatedPrice(
        v.text(v.get(item, "instId"), "instId"),
        v.opt_text(v.get(item, "instType"), "instType"),
        v.opt_text(v.get(item, "settleType"), "settleType"),
        v.number(v.get(item, "settlePx"), "settlePx"),
        v.digits(v.get(item, "ts"), "ts"),
    )


def _liquidations(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[Record, ...]:
    out: list[Record] = []
    for parent in _each(channel, push, _liquidation_parent):
        out.extend(parent)  # type: ignore[arg-type]  # tuples of LiquidationOrder
    return tuple(out)


def _liquidation_parent(item: Item) -> Any:
    inst_id = v.text(v.get(item, "instId"), "instId")
    inst_type = v.opt_text(v.get(item, "instType"), "instType")
    family = item.get("instFamily")
    inst_family = "" if family is None else v.opt_text(family, "instFamily")
    uly = item.get("uly")
    uly = "" if uly is None else v.opt_text(uly, "uly")
    details = v.get(item, "details")
    if type(details) is not list or not details:
        v.fail("details", details, "a non-empty array")
    out = []
    for index, entry in enumerate(details):
        if type(entry) is not dict:
            v.fail(f"details[{index}]", entry, "an object")
        try:
            out.append(
                LiquidationOrder(
                    inst_id,
                    inst_type,
                    inst_family,
                    uly,
                    trade_side(v.get(entry, "side")),
                    v.opt_text(v.get(entry, "posSide"), "posSide"),
                    v.number(v.get(entry, "bkPx"), "bkPx"),
                    v.number(v.get(entry, "sz"), "sz"),
                    v.opt_number(v.get(entry, "bkLoss"), "bkLoss"),
                    v.opt_text(v.get(entry, "ccy"), "ccy"),
                    v.digits(v.get(entry, "ts"), "ts"),
                )
            )
        except PushError as exc:
            raise PushError(f"details[{index}].{exc}") from None
    return tuple(out)


def _per_item(build: Callable[[Item], Record]) -> _Decoder:
    def decode(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[Record, ...]:
        return _each(channel, push, build)

    return decode


def _table() -> tuple[dict[str, _Decoder], dict[str, type]]:
    decoders: dict[str, _Decoder] = {
        "trades": _trades,
        "trades-all": _trades,
        "mark-price": _per_item(_mark_price),
        "index-tickers": _per_item(_index_ticker),
        "funding-rate": _per_item(_funding_rate),
        "open-interest": _per_item(_open_interest),
        "price-limit": _per_item(_price_limit),
        "estimated-price": _per_item(_estimated_price),
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
