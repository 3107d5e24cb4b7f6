"""Latency and connection quality over sliding windows, as plain objects with no clock.

Sans-IO like the rest of the core: every method takes ``now``, so tests script a history
(an hour with a reconnect every minute, say) and check the figure exactly.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Final

__all__ = ["LatencyWindow", "QualityTracker"]

#: Latency at or under this costs the score nothing.
GOOD_LATENCY: Final = 1.0


class LatencyWindow:
    """The last ``size`` latency samples (seconds), with median and 99th percentile."""

    def __init__(self, size: int = 1024) -> None:
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size!r}")
        self._samples: deque[float] = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        self._samples.append(seconds)

    def clear(self) -> None:
        self._samples.clear()

    def __len__(self) -> int:
        return len(self._samples)

    def percentile(self, fraction: float) -> float | None:
        """The sample at *fraction* (0..1) of the sorted window (nearest rank); None if empty."""
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        rank = max(1, math.ceil(fraction * len(ordered)))
        return ordered[rank - 1]

    def median(self) -> float | None:
        return self.percentile(0.5)

    def p99(self) -> float | None:
        return self.percentile(0.99)


class QualityTracker:
    """A connection quality score from 0 to 100 over the last ``window`` seconds.

    The formula, in one place::

        score = 100 * uptime * 1 / (1 + reconnects_per_hour / 6)
                             * 1 / (1 + heartbeat_misses_per_hour / 6)
                             * 1 / (1 + max(0, median_latency - 1 s) / 4 s)

    * ``uptime``: the fraction of the window (or of the time since start, if shorter) spent
      connected.
    * ``reconnects_per_hour``: connections re-established in the window, scaled to an hour
      (with the default one-hour window, simply the count). One an hour costs 14 %; one a
      minute (60/h) leaves 9 % of the score. A young client is not extrapolated: one drop
      in its first minute counts as one, not as sixty an hour.
    * ``heartbeat_misses_per_hour``: connections given up by the heartbeat watchdog
      (the server went silent), counted the same way.
    * ``median_latency``: of the client's latency window; up to 1 s is free, 5 s halves the
      score.

    A perfect hour scores 100; the result is rounded to an int.
    """

    def __init__(self, now: float, window: float = 3600.0) -> None:
        if not window > 0:
            raise ValueError(f"window must be > 0, got {window!r}")
        self.window = window
        self._started_at = now
        self._up_since: float | None = None
        self._up_intervals: deque[tuple[float, float]] = deque()
        self._reconnects: deque[float] = deque()
        self._misses: deque[float] = deque()
        self._connected_before = False

    def connected(self, now: float) -> None:
        if self._up_since is None:
            self._up_since = now
        if self._connected_before:
            self._reconnects.append(now)
        self._connected_before = True

    def disconnected(self, now: float, *, heartbeat_miss: bool = False) -> None:
        if self._up_since is not None:
            self._up_intervals.append((self._up_since, now))
            self._up_since = None
        if heartbeat_miss:
            self._misses.append(now)

    def _forget_before(self, start: float) -> None:
        for events in (self._reconnects, self._misses):
            while events and events[0] < start:
                events.popleft()
        while self._up_intervals and self._up_intervals[0][1] < start:
            self._up_intervals.popleft()

    def uptime(self, now: float) -> float:
        """The fraction of the window spent connected (1.0 before any time has passed)."""
        start = max(self._started_at, now - self.window)
        self._forget_before(start)
        span = now - start
        if span <= 0:
            return 1.0 if self._up_since is not None else 0.0
        up = sum(min(end, now) - max(begin, start) for begin, end in self._up_intervals)
        if self._up_since is not None:
            up += now - max(self._up_since, start)
        return min(1.0, max(0.0, up / span))

    def per_hour(self, count: int, now: float) -> float:
        # Over the whole window, however young the client: extrapolating a short history
        # turns one early drop into "sixty an hour" and the score into noise.
        return count * 3600.0 / self.window

    def score(self, now: float, median_latency: float | None = None) -> int:
        uptime = self.uptime(now)  # also forgets what left the window
        reconnects = self.per_hour(len(self._reconnects), now)
        misses = self.per_hour(len(self._misses), now)
        latency = max(0.0, (median_latency or 0.0) - GOOD_LATENCY)
        value = (
            100.0 * uptime / (1.0 + reconnects / 6.0) / (1.0 + misses / 6.0) / (1.0 + latency / 4.0)
        )
        return round(value)
