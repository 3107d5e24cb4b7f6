"""Property: whatever OKX sends, valid or corrupted, the engine's book is exactly that of a
plain model (a dict per side, the rules written the obvious way), or it is None."""

from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from okx_trio._book import ApplyOutcome, BookEngine, InvalidReason
from okx_trio._book_levels import BookLevel, OrderBook

# Each test runs on the C merge loop and on the pure-Python one (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("merge_loop")

# The same numbers written several ways, and 100 on both sides so that books can cross.
BID_PRICES = [str(n) for n in range(94, 101)] + ["95.0", "95.5", "95.50", "100.00"]
ASK_PRICES = [str(n) for n in range(100, 107)] + ["101.0", "101.5", "101.50", "100.0"]
SIZES = ["0", "0.0", "1", "2.5", "0.0001", "3.000"]
ORDERS = ["0", "1", "12"]
BAD_LEVELS: list[Any] = [
    ["x", "1", "0", "1"],
    ["100", "-1", "0", "1"],
    ["100", "1", "0"],
    ["100", "1", "0", "a"],
    [100, "1", "0", "1"],
    ["inf", "1", "0", "1"],
    "100",
]

Raw3 = tuple[str, str, str]


def levels(prices: list[str]) -> st.SearchStrategy[list[list[str]]]:
    level = st.tuples(st.sampled_from(prices), st.sampled_from(SIZES), st.sampled_from(ORDERS))
    return st.lists(level.map(lambda t: [t[0], t[1], "0", t[2]]), max_size=8)


def maybe_corrupt(side: st.SearchStrategy[list[Any]]) -> st.SearchStrategy[list[Any]]:
    """The side, with one bad level slipped in about one time in thirty."""
    corrupt = st.sampled_from([False] * 29 + [True])
    return st.tuples(side, corrupt, st.sampled_from(BAD_LEVELS), st.integers(0, 8)).map(
        lambda t: [*t[0][: t[3]], t[2], *t[0][t[3] :]] if t[1] else t[0]
    )


# A message: (kind, bids, asks, checksum choice, step). Links are resolved against the
# model when the message is sent, so "next" really follows the book and "gap" really does not.
KINDS = ["next"] * 14 + [
    "keep-alive",
    "reset",
    "gap",
    "duplicate",
    "snapshot",
    "snapshot",
    "bad-snapshot",
]
MESSAGES = st.tuples(
    st.sampled_from(KINDS),
    maybe_corrupt(levels(BID_PRICES)),
    maybe_corrupt(levels(ASK_PRICES)),
    st.sampled_from(["zero"] * 6 + ["right"] * 3 + ["wrong"]),
    st.integers(1, 50),
    st.sampled_from([False] * 4 + [True]),  # a snapshot keeps a price twice
)
# Streams mostly start with a snapshot, so that most of each stream runs on a valid book.
FIRST = st.tuples(
    st.just("snapshot"),
    levels(BID_PRICES[:-1]),
    levels(ASK_PRICES[:-1]),
    st.just("zero"),
    st.integers(1, 50),
    st.just(False),
)
STREAMS = st.one_of(
    st.tuples(FIRST, st.lists(MESSAGES, max_size=40)).map(lambda t: [t[0], *t[1]]),
    st.tuples(FIRST, st.lists(MESSAGES, max_size=40)).map(lambda t: [t[0], *t[1]]),
    st.lists(MESSAGES, min_size=1, max_size=40),
)


def _unique(sent: list[Any]) -> list[Any]:
    """The levels without a price seen before (bad levels stay)."""
    seen: set[Decimal] = set()
    out = []
    for level in sent:
        if _good(level):
            px = Decimal(level[0])
            if px in seen:
                continue
            seen.add(px)
        out.append(level)
    return out


def _num(text: str) -> Decimal:
    return Decimal(text)


def _good(level: Any) -> bool:
    if not isinstance(level, list) or len(level) != 4:
        return False
    if not all(isinstance(part, str) for part in level):
        return False
    try:
        px, sz = Decimal(level[0]), Decimal(level[1])
    except ArithmeticError:
        return False
    return px.is_finite() and px > 0 and sz.is_finite() and sz >= 0 and level[3].isdigit()


@dataclass
class Model:
    valid: bool = False
    started: bool = False
    seq: int | None = None
    bids: dict[Decimal, Raw3] = field(default_factory=dict)
    asks: dict[Decimal, Raw3] = field(default_factory=dict)
    recent: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=32))

    def sorted_side(self, side: dict[Decimal, Raw3], bids: bool) -> list[Raw3]:
        return [side[p] for p in sorted(side, reverse=bids)]

    def checksum(self, bids: dict[Decimal, Raw3], asks: dict[Decimal, Raw3]) -> int:
        b, a = self.sorted_side(bids, True), self.sorted_side(asks, False)
        parts: list[str] = []
        for i in range(25):
            if i < len(b):
                parts += [b[i][0], b[i][1]]
            if i < len(a):
                parts += [a[i][0], a[i][1]]
        crc = zlib.crc32(":".join(parts).encode())
        return crc - 2**32 if crc >= 2**31 else crc

    def expect(
        self, action: str, prev: int, seq: int, bids: list[Any], asks: list[Any], choice: str
    ) -> tuple[InvalidReason | None, int, str]:
        """(reason or None, checksum to send, outcome) for this message, and moves the model."""
        if action == "update":
            if not self.valid:
                if self.started:
                    return None, 0, "ignored"
                self.started = True
                return InvalidReason.NO_SNAPSHOT, 0, "invalidated"
            if prev != self.seq:
                self.valid = False
                dup = (prev, seq) in self.recent
                return (InvalidReason.DUPLICATE if dup else InvalidReason.GAP), 0, "invalidated"
            new_bids, new_asks = dict(self.bids), dict(self.asks)
        else:
            self.started = True
            if prev != -1:
                self.valid = False
                return InvalidReason.BAD_SNAPSHOT, 0, "invalidated"
            new_bids, new_asks = {}, {}
        for side, sent in ((new_bids, bids), (new_asks, asks)):
            seen: set[Decimal] = set()
            for level in sent:
                if not _good(level):
                    self.valid = False
                    return InvalidReason.BAD_MESSAGE, 0, "invalidated"
                px = _num(level[0])
                if action == "snapshot" and px in seen:
                    self.valid = False
                    return InvalidReason.BAD_SNAPSHOT, 0, "invalidated"
                seen.add(px)
                if _num(level[1]) == 0:
                    side.pop(px, None)
                else:
                    side[px] = (level[0], level[1], level[3])
        if new_bids and new_asks and max(new_bids) >= min(new_asks):
            self.valid = False
            return InvalidReason.CROSSED, 0, "invalidated"
        right = self.checksum(new_bids, new_asks)
        checksum = {"zero": 0, "right": right, "wrong": (right + 1) or 7}[choice]
        if choice == "wrong":
            self.valid = False
            return InvalidReason.CHECKSUM, checksum, "invalidated"
        self.valid, self.seq, self.bids, self.asks = True, seq, new_bids, new_asks
        if action == "update":
            self.recent.append((prev, seq))
        else:
            self.recent.clear()
        return None, checksum, "applied"

    def expected_levels(self) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
        def of(raws: list[Raw3]) -> tuple[BookLevel, ...]:
            return tuple(BookLevel(Decimal(p), Decimal(s), int(o)) for p, s, o in raws)

        return of(self.sorted_side(self.bids, True)), of(self.sorted_side(self.asks, False))


def _links(kind: str, model: Model, step: int, history: list[tuple[int, int]]) -> tuple[int, int]:
    last = model.seq if model.seq is not None else 1000
    if kind == "next":
        return last, last + step
    if kind == "keep-alive":
        return last, last
    if kind == "reset":
        return last, step
    if kind == "gap":
        return last + step, last + 2 * step
    if kind == "duplicate" and history:
        return history[-1 - step % min(3, len(history))]
    return last, last + step


@settings(max_examples=200, deadline=None)
@given(STREAMS)
def test_the_book_is_the_model_or_none(messages: list[Any]) -> None:
    engine = BookEngine("BTC-USDT", "books")
    model = Model()
    history: list[tuple[int, int]] = []
    held: list[tuple[OrderBook, Any, Any]] = []
    snapshot_seq = 0
    for kind, bids, asks, choice, step, twice in messages:
        if kind in ("snapshot", "bad-snapshot"):
            action = "snapshot"
            if not twice:
                bids, asks = _unique(bids), _unique(asks)
            snapshot_seq += step
            prev, seq = (-1 if kind == "snapshot" else step), snapshot_seq
        else:
            action = "update"
            prev, seq = _links(kind, model, step, history)
        reason, checksum, outcome = model.expect(action, prev, seq, bids, asks, choice)
        result = engine.apply(action, prev, seq, seq, bids, asks, checksum)
        assert (result.outcome.value, result.reason) == (outcome, reason)
        event(f"{result.outcome.value} {result.reason.value if result.reason else ''}")
        if result.outcome is ApplyOutcome.APPLIED and action == "update":
            history.append((prev, seq))
        assert engine.valid == model.valid
        # A view taken after some messages only: between two views the engine writes new
        # sizes into its levels in place, which must never reach a view handed out before.
        book = engine.book() if step % 3 else None
        if book is not None:
            expected = model.expected_levels()
            assert (book.bids, book.asks) == expected
            assert book.seq_id == model.seq
            raw_bids, raw_asks = book.raw_depth(25)
            want_bids = model.sorted_side(model.bids, True)[:25]
            want_asks = model.sorted_side(model.asks, False)[:25]
            assert (raw_bids, raw_asks) == (want_bids, want_asks)
            held.append((book, *expected))
    # Every view handed out still shows the book it showed then.
    for view, bids_then, asks_then in held:
        assert (view.bids, view.asks) == (bids_then, asks_then)
