"""The fake exchange's settings and listing, as attributes: ``FakeExchange.tick_interval``,
``latency``, the rate limits, ``listed`` and ``list_instruments`` (the venue holds them)."""

from __future__ import annotations

from collections.abc import Iterable

from ._fidelity import Fidelity
from ._limits import check_limit
from ._market import MarketSimulator
from ._venue import Venue

__all__ = ["VenueMixin"]


class VenueMixin:
    """Settings of a fake exchange (``_venue`` and ``_max_connects`` are the exchange's)."""

    _venue: Venue
    _max_connects: int | None

    @property
    def tick_interval(self) -> float:
        """Seconds between automatic pushes of the fast channels (fixed at construction)."""
        return self._venue.tick_interval

    @property
    def fidelity(self) -> Fidelity:
        """The fidelity switches (fixed at construction)."""
        return self._venue.fidelity

    @property
    def market(self) -> MarketSimulator:
        return self._venue.market

    @property
    def epoch_ms(self) -> int:
        return self._venue.epoch_ms

    @property
    def latency(self) -> float:
        """Seconds each push's ``ts`` lags :meth:`wall_clock` (latency injection; settable)."""
        return self._venue.latency

    @latency.setter
    def latency(self, value: float) -> None:
        self._venue.latency = value

    @property
    def max_connects_per_second(self) -> int | None:
        """Connection attempts let through per sliding second, or ``None`` for no limit.

        Raises:
            ValueError: on setting anything but an int >= 1 or ``None``.
        """
        return self._max_connects

    @max_connects_per_second.setter
    def max_connects_per_second(self, value: int | None) -> None:
        self._max_connects = check_limit("max_connects_per_second", value)

    @property
    def max_requests_per_hour(self) -> int | None:
        """Subscribe/unsubscribe requests let through per connection per sliding 3600 s.

        ``None`` means no limit. Pings, illegal requests and requests that
        :meth:`ignore_requests` or :meth:`go_silent` leave unanswered are not counted.

        Raises:
            ValueError: on setting anything but an int >= 1 or ``None``.
        """
        return self._venue.max_requests_per_hour

    @max_requests_per_hour.setter
    def max_requests_per_hour(self, value: int | None) -> None:
        self._venue.max_requests_per_hour = value

    @property
    def listed(self) -> frozenset[str]:
        """The instrument ids the market lists (indexes: :attr:`listed_indexes`)."""
        return self._venue.listing.inst_ids

    @property
    def listed_indexes(self) -> frozenset[str]:
        return self._venue.listing.indexes

    def list_instruments(self, *inst_ids: str, indexes: Iterable[str] = ()) -> None:
        """List more instruments (and *indexes*); later subscribes of them are served.

        Raises:
            ValueError: naming the id, for one that is not an OKX instrument id.
        """
        self._venue.list_instruments(inst_ids, indexes)
