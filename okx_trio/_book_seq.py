"""The vocabulary of the book engine: why a book is invalid, what a message did, and the
splice of two connections' streams by OKX's ``seqId`` (sans-IO).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import NamedTuple

__all__ = [
    "ApplyOutcome",
    "ApplyResult",
    "BookStatus",
    "BrokenRule",
    "InvalidReason",
    "SeedOutcome",
    "check_side",
    "splice_index",
]


class InvalidReason(enum.Enum):
    """Why a book became invalid."""

    GAP = "gap"  #: an update whose prevSeqId is not the book's seqId
    DUPLICATE = "duplicate"  #: an update applied already
    NO_SNAPSHOT = "no_snapshot"  #: an update before any snapshot
    CROSSED = "crossed"  #: best bid >= best ask after applying
    CHECKSUM = "checksum"  #: a non-zero checksum that does not match the book
    BAD_SNAPSHOT = "bad_snapshot"  #: a snapshot with prevSeqId not -1, or a price twice
    BAD_MESSAGE = "bad_message"  #: a malformed level or action, or ids that cannot be checked
    # Set from outside the engine (by the keeper of a connection's books):
    SNAPSHOT_TIMEOUT = "snapshot_timeout"  #: no snapshot (WebSocket or REST) within the deadline
    REST_FAILED = "rest_failed"  #: the REST snapshot a seed needed could not be fetched
    DISCONNECTED = "disconnected"  #: the connection that fed the book is gone


class BookStatus(enum.Enum):
    """Where the engine is: waiting for its first snapshot, valid, invalid or seeding."""

    AWAITING_SNAPSHOT = "awaiting_snapshot"
    VALID = "valid"
    INVALID = "invalid"
    SEEDING = "seeding"


class ApplyOutcome(enum.Enum):
    """What :meth:`BookEngine.apply` did with a message."""

    APPLIED = "applied"  #: the book moved to the message (a keep-alive included)
    INVALIDATED = "invalidated"  #: the message broke a rule: the book is now invalid
    IGNORED = "ignored"  #: an update while the book is invalid (waiting for a snapshot)
    BUFFERED = "buffered"  #: kept for the REST seed in progress
    SKIPPED = "skipped"  #: an update the REST snapshot already holds (seqId <= its seqId)


class ApplyResult(NamedTuple):
    """``outcome``, and for ``INVALIDATED`` the ``reason``."""

    outcome: ApplyOutcome
    reason: InvalidReason | None = None


class SeedOutcome(enum.Enum):
    """What :meth:`BookEngine.apply_rest_snapshot` did."""

    OK = "ok"  #: the book is valid, seeded from REST and the buffered updates
    TOO_OLD = "too_old"  #: REST seqId is before the first buffered update: fetch again
    RESTART = "restart"  #: the seed failed (see ``invalid_reason``): begin_rest_seed again
    NOT_SEEDING = "not_seeding"  #: no seed in progress (a WebSocket snapshot may have won)


class BrokenRule(Exception):
    """Raised inside the engine when a message breaks a rule; the engine catches it and
    invalidates the book with ``reason`` (``detail`` says what broke, for logs)."""

    def __init__(self, reason: InvalidReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def check_side(levels: object) -> None:
    """A message's side must be a list of levels.

    Raises:
        BrokenRule: ``BAD_MESSAGE`` for anything else.
    """
    if not isinstance(levels, list | tuple):
        raise BrokenRule(InvalidReason.BAD_MESSAGE, f"a side must be a list of levels: {levels!r}")


def splice_index(seq_id: int, links: Sequence[tuple[int, int]]) -> int | None:
    """Where a book at ``seq_id`` picks up another connection's updates, or None.

    ``links`` are the ``(prevSeqId, seqId)`` of updates buffered from a new connection, in
    order. OKX's seqIds are the same on every connection, so the book continues with
    ``links[i:]`` where ``links[i]`` is the first whose ``prevSeqId`` is ``seq_id``;
    ``len(links)`` if the book is already at the last one's ``seqId`` (nothing to apply).
    None if no link continues the book, or if the links from there do not chain by
    identity: then nothing can be spliced without missing or repeating an update.
    """
    start: int | None = None
    for i, (prev, _) in enumerate(links):
        if prev == seq_id:
            start = i
            break
    if start is None:
        return len(links) if links and links[-1][1] == seq_id else None
    for (_, seq), (prev, _) in zip(links[start:], links[start + 1 :], strict=False):
        if prev != seq:
            return None
    return start
