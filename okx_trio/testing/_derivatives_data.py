"""Data of the derivative and reference channels: funding, open interest, price limits,
estimated prices, liquidations, option summaries and instrument lists. No Trio, no I/O.

Values follow the instrument's feed (limits around ``last``, settlement near the mid, greeks
from a plain Black-Scholes on the underlying); key order is that of OKX's docs samples.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from .._subscription import Subscription
from ._feeds import Feeds, InstrumentFeed
from ._listing import Instrument, Listing
from ._market import format_decimal

__all__ = ["DerivativesData"]

_FUNDING_PERIOD_MS: Final = 8 * 3600 * 1000
_SETTLE_TYPES: Final = {"FUTURES": "delivery", "OPTION": "exercise", "SWAP": "settlement"}
_LIST_TIME: Final = "1606468572000"


def _rate(value: float) -> str:
    return f"{value:.16f}"


def _expiry_ms(expiry: str) -> int:
    """OKX's delivery time for YYMMDD: 08:00 UTC that day."""
    moment = datetime(2000 + int(expiry[:2]), int(expiry[2:4]), int(expiry[4:]), 8, tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def _norm_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


class DerivativesData:
    """Renders the channels of this module for the listed instruments."""

    def __init__(self, feeds: Feeds, listing: Listing, seed: int) -> None:
        self._feeds = feeds
        self._listing = listing
        self._rng = random.Random(f"okx-trio-derivatives:{seed}")

    def _underlying(self, inst: Instrument, ts_ms: int) -> InstrumentFeed:
        quote = "USDT" if inst.quote == "USD" else inst.quote
        feed = self._feeds.feed(f"{inst.base}-{quote}")
        feed.at(ts_ms)
        return feed

    # -- by instrument ----------------------------------------------------------------------

    def by_instrument(self, sub: Subscription, feed: InstrumentFeed, ts_ms: int) -> dict[str, Any]:
        """One data object of ``funding-rate``, ``open-interest``, ``price-limit`` or
        ``estimated-price`` (by ``instId``) for *feed*'s instrument, whose ticker is current."""
        ticker = feed.ticker
        assert ticker is not None and sub.inst_id is not None
        ts = ticker["ts"]
        inst_type = ticker["instType"]
        if sub.channel == "funding-rate":
            funding_time = (ts_ms // _FUNDING_PERIOD_MS + 1) * _FUNDING_PERIOD_MS
            rate = 0.0001 + self._rng.gauss(0, 0.00005)
            return {
                "formulaType": "noRate",
                "fundingRate": _rate(rate),
                "fundingTime": str(funding_time),
                "impactValue": "",
                "instId": sub.inst_id,
                "instType": inst_type,
                "interestRate": "",
                "method": "current_period",
                "maxFundingRate": "0.00375",
                "minFundingRate": "-0.00375",
                "nextFundingRate": "",
                "nextFundingTime": str(funding_time + _FUNDING_PERIOD_MS),
                "premium": _rate(rate * 0.7),
                "settFundingRate": _rate(0.0001 + self._rng.gauss(0, 0.00005)),
                "settState": "settled",
                "ts": ts,
            }
        if sub.channel == "open-interest":
            oi = (Decimal(ticker["vol24h"]) * Decimal("0.4")).quantize(feed.lot)
            oi_ccy = oi * feed.contract_value
            return {
                "instId": sub.inst_id,
                "instType": inst_type,
                "oi": format_decimal(oi),
                "oiCcy": format_decimal(oi_ccy),
                "oiUsd": format_decimal(
                    (oi_ccy * Decimal(ticker["last"])).quantize(Decimal("0.01"))
                ),
                "ts": ts,
            }
        if sub.channel == "price-limit":
            last = Decimal(ticker["last"])
            return {
                "instId": sub.inst_id,
                "buyLmt": format_decimal((last * Decimal("1.02")).quantize(feed.tick)),
                "sellLmt": format_decimal((last * Decimal("0.98")).quantize(feed.tick)),
                "ts": ts,
                "enabled": True,
            }
        return self._estimated(sub.inst_id, inst_type, feed.mid().quantize(feed.tick), ts)

    @staticmethod
    def _estimated(inst_id: str, inst_type: str, px: Decimal, ts: str) -> dict[str, Any]:
        return {
            "instId": inst_id,
            "instType": inst_type,
            "settlePx": format_decimal(px),
            "settleType": _SETTLE_TYPES.get(inst_type, "settlement"),
            "ts": ts,
        }

    # -- by instType / instFamily -----------------------------------------------------------

    def by_type(self, sub: Subscription, ts_ms: int) -> list[dict[str, Any]]:
        """The data objects of an ``estimated-price`` (by family), ``liquidation-orders``,
        ``opt-summary`` or ``instruments`` push (possibly none)."""
        channel = sub.channel
        if channel == "instruments":
            return [
                _instrument_data(inst, self._feeds)
                for inst in self._listing.of_type(sub.inst_type or "")
            ]
        if channel == "opt-summary":
            options = self._listing.of_type("OPTION", sub.inst_family)
            return [self._option_summary(inst, ts_ms) for inst in options]
        if channel == "estimated-price":
            out = []
            for inst in self._listing.of_type(sub.inst_type or "", sub.inst_family):
                feed = (
                    self._underlying(inst, ts_ms)
                    if inst.inst_type == "OPTION"
                    else self._feeds.feed(inst.inst_id)
                )
                feed.at(ts_ms)
                out.append(
                    self._estimated(
                        inst.inst_id, inst.inst_type, feed.mid().quantize(feed.tick), str(ts_ms)
                    )
                )
            return out
        return self._liquidation(sub.inst_type or "SWAP", ts_ms)

    def _liquidation(self, inst_type: str, ts_ms: int) -> list[dict[str, Any]]:
        candidates = self._listing.of_type(inst_type)
        if not candidates:
            return []
        inst = self._rng.choice(candidates)
        feed = self._feeds.feed(inst.inst_id)
        ticker = feed.at(ts_ms)
        side = self._rng.choice(("buy", "sell"))
        # A short is liquidated by buying above the market, a long by selling below it.
        bk_px = Decimal(ticker["askPx" if side == "buy" else "bidPx"])
        detail = {
            "bkLoss": "0",
            "bkPx": format_decimal(bk_px),
            "ccy": "",
            "posSide": "short" if side == "buy" else "long",
            "side": side,
            "sz": format_decimal(feed.lot * self._rng.randint(1, 200)),
            "ts": str(ts_ms - self._rng.randrange(1000)),
        }
        return [
            {
                "details": [detail],
                "instFamily": inst.family,
                "instId": inst.inst_id,
                "instType": inst.inst_type if inst_type != "MARGIN" else "MARGIN",
                "uly": inst.family,
            }
        ]

    def _option_summary(self, inst: Instrument, ts_ms: int) -> dict[str, Any]:
        spot = float(self._underlying(inst, ts_ms).mid())
        strike = float(inst.strike)
        years = max((_expiry_ms(inst.expiry) - ts_ms) / (365 * 86400 * 1000), 1 / 365 / 24)
        vol = 0.5 + 0.1 * abs(math.log(strike / spot))
        d1 = (math.log(spot / strike) + vol * vol / 2 * years) / (vol * math.sqrt(years))
        d2 = d1 - vol * math.sqrt(years)
        call = inst.opt_type == "C"
        delta = _norm_cdf(d1) if call else _norm_cdf(d1) - 1
        pdf = math.exp(-d1 * d1 / 2) / math.sqrt(2 * math.pi)
        gamma = pdf / (spot * vol * math.sqrt(years))
        vega = spot * pdf * math.sqrt(years) / 100
        theta = -spot * pdf * vol / (2 * math.sqrt(years)) / 365
        price = spot * _norm_cdf(d1) - strike * _norm_cdf(d2)
        if not call:
            price = price - spot + strike
        lever = spot / max(price, spot * 0.0005)
        return {
            "instType": "OPTION",
            "instId": inst.inst_id,
            "uly": inst.family,
            "delta": f"{delta:.10f}",
            "gamma": f"{gamma * spot:.10f}",
            "vega": f"{vega / spot:.10f}",
            "theta": f"{theta / spot:.10f}",
            "lever": f"{lever:.9f}",
            "markVol": f"{vol:.10f}",
            "bidVol": f"{vol * 0.97:.10f}",
            "askVol": f"{vol * 1.03:.10f}",
            "realVol": "",
            "deltaBS": f"{_norm_cdf(d1) - (0 if call else 1):.10f}",
            "gammaBS": f"{gamma:.10f}",
            "thetaBS": f"{theta:.10f}",
            "vegaBS": f"{vega:.10f}",
            "ts": str(ts_ms),
            "fwdPx": f"{spot:.10f}",
            "volLv": f"{vol * 0.9:.10f}",
        }


def _instrument_data(inst: Instrument, feeds: Feeds) -> dict[str, Any]:
    """One ``instruments`` entry, every key OKX sends, in its order."""
    market = feeds.market
    spot = inst.inst_type == "SPOT"
    option = inst.inst_type == "OPTION"
    settle = "" if spot else (inst.base if inst.quote == "USD" else inst.quote)
    ct_val = "" if spot else format_decimal(market.contract_value(inst.inst_id))
    exp_time = str(_expiry_ms(inst.expiry)) if inst.expiry else ""
    return {
        "alias": "",
        "auctionEndTime": "",
        "baseCcy": inst.base if spot else "",
        "category": "1",
        "ctMult": "" if spot else "1",
        "ctType": "" if spot or option else ("inverse" if inst.quote == "USD" else "linear"),
        "ctVal": ct_val,
        "ctValCcy": "" if spot else inst.base,
        "contTdSwTime": "",
        "expTime": exp_time,
        "futureSettlement": False,
        "groupId": "1",
        "instFamily": inst.family,
        "instId": inst.inst_id,
        "instType": inst.inst_type,
        "lever": "10" if spot else "100",
        "listTime": _LIST_TIME,
        "lotSz": format_decimal(market.lot_size(inst.inst_id)),
        "maxIcebergSz": "9999999999.0000000000000000",
        "maxLmtAmt": "1000000",
        "maxLmtSz": "9999999999",
        "maxMktAmt": "1000000",
        "maxMktSz": "" if spot else "10000",
        "maxStopSz": "",
        "maxTriggerSz": "9999999999.0000000000000000",
        "maxTwapSz": "9999999999.0000000000000000",
        "minSz": format_decimal(market.lot_size(inst.inst_id)),
        "optType": inst.opt_type,
        "openType": "call_auction" if spot else "",
        "preMktSwTime": "",
        "quoteCcy": inst.quote if spot else "",
        "settleCcy": settle,
        "state": "live",
        "ruleType": "normal",
        "stk": inst.strike,
        "tickSz": format_decimal(market.tick_size(inst.inst_id)),
        "uly": inst.family,
        "instIdCode": 1_000_000_000 + sum(map(ord, inst.inst_id)) * 7919 % 999_999,
        "instCategory": "1",
        "upcChg": [],
    }
