"""Which instruments the fake exchange lists, and what each channel accepts: no Trio, no I/O.

By default the market lists, for the well-known currencies of the ticker market: spot pairs
against USDT and USDC (and ETH-BTC), USDT- and USD-margined swaps, BTC and ETH dated futures
(quarterlies of 2022 and 2025-2026, the ones recorded traffic and the docs use) and a few
BTC/ETH options; indexes ``BTC-USD``, ``BTC-USDT``, ... for the index channels. OKX answers a
subscription of anything else with 60018.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from .._subscription import Subscription

__all__ = ["DEFAULT_LISTING", "Instrument", "Listing", "instrument"]

# Currencies with a known price level in the ticker market (``_market``), stablecoins aside.
_CRYPTO: Final = [
    "BTC",
    "ETH",
    "SOL",
    "BNB",
    "XRP",
    "DOGE",
    "ADA",
    "LTC",
    "DOT",
    "AVAX",
    "LINK",
    "TRX",
    "TON",
    "UNI",
    "BCH",
    "ETC",
    "FIL",
    "ATOM",
    "NEAR",
    "APT",
    "ARB",
    "OP",
    "SUI",
    "PEPE",
    "SHIB",
    "OKB",
    "AAVE",
    "INJ",
    "XLM",
    "HBAR",
    "ICP",
    "ALGO",
    "CRV",
    "WLD",
    "POL",
    "TIA",
]
_EXPIRIES: Final = ("220527", "220624", "220930", "250627", "250926", "251226", "260327")
_OPTION_STRIKES: Final = {"BTC": ("90000", "95000", "100000"), "ETH": ("3200", "3400", "3600")}
_OPTION_EXPIRY: Final = "251226"


@dataclass(frozen=True, slots=True)
class Instrument:
    """What an instrument id says: ``BTC-USD-251226-95000-C`` is an OPTION of ``BTC-USD``."""

    inst_id: str
    inst_type: str  # SPOT, SWAP, FUTURES, OPTION, or INDEX (ours: the index channels' ids)
    base: str
    quote: str
    family: str  # "" for spot and indexes
    expiry: str = ""  # YYMMDD for futures and options
    strike: str = ""
    opt_type: str = ""  # "C" or "P"


def instrument(inst_id: str, *, index: bool = False) -> Instrument:
    """Read *inst_id*'s shape (``index`` marks an index id such as ``BTC-USD``)."""
    parts = inst_id.split("-")
    base, quote = (parts[0], parts[1]) if len(parts) >= 2 else (inst_id, "USD")
    family = f"{base}-{quote}"
    if index:
        return Instrument(inst_id, "INDEX", base, quote, "")
    if len(parts) == 3 and parts[2] == "SWAP":
        return Instrument(inst_id, "SWAP", base, quote, family)
    if len(parts) == 3 and len(parts[2]) == 6 and parts[2].isdigit():
        return Instrument(inst_id, "FUTURES", base, quote, family, parts[2])
    if len(parts) == 5 and parts[4] in ("C", "P"):
        return Instrument(inst_id, "OPTION", base, quote, family, parts[2], parts[3], parts[4])
    return Instrument(inst_id, "SPOT", base, quote, "")


def _default_ids() -> list[str]:
    ids = ["ETH-BTC"]
    for ccy in _CRYPTO:
        ids += [f"{ccy}-USDT", f"{ccy}-USDC", f"{ccy}-USDT-SWAP", f"{ccy}-USD-SWAP"]
    for ccy in ("BTC", "ETH"):
        ids += [f"{ccy}-USD-{expiry}" for expiry in _EXPIRIES]
        ids += [f"{ccy}-USDT-{expiry}" for expiry in _EXPIRIES[3:]]
        for strike in _OPTION_STRIKES[ccy]:
            ids += [f"{ccy}-USD-{_OPTION_EXPIRY}-{strike}-{kind}" for kind in "CP"]
    return ids


def _default_indexes() -> list[str]:
    return [f"{ccy}-{quote}" for ccy in _CRYPTO for quote in ("USD", "USDT", "USDC")] + ["ETH-BTC"]


class Listing:
    """A mutable set of listed instruments and indexes, and the per-channel rules.

    Args:
        inst_ids: The tradable instruments (spot, swap, futures, options).
        indexes: The index ids served by ``index-tickers`` and ``index-candle*``.

    Raises:
        ValueError: naming the id, for one that is not an OKX instrument id shape.
    """

    def __init__(self, inst_ids: Iterable[str], indexes: Iterable[str] = ()) -> None:
        self._instruments: dict[str, Instrument] = {}
        self._indexes: dict[str, Instrument] = {}
        self.add(*inst_ids)
        self.add_indexes(*indexes)

    def add(self, *inst_ids: str) -> None:
        """List more instruments (idempotent)."""
        for inst_id in inst_ids:
            _check_id(inst_id)
            self._instruments[inst_id] = instrument(inst_id)

    def add_indexes(self, *index_ids: str) -> None:
        """List more indexes (idempotent)."""
        for index_id in index_ids:
            _check_id(index_id)
            self._indexes[index_id] = instrument(index_id, index=True)

    def remove(self, *inst_ids: str) -> None:
        """Delist instruments (and indexes of the same ids); unknown ids are ignored."""
        for inst_id in inst_ids:
            self._instruments.pop(inst_id, None)
            self._indexes.pop(inst_id, None)

    @property
    def inst_ids(self) -> frozenset[str]:
        return frozenset(self._instruments)

    @property
    def indexes(self) -> frozenset[str]:
        return frozenset(self._indexes)

    def of_type(self, inst_type: str, family: str | None = None) -> list[Instrument]:
        """The listed instruments of *inst_type* (MARGIN: the spot pairs), in listing order."""
        wanted = "SPOT" if inst_type == "MARGIN" else inst_type
        return [
            inst
            for inst in self._instruments.values()
            if inst.inst_type == wanted and (family is None or inst.family == family)
        ]

    def serves(self, sub: Subscription) -> bool:
        """Whether OKX would serve *sub* with this listing (else: 60018)."""
        channel = sub.channel
        if sub.inst_id is None:
            if channel in ("estimated-price", "opt-summary"):
                kind = sub.inst_type or "OPTION"
                return bool(self.of_type(kind, sub.inst_family))
            return True  # by instType only (instruments, liquidation-orders)
        if channel == "index-tickers" or channel.startswith("index-candle"):
            return sub.inst_id in self._indexes
        inst = self._instruments.get(sub.inst_id)
        if inst is None:
            return False
        if channel == "funding-rate":
            return inst.inst_type == "SWAP"
        if channel == "open-interest":
            return inst.inst_type != "SPOT"
        if channel == "estimated-price":
            return inst.inst_type == sub.inst_type
        return True


def _check_id(inst_id: str) -> None:
    try:
        Subscription("tickers", inst_id)
    except ValueError:
        raise ValueError(f"not an OKX instrument id: {inst_id!r}") from None


DEFAULT_LISTING: Final = (tuple(_default_ids()), tuple(_default_indexes()))
