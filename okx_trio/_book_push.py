"""An incremental book push as the book engine wants it: OKX's original level strings.

The engine (:mod:`okx_trio._book`) keeps OKX's strings (the checksum is computed over them) and
parses each price once, so a push of ``books``, ``books-l2-tbt`` or ``books50-l2-tbt`` is read
into :class:`BookMessage`\\ s that still hold the levels as strings; the public
:class:`~okx_trio._book_records.BookUpdate` (``Decimal`` levels) is made only for a message the
engine applied (:meth:`BookMessage.record`), never for one ignored during a resync.

Two ways in, one result: the text of a push goes through msgspec (typed: every level is four
strings, or msgspec refuses and the plain decoder says why); anything else (a parsed object,
JSON numbers where OKX sends strings) goes through the plain decoder's ``BookUpdate`` and back
to strings, which is exact because that decoder accepts only numbers written in their plain
form (see :mod:`okx_trio._book_records`). Sans-IO.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

import msgspec

from . import _push_values as v
from ._book_levels import OrderBook
from ._book_records import BookAction, BookLevel, BookUpdate, pending_levels
from ._codec import DataPush, push_records

__all__ = ["BookMessage", "book_messages", "snapshot_update"]

Rows = Sequence[Sequence[str]]


class BookMessage(NamedTuple):
    """One entry of a book push's ``data``, levels as OKX's ``[price, size, "0", orders]``."""

    inst_id: str
    channel: str
    action: BookAction
    prev_seq_id: int | None
    seq_id: int | None
    ts: int
    bids: Rows
    asks: Rows
    checksum: int

    def checked_record(self) -> BookUpdate:
        """The public record of a message the book engine applied: the engine has checked
        its levels by the same rule (:func:`okx_trio._book_levels.level_error`), so they
        are taken as they are, built on first read."""
        return self._record(pending_levels(self.bids), pending_levels(self.asks))

    def record(self) -> BookUpdate:
        """The public record of this message: its levels checked in OKX's plain form now, and
        built into ``Decimal``\\ s only when a consumer reads them (:mod:`._book_records`), so
        a message nobody reads costs no ``Decimal``.

        Raises:
            PushError: for a level not in OKX's plain form.
        """
        return self._record(
            v.levels_from_texts(self.bids, "bids"), v.levels_from_texts(self.asks, "asks")
        )

    def _record(self, bids: tuple[BookLevel, ...], asks: tuple[BookLevel, ...]) -> BookUpdate:
        return BookUpdate(
            self.inst_id,
            self.channel,
            self.action,
            self.seq_id,
            self.prev_seq_id,
            self.ts,
            bids,
            asks,
            self.checksum,
        )


class _Arg(msgspec.Struct, gc=False):
    instId: str = ""


class _Entry(msgspec.Struct, gc=False):
    bids: list[tuple[str, str, str, str]]
    asks: list[tuple[str, str, str, str]]
    ts: str
    seqId: int | None = None
    prevSeqId: int | None = None
    checksum: int | None = None


class _Push(msgspec.Struct, gc=False):
    arg: _Arg
    data: list[_Entry]
    action: str | None = None


_DECODER: Final = msgspec.json.Decoder(_Push)


def book_messages(push: DataPush) -> list[BookMessage]:
    """The messages of one incremental book push, in order.

    Raises:
        okx_trio._push_values.PushError: naming what is wrong (action, ids, timestamp or a
            level), for a push that does not fit the channel.
    """
    if push.text is not None:
        try:
            decoded = _DECODER.decode(push.text)
        except (msgspec.MsgspecError, RecursionError):
            decoded = None
        if decoded is not None and decoded.arg.instId and decoded.data:
            fast = _from_struct(push.channel, decoded)
            if fast is not None:
                return fast
    # The careful way: the plain decoder names the culprit, or accepts what msgspec's
    # strict types did not (e.g. a parsed object handed in).
    return [_from_record(record) for record in push_records(push) if type(record) is BookUpdate]


def _from_struct(channel: str, push: _Push) -> list[BookMessage] | None:
    action = push.action
    if action != "snapshot" and action != "update":
        return None  # the plain decoder says what is wrong with it
    inst_id = push.arg.instId
    out: list[BookMessage] = []
    for entry in push.data:
        ts = entry.ts
        if not (ts.isascii() and ts.isdigit()):
            return None
        prev = entry.prevSeqId
        if prev is None and action == "snapshot":
            prev = -1
        out.append(
            BookMessage(
                inst_id,
                channel,
                "snapshot" if action == "snapshot" else "update",
                prev,
                entry.seqId,
                int(ts),
                entry.bids,
                entry.asks,
                entry.checksum or 0,
            )
        )
    return out


def _texts(levels: tuple[BookLevel, ...]) -> list[tuple[str, str, str, str]]:
    return [(level.price_text, level.size_text, "0", str(level.orders)) for level in levels]


def _from_record(record: BookUpdate) -> BookMessage:
    return BookMessage(
        record.inst_id,
        record.channel,
        record.action,
        record.prev_seq_id,
        record.seq_id,
        record.ts,
        _texts(record.bids),
        _texts(record.asks),
        record.checksum,
    )


def snapshot_update(book: OrderBook) -> BookUpdate:
    """A ``"snapshot"`` :class:`BookUpdate` holding the whole of *book* (after a REST seed,
    or for a consumer that fell behind): applying it gives exactly *book*."""
    return BookUpdate(
        book.inst_id, book.channel, "snapshot", book.seq_id, -1, book.ts, book.bids, book.asks, 0
    )
