"""OKX's limits as the fake exchange enforces them: sliding windows, without Trio or a clock.

``admit_into_window`` is the one rule for connection attempts (per second) and requests (per
connection per hour); the times are passed in, so the rule is tested with plain numbers.
"""

from __future__ import annotations

from collections import deque
from typing import Final

__all__ = ["CONNECT_WINDOW", "REQUEST_WINDOW", "admit_into_window", "check_limit"]

#: OKX counts connection attempts per second (per IP).
CONNECT_WINDOW: Final = 1.0
#: OKX counts subscribe/unsubscribe/login requests per connection per hour.
REQUEST_WINDOW: Final = 3600.0


def admit_into_window(times: deque[float], now: float, span: float, limit: int | None) -> bool:
    """Whether one more event at *now* stays within *limit* per sliding *span* seconds.

    *times* holds the events admitted so far, oldest first; an event at ``t`` counts until
    ``t + span`` and not at that instant (the same rule as ``okx_trio._ratelimit``, so a
    client that waits exactly until its limiter allows is admitted). If admitted, *now* is
    appended; a refused event is not counted, so refusals never extend a refusal. With a
    *limit* of ``None`` everything is admitted, and still counted, so a limit set later
    sees the recent past.
    """
    while times and times[0] + span <= now:
        times.popleft()
    if limit is not None and len(times) >= limit:
        return False
    times.append(now)
    return True


def check_limit(name: str, value: int | None) -> int | None:
    """*value* if it is an int >= 1 or ``None``.

    Raises:
        ValueError: naming *name* and the value, for anything else (bools included).
    """
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ValueError(f"{name} must be an int >= 1 or None, got {value!r}")
    return value
