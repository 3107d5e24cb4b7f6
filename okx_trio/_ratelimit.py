"""OKX's rate limits as a sliding window with no clock of its own.

OKX refuses (and may cut off) a client that goes over its limits: 3 connection attempts per
second per IP, and 480 subscribe/unsubscribe requests per connection per hour. The window
slides: an event recorded at time ``t`` counts until ``t + window`` and not at that instant,
so :meth:`SlidingWindowLimit.next_allowed` returns exactly the moment the limit frees up.
``now`` is always passed in, so tests choose the time.
"""

from __future__ import annotations

import math
from collections import deque

# OKX's limits themselves are facts, kept in _okx with the others (re-exported here).
from ._okx import CONNECTS_PER_SECOND, REQUESTS_PER_HOUR

__all__ = ["CONNECTS_PER_SECOND", "REQUESTS_PER_HOUR", "SlidingWindowLimit"]


class SlidingWindowLimit:
    """At most ``limit`` events in any window of ``window`` seconds.

    The limit does not refuse anything: :meth:`record` counts what happened (even beyond the
    limit, which only pushes :meth:`next_allowed` later), and the caller asks
    :meth:`available` or :meth:`next_allowed` before acting. ``now`` must not decrease from
    one call to the next (pass a monotonic clock such as ``trio.current_time()``): events
    that left the window are forgotten, so an earlier ``now`` would not see them again.

    Every method is O(1) amortised, except :meth:`next_allowed` when more than ``limit``
    events are counted, which walks the events it must wait out.

    Raises:
        ValueError: naming the parameter, for a ``limit`` that is not an int >= 1 (a bool is
            not an int here) or a ``window`` that is not a finite number > 0.
    """

    def __init__(self, limit: int, window: float) -> None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValueError(f"limit must be an int >= 1, got {limit!r}")
        if (
            not isinstance(window, int | float)
            or isinstance(window, bool)
            or not math.isfinite(window)
            or window <= 0
        ):
            raise ValueError(f"window must be a finite number > 0, got {window!r}")
        self._limit = limit
        self._window = float(window)
        # (time, count) pairs, oldest first: recording n events at once is one entry, so a
        # burst costs O(1) however large n is. ``_used`` is the sum of the counts.
        self._events: deque[tuple[float, int]] = deque()
        self._used = 0
        self._latest = -math.inf

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def window(self) -> float:
        return self._window

    def _expire(self, now: float) -> None:
        # ``t + window <= now`` rather than ``now - t >= window``: the deadline handed out by
        # next_allowed is ``t + window`` itself, and it must free the slot exactly then.
        events = self._events
        window = self._window
        while events and events[0][0] + window <= now:
            self._used -= events.popleft()[1]

    def used(self, now: float) -> int:
        """The events counted in the window ending at *now* (may exceed the limit)."""
        self._expire(now)
        return self._used

    def available(self, now: float) -> int:
        """How many events may happen at *now* without going over the limit (>= 0)."""
        self._expire(now)
        return max(0, self._limit - self._used)

    def next_allowed(self, now: float) -> float:
        """*now* if an event is allowed now, else the earliest time one will be.

        That is when the oldest counted event leaves the window, or, after :meth:`record`
        went over the limit, when enough events have left for the count to drop below it.
        """
        self._expire(now)
        excess = self._used - self._limit  # events that must leave, minus one
        if excess < 0:
            return now
        for at, count in self._events:
            excess -= count
            if excess < 0:
                return at + self._window
        raise AssertionError("unreachable: the counts add up to more than the limit")

    def record(self, now: float, count: int = 1) -> None:
        """Count *count* events at *now*.

        Raises:
            ValueError: for a *count* that is not an int >= 1, or a *now* earlier than an
                event already recorded (or nan): the window needs its events in time order.
        """
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError(f"count must be an int >= 1, got {count!r}")
        if not now >= self._latest:
            raise ValueError(
                f"now must not be earlier than the last recorded event ({self._latest!r}), "
                f"got {now!r}"
            )
        self._expire(now)
        events = self._events
        if events and events[-1][0] == now:
            events[-1] = (now, events[-1][1] + count)
        else:
            events.append((now, count))
        self._used += count
        self._latest = now

    def __repr__(self) -> str:
        return f"SlidingWindowLimit(limit={self._limit}, window={self._window})"
