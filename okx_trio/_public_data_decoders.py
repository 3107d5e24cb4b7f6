"""Decoders of OKX's "Public Data" channels' data items (sans-IO): one item, one record.

(``liquidation-orders``: one record per entry of the item's ``details``.) Each takes one
parsed ``data`` object and returns its record, or raises
:class:`~._push_values.PushError` naming the field (the caller adds the item's index).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import _push_values as v
from ._instrument_record import Instrument, InstrumentChange
from ._push_values import PushError
from ._records import (
    EstimatedPrice,
    FundingRate,
    IndexTicker,
    LiquidationOrder,
    MarkPrice,
    OpenInterest,
    OptionSummary,
    PriceLimit,
)

__all__ = [
    "decode_instrument",
    "decode_option_summary",
    "estimated_price",
    "funding_rate",
    "index_ticker",
    "liquidation_orders",
    "mark_price",
    "open_interest",
    "price_limit",
]

Item = dict[str, Any]


def _num(item: Item, key: str) -> Decimal:
    """Required field, ``""`` allowed (NaN)."""
    return v.opt_number(v.get(item, key), key)


def _later_num(item: Item, key: str) -> Decimal:
    """A field newer than some traffic: absent or null is NaN too."""
    value = item.get(key)
    return v.NAN if value is None else v.opt_number(value, key)


def _str(item: Item, key: str) -> str:
    return v.opt_text(v.get(item, key), key)


def _later_str(item: Item, key: str) -> str:
    value = item.get(key)
    return "" if value is None else v.opt_text(value, key)


def _later_time(item: Item, key: str) -> int | None:
    value = item.get(key)
    return None if value is None else v.opt_time(value, key)


def decode_instrument(item: Item) -> Instrument:
    """One ``instruments`` data object."""
    settlement = item.get("futureSettlement")
    return Instrument(
        inst_type=v.text(v.get(item, "instType"), "instType"),
        inst_id=v.text(v.get(item, "instId"), "instId"),
        inst_family=_later_str(item, "instFamily"),
        uly=_later_str(item, "uly"),
        inst_id_code=v.int_or_none(item.get("instIdCode"), "instIdCode"),
        base_ccy=_str(item, "baseCcy"),
        quote_ccy=_str(item, "quoteCcy"),
        settle_ccy=_str(item, "settleCcy"),
        ct_val=_num(item, "ctVal"),
        ct_mult=_num(item, "ctMult"),
        ct_val_ccy=_str(item, "ctValCcy"),
        ct_type=_str(item, "ctType"),
        opt_type=_str(item, "optType"),
        stk=_num(item, "stk"),
        list_time=v.opt_time(v.get(item, "listTime"), "listTime"),
        exp_time=v.opt_time(v.get(item, "expTime"), "expTime"),
        cont_td_sw_time=_later_time(item, "contTdSwTime"),
        pre_mkt_sw_time=_later_time(item, "preMktSwTime"),
        lever=_num(item, "lever"),
        tick_sz=_num(item, "tickSz"),
        lot_sz=_num(item, "lotSz"),
        min_sz=_num(item, "minSz"),
        max_lmt_sz=_later_num(item, "maxLmtSz"),
        max_mkt_sz=_later_num(item, "maxMktSz"),
        max_lmt_amt=_later_num(item, "maxLmtAmt"),
        max_mkt_amt=_later_num(item, "maxMktAmt"),
        max_twap_sz=_later_num(item, "maxTwapSz"),
        max_iceberg_sz=_later_num(item, "maxIcebergSz"),
        max_trigger_sz=_later_num(item, "maxTriggerSz"),
        max_stop_sz=_later_num(item, "maxStopSz"),
        state=v.text(v.get(item, "state"), "state"),
        rule_type=_later_str(item, "ruleType"),
        open_type=_later_str(item, "openType"),
        inst_category=_later_str(item, "instCategory"),
        group_id=_later_str(item, "groupId"),
        future_settlement=(
            False if settlement is None else v.boolean(settlement, "futureSettlement")
        ),
        upcoming_changes=_changes(item.get("upcChg")),
    )


def _changes(value: Any) -> tuple[InstrumentChange, ...]:
    if value is None:
        return ()
    if type(value) is not list:
        v.fail("upcChg", value, "an array")
    out = []
    for index, change in enumerate(value):
        if type(change) is not dict:
            v.fail(f"upcChg[{index}]", change, "an object")
        try:
            out.append(
                InstrumentChange(
                    v.text(v.get(change, "param"), "param"),
                    v.opt_text(v.get(change, "newValue"), "newValue"),
                    v.opt_time(v.get(change, "effTime"), "effTime"),
                )
            )
        except PushError as exc:
            raise PushError(f"upcChg[{index}].{exc}") from None
    return tuple(out)


def decode_option_summary(item: Item) -> OptionSummary:
    """One option of an ``opt-summary`` push."""
    return OptionSummary(
        inst_id=v.text(v.get(item, "instId"), "instId"),
        inst_type=_str(item, "instType"),
        uly=_str(item, "uly"),
        delta=_num(item, "delta"),
        gamma=_num(item, "gamma"),
        vega=_num(item, "vega"),
        theta=_num(item, "theta"),
        delta_bs=_num(item, "deltaBS"),
        gamma_bs=_num(item, "gammaBS"),
        vega_bs=_num(item, "vegaBS"),
        theta_bs=_num(item, "thetaBS"),
        lever=_num(item, "lever"),
        mark_vol=_num(item, "markVol"),
        bid_vol=_num(item, "bidVol"),
        ask_vol=_num(item, "askVol"),
        real_vol=_later_num(item, "realVol"),
        vol_lv=_later_num(item, "volLv"),
        fwd_px=_later_num(item, "fwdPx"),
        ts=v.digits(v.get(item, "ts"), "ts"),
    )


def mark_price(item: Item) -> MarkPrice:
    return MarkPrice(
        v.text(v.get(item, "instId"), "instId"),
        v.opt_text(v.get(item, "instType"), "instType"),
        v.number(v.get(item, "markPx"), "markPx"),
        v.digits(v.get(item, "ts"), "ts"),
    )


def index_ticker(item: Item) -> IndexTicker:
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


def funding_rate(item: Item) -> FundingRate:
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


def open_interest(item: Item) -> OpenInterest:
    return OpenInterest(
        v.text(v.get(item, "instId"), "instId"),
        v.opt_text(v.get(item, "instType"), "instType"),
        v.number(v.get(item, "oi"), "oi"),
        v.opt_number(v.get(item, "oiCcy"), "oiCcy"),
        v.opt_number(v.get(item, "oiUsd"), "oiUsd"),
        v.digits(v.get(item, "ts"), "ts"),
    )


def price_limit(item: Item) -> PriceLimit:
    inst_type = item.get("instType")
    return PriceLimit(
        v.text(v.get(item, "instId"), "instId"),
        "" if inst_type is None else v.opt_text(inst_type, "instType"),
        v.opt_number(v.get(item, "buyLmt"), "buyLmt"),
        v.opt_number(v.get(item, "sellLmt"), "sellLmt"),
        v.boolean(v.get(item, "enabled"), "enabled"),
        v.digits(v.get(item, "ts"), "ts"),
    )


def estimated_price(item: Item) -> EstimatedPrice:
    return EstimatedPrice(
        v.text(v.get(item, "instId"), "instId"),
        v.opt_text(v.get(item, "instType"), "instType"),
        v.opt_text(v.get(item, "settleType"), "settleType"),
        v.number(v.get(item, "settlePx"), "settlePx"),
        v.digits(v.get(item, "ts"), "ts"),
    )


def liquidation_orders(item: Item) -> tuple[LiquidationOrder, ...]:
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
                    v.side(v.get(entry, "side")),
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
