"""OKX's heartbeat rule as a pure function of time.

OKX closes a connection that carries nothing for 30 s, and a half-open connection carries
nothing while looking open. The rule: after ``ping_interval`` seconds without any message,
send the text ``ping`` (OKX answers ``pong``); after ``timeout`` seconds without any message
at all, give the connection up. ``now`` is always passed in, so tests choose the time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Heartbeat", "HeartbeatAction", "HeartbeatDecision"]


class HeartbeatAction(enum.Enum):
    WAIT = "wait"
    PING = "ping"
    TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class HeartbeatDecision:
    """What to do now; for ``WAIT``, ``until`` is when to ask again."""

    action: HeartbeatAction
    until: float


class Heartbeat:
    """Tracks the last message and the last ping of one connection."""

    def __init__(self, ping_interval: float, timeout: float, now: float) -> None:
        if not ping_interval > 0:
            raise ValueError(f"ping_interval must be > 0, got {ping_interval!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0, got {timeout!r}")
        self.ping_interval = ping_interval
        self.timeout = timeout
        self.last_message_at = now  # the connection opening counts as a sign of life
        self.last_ping_at: float | None = None
        self.pings_sent = 0

    def message_received(self, now: float) -> None:
        self.last_message_at = now

    def ping_sent(self, now: float) -> None:
        self.last_ping_at = now
        self.pings_sent += 1

    def next_ping_at(self) -> float:
        # Deadlines are computed, then compared with ``now``, and never the other way round
        # (``now - last >= interval``): the autojump clock wakes us at the deadline exactly,
        # and float subtraction could miss it by an ulp and spin.
        since = self.last_message_at
        if self.last_ping_at is not None and self.last_ping_at > since:
            since = self.last_ping_at
        return since + self.ping_interval

    def deadline(self) -> float:
        """When the connection is given up unless a message arrives first."""
        return self.last_message_at + self.timeout

    def poll(self, now: float) -> HeartbeatDecision:
        deadline = self.deadline()
        if now >= deadline:
            return HeartbeatDecision(HeartbeatAction.TIMEOUT, deadline)
        ping_at = self.next_ping_at()
        if now >= ping_at:
            return HeartbeatDecision(HeartbeatAction.PING, ping_at)
        return HeartbeatDecision(HeartbeatAction.WAIT, min(ping_at, deadline))

    def is_alive(self, now: float) -> bool:
        """A message arrived within the timeout window."""
        return now < self.deadline()
