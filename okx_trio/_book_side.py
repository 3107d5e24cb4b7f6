"""One side of an order book: the structure the engine merges OKX's levels into (sans-IO).

Three views of the same levels, kept in step by :class:`Side`:

* ``keys`` - the numeric keys, ascending, best last (a bid's key is its price, an ask's the
  negated price: most updates touch the top of the book, and an insert or delete near a
  list's end moves little);
* ``raws`` - the levels in the same order, each a :data:`Cell` (OKX's strings, see below),
  which is what an :class:`~okx_trio._book_levels.OrderBook` view holds;
* ``index`` - a dict from the price *as OKX wrote it* to its cell.

Why the index (measured, ``bench/book_micro.py``): OKX writes a price the same way every
time, so an update's level is nearly always found by its text, in one dict look-up, with no
``float()`` of the price and no binary search; a replaced size is then written into the cell
in place. Only a new price is placed by :func:`bisect.bisect_left`, and its text is parsed
only if no book has met it before (:data:`~okx_trio._book_levels.PRICE_KEYS`: a level
deleted is often back a moment later). Correctness does not rest on the texts: a price
written another way (``"100.0"`` for ``"100.00"``) misses the index, and the binary search
on the numeric key finds the level.

Checking and merging are two passes (:meth:`Side.merge_all`, :meth:`Side.merge_checked`).
The check is OKX's plain form, the rule the records' levels follow, so the client makes the
record of an update the engine applied without checking its levels again.

Both passes also exist in C (``_book_side_c.c``, built by ``setup.py`` where a compiler is
found; :data:`ACCELERATED` says whether it was): the check of every level is what made the
pure-Python loop slower than an unchecked dict (``bench/book_micro.py``), and in C it costs
a few nanoseconds a level. The Python methods are the specification; the tests hold the C
module to them, on random and on garbage input.

The key is a ``float``, not a ``Decimal``: exact for the prices accepted
(:func:`~okx_trio._book_levels.level_error`: at most 15 significant digits), and a bisect
over floats costs a fraction of one over Decimals.

Views share cells, so a cell a view may hold never changes: each cell carries the
``token`` of the side that made it, and the side takes a new token whenever it hands its
lists to a view (:meth:`Side.share`) or is copied. A cell is written in place only when it
carries the current token (made since the last view); otherwise it is replaced by a new
cell, and the side copies ``raws`` before its first change after a share.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any, Final

from ._book_levels import (
    ORDER_COUNTS,
    PRICE,
    PRICE_KEYS,
    PRICE_KEYS_MAX,
    BadLevel,
    Raw,
    level_error,
    parse_level,
    price_key,
)

# The C loop, or None: the one switch between the two loops (tests turn it off).
_merge_c: Callable[..., bool] | None
_quick_c: Callable[[object], bool] | None
try:
    from ._book_side_c import merge as _compiled_merge
    from ._book_side_c import quick as _compiled_quick
except ImportError:  # built without a C compiler: the pure-Python loop
    _merge_c = _quick_c = None
else:
    _merge_c, _quick_c = _compiled_merge, _compiled_quick

__all__ = ["ACCELERATED", "Cell", "PriceTwice", "Side", "snapshot_levels"]

#: Whether the C merge loop runs (see the module docstring).
ACCELERATED: Final = _merge_c is not None


def _key_of(px: str, sz: str, orders: str) -> float:
    """The key of a level's price text not seen before.

    Raises:
        BadLevel: for a price the engine refuses, with :func:`level_error`'s message.
    """
    key = price_key(px)
    if key is None:
        level = [px, sz, "0", orders]
        raise BadLevel(level_error(level) or f"level {level!r}: not a price the book takes")
    return key


def quick_ok(levels: Sequence[Any], _counts: frozenset[str] = ORDER_COUNTS) -> bool:
    """Whether every level passes the quick check (see :meth:`Side.merge_all`): then each
    is ``[price, size, "0", orders]`` strings in OKX's plain form, the price still to be
    checked as a number where its text is new.

    Raises:
        TypeError: if ``levels`` cannot be iterated.
    """
    quick_c = _quick_c
    if quick_c is not None and _merge_c is not None:
        return quick_c(levels)
    for level in levels:
        try:
            px, sz, _, orders = level
            if not (
                (type(level) is tuple or type(level) is list)
                and type(px) is str
                and (  # the quick test of _push_values.levels_from_texts too
                    sz == "0"
                    or (
                        sz.isascii()  # AttributeError for a non-string
                        and sz.replace(".", "", 1).isdigit()  # digits, at most one point
                        # 1-9 first, or "0.": no leading point or zero ("." < "0")
                        and (sz[0] > "0" or sz[1:2] == ".")
                        and sz[-1] != "."
                        and len(sz) <= 99
                    )
                )
                and orders in _counts  # TypeError for an unhashable one
            ):
                return False
        except (TypeError, ValueError, AttributeError):
            return False
    return True


class PriceTwice(ValueError):
    """A snapshot that names one price twice."""


def snapshot_levels(levels: Sequence[Any]) -> dict[float, Raw]:
    """One side of a snapshot (or a REST seed) as ``{price key: raw}`` for
    :meth:`Side.install`; a level of size 0 says nothing but still names its price.

    Levels that pass :func:`quick_ok` take the memo of price keys and one zero test each;
    any other side takes :func:`~okx_trio._book_levels.parse_level` level by level.

    Raises:
        BadLevel: for the first level :func:`~okx_trio._book_levels.level_error` refuses.
        PriceTwice: for a price named twice (however it is written).
    """
    merged: dict[float, Raw] = {}
    zeros: set[float] = set()
    if quick_ok(levels):
        known = PRICE_KEYS.get
        for px, sz, _, orders in levels:
            key = known(px)
            if key is None:
                key = _key_of(px, sz, orders)
            if key in merged or key in zeros:
                raise PriceTwice(f"price {px} twice")
            if sz == "0" or (sz[-1] == "0" and not sz.strip("0.")):
                zeros.add(key)
            else:
                merged[key] = [px, sz, orders, None]
        return merged
    for level in levels:
        key, size, raw = parse_level(level)
        if key in merged or key in zeros:
            raise PriceTwice(f"price {raw[PRICE]} twice")
        if size != 0:
            merged[key] = raw
        else:
            zeros.add(key)
    return merged


#: A level in a side: ``[price, size, orders, level, key, token]``: OKX's three strings, the
#: :class:`~okx_trio._book_levels.BookLevel` (None until first read; the ``LEVEL`` slot of
#: a :data:`~okx_trio._book_levels.Raw`), the numeric key and the owning side's token.
Cell = list[Any]
KEY: Final = 4
TOKEN: Final = 5


class Side:
    """One side of a book (``bids`` True for bids). Mutable; owned by the engine.

    ``shared`` says an :class:`~okx_trio._book_levels.OrderBook` holds ``raws``; the side
    copies the list before changing it.
    """

    __slots__ = ("bids", "index", "keys", "raws", "shared", "token")

    def __init__(self, bids: bool) -> None:
        self.bids = bids
        self.keys: list[float] = []
        self.raws: list[Cell] = []
        self.index: dict[str, Cell] = {}
        self.shared = False
        self.token = object()

    def clear(self) -> None:
        # New objects, never list.clear(): a view may hold the old ones.
        self.keys = []
        self.raws = []
        self.index = {}
        self.shared = False

    def share(self) -> list[Cell]:
        """``raws`` for a view: from now on neither the list nor its cells change."""
        self.shared = True
        self.token = object()
        return self.raws

    def unshare(self) -> None:
        if self.shared:
            self.raws = self.raws.copy()
            self.shared = False

    def merge_all(self, levels: Sequence[Any]) -> None:
        """OKX's merge rule for each of an update's levels, in order (see
        :meth:`merge_checked`), each level checked first.

        One pass (:func:`quick_ok`) checks the common shape
        (:func:`~okx_trio._book_levels.level_error`'s rule written out): ``[price, size,
        "0", orders]`` with the price a string (checked as a number where its text is new
        to the side), the size ``"0"`` or ASCII digits with at most one point, between
        digits, no leading zero, at most 99 characters (so OKX's plain form), orders a
        count of fewer than 1,000. Then :meth:`merge_checked` merges them. A level that
        does not pass (garbage, or a rarer valid one: a longer size, a larger count) makes
        every level take :func:`~okx_trio._book_levels.parse_level`, which refuses with a
        message or accepts.

        The levels are then known to be in OKX's plain form, as a record of them needs
        (:func:`~okx_trio._book_records.pending_levels`): the client checks an update once.

        With the C module, both passes are one call to it, with the same results.

        Raises:
            BadLevel: for the first level ``level_error`` refuses (the side is then partly
                merged; the engine drops the whole book).
        """
        merge_c = _merge_c
        if merge_c is not None:
            self.unshare()
            if merge_c(
                levels,
                self.keys,
                self.raws,
                self.index,
                self.token,
                not self.bids,
                PRICE_KEYS,
                _key_of,
            ):
                return
            self._merge_carefully(levels)
            return
        if quick_ok(levels):
            self.merge_checked(levels)
            return
        self._merge_carefully(levels)

    def _merge_carefully(self, levels: Sequence[Any]) -> None:
        """Every level through :func:`~okx_trio._book_levels.parse_level` (for an update
        with a level the quick check does not take)."""
        self.unshare()
        negate = not self.bids
        for level in levels:
            key, size, raw = parse_level(level)
            self._place(-key if negate else key, size == 0, raw)

    def merge_checked(self, levels: Sequence[Any]) -> None:
        """OKX's merge rule for each of an update's levels, in order: size 0 deletes the price
        (harmless if absent), another size replaces it, a new price is inserted in order.

        The engine's hot loop, for levels :meth:`merge_all` has checked (``[price, size,
        "0", orders]`` strings, the size in OKX's plain form). A size is zero exactly when
        it has no digit but ``0``. The price is checked here, when its
        text is new to the side (:func:`~okx_trio._book_levels.price_key`); a known text is
        found in the index.

        Raises:
            BadLevel: for a price the engine refuses (the side is then partly merged; the
                engine drops the whole book).
        """
        if self.shared:
            self.raws = self.raws.copy()
            self.shared = False
        keys = self.keys
        raws = self.raws
        index = self.index
        find = index.get
        known = PRICE_KEYS.get
        token = self.token
        negate = not self.bids
        # (Cell slots as literals, cheaper than globals here: PRICE 0, SIZE 1, ORDERS 2,
        # LEVEL 3, KEY 4, TOKEN 5.)
        for px, sz, _, orders in levels:
            zero = sz == "0" or (sz[-1] == "0" and not sz.strip("0."))
            cell = find(px)
            if cell is not None:  # the price, as written before: no parse
                if zero:
                    i = bisect_left(keys, cell[4])
                    del keys[i]
                    del raws[i]
                    del index[px]
                elif cell[5] is token:  # made since the last view: written in place
                    cell[1] = sz
                    cell[2] = orders
                    cell[3] = None
                else:  # a view may hold it: a new cell in its place
                    key = cell[4]
                    raws[bisect_left(keys, key)] = index[px] = [px, sz, orders, None, key, token]
                continue
            # A text not in the side: a new price, or one there written another way
            # ("100.0" for "100"); a zero for a price not there is harmless.
            key = known(px)
            if key is None:
                key = _key_of(px, sz, orders)
            if negate:
                key = -key
            i = bisect_left(keys, key)
            if i < len(keys) and keys[i] == key:
                del index[raws[i][0]]
                if zero:
                    del keys[i]
                    del raws[i]
                else:
                    raws[i] = index[px] = [px, sz, orders, None, key, token]
            elif not zero:
                keys.insert(i, key)
                raws.insert(i, cell := [px, sz, orders, None, key, token])
                index[px] = cell

    def _place(self, key: float, zero: bool, raw: Raw) -> None:
        """Merge one parsed level by its numeric key (a price not found by its text)."""
        keys = self.keys
        raws = self.raws
        index = self.index
        i = bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:  # the same price, written another way
            del index[raws[i][PRICE]]
            if zero:
                del keys[i]
                del raws[i]
                return
            raws[i] = index[raw[PRICE]] = [*raw, key, self.token]
        elif not zero:
            keys.insert(i, key)
            raws.insert(i, cell := [*raw, key, self.token])
            index[raw[PRICE]] = cell

    def install(self, levels: dict[float, Raw]) -> None:
        """Replace the side by these levels (a snapshot), keyed by price."""
        token = self.token
        sign = 1.0 if self.bids else -1.0
        self.keys = sorted(sign * price for price in levels)
        self.raws = [[*levels[sign * key], key, token] for key in self.keys]
        if len(PRICE_KEYS) + len(levels) <= PRICE_KEYS_MAX:  # the updates will name them
            for price, raw in levels.items():
                PRICE_KEYS[raw[PRICE]] = price
        self.index = {cell[PRICE]: cell for cell in self.raws}
        self.shared = False

    def best(self) -> float | None:
        keys = self.keys
        if not keys:
            return None
        return keys[-1] if self.bids else -keys[-1]

    def trim(self, depth: int) -> None:
        """Keep the best ``depth`` levels (call :meth:`unshare` first)."""
        extra = len(self.keys) - depth
        if extra <= 0:
            return
        index = self.index
        for cell in self.raws[:extra]:
            del index[cell[PRICE]]
        del self.keys[:extra]
        del self.raws[:extra]

    def copy(self) -> Side:
        """An independent side with the same levels (the cells are shared, so both sides
        take new tokens: neither writes into a cell the other holds)."""
        twin = Side(self.bids)
        twin.keys = self.keys.copy()
        twin.raws = self.raws.copy()
        twin.index = self.index.copy()
        self.token = object()
        return twin
