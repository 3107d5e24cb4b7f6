"""Typed records of OKX's private channels (``/ws/v5/private``) and of the REST reconcile.

Plain immutable values (sans-IO); :mod:`okx_trio._private_decoders` builds them from OKX's
pushes and REST answers. Conventions, which differ from the public records in one point:

- prices, sizes, balances and PnL are :class:`~decimal.Decimal` built from OKX's strings
  exactly; a number OKX sends as ``""`` (no value: ``px`` of a market order, ``liqPx`` of
  an option) is ``None``, as is one a push leaves out where OKX's pages list it as
  optional (the private channels grow fields often, and REST answers lack the ``fill*``
  fields of the ``orders`` push). ``None`` says "no value" where NaN would hide it;
- times are ``int`` Unix milliseconds, ``None`` where OKX sends ``""``;
- text stays text (``""`` when empty or absent); ``event_type`` is the push's
  ``eventType`` (``"snapshot"``/``"event_update"``; ``""`` where the push has none).

All are frozen msgspec Structs (immutable, hashable, compared field by field, ``gc=False``:
they hold only atoms and tuples of such records). A pushed ``positions`` snapshot and a
REST answer both become one :class:`PositionsSnapshot` (and open orders from REST one
:class:`OrdersSnapshot`), so a consumer applying one stream replaces its state on a
snapshot item and applies every other item as a change.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypeAlias

import msgspec

__all__ = [
    "AccountGreeks",
    "Balance",
    "BalanceAndPosition",
    "BalanceDetail",
    "CashBalance",
    "Fill",
    "LiquidationWarning",
    "Order",
    "OrdersSnapshot",
    "Position",
    "PositionChange",
    "PositionsSnapshot",
    "PrivateRecord",
    "TradeRef",
]

Number: TypeAlias = Decimal | None


class BalanceDetail(msgspec.Struct, frozen=True, gc=False):
    """One currency of an ``account`` push (an item of its ``details``).

    ``ccy``; ``eq``: equity of the currency; ``cash_bal``: cash balance; ``avail_bal``,
    ``frozen_bal``: available and frozen balance; ``ord_frozen``: margin frozen for open
    orders; ``avail_eq``, ``dis_eq`` (discounted equity, USD), ``eq_usd``; ``liab``:
    liabilities (positive); ``upl``: unrealised PnL of the currency's positions;
    ``u_time``.
    """

    ccy: str
    eq: Number
    cash_bal: Number
    avail_bal: Number
    frozen_bal: Number
    ord_frozen: Number
    avail_eq: Number
    dis_eq: Number
    eq_usd: Number
    liab: Number
    upl: Number
    u_time: int | None


class Balance(msgspec.Struct, frozen=True, gc=False):
    """One ``account`` push item: the account's totals (USD) and its currencies.

    ``u_time``; ``total_eq``, ``iso_eq``, ``adj_eq``, ``avail_eq``; ``ord_froz``; ``imr``,
    ``mmr`` (initial and maintenance margin); ``borrow_froz``; ``mgn_ratio``;
    ``notional_usd``; ``upl``; ``details``: one :class:`BalanceDetail` per currency (a
    snapshot assembled from several pages holds every page's currencies);
    ``event_type``: ``"snapshot"`` (the whole account: replace) or ``"event_update"``
    (the currencies that changed).
    """

    u_time: int | None
    total_eq: Number
    iso_eq: Number
    adj_eq: Number
    avail_eq: Number
    ord_froz: Number
    imr: Number
    mmr: Number
    borrow_froz: Number
    mgn_ratio: Number
    notional_usd: Number
    upl: Number
    details: tuple[BalanceDetail, ...]
    event_type: str = ""


class Position(msgspec.Struct, frozen=True, gc=False):
    """One position, from a ``positions`` push or ``GET /api/v5/account/positions``.

    ``inst_type``, ``inst_id``, ``pos_id``; ``mgn_mode`` (``cross``/``isolated``);
    ``pos_side`` (``long``/``short``/``net``: in net mode a negative ``pos`` is short);
    ``pos``, ``avail_pos``; ``avg_px``; ``upl``, ``upl_ratio`` (by mark price); ``lever``;
    ``liq_px``; ``mark_px``; ``margin``; ``mgn_ratio``; ``imr``, ``mmr``; ``notional_usd``;
    ``adl``; ``realized_pnl``, ``pnl``, ``fee``, ``funding_fee``, ``liq_penalty``; ``ccy``
    (margin currency), ``pos_ccy`` (MARGIN only); ``trade_id`` (last trade);
    ``c_time``, ``u_time``, ``p_time``; ``event_type`` as in :class:`Balance` (``""`` from
    REST). A ``pos`` of 0 in an ``event_update`` means the position was closed.
    """

    inst_type: str
    inst_id: str
    pos_id: str
    mgn_mode: str
    pos_side: str
    pos: Decimal
    avail_pos: Number
    avg_px: Number
    upl: Number
    upl_ratio: Number
    lever: Number
    liq_px: Number
    mark_px: Number
    margin: Number
    mgn_ratio: Number
    imr: Number
    mmr: Number
    notional_usd: Number
    adl: str
    realized_pnl: Number
    pnl: Number
    fee: Number
    funding_fee: Number
    liq_penalty: Number
    ccy: str
    pos_ccy: str
    trade_id: str
    c_time: int | None
    u_time: int | None
    p_time: int | None
    event_type: str = ""


class PositionsSnapshot(msgspec.Struct, frozen=True, gc=False):
    """Every open (non-zero) position at one moment: replace what you hold.

    From a pushed ``positions`` snapshot (all its pages assembled) or from the REST
    reconcile. ``ts``: Unix ms of the snapshot: the newest ``p_time``/``u_time`` of a
    pushed one (None if it was empty), the time the REST request was sent for a REST one.
    ``source``: ``"push"`` or ``"rest"``.
    """

    positions: tuple[Position, ...]
    ts: int | None
    source: str = "push"


class Order(msgspec.Struct, frozen=True, gc=False):
    """One order's state, from an ``orders`` push or ``GET /api/v5/trade/orders-pending``.

    Identity: ``inst_type``, ``inst_id``, ``ord_id``, ``cl_ord_id``, ``tag``. Terms:
    ``px`` (None for a market order), ``sz``, ``ord_type``, ``side``, ``pos_side``,
    ``td_mode``, ``lever``, ``reduce_only``. State: ``state`` (``live``,
    ``partially_filled``, ``filled``, ``canceled``, ``mmp_canceled``), ``acc_fill_sz``,
    ``avg_px``. This update's fill (None/``""`` when it is not a fill): ``fill_px``,
    ``fill_sz``, ``fill_time``, ``fill_fee``, ``fill_fee_ccy``, ``fill_pnl``, ``trade_id``,
    ``exec_type`` (``T`` taker, ``M`` maker). Totals: ``fee``, ``fee_ccy``, ``rebate``,
    ``rebate_ccy``, ``pnl``. Provenance: ``category``, ``source``, ``cancel_source``,
    ``amend_source``, ``req_id``, ``amend_result``, ``code``, ``msg``. Times: ``c_time``,
    ``u_time``.

    OKX repeats updates: keep a ``trade_id`` once per ``inst_id``; the first ``filled``
    or ``canceled``/``mmp_canceled`` of an ``ord_id`` is final.
    """

    inst_type: str
    inst_id: str
    ord_id: str
    cl_ord_id: str
    tag: str
    px: Number
    sz: Decimal
    ord_type: str
    side: str
    pos_side: str
    td_mode: str
    lever: Number
    reduce_only: bool
    state: str
    acc_fill_sz: Number
    avg_px: Number
    fill_px: Number
    fill_sz: Number
    fill_time: int | None
    fill_fee: Number
    fill_fee_ccy: str
    fill_pnl: Number
    trade_id: str
    exec_type: str
    fee: Number
    fee_ccy: str
    rebate: Number
    rebate_ccy: str
    pnl: Number
    category: str
    source: str
    cancel_source: str
    amend_source: str
    req_id: str
    amend_result: str
    code: str
    msg: str
    c_time: int
    u_time: int

    @property
    def is_final(self) -> bool:
        """Whether this state ends the order (filled, canceled, mmp_canceled)."""
        return self.state in ("filled", "canceled", "mmp_canceled")


class OrdersSnapshot(msgspec.Struct, frozen=True, gc=False):
    """Every open order at one moment (the REST reconcile after a login): replace the open
    orders you hold with these (an order you hold that is missing here is no longer open).

    ``ts``: Unix ms when the REST request was sent: an order event stamped (``u_time``)
    after it is newer than the snapshot and must not be overwritten by it.
    """

    orders: tuple[Order, ...]
    ts: int


class Fill(msgspec.Struct, frozen=True, gc=False):
    """One ``fills`` push item: ``inst_id``, ``fill_sz``, ``fill_px``, ``side``, ``ts``,
    ``ord_id``, ``cl_ord_id`` (``"0"`` unless it is a positive int64), ``trade_id``,
    ``exec_type`` (``T``/``M``), ``count`` (taker fills merged at one price; 1 if absent)."""

    inst_id: str
    fill_sz: Decimal
    fill_px: Decimal
    side: str
    ts: int
    ord_id: str
    cl_ord_id: str
    trade_id: str
    exec_type: str
    count: int


class CashBalance(msgspec.Struct, frozen=True, gc=False):
    """A ``balance_and_position`` balance: ``ccy``, ``cash_bal``, ``u_time``."""

    ccy: str
    cash_bal: Decimal
    u_time: int | None


class PositionChange(msgspec.Struct, frozen=True, gc=False):
    """A ``balance_and_position`` position: ``pos_id``, ``trade_id``, ``inst_id``,
    ``inst_type``, ``mgn_mode``, ``pos_side``, ``pos``, ``ccy``, ``pos_ccy``, ``avg_px``,
    ``u_time``."""

    pos_id: str
    trade_id: str
    inst_id: str
    inst_type: str
    mgn_mode: str
    pos_side: str
    pos: Decimal
    ccy: str
    pos_ccy: str
    avg_px: Number
    u_time: int | None


class TradeRef(msgspec.Struct, frozen=True, gc=False):
    """A trade a ``balance_and_position`` push was caused by: ``inst_id``, ``trade_id``."""

    inst_id: str
    trade_id: str


class BalanceAndPosition(msgspec.Struct, frozen=True, gc=False):
    """One ``balance_and_position`` push item: only what changed (a big snapshot comes in
    several such items with no page markers).

    ``p_time``; ``event_type`` (``snapshot``, ``filled``, ``delivered``, ``funding_fee``,
    ...); ``balances``; ``positions``; ``trades``.
    """

    p_time: int
    event_type: str
    balances: tuple[CashBalance, ...]
    positions: tuple[PositionChange, ...]
    trades: tuple[TradeRef, ...]


class LiquidationWarning(msgspec.Struct, frozen=True, gc=False):
    """One ``liquidation-warning`` item: a position near liquidation (a warning only).

    ``inst_type``, ``inst_id``, ``pos_id``, ``mgn_mode``, ``pos_side``, ``pos``,
    ``pos_ccy``, ``ccy``, ``lever``, ``mark_px``, ``mgn_ratio``, ``c_time``, ``u_time``,
    ``p_time``.
    """

    inst_type: str
    inst_id: str
    pos_id: str
    mgn_mode: str
    pos_side: str
    pos: Decimal
    pos_ccy: str
    ccy: str
    lever: Number
    mark_px: Number
    mgn_ratio: Number
    c_time: int | None
    u_time: int | None
    p_time: int | None


class AccountGreeks(msgspec.Struct, frozen=True, gc=False):
    """One ``account-greeks`` item, per currency: ``ccy``; ``delta_bs``/``delta_pa``,
    ``gamma_bs``/``gamma_pa``, ``theta_bs``/``theta_pa``, ``vega_bs``/``vega_pa``
    (Black-Scholes in USD / in coins); ``ts``."""

    ccy: str
    delta_bs: Number
    delta_pa: Number
    gamma_bs: Number
    gamma_pa: Number
    theta_bs: Number
    theta_pa: Number
    vega_bs: Number
    vega_pa: Number
    ts: int


#: Every record a private channel's push (or the REST reconcile) decodes to.
PrivateRecord: TypeAlias = (
    Balance
    | Position
    | PositionsSnapshot
    | Order
    | OrdersSnapshot
    | Fill
    | BalanceAndPosition
    | LiquidationWarning
    | AccountGreeks
)
