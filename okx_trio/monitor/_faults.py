"""The demo's fault schedule: when and which fault the fake exchange injects next. Pure and
seeded, so a demo run is reproducible with ``--seed``."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Final

__all__ = ["DEMO_FAULTS", "DemoFault", "DemoFaultSchedule"]

#: A fault's name: one of :data:`DEMO_FAULTS`, or another the demo has a handler for.
DemoFault = str
#: The faults every demo has (the demo adds those its exchange supports, e.g. book gaps).
DEMO_FAULTS: Final[tuple[DemoFault, ...]] = ("drop", "silence", "notice", "reject")


class DemoFaultSchedule:
    """When and which fault comes next.

    The first fault is a dropped connection after *first_after* seconds (default a random
    5-8 s); the following ones come every 2/3..4/3 of *every* seconds and go through all
    fault *kinds* (default :data:`DEMO_FAULTS`; ``drop`` must be one) in a shuffled order
    before any repeats.

    Raises:
        ValueError: for *kinds* without ``drop``.
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        first_after: float | None = None,
        every: float = 15.0,
        kinds: Sequence[DemoFault] = DEMO_FAULTS,
    ) -> None:
        if "drop" not in kinds:
            raise ValueError(f"the fault kinds must include 'drop', got {list(kinds)!r}")
        self._kinds = tuple(dict.fromkeys(kinds))
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
            self._bag = list(self._kinds)
            self._rng.shuffle(self._bag)
        return self._bag.pop()
