"""The levels of one order book: parsing OKX's level strings, the two sorted sides, the
immutable :class:`OrderBook` view and OKX's CRC32 checksum.

Sans-IO. :mod:`okx_trio._book` (the engine) owns the mutable sides; everything a reader sees
is an :class:`OrderBook`, which never changes after it is made.

Why the sides look the way they do (measured, see ``bench/book_micro.py``): a side is a dict
from a numeric key to the level's original strings plus a Python list of the keys kept sorted
with :mod:`bisect`. Reading the best ``n`` levels is then a slice of ``n`` keys and ``n`` dict
look-ups, O(n) and independent of the depth; an insert is a binary search plus a ``memmove``
of at most 400 pointers, which beats a balanced tree in CPython at these sizes.

The key is a ``float``, not a ``Decimal``: a bisect over floats costs a fraction of one over
Decimals, and it is exact for the prices it accepts. Two decimal strings with at most 15
significant digits convert to the same double only if they are the same number, and the
conversion is monotonic, so equality and order of the keys are those of the prices. A price
with more significant digits (OKX never sends one: tick sizes keep prices far shorter) is
refused as bad input rather than risk two prices sharing a key.
"""

from __future__ import annotations

import bisect
import math
import zlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Final, NamedTuple

__all__ = ["BookLevel", "OrderBook", "checksum_of", "parse_level"]

#: How many levels of each side OKX's checksum covers.
CHECKSUM_DEPTH: Final = 25
# A string of at most 15 characters holds at most 15 digits; longer ones get the exact count
# (leading and trailing zeros do not count).
_SHORT_PRICE: Final = 15
_MAX_DIGITS: Final = 15
# Doubles keep 15 digits only in their normal range; an exponent that leaves it is refused.
_MIN_MAGNITUDE: Final = 1e-100
_MAX_MAGNITUDE: Final = 1e100


class BookLevel(NamedTuple):
    """One price level: ``price`` and ``size`` as exact Decimals, ``orders`` at that price."""

    price: Decimal
    size: Decimal
    orders: int


class Raw:
    """A level as OKX sent it; ``level`` is its :class:`BookLevel`, made on first read.

    Views share these objects with the engine; only ``level`` is ever set after creation,
    and always to the same value, so sharing is safe.
    """

    __slots__ = ("level", "orders", "price", "size")

    def __init__(self, price: str, size: str, orders: str) -> None:
        self.price = price
        self.size = size
        self.orders = orders
        self.level: BookLevel | None = None

    def __repr__(self) -> str:
        return f"Raw({self.price!r}, {self.size!r}, {self.orders!r})"


class BadLevel(ValueError):
    """A level that is not ``[price, size, "0", orders]`` strings with sane values."""


def _significant_digits(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits
    return len(digits)


def parse_level(level: object) -> tuple[float, float, Raw]:
    """``(price key, size, raw)`` for one OKX level ``[price, size, "0", orders]``.

    Raises:
        BadLevel: naming the level, for a wrong arity, a value that is not a string, a
            price or size that is not a finite number, a negative size, an orders count
            that is not a non-negative integer, or a price too precise to key exactly.
    """
    if not isinstance(level, list | tuple) or len(level) != 4:
        raise BadLevel(f"level {level!r}: expected [price, size, '0', orders]")
    px, sz, _, orders = level
    if not (isinstance(px, str) and isinstance(sz, str) and isinstance(orders, str)):
        raise BadLevel(f"level {level!r}: price, size and orders must be strings")
    try:
        key = float(px)
        size = float(sz)
    except ValueError:
        raise BadLevel(f"level {level!r}: price and size must be numbers") from None
    if not (math.isfinite(key) and math.isfinite(size)):
        raise BadLevel(f"level {level!r}: price and size must be finite")
    if key != 0 and not _MIN_MAGNITUDE < abs(key) < _MAX_MAGNITUDE:
        raise BadLevel(f"level {level!r}: price out of range")
    if size < 0:
        raise BadLevel(f"level {level!r}: size must not be negative")
    if not (orders.isascii() and orders.isdigit()):
        raise BadLevel(f"level {level!r}: orders must be a non-negative integer")
    if len(px) > _SHORT_PRICE and _significant_digits(px) > _MAX_DIGITS:
        raise BadLevel(f"level {level!r}: price has more than {_MAX_DIGITS} significant digits")
    return key, size, Raw(px, sz, orders)


def make_level(raw: Raw) -> BookLevel:
    """The :class:`BookLevel` of a level :func:`parse_level` accepted (never raises)."""
    level = raw.level
    if level is None:
        level = raw.level = BookLevel(Decimal(raw.price), Decimal(raw.size), int(raw.orders))
    return level


class Side:
    """One side of a book: levels by key, and the keys ascending (bids read from the end).

    Mutable; owned by the engine. ``shared`` says an :class:`OrderBook` holds the current
    ``keys``/``levels`` objects, so the engine copies them before its next change.
    """

    __slots__ = ("bids", "keys", "levels", "shared")

    def __init__(self, bids: bool) -> None:
        self.bids = bids
        self.keys: list[float] = []
        self.levels: dict[float, Raw] = {}
        self.shared = False

    def clear(self) -> None:
        # New objects, never clear(): a view may hold the old ones.
        self.keys = []
        self.levels = {}
        self.shared = False

    def unshare(self) -> None:
        if self.shared:
            self.keys = self.keys.copy()
            self.levels = self.levels.copy()
            self.shared = False

    def merge(self, key: float, size: float, raw: Raw) -> None:
        """OKX's merge rule for one level (call :meth:`unshare` first)."""
        levels = self.levels
        if size == 0:
            if levels.pop(key, None) is not None:
                keys = self.keys
                del keys[bisect.bisect_left(keys, key)]
        else:
            if key not in levels:
                bisect.insort(self.keys, key)
            levels[key] = raw

    def best(self) -> float | None:
        keys = self.keys
        if not keys:
            return None
        return keys[-1] if self.bids else keys[0]

    def trim(self, depth: int) -> None:
        """Keep the best ``depth`` levels (call :meth:`unshare` first)."""
        keys = self.keys
        extra = len(keys) - depth
        if extra <= 0:
            return
        levels = self.levels
        dropped = keys[:extra] if self.bids else keys[depth:]
        for key in dropped:
            del levels[key]
        if self.bids:
            del keys[:extra]
        else:
            del keys[depth:]

    def top_raw(self, n: int) -> list[Raw]:
        keys = self.keys
        levels = self.levels
        best = keys[: -n - 1 : -1] if self.bids else keys[:n]
        return [levels[key] for key in best]


def checksum_of(bids: Sequence[Raw], asks: Sequence[Raw]) -> int:
    """OKX's checksum: CRC32 as a signed 32-bit integer over the best 25 levels of each side,
    interleaved ``bidPx:bidSz:askPx:askSz:...`` in OKX's original strings (a side with fewer
    levels simply runs out)."""
    parts: list[str] = []
    for i in range(CHECKSUM_DEPTH):
        if i < len(bids):
            parts.append(bids[i].price)
            parts.append(bids[i].size)
        if i < len(asks):
            parts.append(asks[i].price)
            parts.append(asks[i].size)
    crc = zlib.crc32(":".join(parts).encode())
    return crc - 0x1_0000_0000 if crc >= 0x8000_0000 else crc


class OrderBook:
    """An immutable, consistent view of one book at one ``seq_id``.

    ``bids`` and ``asks`` are tuples of :class:`BookLevel`, best first (bids descending, asks
    ascending), with exact Decimals parsed from OKX's strings. A view never changes: the
    engine copies its structures before it changes them after handing a view out, so a
    reader holding a view sees one book however many updates arrive meanwhile. The best
    ``n`` levels (:meth:`depth`, :attr:`best_bid`, ...) cost O(n), not O(depth); the full
    ``bids``/``asks`` tuples are built on first use.

    ``seq_id`` is OKX's ``seqId`` of the last message applied, or None for a recording made
    before OKX sent one; ``ts`` is OKX's book time of that message, in Unix milliseconds.
    """

    __slots__ = ("_asks", "_bids", "channel", "inst_id", "seq_id", "ts")

    def __init__(
        self, inst_id: str, channel: str, seq_id: int | None, ts: int, bids: Side, asks: Side
    ) -> None:
        self.inst_id = inst_id
        self.channel = channel
        self.seq_id = seq_id
        self.ts = ts
        # Sides detached from the engine: the objects are the engine's own until it next
        # changes them, at which point it copies (Side.shared).
        self._bids = Side(True)
        self._bids.keys, self._bids.levels = bids.keys, bids.levels
        self._asks = Side(False)
        self._asks.keys, self._asks.levels = asks.keys, asks.levels

    def _levels(self, side: Side, n: int | None) -> tuple[BookLevel, ...]:
        count = len(side.keys) if n is None else max(n, 0)
        return tuple([make_level(raw) for raw in side.top_raw(count)])

    @property
    def bids(self) -> tuple[BookLevel, ...]:
        """Every bid level, best (highest price) first."""
        return self._levels(self._bids, None)

    @property
    def asks(self) -> tuple[BookLevel, ...]:
        """Every ask level, best (lowest price) first."""
        return self._levels(self._asks, None)

    def depth(self, n: int) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
        """``(bids, asks)``: the best ``n`` levels of each side (fewer if the side is shorter)."""
        return self._levels(self._bids, n), self._levels(self._asks, n)

    @property
    def best_bid(self) -> BookLevel | None:
        """The highest bid, or None if there are no bids."""
        top = self._levels(self._bids, 1)
        return top[0] if top else None

    @property
    def best_ask(self) -> BookLevel | None:
        """The lowest ask, or None if there are no asks."""
        top = self._levels(self._asks, 1)
        return top[0] if top else None

    @property
    def spread(self) -> Decimal | None:
        """``best_ask.price - best_bid.price``, or None if a side is empty."""
        bid, ask = self.best_bid, self.best_ask
        if bid is None or ask is None:
            return None
        return ask.price - bid.price

    @property
    def mid(self) -> Decimal | None:
        """``(best_bid.price + best_ask.price) / 2``, or None if a side is empty."""
        bid, ask = self.best_bid, self.best_ask
        if bid is None or ask is None:
            return None
        return (bid.price + ask.price) / 2

    def accepts(self, prev_seq_id: int) -> bool:
        """Whether an update with this ``prevSeqId`` follows this book (OKX's identity rule)."""
        return self.seq_id is not None and prev_seq_id == self.seq_id

    def raw_depth(self, n: int) -> tuple[list[Raw], list[Raw]]:
        """The best ``n`` levels of each side as OKX's original strings (price, size, orders)."""
        return self._bids.top_raw(max(n, 0)), self._asks.top_raw(max(n, 0))

    def checksum(self) -> int:
        """OKX's checksum of this book (:func:`checksum_of` over its best 25 levels)."""
        return checksum_of(*self.raw_depth(CHECKSUM_DEPTH))

    def snapshot(self, n: int | None = None) -> OrderBook:
        """An independent copy holding the best ``n`` levels of each side (all if None)."""
        copies = []
        for side in (self._bids, self._asks):
            copy = Side(side.bids)
            keys = side.keys
            count = len(keys) if n is None else min(max(n, 0), len(keys))
            # Bids are ascending too: their best levels are the last ones.
            copy.keys = keys[len(keys) - count :] if side.bids else keys[:count]
            copy.levels = {key: side.levels[key] for key in copy.keys}
            copies.append(copy)
        return OrderBook(self.inst_id, self.channel, self.seq_id, self.ts, *copies)

    def __len__(self) -> int:
        """The number of levels on both sides."""
        return len(self._bids.keys) + len(self._asks.keys)

    def __repr__(self) -> str:
        bid, ask = self.best_bid, self.best_ask
        return (
            f"OrderBook({self.channel}:{self.inst_id} seq_id={self.seq_id} ts={self.ts} "
            f"bids={len(self._bids.keys)} asks={len(self._asks.keys)} "
            f"best_bid={bid.price if bid else None} best_ask={ask.price if ask else None})"
        )
