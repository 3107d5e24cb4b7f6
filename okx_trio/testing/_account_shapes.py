"""A fake account's state and how OKX writes it: orders, positions, balances (no I/O).

The mutable state a :class:`~._accounts.FakeAccount` keeps (``OpenOrder``, ``Holding``)
and the functions that render it as OKX's push and REST objects, field names and order as
OKX's docs print them (``okx-docs-samples.jsonl``), every number a string.
Written independently of the client's decoders, so a disagreement shows up in tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

__all__ = [
    "GREEKS",
    "SNAPSHOT",
    "SNAPSHOT_CHANNELS",
    "WS_ONLY_ORDER_FIELDS",
    "ZERO",
    "Holding",
    "Listener",
    "OpenOrder",
    "PrivateEvent",
    "bal_pos_object",
    "bal_pos_position",
    "decimal_arg",
    "family_of",
    "fill_object",
    "greeks_values",
    "inst_type_of",
    "liquidation_warning_object",
    "num",
    "order_object",
    "position_object",
]

ZERO: Final = Decimal(0)
#: ``PrivateEvent.event_type`` of a regular snapshot: each subscription renders its own.
SNAPSHOT: Final = "snapshot"
#: The private channels OKX sends regular snapshots on.
SNAPSHOT_CHANNELS: Final = frozenset(
    {"account", "positions", "balance_and_position", "account-greeks"}
)
#: The greeks of an ``account-greeks`` item, OKX's keys.
GREEKS: Final = (
    "deltaBS",
    "deltaPA",
    "gammaBS",
    "gammaPA",
    "thetaBS",
    "thetaPA",
    "vegaBS",
    "vegaPA",
)
#: Fields of an ``orders`` push that ``orders-pending`` answers lack.
WS_ONLY_ORDER_FIELDS: Final = frozenset(
    {"fillFee", "fillFeeCcy", "fillPnl", "execType", "amendResult", "reqId", "code", "msg"}
)


def num(value: Decimal | None) -> str:
    """OKX's text of a number: plain notation, no trailing zeros; ``""`` for None."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def inst_type_of(inst_id: str) -> str:
    """OKX's ``instType`` of an instrument id by its shape (``BTC-USDT`` SPOT,
    ``BTC-USDT-SWAP`` SWAP, ``BTC-USD-250627`` FUTURES, ``BTC-USD-250627-50000-C``
    OPTION)."""
    parts = inst_id.split("-")
    if len(parts) == 3 and parts[2] == "SWAP":
        return "SWAP"
    if len(parts) == 3:
        return "FUTURES"
    if len(parts) == 5:
        return "OPTION"
    return "SPOT"


def family_of(inst_id: str) -> str:
    """The ``instFamily`` of a derivative (``BTC-USDT-SWAP`` -> ``BTC-USDT``); ``""`` for
    spot."""
    parts = inst_id.split("-")
    return "-".join(parts[:2]) if len(parts) > 2 else ""


@dataclass(slots=True)
class OpenOrder:
    """One order as the fake account keeps it (mutable; the account renders it)."""

    ord_id: str
    cl_ord_id: str
    inst_id: str
    inst_type: str
    side: str
    ord_type: str
    td_mode: str
    px: Decimal | None
    sz: Decimal
    c_time: int
    u_time: int
    state: str = "live"
    acc_fill_sz: Decimal = ZERO
    avg_px: Decimal | None = None
    fee: Decimal = ZERO
    fee_ccy: str = ""
    cancel_source: str = ""

    @classmethod
    def new(
        cls,
        ord_id: str,
        inst_id: str,
        side: str,
        sz: Decimal | str | int,
        px: Decimal | str | int | None,
        *,
        ord_type: str | None,
        cl_ord_id: str,
        td_mode: str | None,
        inst_type: str | None,
        now: int,
    ) -> OpenOrder:
        """A new live order (see ``FakeAccount.place_order``).

        Raises:
            ValueError: a *side* other than buy/sell, a *sz* that is not > 0, a limit order
                without a price.
        """
        if side not in ("buy", "sell"):
            raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")
        size = decimal_arg("sz", sz, positive=True)
        price = None if px is None else decimal_arg("px", px, positive=True)
        kind = ord_type or ("market" if price is None else "limit")
        if kind != "market" and price is None:
            raise ValueError(f"a {kind} order needs a px")
        itype = inst_type or inst_type_of(inst_id)
        td = td_mode or ("cash" if itype == "SPOT" else "cross")
        return cls(ord_id, cl_ord_id, inst_id, itype, side, kind, td, price, size, now, now)

    @property
    def is_open(self) -> bool:
        return self.state in ("live", "partially_filled")

    @property
    def remaining(self) -> Decimal:
        return self.sz - self.acc_fill_sz

    def record_fill(self, size: Decimal, price: Decimal, now: int) -> None:
        """A fill of *size* at *price* (checked by the caller): the average price weighted
        by size, the filled size, the state, the update time."""
        done = self.acc_fill_sz
        self.avg_px = (
            price if not done else ((self.avg_px or price) * done + price * size) / (done + size)
        )
        self.acc_fill_sz = done + size
        self.state = "filled" if self.remaining == 0 else "partially_filled"
        self.u_time = now


@dataclass(slots=True)
class Holding:
    """One position as the fake account keeps it."""

    pos_id: str
    inst_id: str
    inst_type: str
    mgn_mode: str
    pos_side: str
    pos: Decimal
    avg_px: Decimal | None
    lever: Decimal
    ccy: str
    c_time: int
    u_time: int
    mark_px: Decimal | None = None
    trade_id: str = ""

    @property
    def upl(self) -> Decimal | None:
        if self.mark_px is None or self.avg_px is None:
            return None
        return (self.mark_px - self.avg_px) * self.pos


def order_object(
    order: OpenOrder,
    *,
    fill: tuple[Decimal, Decimal, str, int, Decimal] | None = None,
    exec_type: str = "",
) -> dict[str, Any]:
    """An ``orders`` push item for *order*; *fill* is this update's ``(fill_px, fill_sz,
    trade_id, fill_time, fill_fee)``, if it is a fill."""
    fill_px, fill_sz, trade_id, fill_time, fill_fee = fill or (None, None, "", None, None)
    return {
        "accFillSz": num(order.acc_fill_sz),
        "amendResult": "",
        "amendSource": "",
        "avgPx": num(order.avg_px) if order.avg_px is not None else "0",
        "cancelSource": order.cancel_source,
        "category": "normal",
        "ccy": "",
        "clOrdId": order.cl_ord_id,
        "code": "0",
        "cTime": str(order.c_time),
        "execType": exec_type,
        "fee": num(order.fee),
        "feeCcy": order.fee_ccy,
        "fillFee": num(fill_fee) if fill_fee is not None else "0",
        "fillFeeCcy": order.fee_ccy if fill else "",
        "fillPnl": "0",
        "fillPx": num(fill_px),
        "fillSz": num(fill_sz) if fill_sz is not None else "0",
        "fillTime": "" if fill_time is None else str(fill_time),
        "instId": order.inst_id,
        "instType": order.inst_type,
        "lever": "0" if order.inst_type == "SPOT" else "3",
        "msg": "",
        "ordId": order.ord_id,
        "ordType": order.ord_type,
        "pnl": "0",
        "posSide": "" if order.inst_type == "SPOT" else "net",
        "px": num(order.px),
        "rebate": "0",
        "rebateCcy": order.fee_ccy,
        "reduceOnly": "false",
        "reqId": "",
        "side": order.side,
        "source": "",
        "state": order.state,
        "sz": num(order.sz),
        "tag": "",
        "tdMode": order.td_mode,
        "tradeId": trade_id,
        "uTime": str(order.u_time),
        "attachAlgoOrds": [],
        "linkedAlgoOrd": {"algoId": ""},
    }


def position_object(holding: Holding, p_time: int) -> dict[str, Any]:
    """A ``positions`` push item (and ``/account/positions`` row) for *holding*."""
    upl = holding.upl
    return {
        "adl": "1",
        "availPos": num(holding.pos) if holding.inst_type in ("MARGIN", "OPTION") else "",
        "avgPx": num(holding.avg_px),
        "cTime": str(holding.c_time),
        "ccy": holding.ccy,
        "imr": "",
        "instId": holding.inst_id,
        "instType": holding.inst_type,
        "lever": num(holding.lever),
        "liqPx": "",
        "markPx": num(holding.mark_px),
        "margin": "",
        "mgnMode": holding.mgn_mode,
        "mgnRatio": "",
        "mmr": "",
        "notionalUsd": "",
        "pTime": str(p_time),
        "pos": num(holding.pos),
        "posCcy": "",
        "posId": holding.pos_id,
        "posSide": holding.pos_side,
        "tradeId": holding.trade_id,
        "uTime": str(holding.u_time),
        "upl": num(upl),
        "uplRatio": "",
        "realizedPnl": "0",
        "pnl": "0",
        "fee": "0",
        "fundingFee": "0",
        "liqPenalty": "0",
        "closeOrderAlgo": [],
    }


def bal_pos_position(holding: Holding) -> dict[str, Any]:
    """A ``balance_and_position`` ``posData`` item for *holding*."""
    return {
        "posId": holding.pos_id,
        "tradeId": holding.trade_id,
        "instId": holding.inst_id,
        "instType": holding.inst_type,
        "mgnMode": holding.mgn_mode,
        "posSide": holding.pos_side,
        "pos": num(holding.pos),
        "ccy": holding.ccy,
        "posCcy": "",
        "avgPx": num(holding.avg_px),
        "uTime": str(holding.u_time),
    }


@dataclass(frozen=True, slots=True)
class PrivateEvent:
    """One change of an account, as OKX pushes it on *channel*: its ``data`` items and,
    for ``account``/``positions``, the top-level ``eventType``. An event with
    ``event_type`` :data:`SNAPSHOT` and no items asks every subscription of *channel* for
    its regular snapshot."""

    channel: str
    items: tuple[dict[str, Any], ...]
    event_type: str | None = None


Listener = Callable[[PrivateEvent], None]


def fill_object(
    order: OpenOrder, size: Decimal, price: Decimal, trade_id: str, now: int, exec_type: str
) -> dict[str, Any]:
    """A ``fills`` data item for one fill of *order*."""
    return {
        "instId": order.inst_id,
        "fillSz": num(size),
        "fillPx": num(price),
        "side": order.side,
        "ts": str(now),
        "ordId": order.ord_id,
        "clOrdId": order.cl_ord_id or "0",
        "tradeId": trade_id,
        "execType": exec_type,
        "count": "1",
    }


def liquidation_warning_object(holding: Holding, now: int) -> dict[str, Any]:
    """A ``liquidation-warning`` data item for *holding*."""
    item = position_object(holding, now)
    keys = ("cTime", "ccy", "instId", "instType", "lever", "markPx", "mgnMode", "mgnRatio")
    warning = {key: item[key] for key in keys}
    warning.update(pTime=str(now), pos=item["pos"], posCcy="", posId=holding.pos_id)
    warning.update(posSide=holding.pos_side, uTime=item["uTime"])
    return warning


def bal_pos_object(
    cash: dict[str, Decimal],
    holdings: list[Holding],
    now: int,
    event_type: str,
    order: OpenOrder | None = None,
    trade_id: str = "",
) -> dict[str, Any]:
    """A ``balance_and_position`` data item: the cash of the currencies that moved, the
    positions that changed, and the trade behind it (if any)."""
    return {
        "pTime": str(now),
        "eventType": event_type,
        "balData": [{"ccy": c, "cashBal": num(v), "uTime": str(now)} for c, v in cash.items()],
        "posData": [bal_pos_position(h) for h in holdings],
        "trades": [] if order is None else [{"instId": order.inst_id, "tradeId": trade_id}],
    }


def greeks_values(greeks: Mapping[str, str]) -> dict[str, str]:
    """Every one of OKX's greeks, from *greeks* or "0".

    Raises:
        ValueError: naming a key OKX does not send.
    """
    unknown = set(greeks) - set(GREEKS)
    if unknown:
        raise ValueError(f"unknown greeks {sorted(unknown)}; OKX sends {list(GREEKS)}")
    return {key: greeks.get(key, "0") for key in GREEKS}


def decimal_arg(name: str, value: Decimal | str | int, *, positive: bool = False) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise TypeError(f"{name} must be a Decimal, str or int, not {type(value).__name__}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name} must be a decimal number, got {value!r}") from None
    if not result.is_finite() or (positive and result <= 0):
        raise ValueError(
            f"{name} must be a finite number{' > 0' if positive else ''}, got {value!r}"
        )
    return result
