"""The side structure under the engine: levels found by OKX's text, sizes written in place,
and views that never see a write made after they were taken."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okx_trio._book import BookEngine
from okx_trio._book_levels import (
    PRICE_KEYS,
    PRICE_KEYS_MAX,
    BadLevel,
    level_error,
    price_key,
)
from okx_trio._book_side import Side

from ._book_helpers import side_of

# Each test runs on the C merge loop and on the pure-Python one (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("merge_loop")


def lv(px: str, sz: str, orders: str = "1") -> list[str]:
    return [px, sz, "0", orders]


def engine(bids: list[list[str]], asks: list[list[str]]) -> BookEngine:
    book = BookEngine("BTC-USDT", "books")
    assert book.apply("snapshot", -1, 1, 1, bids, asks).outcome.value == "applied"
    return book


def update(book: BookEngine, bids: list[Any], asks: list[Any]) -> str:
    seq = book.seq_id
    assert seq is not None
    return book.apply("update", seq, seq + 1, seq + 1, bids, asks).outcome.value


def texts(book: BookEngine) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    view = book.book()
    assert view is not None
    return view.raw_depth(100)


def consistent(side: Side) -> None:
    """keys, raws and index describe the same levels."""
    assert side.keys == sorted(side.keys)
    sign = 1 if side.bids else -1
    assert side.keys == [sign * float(cell[0]) for cell in side.raws]
    assert side.index == {cell[0]: cell for cell in side.raws}


def test_a_price_written_another_way_is_the_same_level() -> None:
    book = engine([lv("100.0", "1"), lv("99", "2")], [lv("101", "1")])
    assert update(book, [lv("100.00", "5")], []) == "applied"
    # One level at 100, with the text and size of the latest update.
    assert texts(book)[0] == [("100.00", "5", "1"), ("99", "2", "1")]
    assert update(book, [lv("100", "0")], [lv("101.000", "0")]) == "applied"
    assert texts(book) == ([("99", "2", "1")], [])
    consistent(book._bids)
    consistent(book._asks)


def test_a_size_written_as_zero_in_any_plain_form_deletes() -> None:
    book = engine([lv("100", "1"), lv("99", "1"), lv("98", "1")], [lv("101", "1")])
    assert update(book, [lv("100", "0.0"), lv("99", "0.00"), lv("98", "0.000")], []) == "applied"
    assert texts(book)[0] == []


def test_levels_the_quick_check_does_not_take_still_apply_or_fail_by_the_full_rule() -> None:
    book = engine([lv("100", "1")], [lv("101", "1")])
    # In OKX's plain form, but past the quick check: a 101-character size, 1,000 orders.
    long_size = "1." + "5" * 99
    assert update(book, [lv("100", long_size, "1000"), lv("99", "3")], []) == "applied"
    assert texts(book)[0] == [("100", long_size, "1000"), ("99", "3", "1")]
    # Numbers, but not as OKX writes them (a record could not give their text back), and
    # garbage: the book is dropped, the message names the size.
    not_plain = ("-1", "2E-1", "3.", ".5", "00", "01", "\u0660", " 1", "1_0", "1" * 100)
    for bad in (*not_plain, "nan", "inf", "", ".", "1.2.3", "1x"):
        book = engine([lv("100", "1")], [lv("101", "1")])
        assert update(book, [lv("100", bad)], []) == "invalidated", bad
        assert "size" in (book.invalid_detail or ""), bad


def test_a_view_never_sees_a_size_written_after_it() -> None:
    book = engine([lv("100", "1"), lv("99", "1")], [lv("101", "1")])
    first = book.book()
    assert first is not None
    assert update(book, [lv("100", "2")], []) == "applied"  # a new level: the view holds the old
    assert update(book, [lv("100", "3")], []) == "applied"  # written in place: no view holds it
    second = book.book()
    assert second is not None
    assert update(book, [lv("100", "4"), lv("99", "5")], []) == "applied"
    assert update(book, [lv("100", "6")], []) == "applied"
    assert [lvl.size for lvl in first.bids] == [Decimal(1), Decimal(1)]
    assert [lvl.size for lvl in second.bids] == [Decimal(3), Decimal(1)]
    assert texts(book)[0] == [("100", "6", "1"), ("99", "5", "1")]


def test_a_snapshot_of_a_view_never_sees_later_writes() -> None:
    book = engine([lv("100", "1"), lv("99", "1")], [lv("101", "1")])
    view = book.book()
    assert view is not None
    copy = view.snapshot(1)
    for size in ("2", "3", "4"):
        assert update(book, [lv("100", size)], []) == "applied"
    assert copy.raw_depth(5)[0] == [("100", "1", "1")]


def test_a_copied_engine_and_its_original_never_write_into_each_other() -> None:
    book = engine([lv("100", "1"), lv("99", "1")], [lv("101", "1")])
    assert update(book, [lv("100", "2")], []) == "applied"  # a cell the original may write
    twin = book.copy()
    assert update(book, [lv("100", "7")], []) == "applied"
    assert update(twin, [lv("100", "8"), lv("98", "1")], []) == "applied"
    assert update(book, [lv("100", "9")], []) == "applied"
    assert texts(book)[0] == [("100", "9", "1"), ("99", "1", "1")]
    assert texts(twin)[0] == [("100", "8", "1"), ("99", "1", "1"), ("98", "1", "1")]


def test_levels_trimmed_past_the_depth_leave_the_index() -> None:
    bids = [lv(str(1000 - i), "1") for i in range(25)]
    book = BookEngine("BTC-USDT", "books", max_depth=25)
    book.apply("snapshot", -1, 1, 1, bids, [lv("2000", "1")])
    assert update(book, [lv("1001", "1")], []) == "applied"  # pushes 976 out
    assert "976" not in book._bids.index
    consistent(book._bids)
    # 976 again is a new price, placed in order (and trimmed again: it is the worst).
    assert update(book, [lv("976", "3")], []) == "applied"
    assert "976" not in book._bids.index and len(book._bids.keys) == 25
    consistent(book._bids)


@pytest.mark.parametrize(
    "level",
    [["x", "1", "0", "1"], ["100", "1", "0", "a"], [100, "1", "0", "1"], "1001", ("100", "1")],
)
def test_a_bad_level_is_refused_with_its_message_even_for_a_known_price(level: Any) -> None:
    side = side_of([lv("100", "1"), lv("1", "2")])
    with pytest.raises(BadLevel, match="level"):
        side.merge_all([level])


def test_merging_keeps_keys_raws_and_index_in_step() -> None:
    side = side_of([lv(str(p), "1") for p in range(90, 100)], bids=False)
    side.merge_all(
        [lv("95", "0"), lv("95.5", "2"), lv("90.0", "3"), lv("120", "1"), lv("91", "0.0")]
    )
    consistent(side)
    # Asks: worst (highest) first, best last.
    assert [cell[0] for cell in side.raws] == [
        "120",
        "99",
        "98",
        "97",
        "96",
        "95.5",
        "94",
        "93",
        "92",
        "90.0",
    ]
    assert side.best() == 90.0


def test_checked_levels_merge_as_unchecked_ones_do() -> None:
    start = [lv(str(p), "1") for p in range(90, 100)]
    changes = [
        lv("95", "0"),
        lv("95.5", "2"),
        lv("90.0", "3"),  # 90, written another way
        lv("120", "1"),
        lv("91.00", "0.000"),  # a zero for 91, written another way
        lv("93", "0.10"),  # ends in 0, not a zero
        lv("500", "0"),  # a zero for a price not in the side: harmless
    ]
    for bids in (True, False):
        checked, unchecked = side_of(start, bids), side_of(start, bids)
        checked.merge_checked(changes)
        unchecked.merge_all(changes)
        consistent(checked)
        assert [c[:3] for c in checked.raws] == [c[:3] for c in unchecked.raws]
        assert "91" not in checked.index and "90" not in checked.index
        assert checked.index["90.0"][1] == "3" and checked.index["93"][1] == "0.10"


def test_a_new_price_the_engine_refuses_is_refused_on_the_checked_path_too() -> None:
    refused = (("0", "positive"), ("1e200", "plain form"), ("1.00000000000000001", "15"))
    for price, why in refused:
        side = side_of([lv("100", "1")])
        with pytest.raises(BadLevel, match=why):
            side.merge_checked([lv(price, "1")])
        assert price not in PRICE_KEYS


def test_prices_met_once_are_not_parsed_again_and_the_memo_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    side = side_of([lv("100", "1")])
    side.merge_checked([lv("101", "1"), lv("101", "0")])
    assert PRICE_KEYS["101"] == 101.0
    import okx_trio._book_side as module

    def no_parse(px: str) -> float | None:
        raise AssertionError(f"{px} parsed again")

    monkeypatch.setattr(module, "price_key", no_parse)
    side.merge_checked([lv("101", "2")])  # back after its deletion: its key is remembered
    assert side.index["101"][1] == "2"
    monkeypatch.undo()
    PRICE_KEYS.clear()
    for n in range(PRICE_KEYS_MAX + 10):
        price_key(f"{n + 1}.5")
    assert 0 < len(PRICE_KEYS) <= PRICE_KEYS_MAX


size_like = st.text(alphabet="0123456789.-eE \u0660", max_size=8)
count_like = st.one_of(
    st.text(alphabet="0123456789-. \u0663", max_size=5), st.integers(0, 1500).map(str)
)


@settings(max_examples=800, deadline=None)
@given(st.one_of(size_like, st.text(max_size=4)), count_like)
def test_the_quick_check_takes_exactly_what_the_full_rule_takes(size: str, orders: str) -> None:
    """merge_all's written-out check and level_error agree on every size and count: a level
    is merged exactly when the rule takes it, and then by its numeric size."""
    level = ["100", size, "0", orders]
    side = side_of([lv("100", "1"), lv("99", "1")])
    try:
        side.merge_all([level])
        taken = True
    except BadLevel:
        taken = False
    assert taken == (level_error(level) is None), level
    if taken:
        consistent(side)
        assert ("100" in side.index) == (Decimal(size) != 0), level
