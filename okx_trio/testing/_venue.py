"""The state every connection of a fake exchange shares: no Trio, no I/O.

:class:`Venue` is the market (ticker market, feeds, channel data), the listing, the faults
that act on subscribes and pushes, the request limit, and the records; it implements the
``Host`` protocol that each connection's ``FakeServerProtocol`` talks to. Time comes in as
``now`` (the Trio clock's reading, from the caller); changes are announced through the
*changed* callback (the exchange wakes its waiters with it).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from .._okx import CHANNELS
from .._subscription import Subscription
from ._channel_data import ChannelData, Cursor
from ._feeds import Feeds
from ._fidelity import Fidelity
from ._limits import check_limit
from ._listing import Listing
from ._market import MarketSimulator
from ._protocol import NOT_FOUND_CODE
from ._records import FakeConnection, RecordedRequest

__all__ = ["CANDLE_FAMILIES", "Venue", "default_cadence"]

#: Channel-name prefixes that name a whole family of candle channels in ``cadence=``.
CANDLE_FAMILIES: Final = ("mark-price-candle", "index-candle", "candle")

# Seconds between pushes that do not follow tick_interval (OKX's own cadences, roughly):
# candles once a second, open interest every 3 s, funding every 30-90 s, instruments only
# on subscribe (then on changes, which the fake does not make by itself).
_FIXED: Final = {
    "candle": 1.0,
    "mark-price-candle": 1.0,
    "index-candle": 1.0,
    "open-interest": 3.0,
    "funding-rate": 60.0,
    "price-limit": 10.0,
    "estimated-price": 1.0,
    "liquidation-orders": 5.0,
    "opt-summary": 1.0,
    "instruments": math.inf,
}
# These follow tick_interval, times this factor.
_TICKED: Final = {
    "tickers": 1.0,
    "trades": 1.0,
    "trades-all": 1.0,
    "books": 1.0,
    "books5": 1.0,
    "bbo-tbt": 1.0,
    "mark-price": 2.0,
    "index-tickers": 2.0,
}


def _family(channel: str) -> str:
    for prefix in CANDLE_FAMILIES:
        if channel.startswith(prefix) and channel != prefix and CHANNELS[channel].bar:
            return prefix
    return channel


def default_cadence(channel: str, tick_interval: float) -> float:
    """The default seconds between automatic pushes of *channel* (inf: the first only)."""
    family = _family(channel)
    if family in _TICKED:
        return _TICKED[family] * tick_interval
    return _FIXED.get(family, math.inf)


def _check_cadences(cadence: Mapping[str, float]) -> dict[str, float]:
    known = set(CHANNELS) | set(CANDLE_FAMILIES)
    out = {}
    for name, seconds in cadence.items():
        if name not in known:
            raise ValueError(f"cadence: unknown channel {name!r}")
        if not (isinstance(seconds, int | float) and seconds > 0):  # rejects NaN too
            raise ValueError(f"cadence[{name!r}] must be a number > 0 (inf: once), got {seconds!r}")
        out[name] = float(seconds)
    return out


def _stable_fraction(text: str) -> float:
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class Venue:
    """Shared state of a fake exchange (see the module docstring); implements ``Host``.

    Raises:
        ValueError: for a negative or NaN *tick_interval*, a bad limit, an unknown channel
            or a non-positive value in *cadence*, or a malformed id in *listing*.
    """

    def __init__(
        self,
        *,
        tick_interval: float,
        seed: int,
        epoch_ms: int,
        market: MarketSimulator,
        listing: Listing,
        fidelity: Fidelity,
        cadence: Mapping[str, float],
        max_requests_per_hour: int | None,
        changed: Callable[[], None],
    ) -> None:
        if not tick_interval >= 0:  # also rejects NaN
            raise ValueError(f"tick_interval must be >= 0, got {tick_interval!r}")
        self.tick_interval = tick_interval
        self.epoch_ms = epoch_ms
        self.market = market
        self.listing = listing
        self.fidelity = fidelity
        self._cadence = _check_cadences(cadence)
        self.max_requests_per_hour = max_requests_per_hour
        self.data = ChannelData(Feeds(market, seed), listing, seed, fidelity)
        self.changed = changed
        self.latency = 0.0
        self.silent = False
        self.ignoring_requests = False
        self.rejected: dict[str, str] = {}
        self.rejected_subscriptions: dict[Subscription, str] = {}
        # inst_id -> whether resubscribing cures it (see freeze_instruments).
        self.frozen: dict[str, bool] = {}
        self.requests: list[RecordedRequest] = []
        self.pushes = 0
        self.requests_refused_by_limit = 0

    @property
    def max_requests_per_hour(self) -> int | None:
        return self._max_requests

    @max_requests_per_hour.setter
    def max_requests_per_hour(self, value: int | None) -> None:
        self._max_requests = check_limit("max_requests_per_hour", value)

    # -- Host -------------------------------------------------------------------------------

    def refusal(self, sub: Subscription) -> str | None:
        code = self.rejected_subscriptions.get(sub)
        if code is not None:
            return code
        inst_id = sub.inst_id
        if inst_id is not None and inst_id in self.rejected:
            return self.rejected[inst_id]
        if self.fidelity.reject_unlisted and not self.listing.serves(sub):
            return NOT_FOUND_CODE
        return None

    def frozen_for_new_subscriptions(self, inst_id: str) -> bool:
        return self.frozen.get(inst_id) is False

    def cadence(self, sub: Subscription) -> float | None:
        interval = self.tick_interval
        if not 0 < interval < math.inf:
            return None
        channel = sub.channel
        override = self._cadence.get(channel, self._cadence.get(_family(channel)))
        return override if override is not None else default_cadence(channel, interval)

    def stamp(self, inst_id: str | None, now: float) -> int:
        """The ``ts`` of a push of *inst_id* at *now*: the exchange's clock less ``latency``,
        less the instrument's stable stagger (so instruments are not stamped alike)."""
        ts = self.epoch_ms + round((now - self.latency) * 1000)
        stagger = self.fidelity.stagger_ms
        if inst_id is None or stagger == 0:
            return ts
        # Never before the epoch: a ts is a count of milliseconds since 1970, not negative.
        return max(0, ts - int(_stable_fraction(inst_id) * (stagger + 1)))

    def render(self, sub: Subscription, cursor: Cursor, now: float) -> list[str]:
        return self.data.pushes(sub, cursor, self.stamp(sub.inst_id, now))

    def request_recorded(self, record: FakeConnection, request: RecordedRequest) -> None:
        record.requests.append(request)
        self.requests.append(request)
        self.changed()

    def pushed(self, record: FakeConnection, sub: Subscription, now: float, count: int) -> None:
        self.pushes += count
        self.changed()

    def request_refused(self) -> None:
        self.requests_refused_by_limit += 1
        self.changed()

    # -- listing ----------------------------------------------------------------------------

    def list_instruments(self, inst_ids: Iterable[str], indexes: Iterable[str]) -> None:
        self.listing.add(*inst_ids)
        self.listing.add_indexes(*indexes)
        self.changed()
