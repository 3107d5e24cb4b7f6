"""One connection's ``books`` stream, cut from the instrument's shared :class:`BookModel`, with
the per-book faults a test asked for (no Trio, no clock: ``ts`` in ms comes in).

A stream starts with a snapshot (unless ``Fidelity.book_snapshots`` is off) and then sends
every step of the book after it, one ``update`` each, so every connection carries the same
seqIds. The one-shot faults act on the next real update (keep-alives pass untouched: they
repeat the seqId, so dropping or repeating one breaks nothing); a snapshot delay holds the
next snapshot, and everything after it, back.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from .._subscription import Subscription
from ._books import BookModel, BookStep
from ._protocol import encode_push

__all__ = ["BOOK_FAULT_CHANNELS", "BookFaultKind", "BookFaults", "BookStream"]

BookFaultKind = Literal["drop", "repeat", "reorder", "cross", "checksum"]
#: The channels per-book faults apply to: the incremental ones the fake serves.
BOOK_FAULT_CHANNELS: Final = frozenset({"books"})


@dataclass(slots=True)
class BookFaults:
    """The faults pending for one subscription on one connection; they outlive a
    resubscribe (a delayed snapshot is typically the one after it)."""

    updates: deque[BookFaultKind] = field(default_factory=deque)
    snapshot_delays: deque[float] = field(default_factory=deque)


def _signed(value: int) -> int:
    value &= 0xFFFF_FFFF
    return value - 2**32 if value >= 2**31 else value


@dataclass(slots=True)
class BookStream:
    """Where one subscription is in its book's steps, and its pending faults."""

    faults: BookFaults = field(default_factory=BookFaults)
    step: int | None = None  # the last step sent; None: the snapshot is still to come
    snapshot_at: int | None = None  # a delayed snapshot is not sent before this ts
    held: dict[str, Any] | None = None  # an update a reorder holds back

    def render(
        self, sub: Subscription, book: BookModel, ts: int, *, checksums: bool, snapshots: bool
    ) -> list[str]:
        """The messages of *sub* due at *ts* (advancing the stream)."""
        book.keep_alive(ts)
        if self.step is None:
            if self.snapshot_at is None and self.faults.snapshot_delays:
                self.snapshot_at = ts + round(self.faults.snapshot_delays.popleft() * 1000)
            if self.snapshot_at is not None and ts < self.snapshot_at:
                return []
            return self._snapshot(sub, book, checksums=checksums, snapshots=snapshots)
        steps = book.steps_after(self.step)
        if steps is None:
            # Fell further behind than the log reaches: start again from a snapshot.
            return self._snapshot(sub, book, checksums=checksums, snapshots=True)
        self.step = book.n
        out: list[str] = []
        for step in steps:
            for data in self._faulted(step, _update(step, checksums)):
                out.append(encode_push(sub.arg, [data], action="update"))
        return out

    def _snapshot(
        self, sub: Subscription, book: BookModel, *, checksums: bool, snapshots: bool
    ) -> list[str]:
        self.snapshot_at = None
        self.step = book.n
        self.held = None
        if not snapshots:
            return []  # OKX's planned REST seeding: only the updates after this one come
        data = {
            "asks": book.rows(False),
            "bids": book.rows(True),
            "ts": str(book.ts),
            "checksum": book.checksum if checksums else 0,
            "prevSeqId": -1,
            "seqId": book.seq_id,
        }
        return [encode_push(sub.arg, [data], action="snapshot")]

    def _faulted(self, step: BookStep, data: dict[str, Any]) -> list[dict[str, Any]]:
        if step.keep_alive:
            return [data]
        if self.held is not None:
            held, self.held = self.held, None
            return [data, held]
        pending = self.faults.updates
        if not pending:
            return [data]
        fault = pending.popleft()
        if fault == "drop":
            return []
        if fault == "repeat":
            return [data, data]
        if fault == "reorder":
            self.held = data
            return []
        if fault == "cross" and step.best_ask is not None:
            # A bid at the best ask: best bid >= best ask once applied.
            data["bids"] = [[step.best_ask, "1", "0", "1"], *data["bids"]]
        elif fault == "checksum":
            # Wrong, and never 0 (which would mean "not checked").
            wrong = _signed(step.checksum + 1)
            data["checksum"] = wrong if wrong != 0 else 1
        return [data]


def _update(step: BookStep, checksums: bool) -> dict[str, Any]:
    return {
        "asks": [list(row) for row in step.asks],
        "bids": [list(row) for row in step.bids],
        "ts": str(step.ts),
        "checksum": step.checksum if checksums else 0,
        "prevSeqId": step.prev_seq_id,
        "seqId": step.seq_id,
    }
