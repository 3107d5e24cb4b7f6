"""One connection's order books: an engine per incremental book subscription, and what to do
when one breaks (sans-IO, time passed in).

:class:`BookKeeper` sits inside :class:`~okx_trio._protocol.OkxProtocol`. It feeds each
``books``/``books-l2-tbt``/``books50-l2-tbt`` message to that subscription's
:class:`~okx_trio._book.BookEngine` and answers, in order, with the records to deliver (only
what the engine validated), :class:`BookInvalid` where a book broke, and
:class:`BookSeedWanted` where a book needs OKX's REST snapshot. It never touches another
subscription or the connection: one broken book is resubscribed on its own.

The life of one book:

- subscribed: waiting for its snapshot. A snapshot makes it valid. Updates before any
  snapshot (OKX may stop sending one) start a REST seed: they are buffered, and the REST book
  is installed with them once it comes (:meth:`BookKeeper.rest_book`).
- valid: every update is checked. One that breaks a rule makes the book invalid at once; it
  is resubscribed (unsubscribe, subscribe) at once the first time, later ones wait a backoff
  per book (the client's ``initial_delay`` .. ``max_delay``), so a book that keeps failing
  cannot storm the server. A book that stayed valid ``stable_after`` starts counting afresh.
- resubscribed: updates still in flight are ignored; after the subscribe ack it waits for a
  snapshot (or seeds from REST) again.
- a book that is not valid ``book_snapshot_timeout`` after its ack (or its seed began) is
  resynced again, as if it had broken.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

from ._backoff import ReconnectStrategy
from ._book import ApplyOutcome, BookEngine, BookStatus, InvalidReason, SeedOutcome
from ._book_levels import OrderBook
from ._book_push import BookMessage, snapshot_update
from ._book_records import BookUpdate
from ._config import ClientConfig
from ._protocol_events import BookInvalid, BookSeedWanted
from ._rest_books import RestBook
from ._subscription import Subscription

__all__ = ["BOOK_DEPTHS", "BookKeeper", "BookOutput"]

#: Levels OKX maintains per side, by incremental channel; also the REST snapshot's ``sz``.
BOOK_DEPTHS: Final = {"books": 400, "books-l2-tbt": 400, "books50-l2-tbt": 50}

BookOutput = BookUpdate | BookInvalid | BookSeedWanted


class _Book:
    """One subscription's book and its resync clock."""

    __slots__ = (
        "awaiting_ack",
        "deadline",
        "engine",
        "failures",
        "retry_at",
        "seeding",
        "strategy",
        "valid_since",
    )

    def __init__(self, sub: Subscription, strategy: ReconnectStrategy) -> None:
        self.engine = _engine(sub)
        self.strategy = strategy
        #: Consecutive resyncs without the book staying valid ``stable_after`` in between.
        self.failures = 0
        self.valid_since: float | None = None
        #: By when the book must be valid (after an ack or a seed began); inf: no deadline.
        self.deadline = math.inf
        #: When to resubscribe (a resync waiting out its backoff); inf: not scheduled.
        self.retry_at = math.inf
        #: Resubscribed: ignore updates still in flight until the subscribe ack.
        self.awaiting_ack = False
        #: A REST snapshot was asked for and not answered yet.
        self.seeding = False


def _engine(sub: Subscription) -> BookEngine:
    assert sub.inst_id is not None  # the channel table keys every book channel by instId
    return BookEngine(sub.inst_id, sub.channel, max_depth=BOOK_DEPTHS[sub.channel])


class BookKeeper:
    """The incremental books of one connection; see the module docstring.

    Counters: ``resyncs`` (books resubscribed because they broke or timed out),
    ``resync_reasons`` (the same by :class:`InvalidReason` value), ``rest_seeds`` (REST
    snapshots asked for).
    """

    def __init__(self, config: ClientConfig) -> None:
        self._config = config
        self._timeout = config.book_snapshot_timeout
        self._stable_after = config.stable_after
        self.books: dict[Subscription, _Book] = {}
        self.resyncs = 0
        self.resync_reasons: dict[str, int] = {}
        self.rest_seeds = 0
        self._next: float | None = math.inf  # None: recompute

    # -- which books ---------------------------------------------------------------------

    def track(self, subs: Iterable[Subscription]) -> None:
        """Keep a book for exactly the incremental book subscriptions among *subs*."""
        wanted = {sub for sub in subs if sub[0] in BOOK_DEPTHS}
        for sub in [s for s in self.books if s not in wanted]:
            del self.books[sub]
        for sub in wanted:
            if sub not in self.books:
                self.books[sub] = _Book(sub, self._config.reconnect_strategy())
        self._next = None

    def book(self, sub: Subscription) -> OrderBook | None:
        """The valid book of *sub*, or None."""
        held = self.books.get(sub)
        return held.engine.book() if held is not None else None

    def valid(self, sub: Subscription) -> bool:
        held = self.books.get(sub)
        return held is not None and held.engine.valid

    def acked(self, sub: Subscription, now: float) -> None:
        """The server confirmed the subscription of *sub*: its snapshot is due."""
        held = self.books.get(sub)
        if held is None or held.engine.valid:
            return
        if held.awaiting_ack:
            held.awaiting_ack = False
            held.engine = _engine(sub)  # waits for a snapshot, or seeds from REST
        held.deadline = now + self._timeout
        self._next = None

    # -- messages ------------------------------------------------------------------------

    def receive(
        self, sub: Subscription, messages: Iterable[BookMessage], now: float
    ) -> list[BookOutput]:
        """Feed *sub*'s messages to its book; return what to deliver and report, in order."""
        held = self.books.get(sub)
        out: list[BookOutput] = []
        if held is None:
            return out
        for m in messages:
            engine = held.engine
            if held.awaiting_ack and m.action != "snapshot":
                continue  # the old subscription's updates, still in flight
            was_valid = engine.valid
            if m.action == "update" and engine.status is BookStatus.AWAITING_SNAPSHOT:
                # Updates and no snapshot: OKX's REST snapshot seeds the book.
                engine.begin_rest_seed()
                self._want_seed(sub, held, now, out)
            result = engine.apply(
                m.action, m.prev_seq_id, m.seq_id, m.ts, m.bids, m.asks, m.checksum
            )
            outcome = result.outcome
            if outcome is ApplyOutcome.APPLIED:
                if not was_valid:
                    # (A snapshot may come before the subscribe ack: the book is live.)
                    held.awaiting_ack = False
                    self._became_valid(held, now)
                # The engine checked every level it applied (OKX's plain form): the record
                # takes them as they are, with no second check.
                out.append(m.checked_record())
            elif outcome is ApplyOutcome.INVALIDATED:
                assert result.reason is not None
                self._resync(sub, held, result.reason.value, engine.invalid_detail or "", now, out)
        return out

    def rest_book(self, sub: Subscription, rest: RestBook, now: float) -> list[BookOutput]:
        """OKX's REST snapshot for *sub* arrived: seed the book with it (if still seeding)."""
        held = self.books.get(sub)
        out: list[BookOutput] = []
        if held is None or not held.seeding:
            return out
        engine = held.engine
        outcome = engine.apply_rest_snapshot(rest.seq_id, rest.ts, rest.bids, rest.asks)
        if outcome is SeedOutcome.OK:
            self._became_valid(held, now)
            book = engine.book()
            assert book is not None
            out.append(snapshot_update(book))
        elif outcome is SeedOutcome.TOO_OLD:
            self._want_seed(sub, held, now, out)  # the deadline still bounds the retries
        elif outcome is SeedOutcome.RESTART:
            reason = engine.invalid_reason or InvalidReason.BAD_SNAPSHOT
            self._resync(sub, held, reason.value, engine.invalid_detail or "", now, out)
        else:  # NOT_SEEDING: a WebSocket snapshot came first
            held.seeding = False
        return out

    def broken(self, sub: Subscription, detail: str, now: float) -> list[BookOutput]:
        """A push of *sub* could not be read at all: its book cannot know what it missed."""
        held = self.books.get(sub)
        out: list[BookOutput] = []
        if held is None or held.awaiting_ack or held.retry_at != math.inf:
            return out  # already resyncing
        held.engine.invalidate(InvalidReason.BAD_MESSAGE, detail)
        self._resync(sub, held, InvalidReason.BAD_MESSAGE.value, detail, now, out)
        return out

    def not_resubscribed(self, sub: Subscription, now: float) -> None:
        """The resubscribe of *sub* could not be sent (its request is in flight already):
        wait for a snapshot on the subscription as it is."""
        held = self.books.get(sub)
        if held is None or not held.awaiting_ack:
            return
        held.awaiting_ack = False
        held.engine = _engine(sub)
        held.deadline = now + self._timeout
        self._next = None

    def rest_failed(self, sub: Subscription, error: str, now: float) -> list[BookOutput]:
        """The REST snapshot for *sub* could not be had (*error* says why)."""
        held = self.books.get(sub)
        out: list[BookOutput] = []
        if held is not None and held.seeding:
            held.engine.invalidate(InvalidReason.REST_FAILED, error)
            self._resync(sub, held, InvalidReason.REST_FAILED.value, error, now, out)
        return out

    def _want_seed(self, sub: Subscription, held: _Book, now: float, out: list[BookOutput]) -> None:
        if not held.seeding:
            held.deadline = now + self._timeout
            self._next = None
        held.seeding = True
        self.rest_seeds += 1
        out.append(BookSeedWanted(sub, BOOK_DEPTHS[sub.channel]))

    def _became_valid(self, held: _Book, now: float) -> None:
        held.valid_since = now
        held.deadline = held.retry_at = math.inf
        held.seeding = False
        self._next = None

    def _resync(
        self,
        sub: Subscription,
        held: _Book,
        reason: str,
        detail: str,
        now: float,
        out: list[BookOutput],
    ) -> None:
        self.resyncs += 1
        self.resync_reasons[reason] = self.resync_reasons.get(reason, 0) + 1
        if held.valid_since is not None and now - held.valid_since >= self._stable_after:
            held.failures = 0
            held.strategy.reset()
        # The first resync in a while goes at once; a book that keeps failing backs off.
        delay = held.strategy.next_delay() if held.failures else 0.0
        held.failures += 1
        held.valid_since = None
        held.seeding = False
        held.deadline = math.inf
        held.retry_at = now + delay
        self._next = None
        out.append(BookInvalid(sub, reason, detail, delay))

    # -- time ----------------------------------------------------------------------------

    def poll(self, now: float) -> tuple[list[Subscription], list[BookOutput]]:
        """At *now*: the books to resubscribe, and what timed out (as :class:`BookInvalid`)."""
        resubscribe: list[Subscription] = []
        out: list[BookOutput] = []
        if now < self.next_deadline():
            return resubscribe, out
        for sub, held in self.books.items():
            if held.retry_at <= now:
                held.retry_at = math.inf
                held.awaiting_ack = True
                resubscribe.append(sub)
            elif held.deadline <= now and not held.engine.valid:
                detail = f"no valid book {self._timeout:g}s after subscribing"
                if held.seeding:
                    detail = f"no REST snapshot {self._timeout:g}s after asking"
                held.engine.invalidate(InvalidReason.SNAPSHOT_TIMEOUT, detail)
                self._resync(sub, held, InvalidReason.SNAPSHOT_TIMEOUT.value, detail, now, out)
        self._next = None
        return resubscribe, out

    def next_deadline(self) -> float:
        """When :meth:`poll` next has something to do (inf: nothing scheduled)."""
        if self._next is None:
            self._next = min(
                (min(h.retry_at, h.deadline) for h in self.books.values()), default=math.inf
            )
        return self._next

    def connection_lost(self) -> list[Subscription]:
        """The connection is gone: every book is invalid; return those that were valid."""
        was_valid = [sub for sub, held in self.books.items() if held.engine.valid]
        for held in self.books.values():
            held.engine.invalidate(InvalidReason.DISCONNECTED, "the connection ended")
            held.deadline = held.retry_at = math.inf
            held.seeding = held.awaiting_ack = False
        self._next = math.inf
        return was_valid
