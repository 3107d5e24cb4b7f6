"""The make-before-break handover of one connection's protocol (sans-IO): a successor holds
back what it receives until it is promoted, then hands on only what the old connection had
not delivered, books spliced by ``seqId`` (:mod:`okx_trio._book_splice`).

:class:`HandoverPart` sits between :class:`~okx_trio._protocol_core.ProtocolCore` and
:class:`~okx_trio._protocol.OkxProtocol`; one object, three modules.
"""

from __future__ import annotations

from ._book_keeper import BOOK_DEPTHS
from ._book_push import snapshot_update
from ._book_splice import SpliceKind, splice
from ._decoders import Record
from ._ordering import is_after
from ._protocol_core import ProtocolCore
from ._protocol_events import BookInvalid, Records
from ._subscription import Subscription

__all__ = ["HandoverPart"]


class HandoverPart(ProtocolCore):
    """The handover half of a connection's protocol; see the module docstring."""

    # -- handover ----------------------------------------------------------------------------

    def start_delivering(
        self,
        guard: dict[Subscription, tuple[int, ...]],
        last_books: dict[Subscription, Record] | None = None,
    ) -> list[Records | BookInvalid]:
        """Become the delivering connection (a handover); return what to hand on now.

        *guard* is, per subscription, the position of the last record the old connection
        delivered; nothing at or before it is delivered from this one. Books are spliced
        by ``seqId`` instead (:mod:`okx_trio._book_splice`), from *last_books*, the last
        record delivered per book subscription; where no splice is possible a
        :class:`BookInvalid` (``"handover"``) comes before the whole book as a snapshot.
        """
        self.delivering = True
        self.guard = guard
        last_books = last_books or {}
        held, self.undelivered = self.undelivered, {}
        out: list[Records | BookInvalid] = []
        for sub, records in held.items():
            if not self.book.wants(sub):
                continue  # dropped by the user while the new connection got ready
            if sub[0] in BOOK_DEPTHS:
                guard.pop(sub, None)
                out.extend(self._splice_book(sub, list(records), last_books.get(sub)))
                continue
            last = guard.get(sub)
            fresh = tuple(r for r in records if last is None or is_after(r, last))
            if fresh:
                guard.pop(sub, None)
                out.append(Records(sub, fresh))
        return out

    def _splice_book(
        self, sub: Subscription, held: list[Record], last: Record | None
    ) -> list[Records | BookInvalid]:
        book = self.books.book(sub)
        result = splice(held, last, book.seq_id if book is not None else None)
        if result.kind is SpliceKind.CONTINUE:
            return [Records(sub, result.records)] if result.records else []
        if result.kind is SpliceKind.WAIT:
            assert result.seq_id is not None
            self.book_guard[sub] = result.seq_id
            return []
        return self._book_restart(sub) if last is not None else self._book_start(sub)

    def _book_start(self, sub: Subscription) -> list[Records | BookInvalid]:
        book = self.books.book(sub)
        return [Records(sub, (snapshot_update(book),))] if book is not None else []

    def _book_restart(self, sub: Subscription) -> list[Records | BookInvalid]:
        gap = BookInvalid(sub, "handover", "the new connection's stream does not continue it", None)
        return [gap, *self._book_start(sub)]

