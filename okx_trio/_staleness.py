"""Finding instruments whose ticker froze, as a plain object with no clock of its own.

OKX sometimes keeps a connection alive and acknowledges a subscription, yet stops sending
one instrument's updates (a "frozen price"); the heartbeat cannot see it because other
instruments keep the connection busy. The cure is to resubscribe that instrument, and this
module says which ones and when. ``now`` is always passed in, so tests choose the time.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from ._subscription import Subscription

__all__ = ["StaleClocks", "StaleDetector"]

K = TypeVar("K", str, "Subscription")


class StaleDetector(Generic[K]):
    """Per instrument, the time since its last update; finds instruments that froze.

    The clock of an instrument starts when it is watched (its subscribe was acknowledged)
    and restarts on every update. :meth:`due` returns the instruments whose age reached
    ``max_age`` and restarts their clocks, so each is reported once per ``max_age`` while it
    stays silent.

    Costs: :meth:`updated` is one dict lookup and store, for the per-tick path.
    :meth:`due` and :meth:`next_due` scan every watched instrument; that is fine for a few
    thousand ids when called at the deadline :meth:`next_due` gives (and after
    :meth:`watch`), but not per tick.

    Raises:
        ValueError: for a ``max_age`` that is not a finite number > 0.
    """

    def __init__(self, max_age: float) -> None:
        if (
            not isinstance(max_age, int | float)
            or isinstance(max_age, bool)
            or not math.isfinite(max_age)
            or max_age <= 0
        ):
            raise ValueError(f"max_age must be a finite number > 0, got {max_age!r}")
        self._max_age = float(max_age)
        self._since: dict[K, float] = {}  # inst_id -> when its clock (re)started

    @property
    def max_age(self) -> float:
        return self._max_age

    def watch(self, inst_id: K, now: float) -> None:
        """Start (or restart) the clock of *inst_id* at *now*."""
        self._since[inst_id] = now

    def updated(self, inst_id: K, now: float) -> None:
        """*inst_id* had an update at *now*; ignored unless it is watched.

        Unwatched ids are ignored so that a late tick after :meth:`forget` (or before the
        subscribe is acknowledged) does not start a clock nobody asked for.
        """
        since = self._since
        if inst_id in since:
            since[inst_id] = now

    def forget(self, inst_id: K) -> None:
        """Stop watching *inst_id* (no error if it was not watched)."""
        self._since.pop(inst_id, None)

    def clear(self) -> None:
        """Stop watching everything (the connection was lost)."""
        self._since.clear()

    def age(self, inst_id: K, now: float) -> float | None:
        """Seconds since the clock of *inst_id* (re)started, or None if it is not watched."""
        since = self._since.get(inst_id)
        return None if since is None else now - since

    def due(self, now: float) -> list[K]:
        """The watched instruments whose age reached ``max_age`` at *now*, sorted.

        Their clocks restart at *now*: one that stays silent is due again ``max_age`` later.
        """
        # ``since + max_age <= now``, the deadline next_due hands out compared with ``now``:
        # a caller woken at that deadline exactly must find the instrument due.
        max_age = self._max_age
        found = sorted(i for i, since in self._since.items() if since + max_age <= now)
        for inst_id in found:
            self._since[inst_id] = now
        return found

    def next_due(self) -> float:
        """The earliest time something may become due, or ``math.inf`` if nothing is watched.

        With ``now`` never decreasing, :meth:`updated` and :meth:`forget` only move it later,
        so sleeping until it and then calling :meth:`due` misses nothing (:meth:`due` may
        find nothing, and the caller asks again). :meth:`watch` can move it earlier (from
        ``math.inf`` when nothing was watched): ask again after it.
        """
        if not self._since:
            return math.inf
        return min(self._since.values()) + self._max_age

    def __contains__(self, inst_id: object) -> bool:
        return inst_id in self._since

    def __len__(self) -> int:
        return len(self._since)

    def __repr__(self) -> str:
        return f"StaleDetector(max_age={self._max_age}, watched={len(self._since)})"


class StaleClocks:
    """The staleness clocks of one connection's subscriptions, one detector per age.

    A subscription's age limit is ``stale_after`` times its channel's ``stale_factor`` (from
    the channel table); channels without a factor (a funding rate, an instrument list: they
    legitimately stay quiet) are never watched, nor is anything when ``stale_after`` is None.
    """

    def __init__(self, stale_after: float | None) -> None:
        self._stale_after = stale_after
        self._detectors: dict[float, StaleDetector[Subscription]] = {}
        # Which detector watches a subscription: one lookup per record, not one per age.
        self._detector_of: dict[Subscription, StaleDetector[Subscription]] = {}

    def __bool__(self) -> bool:
        return bool(self._detectors)

    def age_of(self, sub: Subscription) -> float | None:
        factor = sub.spec.stale_factor
        if self._stale_after is None or factor is None:
            return None
        return self._stale_after * factor

    def watch(self, sub: Subscription, now: float) -> None:
        """Start *sub*'s clock (its subscribe was acknowledged), if its channel has one."""
        age = self.age_of(sub)
        if age is None:
            return
        detector = self._detectors.get(age)
        if detector is None:
            detector = self._detectors[age] = StaleDetector(age)
        detector.watch(sub, now)
        self._detector_of[sub] = detector

    def forget(self, sub: Subscription) -> None:
        detector = self._detector_of.pop(sub, None)
        if detector is not None:
            detector.forget(sub)

    def updated(self, sub: Subscription, now: float) -> None:
        detector = self._detector_of.get(sub)
        if detector is not None:
            detector.updated(sub, now)

    def due(self, now: float) -> list[tuple[float, list[Subscription]]]:
        """Per age, the subscriptions silent that long at *now* (their clocks restart)."""
        out = []
        for age, detector in self._detectors.items():
            found = detector.due(now)
            if found:
                out.append((age, found))
        return out

    def next_due(self) -> float:
        return min((d.next_due() for d in self._detectors.values()), default=math.inf)

    def clear(self) -> None:
        self._detectors.clear()
        self._detector_of.clear()
