"""The book engine against the structures it was chosen over, on an OKX-shaped stream.

    python bench/book_micro.py [--updates N] [--repeats R] [--seed S]

The stream is synthetic but shaped like OKX's ``books`` channel: a 400-level snapshot per
side (tick 0.1 around 30000, sizes with OKX's trailing digits), then updates of 10 to 50
levels each, every 100 ms on the real channel. Most changes touch the top of the book
(distance from the touch drawn from an exponential), a third are deletions (size ``"0"``),
some add new prices; bids stay below 30000 and asks above, so no book ever crosses.

Variants (each applies the same stream from the same snapshot):

* ``engine`` - ``okx_trio._book.BookEngine``: the sequence check, level validation, crossed
  check and the sorted structure (dict + bisect-sorted float keys per side);
* ``dict + sort`` - the reference from the issue: a dict per side keyed by ``float(price)``,
  no validation, no checks; reading sorts the side's keys and takes the best 5;
* ``dict + sort, checked`` - the same with the engine's per-level validation (types, finite
  numbers, size >= 0, integer orders), the floor for a client that refuses bad input;
* ``SortedDict`` - ``sortedcontainers.SortedDict`` per side keyed by ``float(price)`` (bids
  negated), no validation; reading takes the first 5 items (skipped if not installed).

Figures, in microseconds, best of the repeats (variants take turns within a repeat):

* ``apply``  - per update, no reader;
* ``top-5``  - one read of the best 5 levels of each side as ``BookLevel`` (Decimal) tuples,
  on the book after the stream;
* ``cycle``  - per update, applying it and then reading the top 5 (what a consumer that
  looks at every push pays; for the engine it includes taking an immutable view and the
  copy-on-write its next update then makes).
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from okx_trio._book import BookEngine
from okx_trio._book_levels import BookLevel

Level = list[str]
Update = tuple[list[Level], list[Level]]
DEPTH = 400
TICK = 0.1
MID_BID = 299_999  # in ticks: best bid 29999.9, best ask 30000.0
MID_ASK = 300_000


def _px(ticks: int) -> str:
    return f"{ticks / 10:.1f}"


def _sz(rng: random.Random) -> str:
    return f"{rng.uniform(0.0001, 5):.7f}".rstrip("0").rstrip(".")


def make_stream(updates: int, seed: int) -> tuple[Update, list[Update]]:
    """The snapshot and the updates, as OKX's level lists (strings)."""
    rng = random.Random(seed)
    bids = {MID_BID - i: _sz(rng) for i in range(DEPTH)}
    asks = {MID_ASK + i: _sz(rng) for i in range(DEPTH)}
    snapshot = (
        [[_px(t), s, "0", "1"] for t, s in sorted(bids.items(), reverse=True)],
        [[_px(t), s, "0", "1"] for t, s in sorted(asks.items())],
    )
    stream: list[Update] = []
    for _ in range(updates):
        sides: list[list[Level]] = [[], []]
        for _ in range(rng.randint(10, 50)):
            is_bid = rng.random() < 0.5
            book, best, sign = (bids, MID_BID, -1) if is_bid else (asks, MID_ASK, 1)
            ticks = best + sign * int(rng.expovariate(1 / 30))
            if ticks in book and rng.random() < 1 / 3:
                del book[ticks]
                size = "0"
            else:
                size = book[ticks] = _sz(rng)
            sides[0 if is_bid else 1].append([_px(ticks), size, "0", str(rng.randint(1, 9))])
        stream.append((sides[0], sides[1]))
    return snapshot, stream


def _level(raw: tuple[str, str, str]) -> BookLevel:
    return BookLevel(Decimal(raw[0]), Decimal(raw[1]), int(raw[2]))


class DictSort:
    """The reference: a dict per side, sorted on read."""

    def __init__(self, snapshot: Update) -> None:
        self.bids: dict[float, tuple[str, str, str]] = {}
        self.asks: dict[float, tuple[str, str, str]] = {}
        self.apply(*snapshot)

    def apply(self, bids: list[Level], asks: list[Level]) -> None:
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for px, sz, _, n in levels:
                if float(sz) == 0:
                    side.pop(float(px), None)
                else:
                    side[float(px)] = (px, sz, n)

    def top(self, n: int) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
        bids = sorted(self.bids, reverse=True)[:n]
        asks = sorted(self.asks)[:n]
        return (
            tuple(_level(self.bids[k]) for k in bids),
            tuple(_level(self.asks[k]) for k in asks),
        )


class DictSortChecked(DictSort):
    """The reference plus the checks the engine makes of every level (types, finite numbers,
    a size >= 0, an integer order count): what a client that refuses bad input pays."""

    def apply(self, bids: list[Level], asks: list[Level]) -> None:
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for level in levels:
                kind = type(level)
                px, sz, _, n = level
                key, size = float(px), float(sz)
                if not (
                    kind is list
                    and type(px) is str
                    and type(sz) is str
                    and 1e-100 < key < 1e100
                    and 0 <= size <= 1e308
                    and n.isdecimal()
                    and len(px) <= 15
                ):
                    raise ValueError(level)
                if size == 0:
                    side.pop(key, None)
                else:
                    side[key] = (px, sz, n)


class Sorted:
    """sortedcontainers.SortedDict per side (bids keyed by the negated price)."""

    def __init__(self, snapshot: Update) -> None:
        from sortedcontainers import SortedDict  # type: ignore[import-untyped]

        self.bids: Any = SortedDict()
        self.asks: Any = SortedDict()
        self.apply(*snapshot)

    def apply(self, bids: list[Level], asks: list[Level]) -> None:
        for side, levels, sign in ((self.bids, bids, -1.0), (self.asks, asks, 1.0)):
            for px, sz, _, n in levels:
                if float(sz) == 0:
                    side.pop(sign * float(px), None)
                else:
                    side[sign * float(px)] = (px, sz, n)

    def top(self, n: int) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
        return (
            tuple(_level(v) for v in self.bids.values()[:n]),
            tuple(_level(v) for v in self.asks.values()[:n]),
        )


class Engine:
    def __init__(self, snapshot: Update) -> None:
        self.engine = BookEngine("BTC-USDT", "books", max_depth=None)
        self.seq = 1
        self.engine.apply("snapshot", -1, self.seq, 0, *snapshot)

    def apply(self, bids: list[Level], asks: list[Level]) -> None:
        seq = self.seq + 7
        self.engine.apply("update", self.seq, seq, seq, bids, asks)
        self.seq = seq

    def top(self, n: int) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
        book = self.engine.book()
        assert book is not None, self.engine.invalid_detail
        return book.depth(n)


def _timed_apply(factory: Callable[[Update], Any], snapshot: Update, stream: list[Update]) -> float:
    book = factory(snapshot)
    start = time.perf_counter()
    for bids, asks in stream:
        book.apply(bids, asks)
    return (time.perf_counter() - start) / len(stream) * 1e6


def _timed_cycle(factory: Callable[[Update], Any], snapshot: Update, stream: list[Update]) -> float:
    book = factory(snapshot)
    start = time.perf_counter()
    for bids, asks in stream:
        book.apply(bids, asks)
        book.top(5)
    return (time.perf_counter() - start) / len(stream) * 1e6


def _timed_read(factory: Callable[[Update], Any], snapshot: Update, stream: list[Update]) -> float:
    book = factory(snapshot)
    for bids, asks in stream:
        book.apply(bids, asks)
    reads = 1000
    start = time.perf_counter()
    for _ in range(reads):
        book.top(5)
    return (time.perf_counter() - start) / reads * 1e6


def measure(
    variants: list[tuple[str, Callable[[Update], Any]]],
    snapshot: Update,
    stream: list[Update],
    repeats: int,
) -> dict[str, list[float]]:
    """Best (lowest) apply, read and cycle figures per variant. The variants take turns
    within each repeat, so a noisy neighbour on a shared machine hurts them alike."""
    best = {name: [math.inf] * 3 for name, _ in variants}
    for _ in range(repeats):
        for name, factory in variants:
            for i, timed in enumerate((_timed_apply, _timed_read, _timed_cycle)):
                best[name][i] = min(best[name][i], timed(factory, snapshot, stream))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    snapshot, stream = make_stream(args.updates, args.seed)
    levels = sum(len(b) + len(a) for b, a in stream) / len(stream)
    print(f"{args.updates} updates of {levels:.1f} levels on average, 400-level book")

    variants: list[tuple[str, Callable[[Update], Any]]] = [
        ("engine", Engine),
        ("dict + sort", DictSort),
        ("dict + sort, checked", DictSortChecked),
    ]
    try:
        import sortedcontainers

        variants.append((f"SortedDict {sortedcontainers.__version__}", Sorted))
    except ImportError:
        print("sortedcontainers is not installed: SortedDict skipped")

    # Every variant ends with the same top of the book, or the figures mean nothing.
    tops = []
    for _, factory in variants:
        book = factory(snapshot)
        for bids, asks in stream:
            book.apply(bids, asks)
        tops.append(book.top(25))
    assert all(top == tops[0] for top in tops), "variants disagree on the book"

    header = f"{'variant':<24}{'apply us':>10}{'top-5 us':>10}{'cycle us':>10}{'us/level':>10}"
    print(header)
    results = measure(variants, snapshot, stream, args.repeats)
    for name, (apply_us, read_us, cycle_us) in results.items():
        print(
            f"{name:<24}{apply_us:>10.2f}{read_us:>10.2f}{cycle_us:>10.2f}"
            f"{apply_us / levels:>10.3f}"
        )


if __name__ == "__main__":
    main()
