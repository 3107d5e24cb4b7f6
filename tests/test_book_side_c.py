"""The C merge loop (``okx_trio/_book_side_c.c``) does what the Python one does: the same
side, the same refusals with the same messages, the same cells for views, on random and on
garbage input. The Python methods of :class:`~okx_trio._book_side.Side` are the
specification; every other book test runs on both loops (``merge_loop`` in conftest)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import okx_trio._book_side as module
from okx_trio._book_levels import PRICE_KEYS, BadLevel, level_error
from okx_trio._book_side import PriceTwice, Side, quick_ok, snapshot_levels

from ._book_helpers import side_of

pytestmark = pytest.mark.skipif(
    not module.ACCELERATED, reason="okx_trio was built without a C compiler: no C merge loop"
)
#: The C loop (Any: some tests call it with what it must refuse).
C_MERGE: Any = module._merge_c


@contextmanager
def pure_python() -> Iterator[None]:
    """The Python loop, for the span of the block."""
    module._merge_c = None
    try:
        yield
    finally:
        module._merge_c = C_MERGE


def state(side: Side) -> tuple[Any, ...]:
    """Everything a side is, but its identity: keys, cells (their OKX strings and whether
    they may be written in place) and the index (by text, each the cell in ``raws``)."""
    assert len(side.keys) == len(side.raws)
    assert side.index == {cell[0]: cell for cell in side.raws}
    assert all(side.index[cell[0]] is cell for cell in side.raws)
    return (
        side.keys,
        [(*cell[:3], cell[3], cell[4], cell[5] is side.token) for cell in side.raws],
        sorted(side.index),
        side.shared,
    )


def merge(side: Side, levels: Any) -> str | None:
    """What merge_all said: None, or the refusal (its type and message)."""
    try:
        side.merge_all(levels)
    except (BadLevel, TypeError) as error:
        return f"{type(error).__name__}: {error}"
    return None


PRICES = ["100", "100.0", "100.00", "99.5", "99.50", "101", "0.001", "98", "102.25", "1e2"]
VALID_SIZES = ["0", "0.0", "0.000", "1", "2.5", "0.10", "10", "0.5"]
SIZES = [*VALID_SIZES, "3.", ".5", "01", "00", "-1", "1e3", "\u0661", "1.2.3", "1..2", ".", ""]
ORDERS = ["0", "1", "12", "999", "1000", "01", "-1", "a", "", "\u0663"]

price = st.one_of(st.sampled_from(PRICES), st.decimals("0.1", "200", places=2).map(str))
size = st.one_of(
    st.sampled_from(SIZES), st.decimals("0", "50", places=3).map(str), st.text(max_size=5)
)
orders = st.one_of(st.sampled_from(ORDERS), st.integers(0, 1200).map(str))
liquidated = st.sampled_from(["0", "1", ""])
# Levels the quick check takes (most of what OKX sends), and levels of any strings.
valid_level = st.tuples(
    price,
    st.one_of(st.sampled_from(VALID_SIZES), st.decimals("0", "50", places=3).map(str)),
    liquidated,
    st.integers(0, 999).map(str),
)
good_level = st.tuples(price, size, liquidated, orders)
junk = st.one_of(
    st.none(), st.integers(), st.floats(), st.binary(max_size=4), st.text(max_size=4)
)
bad_level = st.one_of(
    junk,
    st.lists(st.one_of(price, junk), max_size=6),
    st.tuples(junk, size, liquidated, orders),
    st.tuples(price, junk, liquidated, orders),
    st.tuples(price, size, liquidated, junk),
    st.just({"0": "100"}),
)
level = st.one_of(good_level, good_level.map(list), bad_level)
update = st.one_of(
    st.lists(valid_level, max_size=12),
    st.lists(st.one_of(valid_level, valid_level.map(list)), max_size=12),
    st.lists(good_level, max_size=12),
    st.lists(st.one_of(good_level, good_level.map(list)), max_size=12),
    st.lists(level, max_size=12),
    st.lists(level, max_size=3).map(tuple),
)
operation = st.one_of(update, st.just("share"))


@settings(max_examples=600, deadline=None)
@given(
    start=st.lists(st.sampled_from(["100", "99.5", "98", "101", "97.25"]), unique=True),
    bids=st.booleans(),
    operations=st.lists(operation, max_size=8),
)
def test_the_c_loop_does_what_the_python_loop_does(
    start: list[str], bids: bool, operations: list[Any]
) -> None:
    levels = [[px, "1", "0", "1"] for px in start]
    fast, slow = side_of(levels, bids), side_of(levels, bids)
    views: list[tuple[list[Any], list[Any], list[Any]]] = []
    for op in operations:
        if op == "share":
            for side in (fast, slow):
                shared = side.share()
                views.append((shared, shared.copy(), [cell.copy() for cell in shared]))
            continue
        said = merge(fast, op)
        with pure_python():
            assert merge(slow, op) == said, op
        assert state(fast) == state(slow), op
    # No write reached a list or a cell a view holds.
    for shared, order, cells in views:
        assert shared == order and [cell.copy() for cell in shared] == cells


@settings(max_examples=800, deadline=None)
@given(level)
def test_the_c_check_never_takes_a_level_the_rule_refuses(one: Any) -> None:
    side = side_of([["100", "1", "0", "1"], ["99", "1", "0", "1"]], True)
    try:
        taken = C_MERGE(
            [one], side.keys, side.raws, side.index, side.token, False, PRICE_KEYS, module._key_of
        )
    except BadLevel:  # passed the check, but its price is refused
        assert level_error(one) is not None
        return
    if taken:
        assert level_error(one) is None, one


@settings(max_examples=600, deadline=None)
@given(update)
def test_the_c_check_and_the_python_check_take_the_same_updates(levels: Any) -> None:
    fast = quick_ok(levels)
    with pure_python():
        assert quick_ok(levels) == fast, levels


def _snapshot(levels: Any) -> Any:
    try:
        return {key: raw for key, raw in snapshot_levels(levels).items()}
    except (BadLevel, PriceTwice) as error:
        return f"{type(error).__name__}: {error}"


@settings(max_examples=600, deadline=None)
@given(update)
def test_a_snapshot_side_comes_out_the_same_from_either_check(levels: Any) -> None:
    fast = _snapshot(levels)
    with pure_python():
        assert _snapshot(levels) == fast, levels


def test_a_refused_price_leaves_the_levels_before_it_merged_as_in_python() -> None:
    levels = [["100", "2", "0", "1"], ["0", "1", "0", "1"], ["99", "3", "0", "1"]]
    fast = side_of([["100", "1", "0", "1"]], True)
    with pytest.raises(BadLevel, match="positive"):
        fast.merge_all(levels)
    slow = side_of([["100", "1", "0", "1"]], True)
    with pure_python(), pytest.raises(BadLevel, match="positive"):
        slow.merge_all(levels)
    assert state(fast) == state(slow)
    assert fast.index["100"][1] == "2" and "99" not in fast.index


def test_the_c_loop_refuses_what_is_not_a_side() -> None:
    side = side_of([["100", "1", "0", "1"]], True)
    args: list[Any] = [[], side.keys, side.raws, side.index, side.token, False, PRICE_KEYS]
    with pytest.raises(TypeError, match="8 arguments"):
        C_MERGE(*args)
    with pytest.raises(TypeError, match="lists and dicts"):
        C_MERGE([], (), side.raws, side.index, side.token, False, PRICE_KEYS, module._key_of)
    with pytest.raises(SystemError, match="disagree"):
        C_MERGE([], [], side.raws, side.index, side.token, False, PRICE_KEYS, module._key_of)
    # Not a sequence of levels: nothing merged, the careful path says what is wrong.
    assert C_MERGE(5, *args[1:], module._key_of) is False
    assert state(side) == state(side_of([["100", "1", "0", "1"]], True))
