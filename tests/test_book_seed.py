"""The REST seed's buffer and bracket, on their own (the engine's use of them is in
tests/test_book.py and tests/test_protocol_books.py)."""

from __future__ import annotations

import pytest

from okx_trio._book_seed import Buffered, SeedState
from okx_trio._book_seq import BrokenRule, InvalidReason


def update(prev: int | None, seq: int | None) -> Buffered:
    return Buffered(prev, seq, 0, [], [], 0)


def test_a_break_in_the_chain_drops_what_came_before_it() -> None:
    seed = SeedState(10)
    seed.add(update(1, 3))
    seed.add(update(3, 7))
    seed.add(update(9, 12))  # 7 -> 9 is missing: 1..7 can never be applied after it
    assert [u.seq_id for u in seed.seeded(10)] == [12]
    assert len(seed) == 0


def test_the_buffer_keeps_the_newest_updates() -> None:
    seed = SeedState(2)
    for prev in range(5):
        seed.add(update(prev, prev + 1))
    assert len(seed) == 2
    assert seed.too_old(2)  # the oldest kept starts at 3
    assert not seed.too_old(3)
    assert [u.prev_seq_id for u in seed.seeded(3)] == [3, 4]


def test_an_update_without_ids_cannot_be_buffered() -> None:
    with pytest.raises(BrokenRule) as broken:
        SeedState(2).add(update(None, 5))
    assert broken.value.reason is InvalidReason.BAD_MESSAGE


def test_the_bracket_skips_what_the_rest_book_holds_then_continues_from_the_bracket() -> None:
    seed = SeedState(5)
    seed.seeded(100)
    assert seed.bracketing
    assert seed.bracket(90, 100) is None  # held by the REST book
    assert seed.bracket(98, 104) == 98  # prevSeqId <= 100 < seqId: continue from 98
    assert not seed.bracketing


@pytest.mark.parametrize(
    ("prev", "seq", "reason"),
    [(101, 105, InvalidReason.GAP), (None, 105, InvalidReason.BAD_MESSAGE)],
)
def test_an_update_that_cannot_bracket_breaks_the_seed(
    prev: int | None, seq: int | None, reason: InvalidReason
) -> None:
    seed = SeedState(5)
    seed.seeded(100)
    with pytest.raises(BrokenRule) as broken:
        seed.bracket(prev, seq)
    assert broken.value.reason is reason


def test_a_copy_is_independent() -> None:
    seed = SeedState(5)
    seed.add(update(1, 2))
    twin = seed.copy()
    twin.add(update(2, 3))
    seed.clear()
    assert (len(seed), len(twin), twin.maxlen) == (0, 2, 5)
