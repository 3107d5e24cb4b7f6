"""One instrument's 400-level order book as OKX keeps it: the shared state every connection's
``books`` stream is cut from (no Trio, no clock: times come in as ``ts`` in ms).

The book moves with the ticker market (its best levels are the ticker's bid and ask) and its
depth is realistic: levels are a random number of ticks apart, sizes are log-normal, and a few
resting orders come and go near the top on every step. Every change is a :class:`BookStep`
kept in a short log, with OKX's ``prevSeqId``/``seqId`` (irregular steps), so every connection
sends the same seqIds for an instrument whatever its push phase (OKX guarantees this, and a
client splices books across connections by it). A book that does not change for
:data:`KEEPALIVE_MS` gets a keep-alive step (empty sides, ``prevSeqId == seqId``), and
:meth:`BookModel.reset_sequence` makes the next step a reset (``seqId`` smaller, still linked).
"""

from __future__ import annotations

import itertools
import random
import zlib
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ._market import format_decimal

__all__ = [
    "BOOK_DEPTH",
    "KEEPALIVE_MS",
    "STEPS_KEPT",
    "BookModel",
    "BookStep",
    "Row",
    "okx_checksum",
]

#: Levels per side of OKX's ``books`` channel (and of the REST book at ``sz=400``).
BOOK_DEPTH: Final = 400
#: OKX sends a keep-alive update after about 60 s without a change of depth.
KEEPALIVE_MS: Final = 60_000
#: Steps kept for connections that push later than the book moved (several per push when
#: connections push at different phases); one further behind gets a new snapshot.
STEPS_KEPT: Final = 1024
_CHECKSUM_DEPTH: Final = 25
# Gaps between neighbouring levels, in ticks, and how often each occurs: mostly close,
# sometimes far apart, as on a real book.
_GAPS: Final = (1, 2, 3, 4, 5, 8, 13)
_GAP_WEIGHTS: Final = (40, 20, 12, 9, 7, 7, 5)
# Levels near the top that new orders keep no further apart than the largest gap.
_TOP: Final = 30

Row = tuple[str, str, str, str]
"""OKX's level: ``(price, size, "0", orders)``; size ``"0"`` deletes the price."""
_Side = dict[int, Row]
_Seen = dict[int, Row | None]  # a step's touched levels: what each was before it
_ORDERS: Final = tuple(str(n) for n in range(1, 21))
_GAP_TABLE: Final = tuple(g for g, w in zip(_GAPS, _GAP_WEIGHTS, strict=True) for _ in range(w))
# Price and size texts cached per instrument, at most this many (then made afresh).
_TEXTS_KEPT: Final = 20_000


def okx_checksum(bids: list[Row], asks: list[Row]) -> int:
    """OKX's book checksum over *bids* and *asks* (best first): CRC32 as a signed 32-bit int of
    the first 25 levels of each side interleaved ``bidPx:bidSz:askPx:askSz``; a shorter side
    simply runs out. Written apart from the client's on purpose, to check it."""
    parts: list[str] = []
    for i in range(_CHECKSUM_DEPTH):
        for side in (bids, asks):
            if i < len(side):
                parts += side[i][:2]
    crc = zlib.crc32(":".join(parts).encode())
    return crc - 2**32 if crc >= 2**31 else crc


@dataclass(frozen=True, slots=True)
class BookStep:
    """One change of the book as an OKX ``update`` carries it.

    ``n`` numbers the steps of this book (1, 2, ...); ``checksum`` is OKX's checksum of the
    book after the step; ``best_ask`` its best ask price (what a crossing bid must reach).
    """

    n: int
    prev_seq_id: int
    seq_id: int
    ts: int
    bids: tuple[Row, ...]
    asks: tuple[Row, ...]
    checksum: int
    best_ask: str | None

    @property
    def keep_alive(self) -> bool:
        return not self.bids and not self.asks and self.prev_seq_id == self.seq_id


class BookModel:
    """The book of one instrument (see the module docstring); :meth:`start` it first."""

    def __init__(self, tick: Decimal, lot: Decimal, rng: random.Random) -> None:
        self.tick = tick
        self.lot = lot
        self._rng = rng
        # price ticks -> the level as OKX writes it (texts made once per level)
        self.bids: _Side = {}
        self.asks: _Side = {}
        self.seq_id = rng.randrange(1_000, 1_000_000)
        self.ts = 0
        self.n = 0
        self.started = False
        self.checksum = 0
        self.steps: deque[BookStep] = deque(maxlen=STEPS_KEPT)
        #: While held the depth does not change (a quiet market): only keep-alives come.
        self.held = False
        self._reset = False
        self._prices: dict[int, str] = {}
        self._sizes: dict[int, str] = {}
        # Resting orders are sized like the best levels (in lots): a spot lot of 1e-8 BTC
        # times a small number would make a book of dust.
        self._typical_lots = 20

    # -- reading ----------------------------------------------------------------------------

    def rows(self, bids: bool, depth: int = BOOK_DEPTH) -> list[Row]:
        """The best *depth* levels of one side, best first."""
        side = self.bids if bids else self.asks
        # sorted() runs in C: faster than heapq's Python loop for a side of 400.
        return [side[t] for t in sorted(side, reverse=bids)[:depth]]

    def steps_after(self, n: int) -> list[BookStep] | None:
        """The steps after step *n*, oldest first; None if the log no longer holds them all."""
        if n >= self.n:
            return []
        steps = self.steps
        if not steps or steps[0].n > n + 1:
            return None
        return [step for step in steps if step.n > n]

    # -- moving -----------------------------------------------------------------------------

    def start(self, bid: int, ask: int, bid_sz: Decimal, ask_sz: Decimal, ts: int) -> None:
        """Build the full book around best bid and ask (in ticks) at *ts*."""
        self._typical_lots = max(1, int(max(bid_sz, ask_sz) / self.lot))
        for side, best, sign, size in ((self.bids, bid, -1, bid_sz), (self.asks, ask, 1, ask_sz)):
            side[best] = self._best_level(best, size, None)
            self._fill(side, sign, {})
        self.ts = ts
        self.started = True
        self.checksum = self._checksum()

    def reset_sequence(self) -> None:
        """Make the next step a sequence reset (OKX after maintenance)."""
        self._reset = True

    def move(self, bid: int, ask: int, bid_sz: Decimal, ask_sz: Decimal, ts: int) -> None:
        """One market step at *ts*: best levels follow the ticker, resting orders near the top
        come and go, the depth is refilled to 400 levels; one :class:`BookStep` if anything
        changed (nothing while :attr:`held`)."""
        self.keep_alive(ts)
        if self.held:
            return
        rng = self._rng
        before: tuple[_Seen, _Seen] = ({}, {})
        sides = ((self.bids, bid, -1, bid_sz, before[0]), (self.asks, ask, 1, ask_sz, before[1]))
        for side, best, sign, size, seen in sides:
            # Levels the market moved through are gone (bids above the best bid, ...).
            old_best = max(side) if sign < 0 else min(side)
            if (old_best - best) * sign < 0:
                through = abs(old_best - best)
                swept = (
                    [best - sign * k for k in range(1, through + 1)]
                    if through <= 4 * BOOK_DEPTH
                    else [t for t in side if (t - best) * sign < 0]
                )
                for ticks in swept:
                    if ticks in side:
                        self._set(side, seen, ticks, None)
            self._set(side, seen, best, self._best_level(best, size, side.get(best)))
            for _ in range(rng.randint(1, 4)):
                ticks = best + sign * rng.randrange(1, 80)
                if ticks in side and rng.random() < 0.3:
                    self._set(side, seen, ticks, None)
                else:
                    self._set(side, seen, ticks, self._level(ticks))
            self._close_gaps(side, sign, seen)
            self._fill(side, sign, seen)
        changed: list[tuple[Row, ...]] = []
        for side, _, sign, _, seen in sides:
            moved = sorted((t for t, was in seen.items() if was != side.get(t)), reverse=sign < 0)
            changed.append(tuple(side.get(t) or (self._price(t), "0", "0", "0") for t in moved))
        if changed[0] or changed[1]:
            self._step(ts, changed[0], changed[1])

    def keep_alive(self, ts: int) -> None:
        """Add the keep-alive steps due by *ts* (one per :data:`KEEPALIVE_MS` of no change)."""
        while self.started and ts >= self.ts + KEEPALIVE_MS:
            self._step(self.ts + KEEPALIVE_MS, (), (), keep_alive=True)

    def _step(
        self, ts: int, bids: tuple[Row, ...], asks: tuple[Row, ...], *, keep_alive: bool = False
    ) -> None:
        prev = self.seq_id
        if keep_alive:
            pass
        elif self._reset:
            self._reset = False
            # The new baseline is smaller than the last seqId (0 stays 0: the smallest).
            self.seq_id = self._rng.randrange(0, prev) if prev > 0 else 0
        else:
            # OKX's steps are irregular (jumps of 7, 12, 45 ... were seen), never +1 always.
            self.seq_id = prev + self._rng.randint(1, 60)
        if not keep_alive:
            self.checksum = self._checksum()
        self.n += 1
        self.ts = ts
        best_ask = min(self.asks, default=None)
        ask_text = None if best_ask is None else self._price(best_ask)
        self.steps.append(
            BookStep(self.n, prev, self.seq_id, ts, bids, asks, self.checksum, ask_text)
        )

    # -- levels -----------------------------------------------------------------------------

    def _checksum(self) -> int:
        return okx_checksum(self.rows(True, _CHECKSUM_DEPTH), self.rows(False, _CHECKSUM_DEPTH))

    def _price(self, ticks: int) -> str:
        text = self._prices.get(ticks)
        if text is None:
            if len(self._prices) > _TEXTS_KEPT:
                self._prices.clear()
            text = self._prices[ticks] = format_decimal(self.tick * ticks)
        return text

    def _level(self, ticks: int) -> Row:
        lots = max(1, round(self._typical_lots * self._rng.lognormvariate(0.0, 1.1)))
        size = self._sizes.get(lots)
        if size is None:
            size = self._sizes[lots] = format_decimal(self.lot * lots)
        return (self._price(ticks), size, "0", _ORDERS[self._rng.randrange(len(_ORDERS))])

    def _best_level(self, ticks: int, size: Decimal, old: Row | None) -> Row:
        orders = old[3] if old is not None else _ORDERS[self._rng.randrange(len(_ORDERS))]
        return (self._price(ticks), format_decimal(size), "0", orders)

    @staticmethod
    def _set(side: _Side, seen: _Seen, ticks: int, level: Row | None) -> None:
        if ticks <= 0:
            return  # no level at or below a zero price
        seen.setdefault(ticks, side.get(ticks))
        if level is None:
            side.pop(ticks, None)
        else:
            side[ticks] = level

    def _gap(self) -> int:
        return _GAP_TABLE[int(self._rng.random() * len(_GAP_TABLE))]

    def _close_gaps(self, side: _Side, sign: int, seen: _Seen) -> None:
        """New orders fill a gap the market left near the top (after a jump up, say)."""
        top = sorted(side, reverse=sign < 0)[:_TOP]
        for near, far in itertools.pairwise(top):
            ticks = near
            while abs(far - ticks) > _GAPS[-1]:
                ticks += sign * self._gap()
                self._set(side, seen, ticks, self._level(ticks))

    def _fill(self, side: _Side, sign: int, seen: _Seen) -> None:
        """Refill *side* to exactly :data:`BOOK_DEPTH` levels, deeper levels a gap apart."""
        if len(side) > BOOK_DEPTH:
            for ticks in sorted(side, reverse=sign < 0)[BOOK_DEPTH:]:
                self._set(side, seen, ticks, None)
            return
        deepest = min(side) if sign < 0 else max(side)
        while len(side) < BOOK_DEPTH:
            deepest += sign * self._gap()
            if deepest <= 0:
                break  # a bid side that reaches zero price is simply shorter
            self._set(side, seen, deepest, self._level(deepest))
