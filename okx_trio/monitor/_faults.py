"""The demo's fault schedule: when and which fault the fake exchange injects next. Pure and
seeded, so a demo run is reproducible with ``--seed``."""

from __future__ import annotations

import random
from typing import Final, Literal

__all__ = ["DEMO_FAULTS", "DemoFault", "DemoFaultSchedule"]

DemoFault = Literal["drop", "silence", "notice", "reject"]
DEMO_FAULTS: Final[tuple[DemoFault, ...]] = ("drop", "silence", "notice", "reject")


class DemoFaultSchedule:
    """When and which fault comes next.

    The first fault is a dropped connection after *first_after* seconds (default a random
    5-8 s); the following ones come every 2/3..4/3 of *every* seconds and go through all
    fault kinds in a shuffled order before any repeats.
    """

    def __init__(
        self, rng: random.Random, *, first_after: float | None = None, every: float = 15.0
    ) -> None:
        self._rng = rng
        self._first_after = first_after
        self._every = every
        self._started = False
        self._dropped_first = False
        self._bag: list[DemoFault] = []

    def next_delay(self) -> float:
        """Seconds to wait before the next fault."""
        if not self._started:
            self._started = True
            if self._first_after is not None:
                return self._first_after
            return self._rng.uniform(5.0, 8.0)
        return self._rng.uniform(self._every * 2 / 3, self._every * 4 / 3)

    def next_fault(self) -> DemoFault:
        """The kind of the next fault: ``drop`` first, then shuffled rounds of all kinds."""
        if not self._dropped_first:
            self._dropped_first = True
            return "drop"
        if not self._bag:
            self._bag = list(DEMO_FAULTS)
            self._rng.shuffle(self._bag)
        return self._bag.pop()
