"""The timetable of a chaos soak: which fault, when, with what parameters, from one seed.

Plain Python, no Trio: :meth:`ChaosSchedule.generate` is a pure function of its arguments,
so a seed names one schedule for good (a failing seed stays a regression case).
"""

from __future__ import annotations

import enum
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

__all__ = ["DEFAULT_UNIVERSE", "GARBAGE", "ChaosSchedule", "Fault", "FaultKind"]

DEFAULT_UNIVERSE: Final = (
    "BTC-USDT",
    "ETH-USDT",
    "SOL-USDT",
    "XRP-USDT",
    "DOGE-USDT",
    "ADA-USDT",
    "LTC-USDT",
    "DOT-USDT",
    "AVAX-USDT",
    "LINK-USDT",
)

#: Frames no OKX client can use; each must end up in ``bad_messages`` or ``ignored_messages``.
GARBAGE: Final[tuple[str | bytes, ...]] = (
    "definitely not json",
    b"\x00\xffbinary frame",
    "[1, 2, 3]",
    '{"hello":"world"}',
    '{"event":42}',
    '{"event":"mystery","msg":"?"}',
    '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"px":"1"}]}',
    '{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[]}',
    '{"arg":{"channel":"tickers","instId":"ETH-USDT"},"data":[{"instId":"ETH-USDT","last":"x"}]}',
)

# Close codes for drops; 4001 would be an authentication failure (never retried).
_DROP_CODES: Final = (1006, 1006, 1001, 1011, 1012)


class FaultKind(enum.Enum):
    DROP = "drop"
    SILENCE = "silence"
    REFUSE = "refuse"
    NOTICE = "notice"
    REJECT = "reject"
    GARBAGE = "garbage"
    SLOW_CONSUMER = "slow_consumer"
    CHURN = "churn"
    RECONNECT = "reconnect"


_WEIGHTS: Final = {
    FaultKind.DROP: 3.0,
    FaultKind.SILENCE: 2.0,
    FaultKind.REFUSE: 2.0,
    FaultKind.NOTICE: 1.5,
    FaultKind.REJECT: 1.5,
    FaultKind.GARBAGE: 2.0,
    FaultKind.SLOW_CONSUMER: 1.0,
    FaultKind.CHURN: 4.0,
    FaultKind.RECONNECT: 3.0,
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault at ``at`` seconds into the run.

    ``duration``: how long silence, a rejection or a consumer's stall lasts, or how long a
    slowed-down handshake takes (reconnect during CONNECTING). ``count``: refused attempts,
    churn operations or garbage frames. ``pair``: the rejected instrument. ``mode``: for
    RECONNECT, the state to call ``reconnect()`` in (``"now"``: whatever it is,
    ``"connecting"``, ``"reconnecting"``). ``code``: the close code of a drop. ``seed``:
    for the choices made while the fault plays (churn operations, garbage frames).
    """

    at: float
    kind: FaultKind
    duration: float = 0.0
    count: int = 0
    pair: str = ""
    mode: str = ""
    code: int = 1006
    seed: int = 0


@dataclass(frozen=True)
class ChaosSchedule:
    """A timetable of faults, derived entirely from ``seed`` by :meth:`generate`."""

    seed: int
    duration: float
    universe: tuple[str, ...]
    initial_pairs: tuple[str, ...]
    faults: tuple[Fault, ...]

    @classmethod
    def generate(
        cls,
        seed: int,
        duration: float = 3600.0,
        *,
        universe: Sequence[str] = DEFAULT_UNIVERSE,
        initial_pairs: int = 6,
        mean_gap: float = 120.0,
        weights: dict[FaultKind, float] | None = None,
    ) -> ChaosSchedule:
        """Faults at exponentially distributed gaps (mean *mean_gap* s) over *duration* s.

        Raises:
            ValueError: for a non-positive duration or gap, or more initial pairs than
                the universe has.
        """
        if not (duration > 0 and mean_gap > 0):
            raise ValueError("duration and mean_gap must be > 0")
        if not 0 <= initial_pairs <= len(universe):
            raise ValueError(f"initial_pairs must be between 0 and {len(universe)}")
        rng = random.Random(f"okx-trio-chaos:{seed}")
        table = weights if weights is not None else _WEIGHTS
        kinds = list(table)
        kind_weights = [table[k] for k in kinds]
        initial = tuple(rng.sample(list(universe), initial_pairs))
        faults: list[Fault] = []
        at = rng.expovariate(1 / mean_gap)
        while at < duration:
            kind = rng.choices(kinds, kind_weights)[0]
            faults.append(_make_fault(rng, kind, at, universe))
            at += rng.expovariate(1 / mean_gap)
        return cls(seed, float(duration), tuple(universe), initial, tuple(faults))

    def counts(self) -> Counter[str]:
        return Counter(f.kind.value for f in self.faults)


def _make_fault(rng: random.Random, kind: FaultKind, at: float, universe: Sequence[str]) -> Fault:
    seed = rng.getrandbits(32)
    if kind is FaultKind.DROP:
        return Fault(at, kind, code=rng.choice(_DROP_CODES))
    if kind is FaultKind.SILENCE:
        # Both shorter and longer than a 30 s connection timeout.
        return Fault(at, kind, duration=rng.uniform(5.0, 150.0))
    if kind is FaultKind.REFUSE:
        return Fault(at, kind, count=rng.randint(2, 8))
    if kind is FaultKind.REJECT:
        return Fault(at, kind, pair=rng.choice(list(universe)), duration=rng.uniform(60, 1800))
    if kind is FaultKind.GARBAGE:
        return Fault(at, kind, count=rng.randint(1, 5), seed=seed)
    if kind is FaultKind.SLOW_CONSUMER:
        return Fault(at, kind, duration=rng.uniform(60.0, 600.0))
    if kind is FaultKind.CHURN:
        return Fault(at, kind, count=rng.randint(3, 15), seed=seed)
    if kind is FaultKind.RECONNECT:
        mode = rng.choice(("now", "connecting", "reconnecting"))
        # Handshakes of 1-14 s: some outlast a 10 s connect timeout.
        return Fault(at, kind, mode=mode, duration=rng.uniform(1.0, 14.0), seed=seed)
    return Fault(at, kind)
