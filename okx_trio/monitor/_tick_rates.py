"""Ticks per second of each connection, from two statistics snapshots (pure state)."""

from __future__ import annotations

from okx_trio import ConnectionStats

__all__ = ["TickRates"]

#: A connection: (endpoint, index). Each endpoint numbers its connections from 0, so
#: business 0 is not public 0.
ConnKey = tuple[str, int]


class TickRates:
    """``rates``: each connection's new ticks over the time since the previous snapshot,
    by (endpoint, index); a connection appears from its second snapshot on."""

    def __init__(self) -> None:
        self.rates: dict[ConnKey, float] = {}
        self._counts: dict[ConnKey, tuple[float, int]] = {}

    def update(self, stats: ConnectionStats, now: float) -> None:
        """Take the snapshot *stats* made at *now*. A counter that went down (a connection
        index reused) restarts its rate; a connection that is gone loses its rate."""
        counts: dict[ConnKey, tuple[float, int]] = {}
        for conn in stats.connections:
            key = (conn.endpoint, conn.index)
            counts[key] = (now, conn.ticks_received)
            before = self._counts.get(key)
            if before is None:
                continue
            then, ticks = before
            if now > then and conn.ticks_received >= ticks:
                self.rates[key] = (conn.ticks_received - ticks) / (now - then)
            elif conn.ticks_received < ticks:
                self.rates.pop(key, None)
            else:  # the same instant: keep the previous sample as the reference
                counts[key] = before
        self._counts = counts
        for key in [k for k in self.rates if k not in counts]:
            del self.rates[key]
