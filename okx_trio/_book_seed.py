"""What a book keeps while it is seeded from OKX's REST snapshot (sans-IO).

OKX's guide for a book without a WebSocket snapshot: buffer the updates, fetch
``GET /api/v5/market/books`` (which carries ``seqId``), drop the buffered updates the REST book
already holds and go on from the one that *brackets* it, ``prevSeqId <= REST seqId < seqId``.
:class:`SeedState` is that buffer and that bracket; :class:`~okx_trio._book.BookEngine` owns
one and decides what the answers mean for the book.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, NamedTuple

from ._book_seq import BrokenRule, InvalidReason

__all__ = ["Buffered", "SeedState"]

Levels = Sequence[Sequence[Any]]


class Buffered(NamedTuple):
    """One update held for a REST seed, as :meth:`BookEngine.apply` takes it."""

    prev_seq_id: int | None
    seq_id: int | None
    ts: int
    bids: Levels
    asks: Levels
    checksum: int


class SeedState:
    """The updates buffered for a REST seed (at most ``maxlen``: older ones are dropped
    first, and the REST answer may then be too old and fetched again), and after the seed
    the REST ``seqId`` until an update brackets it."""

    __slots__ = ("_bracket", "_buffer")

    def __init__(self, maxlen: int) -> None:
        self._buffer: deque[Buffered] = deque(maxlen=maxlen)
        self._bracket: int | None = None

    @property
    def maxlen(self) -> int:
        assert self._buffer.maxlen is not None
        return self._buffer.maxlen

    def __len__(self) -> int:
        return len(self._buffer)

    def clear(self) -> None:
        """Forget the buffer and the bracket (a new snapshot, or the book was dropped)."""
        self._buffer.clear()
        self._bracket = None

    def add(self, update: Buffered) -> None:
        """Buffer one update of the book being seeded.

        Raises:
            BrokenRule: (BAD_MESSAGE) for an update without both sequence ids.
        """
        if update.prev_seq_id is None or update.seq_id is None:
            raise BrokenRule(InvalidReason.BAD_MESSAGE, "a REST seed needs prevSeqId and seqId")
        buffer = self._buffer
        # Updates before a break in the chain can never be applied after it.
        if buffer and buffer[-1].seq_id != update.prev_seq_id:
            buffer.clear()
        buffer.append(update)

    def too_old(self, rest_seq_id: int) -> bool:
        """Whether a REST book at *rest_seq_id* is older than every buffered update."""
        first = self._buffer[0].prev_seq_id if self._buffer else None
        return first is not None and rest_seq_id < first

    def seeded(self, rest_seq_id: int) -> list[Buffered]:
        """The REST book at *rest_seq_id* is installed: the buffered updates to apply now,
        in order (emptied); the first update from here on must bracket *rest_seq_id*."""
        updates = list(self._buffer)
        self._buffer.clear()
        self._bracket = rest_seq_id
        return updates

    @property
    def bracketing(self) -> bool:
        """Whether the next update is checked against the REST ``seqId``."""
        return self._bracket is not None

    def bracket(self, prev_seq_id: int | None, seq_id: int | None) -> int | None:
        """None for an update the REST book already holds (skip it); for the update that
        brackets the REST ``seqId``, the ``prevSeqId`` to continue the book from (identity
        from there on: the bracket is done).

        Raises:
            BrokenRule: BAD_MESSAGE without sequence ids, GAP if the update starts after
                the REST book (something between was missed).
        """
        rest = self._bracket
        assert rest is not None
        if prev_seq_id is None or seq_id is None:
            raise BrokenRule(InvalidReason.BAD_MESSAGE, "a REST-seeded book needs seqIds")
        if seq_id <= rest:
            return None
        if prev_seq_id > rest:
            raise BrokenRule(
                InvalidReason.GAP,
                f"first update after REST seqId {rest} has prevSeqId {prev_seq_id}",
            )
        self._bracket = None
        return prev_seq_id

    def copy(self) -> SeedState:
        twin = SeedState(self.maxlen)
        twin._buffer = self._buffer.copy()
        twin._bracket = self._bracket
        return twin
