"""The sans-IO book engine: OKX's sequence, merge, crossed and checksum rules, REST seeding,
splicing two connections, and the OrderBook view, with literal values throughout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from okx_trio._book import (
    ApplyOutcome,
    ApplyResult,
    BookEngine,
    BookStatus,
    InvalidReason,
    SeedOutcome,
    splice_index,
)
from okx_trio._book_levels import BookLevel, OrderBook, checksum_of

from .conftest import CAPTURES

# Each test runs on the C merge loop and on the pure-Python one (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("merge_loop")

APPLIED = ApplyResult(ApplyOutcome.APPLIED)
IGNORED = ApplyResult(ApplyOutcome.IGNORED)
BUFFERED = ApplyResult(ApplyOutcome.BUFFERED)
SKIPPED = ApplyResult(ApplyOutcome.SKIPPED)


def lv(px: str, sz: str, orders: str = "1") -> list[str]:
    return [px, sz, "0", orders]


def invalidated(reason: InvalidReason) -> ApplyResult:
    return ApplyResult(ApplyOutcome.INVALIDATED, reason)


def L(px: str, sz: str, orders: int = 1) -> BookLevel:
    return BookLevel(Decimal(px), Decimal(sz), orders)


def seeded(seq_id: int = 10) -> BookEngine:
    """A book at ``seq_id``: bids 100/99, asks 101/102."""
    engine = BookEngine("BTC-USDT", "books")
    result = engine.apply(
        "snapshot",
        -1,
        seq_id,
        1000,
        [lv("100", "1"), lv("99", "2")],
        [lv("101", "3"), lv("102", "4")],
    )
    assert result == APPLIED
    return engine


def book_of(engine: BookEngine) -> OrderBook:
    book = engine.book()
    assert book is not None
    return book


# -- rule 1: the sequence ------------------------------------------------------------------


def test_docs_sequence_example_applies_every_step() -> None:
    engine = BookEngine("BTC-USDT", "books")
    steps = [("snapshot", -1, 10), ("update", 10, 15), ("update", 15, 15), ("update", 15, 3)]
    steps.append(("update", 3, 5))
    levels = [[lv("100", "1")], [lv("100", "2")], [], [lv("99", "1")], [lv("100", "0")]]
    for (action, prev, seq), bids in zip(steps, levels, strict=True):
        assert engine.apply(action, prev, seq, 1, bids, [lv("101", "1")] if bids else []) == APPLIED
        assert engine.seq_id == seq
    book = book_of(engine)
    assert book.bids == (L("99", "1"),)
    assert book.asks == (L("101", "1"),)
    assert engine.applied == 5


def test_keep_alive_moves_ts_and_keeps_levels() -> None:
    engine = seeded(10)
    before = book_of(engine)
    assert engine.apply("update", 10, 10, 61_000, [], []) == APPLIED
    after = book_of(engine)
    assert (after.seq_id, after.ts) == (10, 61_000)
    assert after.bids == before.bids and after.asks == before.asks


def test_identity_not_plus_one() -> None:
    engine = seeded(10)
    assert engine.apply("update", 10, 57, 1, [lv("98", "1")], []) == APPLIED
    assert engine.accepts(57) and not engine.accepts(58)
    assert engine.apply("update", 58, 59, 1, [], []) == invalidated(InvalidReason.GAP)


def test_reset_must_still_link_by_identity() -> None:
    engine = seeded(15)
    assert engine.apply("update", 14, 3, 1, [], []) == invalidated(InvalidReason.GAP)


# -- rule 2: the merge ---------------------------------------------------------------------


def test_merge_deletes_replaces_inserts_in_numeric_order() -> None:
    engine = seeded(10)
    bids = [lv("99", "0"), lv("100", "5", "7"), lv("99.5", "1"), lv("9.5", "1"), lv("98", "0")]
    asks = [lv("101.5", "2"), lv("1000", "1"), lv("102", "0")]
    assert engine.apply("update", 10, 11, 2, bids, asks) == APPLIED
    book = book_of(engine)
    assert book.bids == (L("100", "5", 7), L("99.5", "1"), L("9.5", "1"))
    assert book.asks == (L("101", "3"), L("101.5", "2"), L("1000", "1"))


def test_same_number_written_differently_is_the_same_level_and_keeps_the_new_string() -> None:
    engine = BookEngine("BTC-USD-SWAP", "books")
    engine.apply("snapshot", -1, 1, 1, [lv("63913.0", "1")], [lv("63914", "1")])
    engine.apply("update", 1, 2, 2, [lv("63913", "2")], [lv("63914.00", "0.5000")])
    book = book_of(engine)
    assert book.bids == (L("63913", "2"),)
    bids, asks = book.raw_depth(5)
    assert bids == [("63913", "2", "1")]
    assert asks == [("63914.00", "0.5000", "1")]


def test_zero_for_an_unknown_price_is_harmless() -> None:
    engine = seeded(10)
    assert engine.apply("update", 10, 11, 2, [lv("50", "0")], [lv("500", "0")]) == APPLIED
    assert len(book_of(engine)) == 4


def test_zero_level_in_a_snapshot_is_left_out() -> None:
    engine = BookEngine("BTC-USDT", "books")
    engine.apply("snapshot", -1, 1, 1, [lv("100", "0"), lv("99", "1")], [lv("101", "1")])
    assert book_of(engine).bids == (L("99", "1"),)


# -- rule 3: invalidation ------------------------------------------------------------------


def test_gap_invalidates_and_later_updates_are_ignored_until_a_snapshot() -> None:
    engine = seeded(10)
    assert engine.apply("update", 11, 12, 2, [], []) == invalidated(InvalidReason.GAP)
    assert engine.book() is None and not engine.valid and engine.seq_id is None
    assert engine.status is BookStatus.INVALID
    assert engine.invalid_reason is InvalidReason.GAP
    assert engine.invalid_detail == "prevSeqId 11 != book seqId 10"
    assert engine.apply("update", 12, 13, 3, [], []) == IGNORED
    assert engine.apply("update", 10, 11, 3, [], []) == IGNORED
    assert engine.apply("snapshot", -1, 20, 4, [lv("1", "1")], [lv("2", "1")]) == APPLIED
    assert engine.valid and engine.invalid_reason is None and engine.seq_id == 20
    assert engine.invalidations == 1


def test_duplicate_is_told_apart_from_a_gap() -> None:
    engine = seeded(10)
    engine.apply("update", 10, 15, 2, [lv("98", "1")], [])
    engine.apply("update", 15, 21, 3, [lv("97", "1")], [])
    assert engine.apply("update", 10, 15, 2, [lv("98", "1")], []) == invalidated(
        InvalidReason.DUPLICATE
    )


def test_update_before_any_snapshot() -> None:
    engine = BookEngine("BTC-USDT", "books")
    assert engine.status is BookStatus.AWAITING_SNAPSHOT
    assert engine.apply("update", 1, 2, 1, [], []) == invalidated(InvalidReason.NO_SNAPSHOT)
    assert engine.apply("update", 2, 3, 1, [], []) == IGNORED


@pytest.mark.parametrize(
    ("bids", "asks"),
    [([lv("101", "1")], []), ([lv("101.5", "1")], []), ([], [lv("100", "1")])],
    ids=["bid-equals-ask", "bid-above-ask", "ask-equals-bid"],
)
def test_crossed_after_applying(bids: list[list[str]], asks: list[list[str]]) -> None:
    engine = seeded(10)
    assert engine.apply("update", 10, 11, 2, bids, asks) == invalidated(InvalidReason.CROSSED)


def test_crossed_snapshot() -> None:
    engine = BookEngine("BTC-USDT", "books")
    result = engine.apply("snapshot", -1, 1, 1, [lv("101", "1")], [lv("101", "1")])
    assert result == invalidated(InvalidReason.CROSSED)


def test_bad_snapshots() -> None:
    engine = BookEngine("BTC-USDT", "books")
    assert engine.apply("snapshot", 5, 6, 1, [], []) == invalidated(InvalidReason.BAD_SNAPSHOT)
    twice = [lv("100", "1"), lv("100.0", "2")]
    assert engine.apply("snapshot", -1, 6, 1, twice, []) == invalidated(InvalidReason.BAD_SNAPSHOT)
    assert engine.invalid_detail == "price 100.0 twice"


@pytest.mark.parametrize(
    "level",
    [
        ["abc", "1", "0", "1"],
        ["100", "x", "0", "1"],
        ["100", "-1", "0", "1"],
        ["100", "1", "0"],
        ["100", "1", "0", "1", "9"],
        [100, "1", "0", "1"],
        ["100", "1", "0", "-1"],
        ["100", "1", "0", "1.5"],
        ["nan", "1", "0", "1"],
        ["100", "inf", "0", "1"],
        ["1e-300", "1", "0", "1"],
        ["12345678.123456789", "1", "0", "1"],
        ["0", "1", "0", "1"],
        ["-5", "1", "0", "1"],
        ["100", "1", "0", "²"],
        "1234",
        "100",
        None,
    ],
)
def test_bad_levels_invalidate_and_never_raise(level: Any) -> None:
    engine = seeded(10)
    assert engine.apply("update", 10, 11, 2, [level], []) == invalidated(InvalidReason.BAD_MESSAGE)
    snap = BookEngine("BTC-USDT", "books")
    result = snap.apply("snapshot", -1, 1, 1, [], [level])
    assert result == invalidated(InvalidReason.BAD_MESSAGE)


def test_levels_may_be_tuples() -> None:
    engine = seeded(10)
    assert engine.apply("update", 10, 11, 2, [("99.5", "1", "0", "2")], ()) == APPLIED
    assert book_of(engine).bids[1] == L("99.5", "1", 2)


def test_long_price_with_few_significant_digits_is_fine() -> None:
    engine = seeded(10)
    assert engine.apply("update", 10, 11, 2, [lv("99.50000000000000000", "1")], []) == APPLIED
    assert book_of(engine).bids[1] == L("99.5", "1")


@pytest.mark.parametrize("side", [None, "100", {"100": "1"}, 5])
def test_a_side_that_is_not_a_list(side: Any) -> None:
    engine = seeded(10)
    assert engine.apply("update", 10, 11, 2, side, []) == invalidated(InvalidReason.BAD_MESSAGE)


def test_unknown_action() -> None:
    engine = seeded(10)
    assert engine.apply("partial", 10, 11, 2, [], []) == invalidated(InvalidReason.BAD_MESSAGE)
    assert engine.invalid_detail == "action 'partial'"


def test_invalidate_from_outside() -> None:
    engine = seeded(10)
    engine.invalidate(InvalidReason.GAP, "connection lost")
    assert engine.book() is None and engine.invalid_detail == "connection lost"
    assert engine.apply("update", 10, 11, 2, [], []) == IGNORED


# -- rule 4: the checksum ------------------------------------------------------------------


def test_checksum_docs_vectors() -> None:
    bids = [["3366.1", "7", "3"], ["3366", "6", "4"]]
    asks = [["3366.8", "9", "3"], ["3368", "8", "4"]]
    assert checksum_of(bids, asks) == -1881014294
    asks2 = [["3366.8", "9", "3"], ["3368", "8", "4"], ["3372", "8", "4"]]
    assert checksum_of(bids[:1], asks2) == 831078360


def test_checksum_docs_vectors_through_the_engine() -> None:
    engine = BookEngine("ETH-USDT", "books")
    bids = [["3366.1", "7", "0", "3"], ["3366", "6", "3", "4"]]
    asks = [["3366.8", "9", "10", "3"], ["3368", "8", "3", "4"]]
    assert engine.apply("snapshot", -1, 1, 1, bids, asks, -1881014294) == APPLIED
    assert book_of(engine).checksum() == -1881014294
    # Second vector: bid 3366 goes, ask 3372 comes.
    update = engine.apply("update", 1, 2, 2, [lv("3366", "0")], [lv("3372", "8")], 831078360)
    assert update == APPLIED
    assert engine.apply("update", 2, 3, 3, [], [], 12345) == invalidated(InvalidReason.CHECKSUM)
    assert engine.invalid_detail == "checksum 12345 != book's 831078360"


def test_zero_checksum_is_not_checked() -> None:
    engine = seeded(10)
    assert engine.apply("update", 10, 11, 2, [lv("98", "1")], [], 0) == APPLIED


def test_checksum_uses_the_original_strings() -> None:
    engine = BookEngine("ETH-USDT", "books")
    good = checksum_of([["1.50", "0.5000", "1"]], [["2", "1", "1"]])
    assert engine.apply("snapshot", -1, 1, 1, [lv("1.50", "0.5000")], [lv("2", "1")], good) == (
        APPLIED
    )
    engine2 = BookEngine("ETH-USDT", "books")
    result = engine2.apply("snapshot", -1, 1, 1, [lv("1.5", "0.5")], [lv("2", "1")], good)
    assert result == invalidated(InvalidReason.CHECKSUM)


def _capture_books() -> Iterator[dict[str, Any]]:
    with open(CAPTURES / "okx-public-2022-05-13.txt", encoding="utf-8") as lines:
        for line in lines:
            if " <- " in line or " <-> " in line:
                continue
            message = json.loads(line.partition(": ")[2])
            if message.get("arg", {}).get("channel") == "books" and "data" in message:
                yield message


@pytest.mark.parametrize("max_depth", [None, 400])
def test_replaying_the_2022_capture_verifies_every_books_push(max_depth: int | None) -> None:
    engines: dict[str, BookEngine] = {}
    pushes = 0
    for message in _capture_books():
        inst_id = message["arg"]["instId"]
        engine = engines.setdefault(inst_id, BookEngine(inst_id, "books", max_depth=max_depth))
        (data,) = message["data"]
        assert int(data["checksum"]) != 0
        # 2022's pushes carried no seqId/prevSeqId: the checksum is the integrity signal.
        result = engine.apply(
            message["action"],
            data.get("prevSeqId"),
            data.get("seqId"),
            int(data["ts"]),
            data["bids"],
            data["asks"],
            int(data["checksum"]),
        )
        assert result == APPLIED, (pushes, engine.invalid_detail)
        book = book_of(engine)
        assert book.checksum() == int(data["checksum"])
        bid, ask = book.best_bid, book.best_ask
        assert bid is not None and ask is not None and bid.price < ask.price
        pushes += 1
    assert pushes == 290
    assert set(engines) == {"BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT"}
    assert len(book_of(engines["BTC-USDT"]).bids) == 400


def test_unsequenced_update_needs_a_checksum() -> None:
    engine = BookEngine("BTC-USDT", "books")
    engine.apply("snapshot", None, None, 1, [lv("100", "1")], [lv("101", "1")])
    assert engine.valid and engine.seq_id is None
    assert engine.apply("update", None, None, 2, [], []) == invalidated(InvalidReason.BAD_MESSAGE)


def test_sequenced_and_unsequenced_do_not_mix() -> None:
    engine = seeded(10)
    assert engine.apply("update", None, None, 2, [], [], 5) == invalidated(
        InvalidReason.BAD_MESSAGE
    )
    engine.apply("snapshot", None, None, 1, [lv("100", "1")], [lv("101", "1")])
    assert engine.apply("update", 1, 2, 2, [], []) == invalidated(InvalidReason.BAD_MESSAGE)


# -- rule 5: REST seeding ------------------------------------------------------------------

REST_BIDS = [lv("100", "1"), lv("99", "2")]
REST_ASKS = [lv("101", "3")]


def test_rest_seed_docs_steps() -> None:
    engine = BookEngine("BTC-USDT", "books")
    engine.begin_rest_seed()
    assert engine.status is BookStatus.SEEDING and engine.book() is None
    for prev, seq, bids in [(20, 25, [lv("100", "5")]), (25, 31, [lv("98", "1")])]:
        assert engine.apply("update", prev, seq, seq, bids, []) == BUFFERED
    assert engine.apply("update", 31, 40, 40, [lv("99", "0")], []) == BUFFERED
    assert engine.buffered == 3
    # Step 3: REST seqId below the first buffered prevSeqId is too old; nothing is lost.
    assert engine.apply_rest_snapshot(19, 1, REST_BIDS, REST_ASKS) is SeedOutcome.TOO_OLD
    assert engine.status is BookStatus.SEEDING and engine.buffered == 3
    # Steps 4-5: (20, 25) is in the REST book already; (25, 31) brackets 27.
    assert engine.apply_rest_snapshot(27, 27, REST_BIDS, REST_ASKS) is SeedOutcome.OK
    book = book_of(engine)
    assert book.seq_id == 40 and book.ts == 40
    assert book.bids == (L("100", "1"), L("98", "1"))
    assert engine.apply("update", 40, 41, 41, [], []) == APPLIED
    assert engine.apply_rest_snapshot(27, 27, REST_BIDS, REST_ASKS) is SeedOutcome.NOT_SEEDING


def test_rest_seed_at_an_update_boundary() -> None:
    engine = BookEngine("BTC-USDT", "books")
    engine.begin_rest_seed()
    engine.apply("update", 20, 25, 25, [lv("100", "5")], [])
    engine.apply("update", 25, 31, 31, [lv("98", "1")], [])
    assert engine.apply_rest_snapshot(25, 25, REST_BIDS, REST_ASKS) is SeedOutcome.OK
    assert book_of(engine).bids == (L("100", "1"), L("99", "2"), L("98", "1"))
    assert engine.seq_id == 31


def test_a_break_in_the_buffered_chain_restarts_the_buffer() -> None:
    # Buffered updates always chain by identity (a break drops what came before it), so
    # the first one left after dropping brackets the REST seqId whenever that is not too old.
    engine = BookEngine("BTC-USDT", "books")
    engine.begin_rest_seed()
    engine.apply("update", 20, 25, 25, [], [])
    engine.apply("update", 25, 31, 31, [], [])
    engine.apply("update", 35, 40, 40, [], [])
    assert engine.buffered == 1
    assert engine.apply_rest_snapshot(31, 31, REST_BIDS, REST_ASKS) is SeedOutcome.TOO_OLD
    engine.apply("update", 40, 44, 44, [], [])
    assert engine.apply_rest_snapshot(41, 41, REST_BIDS, REST_ASKS) is SeedOutcome.OK
    assert engine.seq_id == 44


def test_rest_seed_newer_than_every_buffered_update() -> None:
    engine = BookEngine("BTC-USDT", "books")
    engine.begin_rest_seed()
    engine.apply("update", 20, 25, 25, [lv("100", "5")], [])
    assert engine.apply_rest_snapshot(35, 35, REST_BIDS, REST_ASKS) is SeedOutcome.OK
    assert engine.seq_id == 35 and book_of(engine).bids[0] == L("100", "1")
    assert engine.apply("update", 31, 40, 40, [lv("100", "7")], []) == APPLIED
    assert book_of(engine).bids[0] == L("100", "7")


def test_rest_seed_with_nothing_buffered_brackets_the_next_update() -> None:
    engine = BookEngine("BTC-USDT", "books")
    engine.begin_rest_seed()
    assert engine.apply_rest_snapshot(27, 5, REST_BIDS, REST_ASKS) is SeedOutcome.OK
    assert engine.seq_id == 27 and book_of(engine).ts == 5
    assert engine.apply("update", 20, 27, 6, [lv("100", "9")], []) == SKIPPED
    assert engine.apply("update", 27, 27, 6, [], []) == SKIPPED
    assert book_of(engine).bids[0] == L("100", "1")
    assert engine.apply("update", 27, 30, 7, [lv("100", "9")], []) == APPLIED
    assert book_of(engine).bids[0] == L("100", "9")
    # From now on, identity: a seqId at or below the REST one is a gap, not a skip.
    assert engine.apply("update", 20, 27, 8, [], []) == invalidated(InvalidReason.GAP)


def test_rest_seed_gap_after_the_rest_book() -> None:
    engine = BookEngine("BTC-USDT", "books")
    engine.begin_rest_seed()
    engine.apply_rest_snapshot(27, 5, REST_BIDS, REST_ASKS)
    assert engine.apply("update", 28, 30, 7, [], []) == invalidated(InvalidReason.GAP)


def test_rest_seed_failure_in_a_buffered_update_restarts() -> None:
    engine = BookEngine("BTC-USDT", "books")
    engine.begin_rest_seed()
    engine.apply("update", 20, 25, 25, [lv("101", "1")], [])  # crosses the REST ask 101
    assert engine.apply_rest_snapshot(22, 22, REST_BIDS, REST_ASKS) is SeedOutcome.RESTART
    assert engine.invalid_reason is InvalidReason.CROSSED and engine.book() is None


def test_bad_rest_snapshot_restarts() -> None:
    engine = BookEngine("BTC-USDT", "books")
    engine.begin_rest_seed()
    outcome = engine.apply_rest_snapshot(22, 22, [lv("x", "1")], REST_ASKS)
    assert outcome is SeedOutcome.RESTART
    assert engine.invalid_reason is InvalidReason.BAD_SNAPSHOT


def test_seed_buffer_is_bounded_dropping_the_oldest() -> None:
    engine = BookEngine("BTC-USDT", "books", seed_buffer=2)
    engine.begin_rest_seed()
    for prev, seq in [(1, 2), (2, 3), (3, 4)]:
        assert engine.apply("update", prev, seq, seq, [], []) == BUFFERED
    assert engine.buffered == 2
    assert engine.apply_rest_snapshot(1, 1, REST_BIDS, REST_ASKS) is SeedOutcome.TOO_OLD
    assert engine.apply_rest_snapshot(2, 2, REST_BIDS, REST_ASKS) is SeedOutcome.OK
    assert engine.seq_id == 4


def test_a_websocket_snapshot_ends_the_seed() -> None:
    engine = BookEngine("BTC-USDT", "books")
    engine.begin_rest_seed()
    engine.apply("update", 1, 2, 2, [], [])
    assert engine.apply("snapshot", -1, 5, 5, REST_BIDS, REST_ASKS) == APPLIED
    assert engine.buffered == 0 and engine.seq_id == 5
    assert engine.apply_rest_snapshot(3, 3, REST_BIDS, REST_ASKS) is SeedOutcome.NOT_SEEDING


def test_seeding_needs_sequence_ids() -> None:
    engine = BookEngine("BTC-USDT", "books")
    engine.begin_rest_seed()
    assert engine.apply("update", None, None, 1, [], [], 7) == invalidated(
        InvalidReason.BAD_MESSAGE
    )


# -- rule 6: splicing connections ----------------------------------------------------------


@pytest.mark.parametrize(
    ("seq_id", "links", "expected"),
    [
        (15, [(10, 15), (15, 21), (21, 30)], 1),
        (10, [(10, 15), (15, 21)], 0),
        (21, [(10, 15), (15, 21)], 2),
        (15, [(15, 15), (15, 3), (3, 5)], 0),
        (12, [(10, 15), (15, 21)], None),
        (40, [(10, 15), (15, 21)], None),
        (15, [(10, 15), (15, 21), (22, 30)], None),
        (15, [], None),
    ],
    ids=[
        "middle",
        "first",
        "caught-up",
        "keep-alive-and-reset",
        "between",
        "ahead",
        "broken",
        "empty",
    ],
)
def test_splice_index(seq_id: int, links: list[tuple[int, int]], expected: int | None) -> None:
    assert splice_index(seq_id, links) == expected


def test_make_before_break_continues_on_the_new_connection() -> None:
    old = seeded(10)
    old.apply("update", 10, 15, 2, [lv("98", "1")], [])
    new_links = [(10, 15, [lv("98", "1")]), (15, 21, [lv("97", "1")]), (21, 30, [lv("96", "1")])]
    start = splice_index(old.seq_id or 0, [(p, s) for p, s, _ in new_links])
    assert start == 1
    new = old.copy()
    for prev, seq, bids in new_links[start:]:
        assert new.apply("update", prev, seq, seq, bids, []) == APPLIED
    assert [lvl.price for lvl in book_of(new).bids] == [
        Decimal(p) for p in ["100", "99", "98", "97", "96"]
    ]
    # The old engine is untouched by its copy.
    assert old.seq_id == 15 and len(book_of(old).bids) == 3


# -- the OrderBook view --------------------------------------------------------------------


def test_accessors_exact_decimals() -> None:
    engine = BookEngine("BTC-USDT", "books")
    engine.apply(
        "snapshot",
        -1,
        7,
        1652459225000,
        [lv("30243.4", "0.0012029", "1"), lv("30243.3", "0.5", "2"), lv("30242", "1", "3")],
        [lv("30243.5", "0.25", "4"), lv("30244", "2", "5")],
    )
    book = book_of(engine)
    assert (book.inst_id, book.channel, book.seq_id, book.ts) == (
        "BTC-USDT",
        "books",
        7,
        1652459225000,
    )
    assert book.best_bid == BookLevel(Decimal("30243.4"), Decimal("0.0012029"), 1)
    assert book.best_ask == BookLevel(Decimal("30243.5"), Decimal("0.25"), 4)
    assert book.spread == Decimal("0.1")
    assert book.mid == Decimal("30243.45")
    assert book.depth(2) == (
        (L("30243.4", "0.0012029", 1), L("30243.3", "0.5", 2)),
        (L("30243.5", "0.25", 4), L("30244", "2", 5)),
    )
    assert book.depth(0) == ((), ())
    assert book.depth(10)[0] == book.bids and len(book.bids) == 3
    assert len(book) == 5
    assert "best_bid=30243.4" in repr(book)
    top = book.snapshot(1)
    assert (top.bids, top.asks, top.seq_id) == (
        (L("30243.4", "0.0012029", 1),),
        (L("30243.5", "0.25", 4),),
        7,
    )
    whole = book.snapshot()
    assert (whole.bids, whole.asks) == (book.bids, book.asks)
    assert book.snapshot(0).bids == ()


def test_empty_sides() -> None:
    engine = BookEngine("BTC-USDT", "books")
    engine.apply("snapshot", -1, 1, 1, [], [lv("5", "1")])
    book = book_of(engine)
    assert book.best_bid is None and book.spread is None and book.mid is None
    assert book.best_ask == L("5", "1")


def test_a_view_never_changes() -> None:
    engine = seeded(10)
    view = book_of(engine)
    assert engine.book() is view
    engine.apply("update", 10, 11, 2, [lv("100", "0"), lv("99.5", "1")], [lv("101", "9")])
    assert view.bids == (L("100", "1"), L("99", "2"))
    assert view.asks == (L("101", "3"), L("102", "4"))
    assert view.seq_id == 10
    now = book_of(engine)
    assert now is not view
    assert now.bids == (L("99.5", "1"), L("99", "2")) and now.asks[0] == L("101", "9")
    engine.apply("update", 11, 12, 3, [], [], 0)
    engine.apply("update", 12, 13, 3, [lv("1", "1")], [])
    assert now.bids == (L("99.5", "1"), L("99", "2"))
    engine.apply("update", 12, 13, 3, [], [])  # a duplicate: the engine drops its book
    assert now.bids == (L("99.5", "1"), L("99", "2"))


def test_a_snapshot_copy_is_independent() -> None:
    engine = seeded(10)
    copy = book_of(engine).snapshot()
    engine.apply("update", 10, 11, 2, [lv("100", "0")], [])
    assert copy.bids == (L("100", "1"), L("99", "2"))
    assert copy.accepts(10) and not copy.accepts(11)


def test_max_depth_keeps_the_best_levels() -> None:
    engine = BookEngine("BTC-USDT", "books", max_depth=25)
    bids = [lv(str(100 - i), "1") for i in range(30)]
    asks = [lv(str(200 + i), "1") for i in range(30)]
    engine.apply("snapshot", -1, 1, 1, bids, asks)
    book = book_of(engine)
    assert len(book.bids) == 25 and book.bids[-1].price == Decimal("76")
    assert len(book.asks) == 25 and book.asks[-1].price == Decimal("224")
    engine.apply("update", 1, 2, 2, [lv("100.5", "1")], [lv("199", "1")])
    book = book_of(engine)
    assert book.bids[-1].price == Decimal("77") and book.asks[-1].price == Decimal("223")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_depth": 5}, "max_depth must be None or >= 25, got 5"),
        ({"seed_buffer": 0}, "seed_buffer must be >= 1, got 0"),
    ],
)
def test_engine_arguments_are_checked(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BookEngine("BTC-USDT", "books", **kwargs)
