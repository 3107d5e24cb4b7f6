"""Order-book records: one price level, a whole-book snapshot, an incremental update.

Plain immutable values (sans-IO); :mod:`okx_trio._decoders` builds them from OKX's pushes.

OKX's original text stays reachable: the decoder accepts a level's price or size only when
``format(Decimal(text), "f") == text`` (OKX's plain decimal form: no exponent, sign ``+``,
leading zero or bare point), so :attr:`BookLevel.price_text` and :attr:`BookLevel.size_text`
give back exactly the strings OKX sent, as the CRC32 book checksum needs them (``"0.5000"``
stays ``"0.5000"``, ``"0.00000001"`` stays ``"0.00000001"``, which ``str()`` would render as
``"1E-8"``). ``tests/test_records.py`` checks this for every level of the recorded traffic.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, NamedTuple

import msgspec

__all__ = ["BookAction", "BookLevel", "BookSnapshot", "BookUpdate"]

BookAction = Literal["snapshot", "update"]


class BookLevel(NamedTuple):
    """One price level: ``price``, ``size`` (``Decimal``, exact) and ``orders`` (int).

    OKX sends ``[price, size, "0", orders]``; the third string is deprecated and dropped.
    In an update, ``size == 0`` deletes the level at ``price``.
    """

    price: Decimal
    size: Decimal
    orders: int

    @property
    def price_text(self) -> str:
        """The price exactly as OKX wrote it (for the book checksum)."""
        return format(self.price, "f")

    @property
    def size_text(self) -> str:
        """The size exactly as OKX wrote it (for the book checksum)."""
        return format(self.size, "f")


# gc=False although these hold tuples: the tuples hold only BookLevels of Decimals and ints,
# immutable all the way down, so no reference cycle can pass through them.
class BookSnapshot(msgspec.Struct, frozen=True, gc=False):
    """A whole (shallow) book from ``books5`` (5 levels) or ``bbo-tbt`` (best bid and ask).

    Fields: ``inst_id``; ``channel`` (``"books5"`` or ``"bbo-tbt"``); ``bids``/``asks``:
    tuples of :class:`BookLevel`, best first, as OKX sends them (bids descending, asks
    ascending); ``ts``: book generation time, ms since the epoch; ``seq_id``: OKX's sequence
    id of this book state (``None`` if the push carries none). Each one replaces the last.
    """

    inst_id: str
    channel: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    ts: int
    seq_id: int | None


class BookUpdate(msgspec.Struct, frozen=True, gc=False):
    """One message of an incremental book: ``books``, ``books-l2-tbt``, ``books50-l2-tbt``.

    Fields: ``inst_id``; ``channel``; ``action``: ``"snapshot"`` (the whole book: start
    over) or ``"update"`` (levels to merge: size 0 deletes, other sizes replace or insert);
    ``seq_id``/``prev_seq_id``: OKX's sequence ids; an update applies iff its
    ``prev_seq_id`` equals the previous message's ``seq_id`` (a keep-alive has
    ``prev_seq_id == seq_id`` and no levels; ``seq_id < prev_seq_id`` is a reset, still
    valid). ``prev_seq_id`` is -1 for a snapshot (as OKX sends it; -1 too if absent). With no
    ids in the push (OKX traffic before sequence ids, e.g. the 2022 recording) ``seq_id`` is
    ``None``, and so is an update's ``prev_seq_id``: only ``checksum`` can prove such a book.
    ``ts``: ms since the epoch; ``bids``/``asks``: tuples of
    :class:`BookLevel` in OKX's order; ``checksum``: OKX's signed CRC32 of the top 25 levels
    after applying this message, 0 when absent (always 0 since June 2026: do not verify).
    """

    inst_id: str
    channel: str
    action: BookAction
    seq_id: int | None
    prev_seq_id: int | None
    ts: int
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    checksum: int
