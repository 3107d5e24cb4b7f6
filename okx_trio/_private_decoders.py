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
from types import MappingProxyType
from typing import Any, Final

from . import _private_values as pv
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
from ._private_values import event_type_of
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
PrivateDecoder = Callable[[str, dict[str, Any], dict[str, Any]], tuple[PrivateRecord, ...]]


# -- orders and fills --------------------------------------------------------------------


def decode_order(item: Item) -> Order:
    """One order object (an ``orders`` push item or an ``orders-pending`` REST row)."""
    return Order(
        inst_type=pv.req_text(item, "instType"),
        inst_id=pv.req_text(item, "instId"),
        ord_id=pv.req_text(item, "ordId"),
        cl_ord_id=pv.text(item, "clOrdId"),
        tag=pv.text(item, "tag"),
        px=pv.num(item, "px"),
        sz=pv.req_num(item, "sz"),
        ord_type=pv.req_text(item, "ordType"),
        side=v.side(v.get(item, "side")),
        pos_side=pv.text(item, "posSide"),
        td_mode=pv.text(item, "tdMode"),
        lever=pv.num(item, "lever"),
        reduce_only=pv.truth(item, "reduceOnly"),
        state=pv.req_text(item, "state"),
        acc_fill_sz=pv.num(item, "accFillSz"),
        avg_px=pv.num(item, "avgPx"),
        fill_px=pv.num(item, "fillPx"),
        fill_sz=pv.num(item, "fillSz"),
        fill_time=pv.time(item, "fillTime"),
        fill_fee=pv.num(item, "fillFee"),
        fill_fee_ccy=pv.text(item, "fillFeeCcy"),
        fill_pnl=pv.num(item, "fillPnl"),
        trade_id=pv.text(item, "tradeId"),
        exec_type=pv.text(item, "execType"),
        fee=pv.num(item, "fee"),
        fee_ccy=pv.text(item, "feeCcy"),
        rebate=pv.num(item, "rebate"),
        rebate_ccy=pv.text(item, "rebateCcy"),
        pnl=pv.num(item, "pnl"),
        category=pv.text(item, "category"),
        source=pv.text(item, "source"),
        cancel_source=pv.text(item, "cancelSource"),
        amend_source=pv.text(item, "amendSource"),
        req_id=pv.text(item, "reqId"),
        amend_result=pv.text(item, "amendResult"),
        code=pv.text(item, "code"),
        msg=pv.text(item, "msg"),
        c_time=pv.req_time(item, "cTime"),
        u_time=pv.req_time(item, "uTime"),
    )


def _fill(item: Item) -> Fill:
    count = item.get("count")
    return Fill(
        inst_id=pv.req_text(item, "instId"),
        fill_sz=pv.req_num(item, "fillSz"),
        fill_px=pv.req_num(item, "fillPx"),
        side=v.side(v.get(item, "side")),
        ts=pv.req_time(item, "ts"),
        ord_id=pv.req_text(item, "ordId"),
        cl_ord_id=pv.text(item, "clOrdId"),
        trade_id=pv.req_text(item, "tradeId"),
        exec_type=pv.text(item, "execType"),
        count=1 if count is None or count == "" else v.digits(count, "count"),
    )


def _orders(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[PrivateRecord, ...]:
    return tuple(pv.each(channel, push, decode_order))


def _fills(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[PrivateRecord, ...]:
    return tuple(pv.each(channel, push, _fill))


# -- account -----------------------------------------------------------------------------


def _detail(item: Item) -> BalanceDetail:
    return BalanceDetail(
        ccy=pv.req_text(item, "ccy"),
        eq=pv.num(item, "eq"),
        cash_bal=pv.num(item, "cashBal"),
        avail_bal=pv.num(item, "availBal"),
        frozen_bal=pv.num(item, "frozenBal"),
        ord_frozen=pv.num(item, "ordFrozen"),
        avail_eq=pv.num(item, "availEq"),
        dis_eq=pv.num(item, "disEq"),
        eq_usd=pv.num(item, "eqUsd"),
        liab=pv.num(item, "liab"),
        upl=pv.num(item, "upl"),
        u_time=pv.time(item, "uTime"),
    )


def decode_balance(item: Item, event_type: str = "") -> Balance:
    """One account object (an ``account`` push item or a ``/account/balance`` REST row)."""
    return Balance(
        u_time=pv.time(item, "uTime"),
        total_eq=pv.num(item, "totalEq"),
        iso_eq=pv.num(item, "isoEq"),
        adj_eq=pv.num(item, "adjEq"),
        avail_eq=pv.num(item, "availEq"),
        ord_froz=pv.num(item, "ordFroz"),
        imr=pv.num(item, "imr"),
        mmr=pv.num(item, "mmr"),
        borrow_froz=pv.num(item, "borrowFroz"),
        mgn_ratio=pv.num(item, "mgnRatio"),
        notional_usd=pv.num(item, "notionalUsd"),
        upl=pv.num(item, "upl"),
        details=pv.nested("details", pv.objects(item.get("details"), "details"), _detail),
        event_type=event_type,
    )


def _account(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[PrivateRecord, ...]:
    event_type = event_type_of(channel, push)
    balances = pv.each(channel, push, lambda item: decode_balance(item, event_type))
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
        inst_type=pv.req_text(item, "instType"),
        inst_id=pv.req_text(item, "instId"),
        pos_id=pv.req_text(item, "posId"),
        mgn_mode=pv.text(item, "mgnMode"),
        pos_side=pv.text(item, "posSide"),
        pos=pv.req_num(item, "pos"),
        avail_pos=pv.num(item, "availPos"),
        avg_px=pv.num(item, "avgPx"),
        upl=pv.num(item, "upl"),
        upl_ratio=pv.num(item, "uplRatio"),
        lever=pv.num(item, "lever"),
        liq_px=pv.num(item, "liqPx"),
        mark_px=pv.num(item, "markPx"),
        margin=pv.num(item, "margin"),
        mgn_ratio=pv.num(item, "mgnRatio"),
        imr=pv.num(item, "imr"),
        mmr=pv.num(item, "mmr"),
        notional_usd=pv.num(item, "notionalUsd"),
        adl=pv.text(item, "adl"),
        realized_pnl=pv.num(item, "realizedPnl"),
        pnl=pv.num(item, "pnl"),
        fee=pv.num(item, "fee"),
        funding_fee=pv.num(item, "fundingFee"),
        liq_penalty=pv.num(item, "liqPenalty"),
        ccy=pv.text(item, "ccy"),
        pos_ccy=pv.text(item, "posCcy"),
        trade_id=pv.text(item, "tradeId"),
        c_time=pv.time(item, "cTime"),
        u_time=pv.time(item, "uTime"),
        p_time=pv.time(item, "pTime"),
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
        pv.each(
            channel, push, lambda item: decode_position(item, event_type), may_be_empty=snapshot
        )
    )
    if not snapshot:
        return positions
    return (PositionsSnapshot(positions, snapshot_ts(positions), "push"),)


# -- balance_and_position, liquidation-warning, account-greeks ---------------------------


def _cash(item: Item) -> CashBalance:
    return CashBalance(
        pv.req_text(item, "ccy"), pv.req_num(item, "cashBal"), pv.time(item, "uTime")
    )


def _position_change(item: Item) -> PositionChange:
    return PositionChange(
        pos_id=pv.req_text(item, "posId"),
        trade_id=pv.text(item, "tradeId"),
        inst_id=pv.req_text(item, "instId"),
        inst_type=pv.req_text(item, "instType"),
        mgn_mode=pv.text(item, "mgnMode"),
        pos_side=pv.text(item, "posSide"),
        pos=pv.req_num(item, "pos"),
        ccy=pv.text(item, "ccy"),
        pos_ccy=pv.text(item, "posCcy"),
        avg_px=pv.num(item, "avgPx"),
        u_time=pv.time(item, "uTime"),
    )


def _trade_ref(item: Item) -> TradeRef:
    return TradeRef(pv.req_text(item, "instId"), pv.req_text(item, "tradeId"))


def _balance_and_position_item(item: Item) -> BalanceAndPosition:
    return BalanceAndPosition(
        p_time=pv.req_time(item, "pTime"),
        event_type=pv.req_text(item, "eventType"),
        balances=pv.nested("balData", pv.objects(item.get("balData"), "balData"), _cash),
        positions=pv.nested(
            "posData", pv.objects(item.get("posData"), "posData"), _position_change
        ),
        trades=pv.nested("trades", pv.objects(item.get("trades"), "trades"), _trade_ref),
    )


def _liquidation_warning(item: Item) -> LiquidationWarning:
    return LiquidationWarning(
        inst_type=pv.req_text(item, "instType"),
        inst_id=pv.req_text(item, "instId"),
        pos_id=pv.req_text(item, "posId"),
        mgn_mode=pv.text(item, "mgnMode"),
        pos_side=pv.text(item, "posSide"),
        pos=pv.req_num(item, "pos"),
        pos_ccy=pv.text(item, "posCcy"),
        ccy=pv.text(item, "ccy"),
        lever=pv.num(item, "lever"),
        mark_px=pv.num(item, "markPx"),
        mgn_ratio=pv.num(item, "mgnRatio"),
        c_time=pv.time(item, "cTime"),
        u_time=pv.time(item, "uTime"),
        p_time=pv.time(item, "pTime"),
    )


def _greeks(item: Item) -> AccountGreeks:
    return AccountGreeks(
        ccy=pv.req_text(item, "ccy"),
        delta_bs=pv.num(item, "deltaBS"),
        delta_pa=pv.num(item, "deltaPA"),
        gamma_bs=pv.num(item, "gammaBS"),
        gamma_pa=pv.num(item, "gammaPA"),
        theta_bs=pv.num(item, "thetaBS"),
        theta_pa=pv.num(item, "thetaPA"),
        vega_bs=pv.num(item, "vegaBS"),
        vega_pa=pv.num(item, "vegaPA"),
        ts=pv.req_time(item, "ts"),
    )


def _per_item(build: Callable[[Item], PrivateRecord]) -> PrivateDecoder:
    def decode(
        channel: str, arg: dict[str, Any], push: dict[str, Any]
    ) -> tuple[PrivateRecord, ...]:
        return tuple(pv.each(channel, push, build))

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
