"""Typed records of OKX's public market-data channels (books: :mod:`._book_records`).

Plain immutable values (sans-IO); :mod:`okx_trio._decoders` builds them from OKX's pushes.
Common to all: prices, sizes and rates are :class:`~decimal.Decimal` built from OKX's
strings exactly (never through float); an optional number OKX sends as ``""`` is
``Decimal("NaN")`` (so nobody mistakes "no value" for 0; NaN compares unequal to itself, so
compare such records by ``repr`` or field by field); ``ts`` and other times are ``int``
milliseconds since the epoch (``None`` for an optional time sent as ``""``); optional text
stays ``""``. All are frozen msgspec Structs: immutable, hashable, compared field by field.
``gc=False``: they hold only atoms (and the ``Instrument``'s tuple of immutable changes),
so they can take no part in a reference cycle.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = [
    "Candle",
    "EstimatedPrice",
    "FundingRate",
    "IndexTicker",
    "LiquidationOrder",
    "MarkPrice",
    "OpenInterest",
    "OptionSummary",
    "PriceCandle",
    "PriceLimit",
    "Trade",
]


class Trade(msgspec.Struct, frozen=True, gc=False):
    """One taker order's fills at one price, from ``trades``, or one fill from ``trades-all``.

    ``inst_id``; ``trade_id``: OKX's id (text), the last of the merged fills; ``price``,
    ``size``: exact; ``side``: the taker's, ``"buy"`` or ``"sell"``; ``count``: fills merged
    (``trades``; 1 for ``trades-all`` and for old traffic without the field), so
    ``trade_id`` 123 with count 3 covers 121..123; ``ts``; ``source``: ``"0"`` normal
    order book, ``"1"`` ELP/RPI (``""`` when absent); ``seq_id``: OKX's sequence id, which
    may repeat for trades at the same moment (``None`` for ``trades-all``, or when absent).
    """

    inst_id: str
    trade_id: str
    price: Decimal
    size: Decimal
    side: str
    count: int
    ts: int
    source: str = ""
    seq_id: int | None = None


class Candle(msgspec.Struct, frozen=True, gc=False):
    """One bar of ``candle{bar}``: ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]``.

    ``inst_id``; ``bar``: from the channel name (``candle1m`` -> ``"1m"``); ``ts``: the
    bar's open time; ``open``/``high``/``low``/``close``: prices; ``vol``: volume in
    contracts (derivatives) or base currency (spot); ``vol_ccy``: in base (derivatives) or
    quote currency (spot); ``vol_ccy_quote``: in quote currency (NaN when ``""``);
    ``confirm``: True once the bar is closed (final); an open bar is revised by later pushes
    with the same ``ts``.
    """

    inst_id: str
    bar: str
    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    vol: Decimal
    vol_ccy: Decimal
    vol_ccy_quote: Decimal
    confirm: bool


class PriceCandle(msgspec.Struct, frozen=True, gc=False):
    """One bar of ``mark-price-candle{bar}`` or ``index-candle{bar}``: ``[ts, o, h, l, c,
    confirm]``.

    ``inst_id`` (an instrument, or an index such as ``BTC-USD``); ``channel``: which of the
    two families (the full channel name); ``bar``; ``ts``: the bar's open time;
    ``open``/``high``/``low``/``close``; ``confirm``: True once the bar is closed.
    """

    inst_id: str
    channel: str
    bar: str
    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    confirm: bool


class MarkPrice(msgspec.Struct, frozen=True, gc=False):
    """``mark-price``: ``inst_id``, ``inst_type``, ``mark_px`` (the mark price), ``ts``."""

    inst_id: str
    inst_type: str
    mark_px: Decimal
    ts: int


class IndexTicker(msgspec.Struct, frozen=True, gc=False):
    """``index-tickers``: ``inst_id`` (an index, e.g. ``BTC-USDT``), ``idx_px`` (the index
    price), ``open_24h``/``high_24h``/``low_24h`` (rolling 24 h), ``sod_utc0``/``sod_utc8``
    (open at the start of the day, UTC and UTC+8), ``ts``."""

    inst_id: str
    idx_px: Decimal
    open_24h: Decimal
    high_24h: Decimal
    low_24h: Decimal
    sod_utc0: Decimal
    sod_utc8: Decimal
    ts: int


class FundingRate(msgspec.Struct, frozen=True, gc=False):
    """``funding-rate`` of a perpetual swap.

    ``inst_id``, ``inst_type``; ``method``: ``"current_period"``; ``formula_type``:
    ``"noRate"``/``"withRate"``; ``funding_rate``: this period's rate; ``next_funding_rate``
    (NaN: not published with ``current_period``); ``funding_time``: when this rate settles;
    ``next_funding_time`` (``None`` when ``""``): the period after; their difference is the
    interval (8 h, or shorter); ``min_funding_rate``/``max_funding_rate``: the caps;
    ``interest_rate``, ``impact_value``, ``premium``: formula inputs (NaN when ``""``);
    ``sett_state``: ``"processing"``/``"settled"``, whether ``sett_funding_rate`` is this
    cycle's or the previous one's settled rate; ``ts``.
    """

    inst_id: str
    inst_type: str
    method: str
    formula_type: str
    funding_rate: Decimal
    next_funding_rate: Decimal
    funding_time: int
    next_funding_time: int | None
    min_funding_rate: Decimal
    max_funding_rate: Decimal
    interest_rate: Decimal
    impact_value: Decimal
    premium: Decimal
    sett_state: str
    sett_funding_rate: Decimal
    ts: int


class OpenInterest(msgspec.Struct, frozen=True, gc=False):
    """``open-interest``: ``inst_id``, ``inst_type``, ``oi`` (contracts), ``oi_ccy`` (in
    coin), ``oi_usd`` (in USD; NaN when ``""``), ``ts``."""

    inst_id: str
    inst_type: str
    oi: Decimal
    oi_ccy: Decimal
    oi_usd: Decimal
    ts: int


class PriceLimit(msgspec.Struct, frozen=True, gc=False):
    """``price-limit``: ``inst_id``, ``inst_type`` (``""``: OKX may omit it), ``buy_lmt``
    (highest buy price), ``sell_lmt`` (lowest sell price), ``enabled`` (whether limits
    apply; when False both limits are NaN, OKX sending ``""``), ``ts``."""

    inst_id: str
    inst_type: str
    buy_lmt: Decimal
    sell_lmt: Decimal
    enabled: bool
    ts: int


class EstimatedPrice(msgspec.Struct, frozen=True, gc=False):
    """``estimated-price``: ``inst_id``, ``inst_type``, ``settle_type`` (``"settlement"``,
    ``"delivery"`` or ``"exercise"``), ``settle_px`` (the estimated price), ``ts``."""

    inst_id: str
    inst_type: str
    settle_type: str
    settle_px: Decimal
    ts: int


class LiquidationOrder(msgspec.Struct, frozen=True, gc=False):
    """One entry of a ``liquidation-orders`` push's ``details`` (a sample, not all of them).

    From the parent: ``inst_id``, ``inst_type``, ``inst_family``, ``uly`` (``""`` when
    absent). From the entry: ``side`` (``"buy"``/``"sell"``), ``pos_side`` (``"long"``,
    ``"short"`` or ``"net"``), ``bk_px`` (bankruptcy price), ``size`` (contracts, or base
    currency for MARGIN), ``bk_loss`` (bankruptcy loss), ``ccy`` (MARGIN's liquidation
    currency, ``""`` otherwise), ``ts``.
    """

    inst_id: str
    inst_type: str
    inst_family: str
    uly: str
    side: str
    pos_side: str
    bk_px: Decimal
    size: Decimal
    bk_loss: Decimal
    ccy: str
    ts: int


class OptionSummary(msgspec.Struct, frozen=True, gc=False):
    """One option of an ``opt-summary`` push (all options of the family come in one push).

    ``inst_id``, ``inst_type``, ``uly``; Greeks in coin terms ``delta``, ``gamma``,
    ``vega``, ``theta`` and Black-Scholes ones ``delta_bs``, ``gamma_bs``, ``vega_bs``,
    ``theta_bs``; ``lever``; implied volatilities ``mark_vol``, ``bid_vol``, ``ask_vol``;
    ``real_vol`` (unused by OKX: NaN); ``vol_lv`` (the volatility level); ``fwd_px`` (the
    forward price); ``ts``. Numbers OKX leaves ``""`` are NaN.
    """

    inst_id: str
    inst_type: str
    uly: str
    delta: Decimal
    gamma: Decimal
    vega: Decimal
    theta: Decimal
    delta_bs: Decimal
    gamma_bs: Decimal
    vega_bs: Decimal
    theta_bs: Decimal
    lever: Decimal
    mark_vol: Decimal
    bid_vol: Decimal
    ask_vol: Decimal
    real_vol: Decimal
    vol_lv: Decimal
    fwd_px: Decimal
    ts: int
