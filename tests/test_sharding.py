"""Placement: sticky, balanced, deterministic placement of instruments onto shards."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys

import pytest

from okx_trio._sharding import Placement, shard_weight

IDS = [f"C{i:04d}-USDT" for i in range(2000)]


def _flatten(layout: dict[int, frozenset[str]]) -> dict[str, int]:
    return {inst_id: shard for shard, ids in layout.items() for inst_id in ids}


def test_shard_weight_is_blake2b_of_shard_and_id() -> None:
    digest = hashlib.blake2b(b"3:BTC-USDT", digest_size=8).digest()
    assert shard_weight("BTC-USDT", 3) == int.from_bytes(digest, "big")
    assert 0 <= shard_weight("BTC-USDT", 0) < 2**64
    assert shard_weight("BTC-USDT", 0) != shard_weight("BTC-USDT", 1)
    assert shard_weight("BTC-USDT", 0) != shard_weight("ETH-USDT", 0)


def test_shard_weight_is_the_same_in_another_process() -> None:
    # Python's str hash() is salted per process; shard_weight must not be.
    code = "from okx_trio._sharding import shard_weight; print(shard_weight('BTC-USDT', 2))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert int(out.stdout) == shard_weight("BTC-USDT", 2)


def test_fresh_placement() -> None:
    placement = Placement(10)
    assert placement.max_per_shard == 10
    assert placement.shards == (0,)
    assert placement.layout() == {0: frozenset()}
    assert placement.shard_of("BTC-USDT") is None
    assert placement.assign([]) == {0: frozenset()}


def test_without_a_maximum_everything_is_on_shard_0() -> None:
    placement = Placement(None)
    assert placement.max_per_shard is None
    layout = placement.assign(IDS)
    assert layout == {0: frozenset(IDS)}
    assert placement.shards == (0,)
    assert placement.shard_of("C0042-USDT") == 0
    assert placement.assign(IDS[:3]) == {0: frozenset(IDS[:3])}
    assert placement.shard_of("C0042-USDT") is None


def test_2000_ids_by_500_fill_exactly_4_shards() -> None:
    placement = Placement(500)
    layout = placement.assign(IDS)
    assert list(layout) == [0, 1, 2, 3]
    assert placement.shards == (0, 1, 2, 3)
    assert all(len(ids) == 500 for ids in layout.values())
    assert set().union(*layout.values()) == set(IDS)
    for shard, ids in layout.items():
        for inst_id in ids:
            assert placement.shard_of(inst_id) == shard


@pytest.mark.parametrize(
    ("total", "maximum", "shards"),
    [(1, 5, 1), (5, 5, 1), (6, 5, 2), (2001, 500, 5), (999, 100, 10)],
)
def test_from_scratch_uses_ceil_total_over_max_shards(
    total: int, maximum: int, shards: int
) -> None:
    layout = Placement(maximum).assign(f"X{i:05d}-USDT" for i in range(total))
    assert list(layout) == list(range(shards))
    assert all(len(ids) <= maximum for ids in layout.values())
    assert sum(len(ids) for ids in layout.values()) == total


def test_each_id_goes_to_its_highest_weight_shard_while_there_is_room() -> None:
    placement = Placement(1500)
    layout = placement.assign(IDS)  # ceil(2000 / 1500) = 2 shards, room for 3000
    assert list(layout) == [0, 1]
    for inst_id, shard in _flatten(layout).items():
        assert shard_weight(inst_id, shard) > shard_weight(inst_id, 1 - shard)
    # The hash spreads them evenly.
    assert 900 < len(layout[0]) < 1100


def test_churn_moves_nothing_that_stays() -> None:
    placement = Placement(500)
    before = _flatten(placement.assign(IDS))
    kept = IDS[100:]
    added = [f"N{i:04d}-USDT" for i in range(100)]
    after = _flatten(placement.assign([*kept, *added]))
    assert all(after[inst_id] == before[inst_id] for inst_id in kept)
    assert set(after) == set(kept) | set(added)
    counts = {s: list(after.values()).count(s) for s in set(after.values())}
    assert sorted(counts) == [0, 1, 2, 3]
    assert all(n <= 500 for n in counts.values())
    # The 100 new ids fill exactly the room the removed ones left, shard by shard.
    freed = {s: sum(1 for i in IDS[:100] if before[i] == s) for s in range(4)}
    placed = {s: sum(1 for i in added if after[i] == s) for s in range(4)}
    assert placed == freed


def test_same_input_same_layout_in_a_fresh_placement() -> None:
    first = Placement(500).assign(IDS)
    shuffled = list(IDS)
    random.Random(1).shuffle(shuffled)
    assert Placement(500).assign(shuffled) == first
    assert Placement(500).assign(set(IDS)) == first
    assert Placement(500).assign([*IDS, *IDS[:10]]) == first  # duplicates count once


def test_same_history_same_layout() -> None:
    def run() -> dict[int, frozenset[str]]:
        placement = Placement(300)
        placement.assign(IDS[:900])
        placement.assign(IDS[200:1500])
        return placement.assign(IDS[100:1200])

    assert run() == run()


def test_growing_opens_new_shards_and_keeps_the_old() -> None:
    placement = Placement(500)
    first = _flatten(placement.assign(IDS[:500]))
    assert list(placement.shards) == [0]
    second = _flatten(placement.assign(IDS[:1200]))
    assert list(placement.shards) == [0, 1, 2]
    assert all(second[i] == 0 for i in first)
    # Shard 0 is full: the 700 new ids go to the new shards 1 and 2.
    assert all(second[i] in (1, 2) for i in IDS[500:1200])


def test_an_emptied_shard_is_omitted_and_its_index_reused() -> None:
    placement = Placement(2)
    layout = placement.assign(["A-USDT", "B-USDT", "C-USDT", "D-USDT", "E-USDT", "F-USDT"])
    assert list(layout) == [0, 1, 2]
    on_1 = sorted(layout[1])
    remaining = sorted(set(layout[0]) | set(layout[2]))
    layout = placement.assign(remaining)
    assert list(layout) == [0, 2]
    assert placement.shards == (0, 2)
    assert placement.shard_of(on_1[0]) is None
    # Two more ids need a third shard: the lowest unused index, 1, comes back.
    layout = placement.assign([*remaining, "X-USDT", "Y-USDT"])
    assert list(layout) == [0, 1, 2]
    assert layout[1] == frozenset({"X-USDT", "Y-USDT"})


def test_shard_0_stays_even_when_empty() -> None:
    placement = Placement(1)
    layout = placement.assign(["A-USDT", "B-USDT"])
    assert list(layout) == [0, 1]
    on_1 = next(iter(layout[1]))
    layout = placement.assign([on_1])
    assert layout == {0: frozenset(), 1: frozenset({on_1})}
    assert list(placement.shards) == [0, 1]
    assert placement.assign([]) == {0: frozenset()}
    assert list(placement.shards) == [0]


def test_no_extra_shard_when_the_shards_in_use_have_room() -> None:
    # Sparse shards after removals absorb new ids before any index is opened.
    placement = Placement(500)
    layout = placement.assign(IDS)
    keep = sorted(layout[0])[:10] + sorted(layout[3])[:10]
    placement.assign(keep)
    assert placement.shards == (0, 3)
    new = [f"N{i:04d}-USDT" for i in range(900)]
    layout = placement.assign([*keep, *new])
    assert list(layout) == [0, 3]  # 920 ids fit in 2 shards: shards 1 and 2 stay closed
    assert all(len(ids) <= 500 for ids in layout.values())


def test_never_over_the_maximum_under_random_churn() -> None:
    rng = random.Random(23)
    universe = IDS[:400]
    placement = Placement(37)
    previous: dict[str, int] = {}
    for _ in range(200):
        desired = set(rng.sample(universe, rng.randint(0, 400)))
        layout = placement.assign(desired)
        current = _flatten(layout)
        assert set(current) == desired
        assert 0 in layout
        assert all(len(ids) <= 37 for ids in layout.values())
        assert all(ids for shard, ids in layout.items() if shard != 0)
        assert list(layout) == sorted(layout)
        assert placement.shards == tuple(layout)
        # Sticky: whatever stayed desired stayed put.
        assert all(current[i] == previous[i] for i in desired & set(previous))
        # Room never runs out within ceil(total / max) shards plus the ones kept.
        previous = current


@pytest.mark.parametrize("bad", [0, -1, 1.5, "500", True, False])
def test_bad_max_per_shard(bad: object) -> None:
    with pytest.raises(
        ValueError, match=rf"^max_per_shard must be an int >= 1 or None, got {bad!r}$"
    ):
        Placement(bad)  # type: ignore[arg-type]


def test_a_bare_string_is_not_a_set_of_ids() -> None:
    placement = Placement(5)
    placement.assign(["BTC-USDT"])
    with pytest.raises(
        ValueError, match=r"^desired must be an iterable of instrument ids, got 'BTC-USDT'$"
    ):
        placement.assign("BTC-USDT")
    assert placement.shard_of("BTC-USDT") == 0
