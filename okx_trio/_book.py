"""``BookEngine``: one OKX order book kept honest by OKX's sequence rules (sans-IO).

One engine per book subscription. Feed it every push of the channel (:meth:`BookEngine.apply`)
with OKX's original strings; read it with :meth:`BookEngine.book`, which is an immutable
:class:`~okx_trio._book_levels.OrderBook` or None. The engine never hands out a wrong book:
the moment a message breaks a rule, the book is invalid (``book()`` is None), the engine
says why (:class:`InvalidReason`), and it ignores updates until a new snapshot (or a REST
seed) starts it again. It never raises on what the exchange sends.

The rules (OKX API docs (v5), order book channel, "Sequence ID", and the 2026 changelog):

- a snapshot has ``prevSeqId == -1``; an update applies only if its ``prevSeqId`` *is* the
  book's ``seqId`` (identity: steps are irregular, a keep-alive repeats the ``seqId``, a
  reset after maintenance makes it smaller);
- merge: size 0 deletes the price, another size replaces it, a new price is inserted in
  order; prices compare as numbers and keep their strings;
- a gap, a duplicate, an update before any snapshot, a crossed book (best bid >= best ask)
  or a non-zero checksum that does not match invalidates the book;
- REST seeding (:meth:`BookEngine.begin_rest_seed`, :meth:`BookEngine.apply_rest_snapshot`)
  buffers updates and continues from the one that brackets the REST ``seqId``.

Recordings made before OKX sent ``seqId`` (such as the 2022 capture) carry no sequence ids:
pass None for both; such an update applies only to a book without ids and only with a
non-zero checksum, which is then the one integrity signal.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Final

from ._book_levels import (
    CHECKSUM_DEPTH,
    BadLevel,
    OrderBook,
    checksum_of,
    top_levels,
)
from ._book_seed import Buffered, SeedState
from ._book_seq import (
    ApplyOutcome,
    ApplyResult,
    BookStatus,
    BrokenRule,
    InvalidReason,
    SeedOutcome,
    check_side,
    splice_index,
)
from ._book_side import PriceTwice, Side, snapshot_levels

__all__ = [
    "ApplyOutcome",
    "ApplyResult",
    "BookEngine",
    "BookStatus",
    "InvalidReason",
    "SeedOutcome",
    "splice_index",
]

Levels = Sequence[Sequence[str]]

#: Updates a REST seed buffers at most; older ones are dropped first (the REST answer may
#: then be too old, and is fetched again).
DEFAULT_SEED_BUFFER: Final = 1000
# Recent (prevSeqId, seqId) pairs, to tell a duplicate from a gap.
_RECENT: Final = 32


_APPLIED: Final = ApplyResult(ApplyOutcome.APPLIED)
_IGNORED: Final = ApplyResult(ApplyOutcome.IGNORED)
_BUFFERED: Final = ApplyResult(ApplyOutcome.BUFFERED)
_SKIPPED: Final = ApplyResult(ApplyOutcome.SKIPPED)
_INVALIDATED: Final = {r: ApplyResult(ApplyOutcome.INVALIDATED, r) for r in InvalidReason}


class BookEngine:
    """The book of one subscription (``inst_id`` on ``channel``), fed OKX's pushes.

    ``max_depth`` keeps only the best levels of each side (OKX's ``books`` maintains 400: a
    level pushed past that is no longer updated, so it is dropped); None keeps every level.
    It must be at least 25, the depth OKX's checksum covers. ``seed_buffer`` bounds the
    updates a REST seed buffers.

    Raises:
        ValueError: for ``max_depth`` below 25 or ``seed_buffer`` below 1.
    """

    def __init__(
        self,
        inst_id: str,
        channel: str,
        *,
        max_depth: int | None = None,
        seed_buffer: int = DEFAULT_SEED_BUFFER,
    ) -> None:
        if max_depth is not None and max_depth < CHECKSUM_DEPTH:
            raise ValueError(f"max_depth must be None or >= {CHECKSUM_DEPTH}, got {max_depth}")
        if seed_buffer < 1:
            raise ValueError(f"seed_buffer must be >= 1, got {seed_buffer}")
        self.inst_id = inst_id
        self.channel = channel
        self.max_depth = max_depth
        self._bids = Side(True)
        self._asks = Side(False)
        self._status = BookStatus.AWAITING_SNAPSHOT
        self._seq_id: int | None = None
        self._ts = 0
        self._view: OrderBook | None = None
        self._recent: deque[tuple[int | None, int | None]] = deque(maxlen=_RECENT)
        self._seed = SeedState(seed_buffer)
        self.invalid_reason: InvalidReason | None = None
        #: What broke the rule, for logs (``"prevSeqId 12 != seqId 10"``); None when valid.
        self.invalid_detail: str | None = None
        #: Messages applied and invalidations since the engine was made.
        self.applied = 0
        self.invalidations = 0

    # -- reading ---------------------------------------------------------------------------

    @property
    def status(self) -> BookStatus:
        return self._status

    @property
    def valid(self) -> bool:
        """Whether :meth:`book` returns a book."""
        return self._status is BookStatus.VALID

    @property
    def seq_id(self) -> int | None:
        """The ``seqId`` of the last message applied; None while not valid or unsequenced."""
        return self._seq_id if self._status is BookStatus.VALID else None

    def book(self) -> OrderBook | None:
        """The current book as an immutable view, or None while it cannot be trusted.

        O(1): the view shares the engine's structures, which the engine copies before its
        next change; repeated calls between two changes return the same view.
        """
        if self._status is not BookStatus.VALID:
            return None
        view = self._view
        if view is None:
            view = self._view = OrderBook(
                self.inst_id,
                self.channel,
                self._seq_id,
                self._ts,
                self._bids.share(),
                self._asks.share(),
            )
        return view

    def accepts(self, prev_seq_id: int) -> bool:
        """Whether an update with this ``prevSeqId`` would continue the valid book."""
        return self.valid and self._seq_id is not None and prev_seq_id == self._seq_id

    # -- feeding ---------------------------------------------------------------------------

    def apply(
        self,
        action: str,
        prev_seq_id: int | None,
        seq_id: int | None,
        ts: int,
        bids: Levels,
        asks: Levels,
        checksum: int = 0,
    ) -> ApplyResult:
        """Apply one push: ``action`` ``"snapshot"`` or ``"update"``, levels as OKX sends them
        (``[price, size, "0", orders]`` strings), ``checksum`` 0 when OKX sends 0 (not checked).

        Snapshot channels without ``action``/``prevSeqId`` (``books5``, ``bbo-tbt``) pass
        ``"snapshot"`` and ``-1`` (or None). Never raises on bad input: it invalidates with
        :attr:`InvalidReason.BAD_MESSAGE`.

        Every level applied is in OKX's plain form (:func:`~._book_levels.level_error`),
        so a record of an applied message may take its levels unchecked.
        """
        try:
            if action == "snapshot":
                self._snapshot(prev_seq_id, seq_id, ts, bids, asks, checksum)
                return _APPLIED
            if action != "update":
                raise BrokenRule(InvalidReason.BAD_MESSAGE, f"action {action!r}")
            status = self._status
            if status is BookStatus.VALID:
                if self._seed.bracketing:
                    start = self._seed.bracket(prev_seq_id, seq_id)
                    if start is None:
                        return _SKIPPED
                    self._seq_id = start  # continue by identity, as if at its prevSeqId
                self._check_link(prev_seq_id, seq_id, checksum)
                self._update(prev_seq_id, seq_id, ts, bids, asks, checksum)
                return _APPLIED
            if status is BookStatus.SEEDING:
                self._seed.add(Buffered(prev_seq_id, seq_id, ts, bids, asks, checksum))
                return _BUFFERED
            if status is BookStatus.INVALID:
                return _IGNORED
            raise BrokenRule(InvalidReason.NO_SNAPSHOT, "an update before any snapshot")
        except BrokenRule as broken:
            self._invalidate(broken)
            return _INVALIDATED[broken.reason]

    def invalidate(self, reason: InvalidReason, detail: str) -> None:
        """Mark the book invalid from outside (e.g. the connection that fed it was lost)."""
        self._invalidate(BrokenRule(reason, detail))

    def _invalidate(self, broken: BrokenRule) -> None:
        self._status = BookStatus.INVALID
        self.invalid_reason = broken.reason
        self.invalid_detail = broken.detail
        self.invalidations += 1
        self._seed.clear()
        self._bids.clear()
        self._asks.clear()
        self._view = None

    def _snapshot(
        self,
        prev_seq_id: int | None,
        seq_id: int | None,
        ts: int,
        bids: Levels,
        asks: Levels,
        checksum: int,
    ) -> None:
        if prev_seq_id is not None and prev_seq_id != -1:
            raise BrokenRule(InvalidReason.BAD_SNAPSHOT, f"snapshot with prevSeqId {prev_seq_id}")
        self._seed.clear()
        self._install(seq_id, ts, bids, asks, checksum)

    def _install(
        self, seq_id: int | None, ts: int, bids: Levels, asks: Levels, checksum: int
    ) -> None:
        """Replace the book by a full one (a snapshot, WebSocket or REST)."""
        self._bids.clear()
        self._asks.clear()
        for side, levels in ((self._bids, bids), (self._asks, asks)):
            check_side(levels)
            try:
                side.install(snapshot_levels(levels))
            except BadLevel as bad:
                raise BrokenRule(InvalidReason.BAD_MESSAGE, str(bad)) from None
            except PriceTwice as twice:
                raise BrokenRule(InvalidReason.BAD_SNAPSHOT, str(twice)) from None
        self._finish(seq_id, ts, checksum)
        self._recent.clear()
        self._status = BookStatus.VALID
        self.invalid_reason = self.invalid_detail = None

    def _check_link(self, prev_seq_id: int | None, seq_id: int | None, checksum: int) -> None:
        last = self._seq_id
        if prev_seq_id == last and last is not None and seq_id is not None:
            return  # the common case, first
        if prev_seq_id is None or seq_id is None or last is None:
            if prev_seq_id is None and seq_id is None and last is None:
                if checksum == 0:
                    raise BrokenRule(
                        InvalidReason.BAD_MESSAGE, "no seqId and no checksum: nothing to verify"
                    )
                return
            raise BrokenRule(
                InvalidReason.BAD_MESSAGE,
                f"prevSeqId {prev_seq_id}, seqId {seq_id} on a book at seqId {last}",
            )
        if prev_seq_id != last:
            if (prev_seq_id, seq_id) in self._recent:
                raise BrokenRule(
                    InvalidReason.DUPLICATE, f"update ({prev_seq_id}, {seq_id}) applied already"
                )
            raise BrokenRule(InvalidReason.GAP, f"prevSeqId {prev_seq_id} != book seqId {last}")

    def _update(
        self,
        prev_seq_id: int | None,
        seq_id: int | None,
        ts: int,
        bids: Levels,
        asks: Levels,
        checksum: int,
    ) -> None:
        check_side(bids)
        check_side(asks)
        try:
            if bids:
                self._bids.merge_all(bids)
            if asks:
                self._asks.merge_all(asks)
        except BadLevel as bad:
            raise BrokenRule(InvalidReason.BAD_MESSAGE, str(bad)) from None
        self._finish(seq_id, ts, checksum)
        self._recent.append((prev_seq_id, seq_id))

    def _finish(self, seq_id: int | None, ts: int, checksum: int) -> None:
        """The checks every new book state passes, then it becomes the book."""
        bid_keys, ask_keys = self._bids.keys, self._asks.keys
        # (Side.best() inlined: the best is last; an ask's key is its negated price.)
        if bid_keys and ask_keys and bid_keys[-1] >= -ask_keys[-1]:
            bid, ask = self._bids.best(), self._asks.best()
            raise BrokenRule(InvalidReason.CROSSED, f"best bid {bid} >= best ask {ask}")
        if checksum != 0:
            ours = checksum_of(
                top_levels(self._bids.raws, CHECKSUM_DEPTH),
                top_levels(self._asks.raws, CHECKSUM_DEPTH),
            )
            if ours != checksum:
                raise BrokenRule(InvalidReason.CHECKSUM, f"checksum {checksum} != book's {ours}")
        if self.max_depth is not None:
            for side in (self._bids, self._asks):
                if len(side.keys) > self.max_depth:
                    side.unshare()
                    side.trim(self.max_depth)
        self._seq_id = seq_id
        self._ts = ts
        self._view = None
        self.applied += 1

    # -- REST seeding ----------------------------------------------------------------------

    def begin_rest_seed(self) -> None:
        """Start seeding from REST: drop the book, buffer updates until
        :meth:`apply_rest_snapshot`. A WebSocket snapshot arriving meanwhile seeds the book
        itself (the buffer is dropped and the REST answer is then ``NOT_SEEDING``)."""
        self._bids.clear()
        self._asks.clear()
        self._view = None
        self._seed.clear()
        self._status = BookStatus.SEEDING

    @property
    def buffered(self) -> int:
        """Updates buffered for the REST seed in progress."""
        return len(self._seed)

    def apply_rest_snapshot(self, seq_id: int, ts: int, bids: Levels, asks: Levels) -> SeedOutcome:
        """Seed the book from ``GET /api/v5/market/books`` (its ``seqId``, ``ts`` and levels).

        With updates buffered: ``TOO_OLD`` (still seeding, buffer kept) if ``seq_id`` is
        before the first one's ``prevSeqId``; otherwise the REST book is installed, buffered
        updates with ``seqId <= seq_id`` are dropped and the rest applied, the first of them
        bracketing it (``prevSeqId <= seq_id < seqId``). With none buffered yet, the book is
        valid at once and the next update must bracket it. ``RESTART`` if any of it fails:
        the book is invalid (``invalid_reason`` says why).
        """
        if self._status is not BookStatus.SEEDING:
            return SeedOutcome.NOT_SEEDING
        if self._seed.too_old(seq_id):
            return SeedOutcome.TOO_OLD
        try:
            self._install(seq_id, ts, bids, asks, 0)
        except BrokenRule as broken:
            if broken.reason is InvalidReason.BAD_MESSAGE:
                broken.reason = InvalidReason.BAD_SNAPSHOT
            self._invalidate(broken)
            return SeedOutcome.RESTART
        for update in self._seed.seeded(seq_id):
            result = self.apply("update", *update)
            if result.outcome is ApplyOutcome.INVALIDATED:
                return SeedOutcome.RESTART
        return SeedOutcome.OK

    def copy(self) -> BookEngine:
        """An independent engine in the same state (e.g. to continue a book on a new
        connection with the updates :func:`splice_index` picks)."""
        twin = BookEngine(
            self.inst_id,
            self.channel,
            max_depth=self.max_depth,
            seed_buffer=self._seed.maxlen,
        )
        twin._bids, twin._asks = self._bids.copy(), self._asks.copy()
        twin._status = self._status
        twin._seq_id = self._seq_id
        twin._ts = self._ts
        twin._recent = self._recent.copy()
        twin._seed = self._seed.copy()
        twin.invalid_reason = self.invalid_reason
        twin.invalid_detail = self.invalid_detail
        return twin

    def __repr__(self) -> str:
        return (
            f"BookEngine({self.channel}:{self.inst_id} {self._status.value} "
            f"seq_id={self._seq_id} reason={self.invalid_reason})"
        )
