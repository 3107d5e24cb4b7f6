"""ReconnectStrategy: exact delays, jitter bounds, retry accounting, argument checks."""

from __future__ import annotations

import math
import random

import pytest

from okx_trio._backoff import ReconnectStrategy


def _delays(strategy: ReconnectStrategy, n: int) -> list[float]:
    return [strategy.next_delay() for _ in range(n)]


def test_exact_delays_without_jitter() -> None:
    strategy = ReconnectStrategy(jitter=0)
    assert _delays(strategy, 10) == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0, 30.0]
    assert strategy.retry_count == 10


def test_defaults() -> None:
    strategy = ReconnectStrategy()
    assert (
        strategy.initial_delay,
        strategy.max_delay,
        strategy.backoff_factor,
        strategy.max_retries,
        strategy.jitter,
    ) == (1.0, 30.0, 2.0, None, 0.25)
    assert strategy.retry_count == 0
    assert not strategy.exhausted


def test_custom_parameters_without_jitter() -> None:
    strategy = ReconnectStrategy(initial_delay=0.5, max_delay=10, backoff_factor=3, jitter=0)
    assert _delays(strategy, 5) == [0.5, 1.5, 4.5, 10.0, 10.0]


def test_factor_one_is_constant() -> None:
    strategy = ReconnectStrategy(initial_delay=2, max_delay=2, backoff_factor=1, jitter=0)
    assert _delays(strategy, 4) == [2.0, 2.0, 2.0, 2.0]


def test_zero_delays() -> None:
    strategy = ReconnectStrategy(initial_delay=0, max_delay=0, jitter=0.5)
    assert _delays(strategy, 3) == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("retry", "expected"), [(1, 1.0), (2, 2.0), (5, 16.0), (6, 30.0), (100, 30.0)]
)
def test_base_delay(retry: int, expected: float) -> None:
    assert ReconnectStrategy().base_delay(retry) == expected


def test_jitter_bounds_over_many_draws() -> None:
    strategy = ReconnectStrategy(jitter=0.25, rng=random.Random(7))
    lows = highs = 0
    for retry in range(1, 2001):
        delay = strategy.next_delay()
        base = min(30.0, 2.0 ** min(retry - 1, 10))
        assert base * 0.75 <= delay <= base * 1.25
        lows += delay < base
        highs += delay > base
    # Spread on both sides of the base delay, not a constant offset.
    assert lows > 800
    assert highs > 800


def test_jitter_spreads_widely() -> None:
    strategy = ReconnectStrategy(jitter=0.25, rng=random.Random(3))
    factors = []
    for _ in range(2000):
        strategy.reset()
        factors.append(strategy.next_delay())  # base 1.0: the delay *is* the factor
    assert min(factors) < 0.76
    assert max(factors) > 1.24
    assert 0.98 < sum(factors) / len(factors) < 1.02


def test_full_jitter_bounds() -> None:
    strategy = ReconnectStrategy(initial_delay=4, max_delay=4, jitter=1.0, rng=random.Random(1))
    for delay in _delays(strategy, 1000):
        assert 0.0 <= delay <= 8.0


def test_same_seed_same_delays() -> None:
    a = ReconnectStrategy(rng=random.Random(42))
    b = ReconnectStrategy(rng=random.Random(42))
    c = ReconnectStrategy(rng=random.Random(43))
    da, db, dc = _delays(a, 20), _delays(b, 20), _delays(c, 20)
    assert da == db
    assert da != dc


def test_seeded_values_are_the_documented_formula() -> None:
    rng = random.Random(99)
    strategy = ReconnectStrategy(jitter=0.25, rng=random.Random(99))
    for retry in range(1, 10):
        expected = min(30.0, 2.0 ** (retry - 1)) * rng.uniform(0.75, 1.25)
        assert strategy.next_delay() == expected


@pytest.mark.parametrize(("max_retries", "exhausted_after"), [(0, 0), (1, 1), (3, 3)])
def test_exhausted(max_retries: int, exhausted_after: int) -> None:
    strategy = ReconnectStrategy(max_retries=max_retries, jitter=0)
    for _ in range(exhausted_after):
        assert not strategy.exhausted
        strategy.next_delay()
    assert strategy.exhausted
    assert strategy.retry_count == exhausted_after
    # It does not refuse: stopping is the caller's business.
    assert strategy.next_delay() == min(30.0, 2.0**exhausted_after)
    assert strategy.exhausted


def test_never_exhausted_without_max_retries() -> None:
    strategy = ReconnectStrategy(max_retries=None, jitter=0)
    for _ in range(1000):
        strategy.next_delay()
        assert not strategy.exhausted
    assert strategy.retry_count == 1000


def test_reset() -> None:
    strategy = ReconnectStrategy(max_retries=3, jitter=0)
    _delays(strategy, 4)
    assert strategy.exhausted
    strategy.reset()
    assert strategy.retry_count == 0
    assert not strategy.exhausted
    assert _delays(strategy, 3) == [1.0, 2.0, 4.0]


@pytest.mark.parametrize("retry", [1025, 10_000, 1_000_000])
def test_no_overflow_for_long_outages(retry: int) -> None:
    strategy = ReconnectStrategy(jitter=0)
    assert strategy.base_delay(retry) == 30.0
    strategy = ReconnectStrategy(backoff_factor=1.5, jitter=0)
    assert strategy.base_delay(retry) == 30.0


def test_no_overflow_through_next_delay() -> None:
    strategy = ReconnectStrategy(jitter=0.25, rng=random.Random(0))
    for _ in range(10_000):
        delay = strategy.next_delay()
    assert strategy.retry_count == 10_000
    assert math.isfinite(delay)
    assert 22.5 <= delay <= 37.5


def test_zero_initial_delay_stays_zero_for_long_outages() -> None:
    strategy = ReconnectStrategy(initial_delay=0, max_delay=30, jitter=0)
    assert strategy.base_delay(5) == 0.0
    assert strategy.base_delay(10_000) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"initial_delay": -1}, "initial_delay"),
        ({"initial_delay": math.nan}, "initial_delay"),
        ({"max_delay": 0.5}, "max_delay"),
        ({"max_delay": -1}, "max_delay"),
        ({"max_delay": math.nan}, "max_delay"),
        ({"initial_delay": 5, "max_delay": 4}, "max_delay"),
        ({"backoff_factor": 0.5}, "backoff_factor"),
        ({"backoff_factor": 0}, "backoff_factor"),
        ({"backoff_factor": -2}, "backoff_factor"),
        ({"backoff_factor": math.nan}, "backoff_factor"),
        ({"jitter": -0.1}, "jitter"),
        ({"jitter": 1.01}, "jitter"),
        ({"jitter": math.nan}, "jitter"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"max_retries": "3"}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name} must be "):
        ReconnectStrategy(**kwargs)  # type: ignore[arg-type]


def test_repr_shows_state() -> None:
    strategy = ReconnectStrategy(jitter=0, max_retries=2)
    strategy.next_delay()
    assert repr(strategy) == (
        "ReconnectStrategy(initial_delay=1.0, max_delay=30.0, backoff_factor=2.0, "
        "max_retries=2, jitter=0.0, retry_count=1)"
    )
