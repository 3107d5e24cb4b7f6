"""The levels of one order book: parsing OKX's level strings, the immutable
:class:`OrderBook` view and OKX's CRC32 checksum.

Sans-IO. :mod:`okx_trio._book` (the engine) owns the mutable sides
(:mod:`okx_trio._book_side`); everything a reader sees is an :class:`OrderBook`, which never
changes after it is made. Reading the best ``n`` levels of a view is a slice of ``n`` of the
side's sorted levels, O(n) and independent of the depth.

A price's numeric key is a ``float``, not a ``Decimal``: a bisect over floats costs a
fraction of one over Decimals, and it is exact for the prices accepted. Two decimal strings
with at most 15 significant digits convert to the same double only if they are the same
number, and the conversion is monotonic, so equality and order of the keys are those of the
prices. A price with more significant digits (OKX never sends one: tick sizes keep prices
far shorter) is refused as bad input rather than risk two prices sharing a key.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

# One level type for the whole library: the records the codec makes and the books the engine
# keeps hand consumers the same BookLevel.
from ._book_records import BookLevel

__all__ = ["BookLevel", "OrderBook", "checksum_of", "parse_level", "price_key"]

#: How many levels of each side OKX's checksum covers.
CHECKSUM_DEPTH: Final = 25
# A string of at most 15 characters holds at most 15 digits; longer ones get the exact count
# (leading and trailing zeros do not count).
_SHORT_PRICE: Final = 15
_MAX_DIGITS: Final = 15
#: A level's price or size: OKX's plain decimal form without a sign (a book holds no
#: negative price or size), at most 99 digits each side of the point (so a double keeps its
#: 15 digits, and any consumer's ``float()`` of it is finite). ``[0-9]``, not ``\d``, which
#: matches every Unicode digit.
LEVEL_NUMBER: Final = re.compile(r"(?:0|[1-9][0-9]{0,98})(?:\.[0-9]{1,99})?")
PLAIN_FORM: Final = "a decimal number >= 0 in OKX's plain form (at most 99 digits each side)"
#: An order count: ASCII digits, fewer than 100 of them.
ORDER_COUNT: Final = re.compile(r"[0-9]{1,99}")
#: The counts nearly every level has, checked by one set look-up.
ORDER_COUNTS: Final = frozenset(str(n) for n in range(1000))


#: A level as OKX sent it, ``[price, size, orders, level]``: three strings and the
#: :class:`BookLevel`, None until first read. A list rather than an object because the
#: engine makes one per level it applies (measured: a slotted class costs several times
#: more). Views share these lists with the engine; only ``level`` is ever set after
#: creation, and always to the same value, so sharing is safe.
Raw = list[Any]
PRICE: Final = 0
SIZE: Final = 1
ORDERS: Final = 2
LEVEL: Final = 3


class BadLevel(ValueError):
    """A level that is not ``[price, size, "0", orders]`` strings with sane values."""


def _significant_digits(text: str) -> int:
    return len(Decimal(text).normalize().as_tuple().digits)


def level_error(level: object) -> str | None:
    """What is wrong with one OKX level ``[price, size, "0", orders]``, or None.

    Price and size must be decimal numbers in OKX's plain form (:data:`LEVEL_NUMBER`: no
    sign, no exponent, at most 99 digits each side of the point; what a record's level
    needs, whose text must come back exactly), the price above 0 with at most 15
    significant digits (so that its float key is exact), orders ASCII digits
    (:data:`ORDER_COUNT`); all three strings.
    """
    if not isinstance(level, list | tuple) or len(level) != 4:
        return f"level {level!r}: expected [price, size, '0', orders]"
    px, sz, _, orders = level
    if not (isinstance(px, str) and isinstance(sz, str) and isinstance(orders, str)):
        return f"level {level!r}: price, size and orders must be strings"
    if LEVEL_NUMBER.fullmatch(px) is None:
        return f"level {level!r}: price must be {PLAIN_FORM}"
    if LEVEL_NUMBER.fullmatch(sz) is None:
        return f"level {level!r}: size must be {PLAIN_FORM}"
    if ORDER_COUNT.fullmatch(orders) is None:
        return f"level {level!r}: orders must be a non-negative integer in ASCII digits"
    if not float(px) > 0:
        return f"level {level!r}: price must be positive"
    if len(px) > _SHORT_PRICE and _significant_digits(px) > _MAX_DIGITS:
        return f"level {level!r}: price has more than {_MAX_DIGITS} significant digits"
    return None


# Prices recur (a level deleted now is often back a moment later, at the touch or at the
# 400th level): a memo of keys already computed spares the float() and the checks of
# :func:`price_key`. Shared by every book (a text's key does not depend on the instrument),
# emptied when full, so it stays small (about 1 MB at most).
PRICE_KEYS: Final[dict[str, float]] = {}
PRICE_KEYS_MAX: Final = 10_000


def price_key(px: str) -> float | None:
    """The numeric key of the price text *px*, or None if the engine refuses it as a price
    (see :func:`level_error`). Accepted texts are remembered (``PRICE_KEYS``); callers look
    there first."""
    if type(px) is not str or LEVEL_NUMBER.fullmatch(px) is None:
        return None
    key = float(px)
    if not key > 0 or (len(px) > _SHORT_PRICE and _significant_digits(px) > _MAX_DIGITS):
        return None
    if len(PRICE_KEYS) >= PRICE_KEYS_MAX:
        PRICE_KEYS.clear()
    PRICE_KEYS[px] = key
    return key


def parse_level(level: object) -> tuple[float, float, Raw]:
    """``(price key, size, raw)`` for one OKX level; the engine's hot loop inlines this.

    Raises:
        BadLevel: with :func:`level_error`'s message.
    """
    error = level_error(level)
    if error is not None:
        raise BadLevel(error)
    assert isinstance(level, list | tuple)
    px, sz, orders = level[0], level[1], level[3]
    return float(px), float(sz), [px, sz, orders, None]


def make_level(raw: Raw) -> BookLevel:
    """The :class:`BookLevel` of a level :func:`parse_level` accepted (never raises)."""
    level: BookLevel | None = raw[LEVEL]
    if level is None:
        level = raw[LEVEL] = BookLevel(Decimal(raw[PRICE]), Decimal(raw[SIZE]), int(raw[ORDERS]))
    return level


def top_levels(raws: list[Raw], n: int) -> list[Raw]:
    """The best ``n`` (>= 0) of a side's ``raws`` (best last), best first."""
    return raws[: -n - 1 : -1]


def checksum_of(bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]]) -> int:
    """OKX's checksum: CRC32 as a signed 32-bit integer over the best 25 levels of each side,
    interleaved ``bidPx:bidSz:askPx:askSz:...`` in OKX's original strings (a side with fewer
    levels simply runs out). Levels are sequences starting with the price and size strings
    (OKX's ``[price, size, "0", orders]`` or a :data:`Raw`)."""
    parts: list[str] = []
    for i in range(CHECKSUM_DEPTH):
        if i < len(bids):
            parts.append(bids[i][0])
            parts.append(bids[i][1])
        if i < len(asks):
            parts.append(asks[i][0])
            parts.append(asks[i][1])
    crc = zlib.crc32(":".join(parts).encode())
    return crc - 0x1_0000_0000 if crc >= 0x8000_0000 else crc


class OrderBook:
    """An immutable, consistent view of one book at one ``seq_id``.

    ``bids`` and ``asks`` are tuples of :class:`BookLevel`, best first (bids descending, asks
    ascending), with exact Decimals parsed from OKX's strings. A view never changes: the
    engine copies a side's list before it changes it after handing a view out, so a reader
    holding a view sees one book however many updates arrive meanwhile. The best ``n``
    levels (:meth:`depth`, :attr:`best_bid`, ...) cost O(n), not O(depth); the full
    ``bids``/``asks`` tuples cost O(depth).

    ``seq_id`` is OKX's ``seqId`` of the last message applied, or None for a recording made
    before OKX sent one; ``ts`` is OKX's book time of that message, in Unix milliseconds.
    Made by the engine (:meth:`~okx_trio._book.BookEngine.book`), not by users.
    """

    __slots__ = ("_asks", "_bids", "channel", "inst_id", "seq_id", "ts")

    def __init__(
        self,
        inst_id: str,
        channel: str,
        seq_id: int | None,
        ts: int,
        bids: list[Raw],
        asks: list[Raw],
    ) -> None:
        self.inst_id = inst_id
        self.channel = channel
        self.seq_id = seq_id
        self.ts = ts
        # Both ascending, as in the engine's sides (which may still hold these very lists).
        self._bids = bids
        self._asks = asks

    def _top(self, bids: bool, n: int | None) -> list[Raw]:
        raws = self._bids if bids else self._asks
        return top_levels(raws, len(raws) if n is None else max(n, 0))

    @property
    def bids(self) -> tuple[BookLevel, ...]:
        """Every bid level, best (highest price) first."""
        return tuple([make_level(raw) for raw in self._top(True, None)])

    @property
    def asks(self) -> tuple[BookLevel, ...]:
        """Every ask level, best (lowest price) first."""
        return tuple([make_level(raw) for raw in self._top(False, None)])

    def depth(self, n: int) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
        """``(bids, asks)``: the best ``n`` levels of each side (fewer if the side is shorter)."""
        return (
            tuple([make_level(raw) for raw in self._top(True, n)]),
            tuple([make_level(raw) for raw in self._top(False, n)]),
        )

    @property
    def best_bid(self) -> BookLevel | None:
        """The highest bid, or None if there are no bids."""
        return make_level(self._bids[-1]) if self._bids else None

    @property
    def best_ask(self) -> BookLevel | None:
        """The lowest ask, or None if there are no asks."""
        return make_level(self._asks[-1]) if self._asks else None

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

    def raw_depth(self, n: int) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
        """The best ``n`` levels of each side as OKX's original ``(price, size, orders)``."""
        return (
            [(r[PRICE], r[SIZE], r[ORDERS]) for r in self._top(True, n)],
            [(r[PRICE], r[SIZE], r[ORDERS]) for r in self._top(False, n)],
        )

    def checksum(self) -> int:
        """OKX's checksum of this book (:func:`checksum_of` over its best 25 levels)."""
        return checksum_of(self._top(True, CHECKSUM_DEPTH), self._top(False, CHECKSUM_DEPTH))

    def snapshot(self, n: int | None = None) -> OrderBook:
        """An independent copy holding the best ``n`` levels of each side (all if None)."""
        bids, asks = self._bids, self._asks
        nb = len(bids) if n is None else min(max(n, 0), len(bids))
        na = len(asks) if n is None else min(max(n, 0), len(asks))
        # The best levels are the last ones.
        return OrderBook(
            self.inst_id,
            self.channel,
            self.seq_id,
            self.ts,
            bids[len(bids) - nb :],
            asks[len(asks) - na :],
        )

    def __len__(self) -> int:
        """The number of levels on both sides."""
        return len(self._bids) + len(self._asks)

    def __repr__(self) -> str:
        bid, ask = self.best_bid, self.best_ask
        return (
            f"OrderBook({self.channel}:{self.inst_id} seq_id={self.seq_id} ts={self.ts} "
            f"bids={len(self._bids)} asks={len(self._asks)} "
            f"best_bid={bid.price if bid else None} best_ask={ask.price if ask else None})"
        )
