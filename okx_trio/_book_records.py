r"""Order-book records: one price level, a whole-book snapshot, an incremental update.

Plain immutable values (sans-IO); :mod:`okx_trio._decoders` builds them from OKX's pushes.

OKX's original text stays reachable: the decoder accepts a level's price or size only when
``format(Decimal(text), "f") == text`` (OKX's plain decimal form: no exponent, sign ``+``,
leading zero or bare point), so :attr:`BookLevel.price_text` and :attr:`BookLevel.size_text`
give back exactly the strings OKX sent, as the CRC32 book checksum needs them (``"0.5000"``
stays ``"0.5000"``, ``"0.00000001"`` stays ``"0.00000001"``, which ``str()`` would render as
``"1E-8"``). ``tests/test_records.py`` checks this for every level of the recorded traffic.

Lazy levels. A decoded :class:`BookUpdate` or :class:`BookSnapshot` keeps OKX's rows, already
checked, and builds its ``bids``/``asks`` tuple of :class:`BookLevel` (two ``Decimal``\ s and
an ``int`` per level) the first time it is read; the tuple is then cached in the record, so
every later read returns the very same object. A consumer that only counts updates, or reads
``client.book()`` instead, pays for no ``Decimal``; one that reads ``bids`` pays once. Nothing
can fail at that read: the decoder refused every bad level when the push came in. What a
user sees is unchanged: ``bids``/``asks`` are ``tuple[BookLevel, ...]``; the constructor
takes BookLevel tuples, positionally or by keyword; two records are equal iff their fields
are (levels compared as ``Decimal``\ s, whether built lazily or given), with a hash to match;
``repr``, ``msgspec.structs.replace``, ``copy``, ``pickle`` and ``match`` see the levels. Only
msgspec's own readers of a Struct's raw slots (``msgspec.json.encode``,
``msgspec.structs.asdict``/``astuple``) see OKX's rows ``[price, size, "0", orders]`` of a
record whose side has not been read yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final, Literal, NamedTuple, cast

import msgspec

__all__ = ["BookAction", "BookLevel", "BookSnapshot", "BookUpdate", "pending_levels"]

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


class _Rows(tuple[Any, ...]):
    """A side's levels not built yet: OKX's checked ``[price, size, "0", orders]`` rows.

    Only ever in a record's ``bids``/``asks`` slot, never handed out by the records' own
    attributes (a read swaps it for the built tuple). A tuple, so that it is immutable and
    pickles; a type of its own, so that a user's tuple of BookLevels is never taken for it.
    """

    __slots__ = ()


def pending_levels(rows: Sequence[Sequence[str]]) -> tuple[BookLevel, ...]:
    r"""A stand-in for the levels of *rows*, to construct a record with: the record builds
    the :class:`BookLevel`\ s when the side is first read.

    *rows* must already be checked (each four strings, price and size in OKX's plain form,
    orders ASCII digits: :func:`okx_trio._push_values.levels_from_texts`); nothing is checked here,
    and a bad row would fail at the read. Each row is kept as it is (it must not change
    afterwards: tuples, or lists nobody else holds).
    """
    if not rows:
        return ()
    return cast("tuple[BookLevel, ...]", _Rows(rows))


class _Memo(dict[str, Any]):
    """Texts already checked to their values, built on a miss (``__missing__``: the hit is
    one C-level subscript in the build's comprehension). Emptied when full, so it stays
    small; the values are immutable, so records may share them."""

    __slots__ = ("limit", "make")

    def __init__(self, make: Any, limit: int) -> None:
        super().__init__()
        self.make = make
        self.limit = limit

    def __missing__(self, text: str) -> Any:
        if len(self) >= self.limit:
            self.clear()
        value = self[text] = self.make(text)
        return value


# Prices and sizes recur from record to record (a book's levels, "0" for a deletion).
_DECIMALS: Final = _Memo(Decimal, 20_000)
_COUNTS: Final = _Memo(int, 1_000)


def _built(
    rows: _Rows,
    _level: type[BookLevel] = BookLevel,
    _new: Any = tuple.__new__,  # a NamedTuple's own __new__ is Python: twice the cost
    _decimals: _Memo = _DECIMALS,
    _counts: _Memo = _COUNTS,
) -> tuple[BookLevel, ...]:
    """The BookLevels of checked *rows* (never raises for rows :func:`pending_levels`
    was allowed to take)."""
    return tuple(
        [
            _new(_level, (_decimals[price], _decimals[size], _counts[orders]))
            for price, size, _, orders in rows
        ]
    )


# gc=False although these hold tuples: the tuples hold only BookLevels of Decimals and ints
# (or OKX's rows: tuples of strings), immutable all the way down, so no reference cycle can
# pass through them.
class BookSnapshot(msgspec.Struct, frozen=True, gc=False):
    """A whole (shallow) book from ``books5`` (5 levels) or ``bbo-tbt`` (best bid and ask).

    Fields: ``inst_id``; ``channel`` (``"books5"`` or ``"bbo-tbt"``); ``bids``/``asks``:
    tuples of :class:`BookLevel`, best first, as OKX sends them (bids descending, asks
    ascending); ``ts``: book generation time, ms since the epoch; ``seq_id``: OKX's sequence
    id of this book state (``None`` if the push carries none). Each one replaces the last.
    A decoded one builds ``bids``/``asks`` on first read (see the module docstring).
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
    A decoded one builds ``bids``/``asks`` on first read (see the module docstring).
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


# -- lazy sides ----------------------------------------------------------------------------
#
# msgspec stores a field in a slot that its C code (``__init__``, ``replace``, ``__copy__``,
# ``__reduce__``) reaches by offset, and exposes it through a member descriptor on the class.
# Replacing that descriptor by a property keeps the field (its name, its place in the
# constructor, ``__struct_fields__``, ``__match_args__``) and puts the build-and-cache step in
# front of every attribute read. Equality, hash and repr are the records' own (below), since
# msgspec's would compare OKX's rows with BookLevels.


def _lazy_side(cls: type[Any], name: str) -> None:
    slot = cls.__dict__[name]  # msgspec's member descriptor: the raw slot
    get = slot.__get__
    put = slot.__set__  # bypasses the frozen check, which is msgspec's __setattr__

    def read(self: Any) -> tuple[BookLevel, ...]:
        value = get(self, cls)
        if type(value) is _Rows:
            value = _built(value)
            put(self, value)  # the cache: the same tuple from now on
        return cast("tuple[BookLevel, ...]", value)

    read.__name__ = name
    read.__doc__ = f"The {name}, built from OKX's rows on first read and cached."
    setattr(cls, name, property(read))


def _values(record: Any) -> tuple[Any, ...]:
    return tuple([getattr(record, name) for name in record.__struct_fields__])


def _eq(self: Any, other: object) -> Any:
    if type(other) is not type(self):
        return NotImplemented
    return self is other or _values(self) == _values(other)


def _ne(self: Any, other: object) -> Any:
    equal = _eq(self, other)
    return equal if equal is NotImplemented else not equal


def _hash(self: Any) -> int:
    return hash(_values(self))


def _repr(self: Any) -> str:
    fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__struct_fields__)
    return f"{type(self).__name__}({fields})"


def _rich_repr(self: Any) -> list[tuple[str, Any]]:
    return [(name, getattr(self, name)) for name in self.__struct_fields__]


for _cls in (BookSnapshot, BookUpdate):
    _lazy_side(_cls, "bids")
    _lazy_side(_cls, "asks")
    _cls.__eq__ = _eq  # type: ignore[method-assign]
    _cls.__ne__ = _ne  # type: ignore[method-assign]
    _cls.__hash__ = _hash  # type: ignore[method-assign]
    _cls.__repr__ = _repr  # type: ignore[method-assign]
    _cls.__rich_repr__ = _rich_repr  # type: ignore[method-assign]
del _cls
