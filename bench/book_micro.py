"""The book engine against the structures it was chosen over, on an OKX-shaped stream.

    python bench/book_micro.py [--updates N] [--repeats R] [--seed S] [--json]

Two streams (``bench/book_stream.py``): the generated one (a 400-level snapshot, updates of
6 to 80 levels, 43 on average, as OKX's ``books`` sends every 100 ms; a third deletions) and
the recorded BTC-USDT ``books`` stream of 2022 (400 levels, 97 updates). Applying one after
another as fast as possible is the flood; the figures are per update.

Structures (each applies the same levels from the same snapshot; levels as OKX's strings, in
tuples ``(price, size, "0", orders)``, as the client's msgspec decoder hands them over):

* ``engine`` - ``okx_trio._book.BookEngine``, as the client runs it: the sequence check,
  one check of every level (OKX's plain form, the rule the delivered records need too, so
  the client checks an update once), the crossed check and the sorted structure (a dict
  from OKX's price text to its level, and parallel sorted lists per side), its merge loop
  in C (``okx_trio/_book_side_c.c``) where okx_trio was built with a C compiler;
* ``engine, pure-Python loop`` - the same engine with the C loop switched off (the
  fallback where okx_trio was built without a compiler; only shown when the C loop exists);
* ``dict + sort`` - the reference from issue 11: a dict per side keyed by ``float(price)``,
  no validation, no checks; reading sorts the side's keys and takes the best 5;
* ``dict + sort, checked`` - the same with checks like the engine's of every level (types,
  finite numbers, size >= 0, integer orders), the floor for a client that refuses bad input;
* ``SortedDict`` - ``sortedcontainers.SortedDict`` per side keyed by ``float(price)`` (bids
  negated), no validation; reading takes the first 5 items (skipped if not installed);
* ``order-book (C)`` - cryptofeed's C ``order-book`` package, keyed by ``Decimal`` prices
  with ``Decimal`` sizes as cryptofeed keeps them; reading takes ``index(0..4)`` (skipped if
  not installed).

Handlers, from the push text (what a client does per message, JSON parsing included):

* ``engine from text`` - msgspec's typed decode of the push (the client's fast decoder's
  types) and ``BookEngine.apply`` (and the same with the pure-Python loop);
* ``dict + sort from text`` - the decode and the reference, no check;
* ``cryptofeed OKX handler`` - ``cryptofeed.exchanges.OKX.message_handler`` (``json.loads``
  with ``Decimal`` floats, its sequence check, its ``order-book`` book and its book
  callback, a no-op), awaited per message in an asyncio loop (skipped if not installed;
  cryptofeed 3 needs Python >= 3.13, so ``bench/run.py`` runs this file in
  ``bench/.venv-peers`` when it exists, with okx_trio installed there too).

Figures, in microseconds of this thread's CPU time (``time.thread_time``: a neighbour taking
the core does not count), best of the repeats (variants take turns within a repeat):

* ``apply``  - per update, no reader;
* ``top-5``  - one read of the best 5 levels of each side as ``BookLevel`` (Decimal) tuples,
  on the book after the stream, at depth 400 and on a 25-level book (equal for an O(5) read);
* ``cycle``  - per update, applying it and then reading the top 5 (what a consumer that
  looks at every push pays; for the engine it includes taking an immutable view and the
  copy-on-write its next update then makes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import platform
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))

from book_stream import PushText, Update, make_stream, recorded_stream, seq_step

from okx_trio import _book_side
from okx_trio._book import BookEngine
from okx_trio._book_levels import BookLevel

#: The engine's C merge loop, or None where okx_trio was built without a C compiler.
C_LOOP = _book_side._merge_c

Level = list[str]
# The CPU time of this thread, not the wall clock: on the shared machine a neighbour that
# takes the core for a while does not count against whichever variant was running.
_clock = time.thread_time


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
    """The reference plus checks like the engine's of every level (types, finite numbers,
    a size >= 0, an integer order count): what a client that refuses bad input pays."""

    def apply(self, bids: list[Level], asks: list[Level]) -> None:
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for level in levels:
                kind = type(level)
                px, sz, _, n = level
                key, size = float(px), float(sz)
                if not (
                    (kind is list or kind is tuple)
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


class EnginePython(Engine):
    """The engine with its C merge loop switched off: the pure-Python fallback."""

    def apply(self, bids: list[Level], asks: list[Level]) -> None:
        _book_side._merge_c = None
        try:
            super().apply(bids, asks)
        finally:
            _book_side._merge_c = C_LOOP


class OrderBookC:
    """cryptofeed's C ``order-book`` package, Decimal keys and sizes as cryptofeed keeps them."""

    def __init__(self, snapshot: Update) -> None:
        from order_book import OrderBook

        self.book: Any = OrderBook(max_depth=0)
        self.apply(*snapshot)

    def apply(self, bids: list[Level], asks: list[Level]) -> None:
        for side, levels in ((self.book.bids, bids), (self.book.asks, asks)):
            for px, sz, *_ in levels:
                price, size = Decimal(px), Decimal(sz)
                if size == 0:
                    if price in side:
                        del side[price]
                else:
                    side[price] = size

    def top(self, n: int) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
        bids, asks = self.book.bids, self.book.asks
        return (
            tuple(BookLevel(*bids.index(i), 0) for i in range(min(n, len(bids)))),
            tuple(BookLevel(*asks.index(i), 0) for i in range(min(n, len(asks)))),
        )


def _timed_apply(factory: Callable[[Update], Any], snapshot: Update, stream: list[Update]) -> float:
    book = factory(snapshot)
    start = _clock()
    for bids, asks in stream:
        book.apply(bids, asks)
    return (_clock() - start) / len(stream) * 1e6


def _timed_cycle(factory: Callable[[Update], Any], snapshot: Update, stream: list[Update]) -> float:
    book = factory(snapshot)
    start = _clock()
    for bids, asks in stream:
        book.apply(bids, asks)
        book.top(5)
    return (_clock() - start) / len(stream) * 1e6


def _timed_read(factory: Callable[[Update], Any], snapshot: Update, stream: list[Update]) -> float:
    book = factory(snapshot)
    for bids, asks in stream:
        book.apply(bids, asks)
    reads = 1000
    start = _clock()
    for _ in range(reads):
        book.top(5)
    return (_clock() - start) / reads * 1e6


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


def push_texts(snapshot: Update, stream: list[Update]) -> list[str]:
    """The stream as OKX's push texts, with linked sequence ids (checksum 0)."""
    text = PushText("BTC-USDT")
    seq, ts = 1000, 1_700_000_000_000
    out = [text.push("snapshot", PushText.body(*snapshot), ts, -1, seq).decode()]
    for i, (bids, asks) in enumerate(stream):
        prev, seq = seq, seq + seq_step(i)
        out.append(text.push("update", PushText.body(bids, asks), ts + 100 * i, prev, seq).decode())
    return out


#: The handlers from push text, by name (see :func:`from_text`).
HANDLERS = {
    "engine from text (decode, the engine's check and merge)": "engine",
    "dict + sort from text (decode, no check)": "reference",
}
if C_LOOP is not None:
    HANDLERS["engine from text, pure-Python loop"] = "engine, python"


def from_text(texts: list[str], how: str) -> float:
    """msgspec's typed decode of each push (the client's fast decoder's types) and a book:
    µs per update. ``how``: ``"engine"`` for ``BookEngine.apply`` (as the client),
    ``"engine, python"`` for it with the C loop off, or ``"reference"`` for the dict + sort
    reference, unchecked."""
    from okx_trio._fast_decoders import _Books

    if how == "engine, python":
        _book_side._merge_c = None
        try:
            return from_text(texts, "engine")
        finally:
            _book_side._merge_c = C_LOOP

    decode = msgspec.json.Decoder(_Books).decode
    engine = BookEngine("BTC-USDT", "books", max_depth=400)
    reference: DictSort | None = None
    start = _clock()
    for text in texts:
        push = decode(text)
        for b in push.data:
            if how == "engine":
                engine.apply(push.action or "", b.prevSeqId, b.seqId, int(b.ts), b.bids, b.asks)
            elif reference is None:
                reference = DictSort((b.bids, b.asks))
            else:
                reference.apply(b.bids, b.asks)
    elapsed = _clock() - start
    assert how == "reference" or engine.valid, engine.invalid_detail
    return elapsed / (len(texts) - 1) * 1e6


def cryptofeed_handler(texts: list[str]) -> tuple[float, str] | None:
    """cryptofeed's ``OKX.message_handler`` per push: µs per update, and its version."""
    try:
        import importlib.metadata

        from cryptofeed.defines import L2_BOOK
        from cryptofeed.exchanges import OKX
        from cryptofeed.symbols import Symbols
    except ImportError:
        return None
    Symbols.set(
        OKX.id,
        {"BTC-USDT": "BTC-USDT"},
        {"tick_size": {"BTC-USDT": "0.1"}, "instrument_type": {"BTC-USDT": "spot"}},
    )

    async def noop(*_: Any) -> None:
        pass

    async def run() -> float:
        feed = OKX(symbols=["BTC-USDT"], channels=[L2_BOOK], callbacks={L2_BOOK: noop})
        handler = feed.message_handler
        start = _clock()
        for text in texts:
            await handler(text, None, 0.0)
        return _clock() - start

    elapsed = asyncio.run(run())
    return elapsed / (len(texts) - 1) * 1e6, importlib.metadata.version("cryptofeed")


def variants_available() -> tuple[list[tuple[str, Callable[[Update], Any]]], list[str]]:
    notes: list[str] = []
    if C_LOOP is None:
        notes.append("okx_trio was built without a C compiler: the engine runs its Python loop")
    variants: list[tuple[str, Callable[[Update], Any]]] = [
        ("engine", Engine),
        *([("engine, pure-Python loop", EnginePython)] if C_LOOP is not None else []),
        ("dict + sort", DictSort),
        ("dict + sort, checked", DictSortChecked),
    ]
    try:
        import sortedcontainers

        variants.append((f"SortedDict {sortedcontainers.__version__}", Sorted))
    except ImportError:
        notes.append("sortedcontainers is not installed: SortedDict skipped")
    try:
        import importlib.metadata

        import order_book  # noqa: F401

        variants.append((f"order-book (C) {importlib.metadata.version('order-book')}", OrderBookC))
    except ImportError:
        notes.append("order-book is not installed: cryptofeed's C book skipped")
    return variants, notes


def as_tuples(snapshot: Update, stream: list[Update]) -> tuple[Any, list[Any]]:
    """The levels as tuples, as the client's decoder (msgspec) makes them: the engine and the
    structures it is compared with get the same input (made in one go, so each update's
    levels lie together in memory, as a fresh decode's do)."""

    def side(levels: list[Level]) -> list[tuple[str, ...]]:
        return [tuple(level) for level in levels]

    return (side(snapshot[0]), side(snapshot[1])), [(side(b), side(a)) for b, a in stream]


def run_all(updates: int, repeats: int, seed: int) -> dict[str, Any]:
    snapshot, stream = as_tuples(*make_stream(updates, seed))
    small_snapshot, small_stream = as_tuples(*make_stream(updates, seed, depth=25, levels=(2, 10)))
    recorded = as_tuples(*recorded_stream())
    variants, notes = variants_available()

    # Every variant ends with the same top of the book, or the figures mean nothing.
    for snap, upd in ((snapshot, stream), recorded):
        tops = []
        for _, factory in variants:
            book = factory(snap)
            for bids, asks in upd:
                book.apply(bids, asks)
            bids_top, asks_top = book.top(25)
            tops.append(([lv[:2] for lv in bids_top], [lv[:2] for lv in asks_top]))
        assert all(top == tops[0] for top in tops), "variants disagree on the book"

    out: dict[str, Any] = {
        "python": platform.python_version(),
        "engine_loop": "C" if C_LOOP is not None else "Python",
        "updates": updates,
        "levels_per_update": sum(len(b) + len(a) for b, a in stream) / len(stream),
        "recorded_updates": len(recorded[1]),
        "recorded_levels_per_update": sum(len(b) + len(a) for b, a in recorded[1])
        / len(recorded[1]),
        "notes": notes,
        "structures": {},
    }
    generated = measure(variants, snapshot, stream, repeats)
    rec = measure(variants, *recorded, repeats)
    small = measure(variants, small_snapshot, small_stream, repeats)
    for name, (apply_us, read_us, cycle_us) in generated.items():
        out["structures"][name] = {
            "apply_us": apply_us,
            "top5_us_400": read_us,
            "top5_us_25": small[name][1],
            "cycle_us": cycle_us,
            "recorded_apply_us": rec[name][0],
        }
    texts = push_texts(snapshot, stream)
    handlers: dict[str, Any] = {name: math.inf for name in HANDLERS}
    for _ in range(repeats):  # taking turns, as the structures do
        for name, how in HANDLERS.items():
            handlers[name] = min(handlers[name], from_text(texts, how))
    cf = None
    for _ in range(repeats):
        got = cryptofeed_handler(texts)
        if got is None:
            notes.append("cryptofeed is not installed: its OKX handler skipped")
            break
        cf = got if cf is None or got[0] < cf[0] else cf
    if cf is not None:
        handlers[f"cryptofeed {cf[1]} OKX handler"] = cf[0]
    out["handlers"] = handlers
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON line, for bench/run.py")
    args = parser.parse_args()
    out = run_all(args.updates, args.repeats, args.seed)
    if args.json:
        print(json.dumps(out))
        return
    print(
        f"Python {out['python']}, engine merge loop in {out['engine_loop']}; "
        f"{args.updates} generated updates of "
        f"{out['levels_per_update']:.1f} levels on average, 400-level book; recorded: "
        f"{out['recorded_updates']} updates of {out['recorded_levels_per_update']:.1f}"
    )
    for note in out["notes"]:
        print(note)
    print(
        f"{'structure':<28}{'apply us':>10}{'recorded':>10}{'top-5@400':>11}{'top-5@25':>10}"
        f"{'cycle us':>10}"
    )
    for name, r in out["structures"].items():
        print(
            f"{name:<28}{r['apply_us']:>10.2f}{r['recorded_apply_us']:>10.2f}"
            f"{r['top5_us_400']:>11.2f}{r['top5_us_25']:>10.2f}{r['cycle_us']:>10.2f}"
        )
    print(f"{'handler (from push text)':<64}{'us/update':>10}")
    for name, us in out["handlers"].items():
        print(f"{name:<64}{us:>10.2f}")


if __name__ == "__main__":
    main()
