"""Decoders of OKX's private channels' pushes into :mod:`._private_records` (sans-IO).

:func:`decode_private_data` (``channel, arg, push``: the parsed push) is the private
channels' :func:`~._decoders.decode_data`: it returns the records of one push in data order,
or raises :class:`~._push_values.PushError` naming the item and the field. It is a function
of its own because its records are not market data (no ``inst_id`` on a balance) and a
paginated snapshot must be assembled (:mod:`._snapshot_pages`) before it is decoded. There
is no msgspec fast path: private traffic is small.

Rules: a field that identifies a record (ids, ``instId``, ``side``, ``sz``/``pos``, times
an order cannot lack) is required; every other listed field may be absent (OKX adds and
drops fields; REST answers lack the ``fill*`` fields). ``""`` is None for numbers and
times; a value of the wrong kind (a number that is not OKX's decimal text, a time that is
not digits) is an error; unknown fields are ignored.

Per channel: ``orders`` one :class:`Order` per item; ``fills`` one :class:`Fill`;
``account`` one :class:`Balance` per item, except that a snapshot (its pages assembled
first, see :mod:`._snapshot_pages`) is one Balance holding every item's currencies;
``positions``: a snapshot (possibly empty: no open positions) is one
:class:`PositionsSnapshot`, an ``event_update`` one :class:`Position` per item;
``balance_and_position``, ``liquidation-warning``, ``account-greeks`` one record per item.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, TypeVar

from . import _push_values as v
from ._private_records import (
    AccountGreeks,
    Balance,
    BalanceAndPosition,
    BalanceDetail,
    CashBalance,
    Fill,
    LiquidationWarning,
    Order,
    Position,
    PositionChange,
    PositionsSnapshot,
    PrivateRecord,
    TradeRef,
)
from ._push_values import PushError

__all__ = [
    "PRIVATE_DECODERS",
    "PRIVATE_RECORD_TYPES",
    "decode_balance",
    "decode_order",
    "decode_position",
    "decode_private_data",
    "event_type_of",
]

Item = dict[str, Any]
_T = TypeVar("_T")
PrivateDecoder = Callable[[str, dict[str, Any], dict[str, Any]], tuple[PrivateRecord, ...]]


# -- values ------------------------------------------------------------------------------


def _num(item: Item, key: str) -> Decimal | None:
    """An optional number: absent, null or ``""`` is None."""
    value = item.get(key)
    if value is None or (type(value) is str and value == ""):
        return None
    return v.number(value, key)


def _req_num(item: Item, key: str) -> Decimal:
    return v.number(v.get(item, key), key)


def _time(item: Item, key: str) -> int | None:
    """An optional time in ms: absent, null or ``""`` is None."""
    value = item.get(key)
    return None if value is None else v.opt_time(value, key)


def _req_time(item: Item, key: str) -> int:
    return v.digits(v.get(item, key), key)


def _str(item: Item, key: str) -> str:
    """Optional text: absent or null is ``""``."""
    value = item.get(key)
    return "" if value is None else v.opt_text(value, key)


def _req_str(item: Item, key: str) -> str:
    return v.text(v.get(item, key), key)


def _truth(item: Item, key: str) -> bool:
    """OKX's ``"true"``/``"false"`` text (or a JSON boolean); absent or ``""`` is False."""
    value = item.get(key)
    if value is None or value == "" or value is False or value == "false":
        return False
    if value is True or value == "true":
        return True
    v.fail(key, value, '"true" or "false"')


def _objects(value: Any, key: str) -> list[Item]:
    if value is None:
        return []
    if type(value) is not list or not all(type(x) is dict for x in value):
        v.fail(key, value, "an array of objects")
    return value


def event_type_of(channel: str, push: dict[str, Any]) -> str:
    """The push's top-level ``eventType`` (``""`` if absent)."""
    try:
        return _str(push, "eventType")
    except PushError as exc:
        raise PushError(f"{channel}: {exc}") from None


def _data(channel: str, push: dict[str, Any], *, may_be_empty: bool) -> list[Any]:
    data = push.get("data")
    if type(data) is not list or (not data and not may_be_empty):
        what = "an array" if may_be_empty else "a non-empty array"
        raise PushError(f"{channel}: data: {v.show(data)} is not {what}")
    return data


def _each(
    channel: str, push: dict[str, Any], build: Callable[[Item], _T], *, may_be_empty: bool = False
) -> list[_T]:
    out: list[_T] = []
    for index, item in enumerate(_data(channel, push, may_be_empty=may_be_empty)):
        if type(item) is not dict:
            raise PushError(f"{channel}: data[{index}]: {v.show(item)} is not an object")
        try:
            out.append(build(item))
        except PushError as exc:
            raise PushError(f"{channel}: data[{index}].{exc}") from None
    return out


def _nested(key: str, items: list[Item], build: Callable[[Item], _T]) -> tuple[_T, ...]:
    out: list[_T] = []
    for index, item in enumerate(items):
        try:
            out.append(build(item))
        except PushError as exc:
            raise PushError(f"{key}[{index}].{exc}") from None
    return tuple(out)


# -- orders and fills --------------------------------------------------------------------


def decode_order(item: Item) -> Order:
    """One order object (an ``orders`` push item or an ``orders-pending`` REST row)."""
    return Order(
        inst_type=_req_str(item, "instType"),
        inst_id=_req_str(item, "instId"),
        ord_id=_req_str(item, "ordId"),
        cl_ord_id=_str(item, "clOrdId"),
        tag=_str(item, "tag"),
        px=_num(item, "px"),
        sz=_req_num(item, "sz"),
        ord_type=_req_str(item, "ordType"),
        side=v.side(v.get(item, "side")),
        pos_side=_str(item, "posSide"),
        td_mode=_str(item, "tdMode"),
        lever=_num(item, "lever"),
        reduce_only=_truth(item, "reduceOnly"),
        state=_req_str(item, "state"),
        acc_fill_sz=_num(item, "accFillSz"),
        avg_px=_num(item, "avgPx"),
        fill_px=_num(item, "fillPx"),
        fill_sz=_num(item, "fillSz"),
        fill_time=_time(item, "fillTime"),
        fill_fee=_num(item, "fillFee"),
        fill_fee_ccy=_str(item, "fillFeeCcy"),
        fill_pnl=_num(item, "fillPnl"),
        trade_id=_str(item, "tradeId"),
        exec_type=_str(item, "execType"),
        fee=_num(item, "fee"),
        fee_ccy=_str(item, "feeCcy"),
        rebate=_num(item, "rebate"),
        rebate_ccy=_str(item, "rebateCcy"),
        pnl=_num(item, "pnl"),
        category=_str(item, "category"),
        source=_str(item, "source"),
        cancel_source=_str(item, "cancelSource"),
        amend_source=_str(item, "amendSource"),
        req_id=_str(item, "reqId"),
        amend_result=_str(item, "amendResult"),
        code=_str(item, "code"),
        msg=_str(item, "msg"),
        c_time=_req_time(item, "cTime"),
        u_time=_req_time(item, "uTime"),
    )


def _fill(item: Item) -> Fill:
    count = item.get("count")
    return Fill(
        inst_id=_req_str(item, "instId"),
        fill_sz=_req_num(item, "fillSz"),
        fill_px=_req_num(item, "fillPx"),
        side=v.side(v.get(item, "side")),
        ts=_req_time(item, "ts"),
        ord_id=_req_str(item, "ordId"),
        cl_ord_id=_str(item, "clOrdId"),
        trade_id=_req_str(item, "tradeId"),
        exec_type=_str(item, "execType"),
        count=1 if count is None or count == "" else v.digits(count, "count"),
    )


def _orders(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[PrivateRecord, ...]:
    return tuple(_each(channel, push, decode_order))


def _fills(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[PrivateRecord, ...]:
    return tuple(_each(channel, push, _fill))


# -- account -----------------------------------------------------------------------------


def _detail(item: Item) -> BalanceDetail:
    return BalanceDetail(
        ccy=_req_str(item, "ccy"),
        eq=_num(item, "eq"),
        cash_bal=_num(item, "cashBal"),
        avail_bal=_num(item, "availBal"),
        frozen_bal=_num(item, "frozenBal"),
        ord_frozen=_num(item, "ordFrozen"),
        avail_eq=_num(item, "availEq"),
        dis_eq=_num(item, "disEq"),
        eq_usd=_num(item, "eqUsd"),
        liab=_num(item, "liab"),
        upl=_num(item, "upl"),
        u_time=_time(item, "uTime"),
    )


def decode_balance(item: Item, event_type: str = "") -> Balance:
    """One account object (an ``account`` push item or a ``/account/balance`` REST row)."""
    return Balance(
        u_time=_time(item, "uTime"),
        total_eq=_num(item, "totalEq"),
        iso_eq=_num(item, "isoEq"),
        adj_eq=_num(item, "adjEq"),
        avail_eq=_num(item, "availEq"),
        ord_froz=_num(item, "ordFroz"),
        imr=_num(item, "imr"),
        mmr=_num(item, "mmr"),
        borrow_froz=_num(item, "borrowFroz"),
        mgn_ratio=_num(item, "mgnRatio"),
        notional_usd=_num(item, "notionalUsd"),
        upl=_num(item, "upl"),
        details=_nested("details", _objects(item.get("details"), "details"), _detail),
        event_type=event_type,
    )


def _account(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[PrivateRecord, ...]:
    event_type = event_type_of(channel, push)
    balances = _each(channel, push, lambda item: decode_balance(item, event_type))
    if event_type != "snapshot" or len(balances) == 1:
        return tuple(balances)
    # An assembled snapshot: one item per page, each with some of the currencies. The
    # account is one; its totals are the last page's, its currencies all of them.
    details = tuple(detail for balance in balances for detail in balance.details)
    last = balances[-1]
    return (
        Balance(
            last.u_time,
            last.total_eq,
            last.iso_eq,
            last.adj_eq,
            last.avail_eq,
            last.ord_froz,
            last.imr,
            last.mmr,
            last.borrow_froz,
            last.mgn_ratio,
            last.notional_usd,
            last.upl,
            details,
            event_type,
        ),
    )


# -- positions ---------------------------------------------------------------------------


def decode_position(item: Item, event_type: str = "") -> Position:
    """One position object (a ``positions`` push item or a ``/account/positions`` row)."""
    return Position(
        inst_type=_req_str(item, "instType"),
        inst_id=_req_str(item, "instId"),
        pos_id=_req_str(item, "posId"),
        mgn_mode=_str(item, "mgnMode"),
        pos_side=_str(item, "posSide"),
        pos=_req_num(item, "pos"),
        avail_pos=_num(item, "availPos"),
        avg_px=_num(item, "avgPx"),
        upl=_num(item, "upl"),
        upl_ratio=_num(item, "uplRatio"),
        lever=_num(item, "lever"),
        liq_px=_num(item, "liqPx"),
        mark_px=_num(item, "markPx"),
        margin=_num(item, "margin"),
        mgn_ratio=_num(item, "mgnRatio"),
        imr=_num(item, "imr"),
        mmr=_num(item, "mmr"),
        notional_usd=_num(item, "notionalUsd"),
        adl=_str(item, "adl"),
        realized_pnl=_num(item, "realizedPnl"),
        pnl=_num(item, "pnl"),
        fee=_num(item, "fee"),
        funding_fee=_num(item, "fundingFee"),
        liq_penalty=_num(item, "liqPenalty"),
        ccy=_str(item, "ccy"),
        pos_ccy=_str(item, "posCcy"),
        trade_id=_str(item, "tradeId"),
        c_time=_time(item, "cTime"),
        u_time=_time(item, "uTime"),
        p_time=_time(item, "pTime"),
        event_type=event_type,
    )


def snapshot_ts(positions: tuple[Position, ...]) -> int | None:
    """The newest ``p_time`` (or ``u_time``) of *positions*; None if there is none."""
    times = [p.p_time or p.u_time for p in positions]
    return max((t for t in times if t is not None), default=None)


def _positions(
    channel: str, arg: dict[str, Any], push: dict[str, Any]
) -> tuple[PrivateRecord, ...]:
    event_type = event_type_of(channel, push)
    snapshot = event_type == "snapshot"
    positions = tuple(
        _each(channel, push, lambda item: decode_position(item, event_type), may_be_empty=snapshot)
    )
    if not snapshot:
        return positions
    return (PositionsSnapshot(positions, snapshot_ts(positions), "push"),)


# -- balance_and_position, liquidation-warning, account-greeks ---------------------------


def _cash(item: Item) -> CashBalance:
    return CashBalance(_req_str(item, "ccy"), _req_num(item, "cashBal"), _time(item, "uTime"))


def _position_change(item: Item) -> PositionChange:
    return PositionChange(
        pos_id=_req_str(item, "posId"),
        trade_id=_str(item, "tradeId"),
        inst_id=_req_str(item, "instId"),
        inst_type=_req_str(item, "instType"),
        mgn_mode=_str(item, "mgnMode"),
        pos_side=_str(item, "posSide"),
        pos=_req_num(item, "pos"),
        ccy=_str(item, "ccy"),
        pos_ccy=_str(item, "posCcy"),
        avg_px=_num(item, "avgPx"),
        u_time=_time(item, "uTime"),
    )


def _trade_ref(item: Item) -> TradeRef:
    return TradeRef(_req_str(item, "instId"), _req_str(item, "tradeId"))


def _balance_and_position_item(item: Item) -> BalanceAndPosition:
    return BalanceAndPosition(
        p_time=_req_time(item, "pTime"),
        event_type=_req_str(item, "eventType"),
        balances=_nested("balData", _objects(item.get("balData"), "balData"), _cash),
        positions=_nested("posData", _objects(item.get("posData"), "posData"), _position_change),
        trades=_nested("trades", _objects(item.get("trades"), "trades"), _trade_ref),
    )


def _liquidation_warning(item: Item) -> LiquidationWarning:
    return LiquidationWarning(
        inst_type=_req_str(item, "instType"),
        inst_id=_req_str(item, "instId"),
        pos_id=_req_str(item, "posId"),
        mgn_mode=_str(item, "mgnMode"),
        pos_side=_str(item, "posSide"),
        pos=_req_num(item, "pos"),
        pos_ccy=_str(item, "posCcy"),
        ccy=_str(item, "ccy"),
        lever=_num(item, "lever"),
        mark_px=_num(item, "markPx"),
        mgn_ratio=_num(item, "mgnRatio"),
        c_time=_time(item, "cTime"),
        u_time=_time(item, "uTime"),
        p_time=_time(item, "pTime"),
    )


def _greeks(item: Item) -> AccountGreeks:
    return AccountGreeks(
        ccy=_req_str(item, "ccy"),
        delta_bs=_num(item, "deltaBS"),
        delta_pa=_num(item, "deltaPA"),
        gamma_bs=_num(item, "gammaBS"),
        gamma_pa=_num(item, "gammaPA"),
        theta_bs=_num(item, "thetaBS"),
        theta_pa=_num(item, "thetaPA"),
        vega_bs=_num(item, "vegaBS"),
        vega_pa=_num(item, "vegaPA"),
        ts=_req_time(item, "ts"),
    )


def _per_item(build: Callable[[Item], PrivateRecord]) -> PrivateDecoder:
    def decode(
        channel: str, arg: dict[str, Any], push: dict[str, Any]
    ) -> tuple[PrivateRecord, ...]:
        return tuple(_each(channel, push, build))

    return decode


#: Channel -> decoder (what :func:`decode_private_data` dispatches to).
PRIVATE_DECODERS: Final[Mapping[str, PrivateDecoder]] = MappingProxyType(
    {
        "orders": _orders,
        "fills": _fills,
        "account": _account,
        "positions": _positions,
        "balance_and_position": _per_item(_balance_and_position_item),
        "liquidation-warning": _per_item(_liquidation_warning),
        "account-greeks": _per_item(_greeks),
    }
)
#: Channel -> the record type of its items (``positions`` snapshots are
#: :class:`PositionsSnapshot`; REST gives :class:`OrdersSnapshot` on ``orders`` too).
PRIVATE_RECORD_TYPES: Final[Mapping[str, type]] = MappingProxyType(
    {
        "orders": Order,
        "fills": Fill,
        "account": Balance,
        "positions": Position,
        "balance_and_position": BalanceAndPosition,
        "liquidation-warning": LiquidationWarning,
        "account-greeks": AccountGreeks,
    }
)


def decode_private_data(
    channel: str, arg: dict[str, Any], push: dict[str, Any]
) -> tuple[PrivateRecord, ...]:
    """The records of one push of the private *channel*, in data order.

    *arg* is the push's ``arg`` object, *push* the whole parsed message (``data``,
    ``eventType``); an ``account``/``positions`` snapshot must be whole (its pages joined
    by :class:`~._snapshot_pages.SnapshotPages`).

    Raises:
        PushError: for anything malformed (the message names the item, the field and the
            value), for a channel that is not private, and never anything else.
    """
    decoder = PRIVATE_DECODERS.get(channel) if type(channel) is str else None
    if decoder is None:
        raise PushError(f"channel {str(channel)[:40]!r} is not a private channel")
    if type(arg) is not dict or type(push) is not dict:
        raise PushError(f"{channel}: arg and push must be JSON objects")
    return decoder(channel, arg, push)
