"""What a chaos soak expects and what it reports: the config it runs with, the user's desired
set as a model, the task census, and :class:`ChaosReport` (see :mod:`._chaos`)."""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import trio

from .. import ClientConfig
from ._audit import Auditor
from ._exchange import FakeExchange

__all__ = [
    "ChaosModel",
    "ChaosReport",
    "ErrorLogCounter",
    "chaos_config",
    "count_tasks",
    "diff_tasks",
    "leftovers",
]


def chaos_config(**overrides: object) -> ClientConfig:
    """The client config the soak uses unless given one: OKX's timings, no jitter.

    Without jitter every delay is exact, so a failing seed replays the same way. A small
    ``tick_buffer`` makes a stalled consumer overflow within seconds.
    """
    values: dict[str, object] = {
        "url": "ws://fake.okx.test/ws/v5/public",
        "jitter": 0.0,
        "tick_buffer": 64,
        "stats_interval": 5.0,
    }
    values.update(overrides)
    return ClientConfig(**values)  # type: ignore[arg-type]


def count_tasks(*, exclude_suffix: str | None = None) -> Counter[str]:
    """Every task of the current Trio run by name, from the root task down."""
    names: Counter[str] = Counter()
    root = trio.lowlevel.current_root_task()
    assert root is not None, "count_tasks() must be called inside a Trio run"
    stack = [root]
    while stack:
        task = stack.pop()
        if exclude_suffix is None or not task.name.endswith(exclude_suffix):
            names[task.name] += 1
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return names


@dataclass
class ChaosReport:
    """What a chaos run saw. ``violations`` holds the first 100; ``violation_count`` all."""

    seed: int
    simulated: float
    faults: Counter[str] = field(default_factory=Counter)
    recovery_times: list[float] = field(default_factory=list)
    settles: int = 0
    superseded: int = 0
    ticks: int = 0
    transitions: int = 0
    violations: list[str] = field(default_factory=list)
    violation_count: int = 0
    memory: list[int] = field(default_factory=list)
    real_seconds: float = 0.0

    @property
    def memory_growth(self) -> int | None:
        """Bytes gained from the first to the last third of the samples (the first sample,
        taken while warming up, left out), comparing medians: a sample can catch a
        consumer's full buffer or a burst in flight, a leak moves them all."""
        samples = self.memory[1:]
        if len(samples) < 3:
            return None
        third = len(samples) // 3
        return int(statistics.median(samples[-third:]) - statistics.median(samples[:third]))

    def summary(self) -> str:
        """One line: hours, faults by kind, recoveries, ticks, memory, violations."""
        faults = " ".join(f"{k}={n}" for k, n in sorted(self.faults.items()))
        times = self.recovery_times
        worst = max(times, default=0.0)
        median = statistics.median(times) if times else 0.0
        growth = self.memory_growth
        memory = "" if growth is None else f", memory {growth / 1024:+.0f} KiB"
        return (
            f"seed {self.seed}: {self.simulated / 3600:.2f} simulated h, "
            f"faults {sum(self.faults.values())} ({faults}), "
            f"{len(times)} recoveries (worst {worst:.2f} s, median {median:.2f} s), "
            f"{self.ticks} ticks delivered{memory}, "
            f"{self.violation_count} violations, {self.real_seconds:.1f} s real"
        )


class ChaosModel:
    """The desired set as the user made it, minus pairs refused since they were last added.

    Mirrors the documented contract (a refused pair leaves the desired set; adding it
    again retries it) from the user's calls and the refusals seen on the wire, with a
    sequence number to order the two.
    """

    def __init__(self, pairs: Iterable[str]) -> None:
        self._seq = 0
        self.intent: set[str] = set(pairs)
        self._added: dict[str, int] = dict.fromkeys(self.intent, 0)
        self._refused: dict[str, int] = {}

    def _tick(self) -> int:
        self._seq += 1
        return self._seq

    def effective(self) -> frozenset[str]:
        return frozenset(
            p for p in self.intent if self._refused.get(p, -1) < self._added.get(p, -1)
        )

    def add(self, pair: str) -> None:
        self.intent.add(pair)
        self._added[pair] = self._tick()

    def remove(self, pair: str) -> None:
        self.intent.discard(pair)

    def replace(self, pairs: Iterable[str]) -> None:
        new = set(pairs)
        seq = self._tick()
        for pair in new - self.effective():
            self._added[pair] = seq
        self.intent = new

    def refused(self, pair: str) -> None:
        self._refused[pair] = self._tick()


class ErrorLogCounter(logging.Handler):
    """The client logs ERROR only for its own bugs: each one is a violation."""

    def __init__(self, auditor: Auditor) -> None:
        super().__init__(logging.ERROR)
        self._auditor = auditor

    def emit(self, record: logging.LogRecord) -> None:
        self._auditor.violation(f"client logged {record.levelname}: {record.getMessage()}")


def diff_tasks(now: Counter[str], before: Counter[str]) -> str:
    more = now - before
    fewer = before - now
    return f"+{dict(more)} -{dict(fewer)}"


def leftovers(
    tasks_before: Counter[str],
    exchange: FakeExchange,
    channels: Sequence[trio.MemoryReceiveChannel[Any]],
) -> list[str]:
    """What a client left behind when its block exited: tasks that were not there before
    it, connections still open, and channels it handed out that did not end with it (each
    is drained and closed here)."""
    found = []
    tasks_after = count_tasks()
    if tasks_after != tasks_before:
        found.append(f"tasks left after exit: {diff_tasks(tasks_after, tasks_before)}")
    if exchange.connections:
        found.append(f"connections left open: {len(exchange.connections)}")
    for channel in channels:
        with channel:
            try:
                while True:
                    channel.receive_nowait()
            except trio.EndOfChannel:
                pass
            except trio.WouldBlock:
                found.append("a channel from the client did not end with it")
    return found
