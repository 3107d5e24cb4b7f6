"""StaleDetector: per-instrument silence, exact deadlines, reported once per max_age."""

from __future__ import annotations

import math
import random

import pytest

from okx_trio._staleness import StaleDetector


def test_fresh_detector() -> None:
    detector = StaleDetector(120)
    assert detector.max_age == 120.0
    assert len(detector) == 0
    assert detector.next_due() == math.inf
    assert detector.due(1e9) == []
    assert detector.age("BTC-USDT", 0.0) is None
    assert "BTC-USDT" not in detector


def test_clock_starts_at_watch_and_restarts_on_update() -> None:
    detector = StaleDetector(10.0)
    detector.watch("BTC-USDT", 100.0)
    assert "BTC-USDT" in detector
    assert len(detector) == 1
    assert detector.age("BTC-USDT", 104.5) == 4.5
    assert detector.next_due() == 110.0
    detector.updated("BTC-USDT", 105.0)
    assert detector.age("BTC-USDT", 105.0) == 0.0
    assert detector.next_due() == 115.0
    assert detector.due(114.999) == []
    assert detector.due(115.0) == ["BTC-USDT"]


def test_due_restarts_the_clock_so_each_is_reported_once_per_max_age() -> None:
    detector = StaleDetector(10.0)
    detector.watch("BTC-USDT", 0.0)
    assert detector.due(10.0) == ["BTC-USDT"]
    assert detector.age("BTC-USDT", 10.0) == 0.0
    assert detector.due(10.0) == []
    assert detector.due(19.999) == []
    assert detector.next_due() == 20.0
    assert detector.due(20.0) == ["BTC-USDT"]


def test_late_due_restarts_at_now() -> None:
    detector = StaleDetector(10.0)
    detector.watch("BTC-USDT", 0.0)
    assert detector.due(25.0) == ["BTC-USDT"]  # once, however late
    assert detector.next_due() == 35.0


def test_due_is_sorted_and_only_the_silent_ones() -> None:
    detector = StaleDetector(30.0)
    for inst_id in ("SOL-USDT", "BTC-USDT", "ETH-USDT", "ADA-USDT"):
        detector.watch(inst_id, 0.0)
    detector.updated("ETH-USDT", 20.0)
    detector.updated("ADA-USDT", 29.0)
    assert detector.next_due() == 30.0
    assert detector.due(30.0) == ["BTC-USDT", "SOL-USDT"]
    assert detector.next_due() == 50.0  # ETH-USDT, updated at 20
    assert detector.due(59.0) == ["ADA-USDT", "ETH-USDT"]
    assert detector.next_due() == 60.0
    assert detector.due(60.0) == ["BTC-USDT", "SOL-USDT"]


def test_updates_for_unwatched_ids_are_ignored() -> None:
    detector = StaleDetector(5.0)
    detector.updated("BTC-USDT", 1.0)
    assert len(detector) == 0
    assert detector.age("BTC-USDT", 2.0) is None
    assert detector.next_due() == math.inf


def test_watch_again_restarts_the_clock() -> None:
    detector = StaleDetector(5.0)
    detector.watch("BTC-USDT", 0.0)
    detector.watch("BTC-USDT", 3.0)
    assert len(detector) == 1
    assert detector.next_due() == 8.0
    assert detector.due(5.0) == []


def test_forget() -> None:
    detector = StaleDetector(5.0)
    detector.watch("BTC-USDT", 0.0)
    detector.watch("ETH-USDT", 1.0)
    detector.forget("BTC-USDT")
    detector.forget("NOT-WATCHED")
    assert "BTC-USDT" not in detector
    assert detector.age("BTC-USDT", 3.0) is None
    assert detector.next_due() == 6.0
    detector.updated("BTC-USDT", 4.0)  # a late tick after forget starts nothing
    assert len(detector) == 1
    assert detector.due(100.0) == ["ETH-USDT"]


def test_clear_on_connection_lost() -> None:
    detector = StaleDetector(5.0)
    detector.watch("BTC-USDT", 0.0)
    detector.watch("ETH-USDT", 0.0)
    detector.clear()
    assert len(detector) == 0
    assert detector.next_due() == math.inf
    assert detector.due(100.0) == []
    detector.updated("BTC-USDT", 1.0)
    assert len(detector) == 0


def test_deadline_from_next_due_finds_the_instrument_exactly() -> None:
    # Sleeping until next_due() must find the instrument due at that float, whatever the
    # rounding of since + max_age.
    rng = random.Random(3)
    for _ in range(500):
        detector = StaleDetector(rng.uniform(0.001, 1000.0))
        detector.watch("BTC-USDT", rng.uniform(0.0, 1e7))
        wake = detector.next_due()
        assert detector.due(wake) == ["BTC-USDT"]


def test_model_against_a_brute_force_reference() -> None:
    rng = random.Random(17)
    ids = [f"P{i}-USDT" for i in range(8)]
    detector = StaleDetector(3.0)
    since: dict[str, float] = {}
    now = 0.0
    for _ in range(5000):
        now += rng.choice([0.0, 0.1, 0.5, 1.0, 2.0, 3.0])
        inst_id = rng.choice(ids)
        action = rng.random()
        if action < 0.1:
            detector.watch(inst_id, now)
            since[inst_id] = now
        elif action < 0.6:
            detector.updated(inst_id, now)
            if inst_id in since:
                since[inst_id] = now
        elif action < 0.65:
            detector.forget(inst_id)
            since.pop(inst_id, None)
        elif action < 0.66:
            detector.clear()
            since.clear()
        else:
            expected = sorted(i for i, t in since.items() if t + 3.0 <= now)
            assert detector.due(now) == expected
            since.update(dict.fromkeys(expected, now))
        assert len(detector) == len(since)
        assert detector.next_due() == (min(since.values()) + 3.0 if since else math.inf)
        for i in ids:
            assert detector.age(i, now) == (now - since[i] if i in since else None)


@pytest.mark.parametrize("bad", [0, 0.0, -1.0, math.nan, math.inf, "120", None, True])
def test_bad_max_age(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^max_age must be a finite number > 0, got "):
        StaleDetector(bad)  # type: ignore[arg-type]


def test_repr() -> None:
    detector = StaleDetector(120)
    detector.watch("BTC-USDT", 0.0)
    assert repr(detector) == "StaleDetector(max_age=120.0, watched=1)"
