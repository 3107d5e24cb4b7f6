"""The ``Instrument`` record of OKX's ``instruments`` channel (conventions: :mod:`._records`)."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

import msgspec

__all__ = ["Instrument", "InstrumentChange"]


class InstrumentChange(NamedTuple):
    """One announced change of an instrument (``upcChg``): ``param`` (e.g. ``"tickSz"``)
    becomes ``new_value`` (text, as OKX sends it) at ``eff_time`` (ms; None when ``""``)."""

    param: str
    new_value: str
    eff_time: int | None


# gc=False although it holds a tuple: of InstrumentChanges of str/int, so no cycle can form.
class Instrument(msgspec.Struct, frozen=True, gc=False):
    """One instrument of an ``instruments`` push (the full list first, then changes).

    Identity: ``inst_type`` (SPOT, MARGIN, SWAP, FUTURES, OPTION, EVENTS), ``inst_id``,
    ``inst_family`` and ``uly`` (derivatives; ``""`` for spot), ``inst_id_code`` (OKX's
    numeric id, differs between production and demo; None when null or absent).
    Currencies: ``base_ccy``/``quote_ccy`` (spot, margin), ``settle_ccy`` (derivatives).
    Contract: ``ct_val`` (value of one contract, in ``ct_val_ccy``), ``ct_mult`` (its
    multiplier), ``ct_type`` (``"linear"``/``"inverse"``), ``opt_type`` (``"C"``/``"P"``),
    ``stk`` (strike). Times, ``None`` when ``""``: ``list_time``, ``exp_time`` (expiry or
    delisting), ``cont_td_sw_time`` (switch to continuous trading), ``pre_mkt_sw_time``.
    Trading rules: ``lever`` (max leverage), ``tick_sz`` (price step), ``lot_sz`` (size
    step), ``min_sz``, the per-order caps ``max_lmt_sz``, ``max_mkt_sz``, ``max_lmt_amt``,
    ``max_mkt_amt``, ``max_twap_sz``, ``max_iceberg_sz``, ``max_trigger_sz``,
    ``max_stop_sz``. Status: ``state`` (live, suspend, expired, preopen, test, settling,
    ...), ``rule_type`` (``"normal"``, ``"pre_market"``...), ``open_type`` (how it opens,
    e.g. ``"call_auction"``), ``inst_category``, ``group_id``, ``future_settlement``
    (a FUTURES/SWAP settles daily), ``upcoming_changes`` (announced changes, a tuple of
    :class:`InstrumentChange`).
    Numbers that are ``""`` are NaN (e.g. ``ct_val`` of spot); missing newer fields take
    their empty value.
    """

    inst_type: str
    inst_id: str
    inst_family: str
    uly: str
    inst_id_code: int | None
    base_ccy: str
    quote_ccy: str
    settle_ccy: str
    ct_val: Decimal
    ct_mult: Decimal
    ct_val_ccy: str
    ct_type: str
    opt_type: str
    stk: Decimal
    list_time: int | None
    exp_time: int | None
    cont_td_sw_time: int | None
    pre_mkt_sw_time: int | None
    lever: Decimal
    tick_sz: Decimal
    lot_sz: Decimal
    min_sz: Decimal
    max_lmt_sz: Decimal
    max_mkt_sz: Decimal
    max_lmt_amt: Decimal
    max_mkt_amt: Decimal
    max_twap_sz: Decimal
    max_iceberg_sz: Decimal
    max_trigger_sz: Decimal
    max_stop_sz: Decimal
    state: str
    rule_type: str
    open_type: str
    inst_category: str
    group_id: str
    future_settlement: bool
    upcoming_changes: tuple[InstrumentChange, ...]
