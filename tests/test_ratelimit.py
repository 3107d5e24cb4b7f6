"""SlidingWindowLimit: exact window edges, bursts over the limit, argument checks."""

from __future__ import annotations

import math
import random

import pytest

from okx_trio._ratelimit import CONNECTS_PER_SECOND, REQUESTS_PER_HOUR, SlidingWindowLimit


def test_okx_limits() -> None:
    assert CONNECTS_PER_SECOND == 3
    assert REQUESTS_PER_HOUR == 480


def test_fresh_limit_allows_everything_now() -> None:
    limit = SlidingWindowLimit(3, 1.0)
    assert (limit.limit, limit.window) == (3, 1.0)
    assert limit.available(0.0) == 3
    assert limit.used(0.0) == 0
    assert limit.next_allowed(5.0) == 5.0


def test_window_is_a_float() -> None:
    limit = SlidingWindowLimit(480, 3600)
    assert limit.window == 3600.0
    assert isinstance(limit.window, float)


def test_three_connects_per_second() -> None:
    limit = SlidingWindowLimit(CONNECTS_PER_SECOND, 1.0)
    for now in (10.0, 10.2, 10.5):
        assert limit.next_allowed(now) == now
        limit.record(now)
    assert limit.available(10.5) == 0
    assert limit.used(10.5) == 3
    # The oldest event (10.0) leaves the window at 11.0 exactly.
    assert limit.next_allowed(10.5) == 11.0
    assert limit.next_allowed(10.999) == 11.0
    assert limit.available(10.999) == 0
    assert limit.available(11.0) == 1
    assert limit.next_allowed(11.0) == 11.0
    limit.record(11.0)
    assert limit.next_allowed(11.0) == 11.2
    # At 11.5 the events at 10.2 and 10.5 have left; only 11.0 counts.
    assert limit.used(11.5) == 1
    assert limit.available(11.5) == 2


def test_event_counts_while_now_is_before_t_plus_window() -> None:
    limit = SlidingWindowLimit(1, 2.0)
    limit.record(1.0)
    assert limit.used(2.9999) == 1
    assert limit.used(3.0) == 0  # t + window: no longer counted
    assert limit.available(3.0) == 1


def test_next_allowed_is_when_the_slot_frees_exactly() -> None:
    # The deadline handed out must free the slot at that very float, however the window
    # and the time round.
    rng = random.Random(5)
    for _ in range(500):
        window = rng.uniform(0.001, 5000.0)
        limit = SlidingWindowLimit(1, window)
        t = rng.uniform(0.0, 1e6)
        limit.record(t)
        free_at = limit.next_allowed(t)
        assert free_at == t + window
        assert limit.available(free_at) == 1
        assert limit.next_allowed(free_at) == free_at


def test_record_many_at_once() -> None:
    limit = SlidingWindowLimit(REQUESTS_PER_HOUR, 3600.0)
    limit.record(0.0, 100)
    limit.record(0.0, 80)
    assert limit.used(0.0) == 180
    assert limit.available(0.0) == 300
    limit.record(100.0, 300)
    assert limit.available(100.0) == 0
    # The 180 recorded at 0.0 leave together at 3600.
    assert limit.next_allowed(100.0) == 3600.0
    assert limit.available(3600.0) == 180
    assert limit.next_allowed(3600.0) == 3600.0


def test_going_over_the_limit_pushes_next_allowed_later() -> None:
    limit = SlidingWindowLimit(3, 10.0)
    for t in (0.0, 1.0, 2.0, 3.0, 4.0):
        limit.record(t)
    assert limit.used(4.0) == 5
    assert limit.available(4.0) == 0
    # 5 counted, limit 3: three must leave (0, 1, 2) before one more is allowed.
    assert limit.next_allowed(4.0) == 12.0
    assert limit.available(11.0) == 0
    assert limit.next_allowed(11.0) == 12.0
    assert limit.available(12.0) == 1
    assert limit.used(12.0) == 2


def test_a_burst_over_the_limit_waits_for_the_whole_burst() -> None:
    limit = SlidingWindowLimit(3, 1.0)
    limit.record(0.5)
    limit.record(2.0, 7)
    assert limit.used(2.0) == 7
    assert limit.next_allowed(2.0) == 3.0
    assert limit.available(2.999) == 0
    assert limit.available(3.0) == 3


def test_used_and_available_never_go_negative() -> None:
    limit = SlidingWindowLimit(2, 1.0)
    limit.record(0.0, 5)
    assert limit.available(0.0) == 0
    assert limit.used(0.0) == 5


def test_records_at_the_same_time_are_merged_but_counted() -> None:
    limit = SlidingWindowLimit(5, 1.0)
    for _ in range(5):
        limit.record(7.0)
    assert limit.used(7.0) == 5
    assert limit.next_allowed(7.0) == 8.0


def test_old_events_are_dropped_so_memory_stays_bounded() -> None:
    limit = SlidingWindowLimit(3, 1.0)
    for i in range(100_000):
        now = i * 0.5
        if limit.available(now):
            limit.record(now)
    assert limit.used(49_999.5) == 2
    assert len(limit._events) <= 3  # the deque holds only the window's events


def test_model_against_a_brute_force_count() -> None:
    rng = random.Random(11)
    limit = SlidingWindowLimit(4, 2.5)
    recorded: list[float] = []
    now = 0.0
    for _ in range(3000):
        now += rng.choice([0.0, 0.1, 0.25, 0.7, 1.0, 2.5, 3.0])
        if rng.random() < 0.6:
            count = rng.randint(1, 3)
            limit.record(now, count)
            recorded.extend([now] * count)
        counted = sorted(t for t in recorded if now < t + 2.5)
        assert limit.used(now) == len(counted)
        assert limit.available(now) == max(0, 4 - len(counted))
        expected = now if len(counted) < 4 else counted[len(counted) - 4] + 2.5
        assert limit.next_allowed(now) == expected


@pytest.mark.parametrize("bad", [0, -1, 1.5, 3.0, "3", None, True, False])
def test_bad_limit(bad: object) -> None:
    with pytest.raises(ValueError, match=rf"^limit must be an int >= 1, got {bad!r}$"):
        SlidingWindowLimit(bad, 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, 0.0, -1.0, math.nan, math.inf, -math.inf, "1", None, True])
def test_bad_window(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^window must be a finite number > 0, got "):
        SlidingWindowLimit(3, bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -2, 1.0, "1", True])
def test_bad_count(bad: object) -> None:
    limit = SlidingWindowLimit(3, 1.0)
    with pytest.raises(ValueError, match=rf"^count must be an int >= 1, got {bad!r}$"):
        limit.record(0.0, bad)  # type: ignore[arg-type]
    assert limit.used(0.0) == 0


def test_recording_back_in_time_is_refused() -> None:
    limit = SlidingWindowLimit(3, 1.0)
    limit.record(5.0)
    with pytest.raises(ValueError, match=r"^now must not be earlier than .*5\.0.*got 4\.0$"):
        limit.record(4.0)
    with pytest.raises(ValueError, match="got nan"):
        limit.record(math.nan)
    assert limit.used(5.0) == 1
    limit.record(5.0)  # the same time again is fine
    assert limit.used(5.0) == 2


def test_repr() -> None:
    assert repr(SlidingWindowLimit(3, 1)) == "SlidingWindowLimit(limit=3, window=1.0)"
