"""Splicing one book's stream across a make-before-break handover, by OKX's ``seqId`` (sans-IO).

OKX's ``seqId``\\ s are the same on every connection for an instrument, so when a new
connection takes over (after a ``64008`` upgrade notice) the consumer of ``stream("books")``
continues from exactly the update after the last one the old connection delivered: no gap, no
repeat. The new connection held back what it received while getting ready (its own snapshot
and the updates after it, all validated by its own book engine); :func:`splice` picks where
the consumer's stream continues in that, and :func:`after_guard` handles the case where the
old connection was ahead of the new one (the new one's records are skipped until the one that
links to what was delivered). When no splice is possible, the consumer is told (a ``Gap``)
and gets the new connection's whole book as a snapshot: never a wrong book.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any, NamedTuple

from ._book_records import BookUpdate

__all__ = ["Splice", "SpliceKind", "after_guard", "splice"]


class SpliceKind(Enum):
    CONTINUE = "continue"  #: deliver ``records`` (possibly none): the stream goes on
    WAIT = "wait"  #: the old connection was ahead: skip until an update links to ``seq_id``
    RESTART = "restart"  #: no splice: a Gap, then the new connection's book as a snapshot


class Splice(NamedTuple):
    kind: SpliceKind
    records: tuple[Any, ...] = ()
    seq_id: int | None = None


def splice(held: Sequence[Any], last: Any, current_seq: int | None) -> Splice:
    """Where the new connection's *held* records of one book continue the stream whose
    last delivered record is *last* (a :class:`BookUpdate`, or None if none was delivered);
    *current_seq* is the ``seqId`` of the new connection's valid book.
    """
    if not isinstance(last, BookUpdate):
        return Splice(SpliceKind.RESTART)  # the consumer has nothing to continue
    last_seq = last.seq_id
    if last_seq is None or current_seq is None:
        return Splice(SpliceKind.RESTART)  # unsequenced (old recordings): cannot splice
    start = 0
    for i in range(len(held) - 1, -1, -1):
        if getattr(held[i], "action", None) == "snapshot":
            start = i  # the new book starts at its last snapshot; earlier ones are moot
            break
    for i in range(start, len(held)):
        record = held[i]
        if record.action == "update" and record.prev_seq_id == last_seq:
            return Splice(SpliceKind.CONTINUE, tuple(held[i:]))
    if current_seq == last_seq:
        return Splice(SpliceKind.CONTINUE)  # the very same book: nothing to hand on
    if current_seq < last_seq and not any(r.seq_id == last_seq for r in held[start:]):
        # The old connection delivered updates the new one has not received yet.
        return Splice(SpliceKind.WAIT, seq_id=last_seq)
    return Splice(SpliceKind.RESTART)


def after_guard(records: Sequence[Any], seq_id: int) -> Splice:
    """The records of one book a connection WAITing for ``seq_id`` may deliver.

    ``CONTINUE`` with the records from the update that links to ``seq_id`` on; ``WAIT``
    (nothing yet) while they are all at or before it; ``RESTART`` if they passed it
    without linking (or a snapshot came: the book started over).
    """
    for i, record in enumerate(records):
        if record.action == "snapshot":
            return Splice(SpliceKind.RESTART)
        if record.prev_seq_id == seq_id:
            return Splice(SpliceKind.CONTINUE, tuple(records[i:]))
        seq, prev = record.seq_id, record.prev_seq_id
        if seq is None or seq > seq_id or (prev is not None and seq < prev):
            return Splice(SpliceKind.RESTART)  # passed it, or a sequence reset
    return Splice(SpliceKind.WAIT, seq_id=seq_id)
