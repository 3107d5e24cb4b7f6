"""Order-book faults of the fake exchange, as a mixin of :class:`FakeExchange`.

Each per-book fault is one-shot and acts on one subscription (``Subscription`` or its short
form ``"books:BTC-USDT"``) on the open connections *only* names (records or indices into
``connections``; default all) on *endpoint*; it waits there for the next update (or snapshot)
of that subscription, across an unsubscribe and subscribe. It returns how many connections it
reached. Keep-alive updates are never the ones faulted (they repeat the seqId, so dropping or
repeating one breaks nothing). After the fault the connection's stream goes on from the
exchange's book; a client that resubscribes gets a fresh snapshot.

:meth:`BookFaultsMixin.reset_book_sequence` and :meth:`BookFaultsMixin.hold_books` act on the
instrument's book itself, so on every connection alike: OKX's seqIds are the same on every
connection, and so are its resets and its quiet periods.
"""

from __future__ import annotations

import math
from typing import Any

from .._subscription import Subscription
from ._book_stream import BOOK_FAULT_CHANNELS, BookFaultKind
from ._books import BOOK_DEPTH
from ._faults import FaultsMixin, Only
from ._records import EndpointName

__all__ = ["BookFaultsMixin"]


def _book_subscription(item: Subscription | str) -> Subscription:
    sub = Subscription.parse(item) if isinstance(item, str) else item
    if not isinstance(sub, Subscription):
        raise TypeError(f"expected a Subscription or 'books:INST-ID', not {type(item).__name__}")
    if sub.channel not in BOOK_FAULT_CHANNELS:
        raise ValueError(
            f"book faults apply to {', '.join(sorted(BOOK_FAULT_CHANNELS))} subscriptions, "
            f"not {sub.key!r}"
        )
    return sub


class BookFaultsMixin(FaultsMixin):
    """Per-book fault injection (see the module docstring)."""

    def _book_fault(
        self,
        kind: BookFaultKind,
        item: Subscription | str,
        only: Only,
        endpoint: EndpointName | None,
    ) -> int:
        sub = _book_subscription(item)
        sessions = self._select(only, endpoint)
        for session in sessions:
            session.protocol.book_faults(sub).updates.append(kind)
        self._notify()
        return len(sessions)

    def drop_book_update(
        self, sub: Subscription | str, *, only: Only = None, endpoint: EndpointName | None = None
    ) -> int:
        """Skip the next update of *sub*: the one after it does not link (a gap).

        Raises:
            ValueError: for a text that is not a subscription, or one not of ``books``.
            TypeError, IndexError, ValueError: for a bad *only* (see ``send_notice``).
        """
        return self._book_fault("drop", sub, only, endpoint)

    def repeat_book_update(
        self, sub: Subscription | str, *, only: Only = None, endpoint: EndpointName | None = None
    ) -> int:
        """Send the next update of *sub* twice (a duplicate). Raises as :meth:`drop_book_update`."""
        return self._book_fault("repeat", sub, only, endpoint)

    def reorder_book_updates(
        self, sub: Subscription | str, *, only: Only = None, endpoint: EndpointName | None = None
    ) -> int:
        """Swap the next two updates of *sub* (the first to arrive does not link: a gap).
        Raises as :meth:`drop_book_update`."""
        return self._book_fault("reorder", sub, only, endpoint)

    def cross_book(
        self, sub: Subscription | str, *, only: Only = None, endpoint: EndpointName | None = None
    ) -> int:
        """Add to the next update of *sub* a bid at the best ask: applied, best bid >= best
        ask (a crossed book). Raises as :meth:`drop_book_update`."""
        return self._book_fault("cross", sub, only, endpoint)

    def corrupt_book_checksum(
        self, sub: Subscription | str, *, only: Only = None, endpoint: EndpointName | None = None
    ) -> int:
        """Give the next update of *sub* a wrong, non-zero checksum (whether or not
        ``book_checksums`` is on). Raises as :meth:`drop_book_update`."""
        return self._book_fault("checksum", sub, only, endpoint)

    def delay_book_snapshot(
        self,
        sub: Subscription | str,
        seconds: float,
        *,
        only: Only = None,
        endpoint: EndpointName | None = None,
    ) -> int:
        """Hold the next snapshot of *sub* (e.g. the one after a resubscribe) back *seconds*:
        it goes out with the first push of *sub* at least that long after the push that
        would have carried it, and nothing of *sub* is sent meanwhile. (With
        ``book_snapshots`` off, the first updates are held back instead.)

        Raises:
            ValueError: for *seconds* not a finite number >= 0, or a bad *sub* (as
                :meth:`drop_book_update`).
            TypeError, IndexError, ValueError: for a bad *only* (see ``send_notice``).
        """
        if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        book_sub = _book_subscription(sub)
        sessions = self._select(only, endpoint)
        for session in sessions:
            session.protocol.book_faults(book_sub).snapshot_delays.append(float(seconds))
        self._notify()
        return len(sessions)

    def reset_book_sequence(self, inst_id: Subscription | str) -> None:
        """Make the next change of *inst_id*'s book a sequence reset, as after OKX maintenance:
        its ``seqId`` is smaller than its ``prevSeqId`` (which still links), on every
        connection and in the REST book. Takes an instrument id or a book subscription.

        Raises:
            ValueError: for an id the market cannot price (not an instrument id).
        """
        self._venue.data.feeds.feed(self._book_inst_id(inst_id)).book.reset_sequence()
        self._notify()

    def hold_books(self, *inst_ids: str) -> None:
        """Stop the depth of *inst_ids*' books changing (a quiet market), on every channel and
        connection: ``books`` then sends nothing but a keep-alive update after each 60 s
        without change (empty sides, ``prevSeqId == seqId``), as OKX does. Tickers and
        trades go on. :meth:`release_books` ends it.

        Raises:
            ValueError: for an id that is not an instrument id.
        """
        for inst_id in inst_ids:
            self._venue.data.feeds.feed(self._book_inst_id(inst_id)).book.held = True
        self._notify()

    def release_books(self, *inst_ids: str) -> None:
        """Undo :meth:`hold_books` for *inst_ids*. Raises as :meth:`hold_books`."""
        for inst_id in inst_ids:
            self._venue.data.feeds.feed(self._book_inst_id(inst_id)).book.held = False
        self._notify()

    def order_book(self, inst_id: str, depth: int = 400) -> dict[str, Any] | None:
        """The exchange's book of *inst_id* now, as REST ``GET /api/v5/market/books`` shows
        it (``{"asks", "bids", "ts", "seqId"}``, *depth* levels a side), without moving the
        market; None if nothing has read the book yet. For asserting a client's book.

        Raises:
            ValueError: for an id that is not an instrument id, or *depth* not in 1..400.
        """
        if not (isinstance(depth, int) and 1 <= depth <= BOOK_DEPTH):
            raise ValueError(f"depth must be an int in 1..{BOOK_DEPTH}, got {depth!r}")
        book = self._venue.data.feeds.feed(self._book_inst_id(inst_id)).book
        if not book.started:
            return None
        return {
            "asks": [list(row) for row in book.rows(False, depth)],
            "bids": [list(row) for row in book.rows(True, depth)],
            "ts": str(book.ts),
            "seqId": book.seq_id,
        }

    def book_checksum_at(self, inst_id: str, seq_id: int | None) -> int | None:
        """OKX's checksum of *inst_id*'s book (its best 25 levels a side) right after the
        change that made *seq_id*, from the exchange's log of recent changes; None if the
        log no longer holds it (or never did). For judging a client's book whenever it is,
        not only at the latest ``seqId``.
        """
        book = self._venue.data.feeds.feed(self._book_inst_id(inst_id)).book
        if seq_id is None or not book.started:
            return None
        if book.seq_id == seq_id:
            return book.checksum
        for step in reversed(book.steps):
            if step.seq_id == seq_id:
                return step.checksum
        return None

    @staticmethod
    def _book_inst_id(item: Subscription | str) -> str:
        if isinstance(item, Subscription):
            inst_id = item.inst_id
        elif ":" in item:
            inst_id = Subscription.parse(item).inst_id
        else:
            inst_id = Subscription("books", item).inst_id
        if inst_id is None:
            raise ValueError(f"{item!r} names no instrument")
        return inst_id
