"""Exponential backoff with jitter, as a plain object with no clock of its own."""

from __future__ import annotations

import random

__all__ = ["ReconnectStrategy"]


class ReconnectStrategy:
    """Delays between reconnection attempts.

    The delay before retry *n* (n = 1, 2, ...) is
    ``min(max_delay, initial_delay * backoff_factor ** (n - 1))`` times a factor drawn uniformly
    from ``[1 - jitter, 1 + jitter]``; the jitter spreads out many clients that lost the same
    server at the same moment. Pass ``rng`` (a :class:`random.Random`) for repeatable delays.

    Raises:
        ValueError: naming the parameter, for a negative delay, a factor below 1, a jitter
            outside ``[0, 1]``, ``max_delay < initial_delay`` or a negative ``max_retries``.
    """

    def __init__(
        self,
        initial_delay: float = 1.0,
        max_delay: float = 30.0,
        backoff_factor: float = 2.0,
        max_retries: int | None = None,
        jitter: float = 0.25,
        rng: random.Random | None = None,
    ) -> None:
        _check(initial_delay >= 0, "initial_delay", ">= 0", initial_delay)
        _check(max_delay >= initial_delay, "max_delay", ">= initial_delay", max_delay)
        _check(backoff_factor >= 1, "backoff_factor", ">= 1", backoff_factor)
        _check(0 <= jitter <= 1, "jitter", "between 0 and 1", jitter)
        if max_retries is not None:
            _check(
                isinstance(max_retries, int) and not isinstance(max_retries, bool),
                "max_retries",
                "an int or None",
                max_retries,
            )
            _check(max_retries >= 0, "max_retries", ">= 0 or None", max_retries)
        self.initial_delay = float(initial_delay)
        self.max_delay = float(max_delay)
        self.backoff_factor = float(backoff_factor)
        self.max_retries = max_retries
        self.jitter = float(jitter)
        self._rng = rng if rng is not None else random.Random()
        self._retry_count = 0

    @property
    def retry_count(self) -> int:
        """Retries handed out by :meth:`next_delay` since the last :meth:`reset`."""
        return self._retry_count

    @property
    def exhausted(self) -> bool:
        """True once ``max_retries`` retries were used; never with ``max_retries=None``."""
        return self.max_retries is not None and self._retry_count >= self.max_retries

    def base_delay(self, retry: int) -> float:
        """The delay before retry *retry* (1-based) without jitter."""
        try:
            delay = self.initial_delay * self.backoff_factor ** (retry - 1)
        except OverflowError:  # a very long outage: the cap applies (0 stays 0)
            return self.max_delay if self.initial_delay else 0.0
        return min(self.max_delay, delay)

    def next_delay(self) -> float:
        """Count one more retry and return the delay to wait before making it.

        It does not refuse once :attr:`exhausted`; deciding to stop is the caller's business.
        """
        self._retry_count += 1
        factor = self._rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)
        return self.base_delay(self._retry_count) * factor

    def reset(self) -> None:
        """Start counting from the first retry again (after a connection proved stable)."""
        self._retry_count = 0

    def __repr__(self) -> str:
        return (
            f"ReconnectStrategy(initial_delay={self.initial_delay}, max_delay={self.max_delay}, "
            f"backoff_factor={self.backoff_factor}, max_retries={self.max_retries}, "
            f"jitter={self.jitter}, retry_count={self._retry_count})"
        )


def _check(ok: bool, name: str, expected: str, value: object) -> None:
    if not ok:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
