"""Latency windows and the quality score, with scripted histories (no Trio)."""

from __future__ import annotations

import math

import pytest
import trio
import trio.testing

from okx_trio import open_okx_client
from okx_trio._quality import LatencyWindow, QualityTracker
from okx_trio.testing import FakeExchange

from .conftest import make_config, recording


def test_latency_window_percentiles_by_nearest_rank() -> None:
    window = LatencyWindow(size=100)
    assert window.median() is None and window.p99() is None
    for i in range(1, 101):
        window.add(i / 100)
    assert window.median() == 0.5
    assert window.p99() == 0.99
    for _ in range(50):
        window.add(9.0)  # slides the oldest half out
    assert len(window) == 100
    assert window.median() == 1.0
    assert window.p99() == 9.0


def test_a_perfect_hour_scores_100() -> None:
    tracker = QualityTracker(now=0.0)
    tracker.connected(0.0)
    assert tracker.score(3600.0, median_latency=0.2) == 100
    assert tracker.uptime(3600.0) == 1.0


def test_a_reconnect_every_minute_scores_low() -> None:
    tracker = QualityTracker(now=0.0)
    for minute in range(60):
        tracker.connected(minute * 60.0 + 1.0)  # one second to come back each time
        tracker.disconnected(minute * 60.0 + 60.0)
    tracker.connected(3601.0)
    score = tracker.score(3601.0, median_latency=0.1)
    # uptime 59/60, 60 reconnects an hour: 100 * 0.983 / 11
    assert score == 9


def test_one_early_drop_is_one_drop_not_sixty_an_hour() -> None:
    tracker = QualityTracker(0.0)
    tracker.connected(0.0)
    tracker.disconnected(30.0)
    tracker.connected(30.0)  # back at once: uptime stays whole
    # 100 / (1 + 1/6) = 85.7: the same as one reconnect in a full hour.
    assert tracker.score(60.0) == 86
    assert tracker.score(3600.0) == 86
    assert tracker.score(3631.0) == 100  # the reconnect left the window


def test_heartbeat_misses_and_latency_cost_their_share() -> None:
    tracker = QualityTracker(now=0.0)
    tracker.connected(0.0)
    tracker.disconnected(1800.0, heartbeat_miss=True)
    tracker.connected(1800.0)
    # one reconnect and one miss in the hour: 100 / (1 + 1/6) ** 2 = 73.5
    assert tracker.score(3600.0) == 73
    # a 5 s median latency halves it
    assert tracker.score(3600.0, median_latency=5.0) == 37


def test_the_window_slides_and_forgets() -> None:
    tracker = QualityTracker(now=0.0, window=3600.0)
    tracker.connected(0.0)
    tracker.disconnected(100.0)  # down for 500 s
    tracker.connected(600.0)
    assert tracker.score(3600.0) == round(100 * 3100 / 3600 / (1 + 1 / 6))
    assert tracker.score(7300.0) == 100  # the outage and the reconnect left the window


def test_down_now_counts_against_uptime() -> None:
    tracker = QualityTracker(now=0.0)
    tracker.connected(0.0)
    tracker.disconnected(1800.0)
    assert tracker.uptime(3600.0) == 0.5
    assert tracker.score(3600.0) == 50


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan])
def test_bad_window_raises(bad: float) -> None:
    with pytest.raises(ValueError, match="window"):
        QualityTracker(now=0.0, window=bad)


async def test_latency_in_stats_and_a_warning_past_the_threshold(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0, stagger_ms=0)
    exchange.latency = 6.0  # from the start: the market's ts never goes backwards
    config = make_config(latency_warning=5.0)
    pairs = ["BTC-USDT", "ETH-USDT"]
    async with open_okx_client(
        pairs, config=config, connector=exchange.connector, wall_clock=exchange.wall_clock
    ) as client:
        async with recording(client) as rec:
            await trio.sleep(10.5)
            stats = client.get_stats()
            assert stats.latency_median == pytest.approx(6.0)
            assert stats.latency_p99 == pytest.approx(6.0)
            # 6 s median latency: 100 / (1 + 5/4)
            assert stats.quality == 44
            exchange.latency = 0.25
            await trio.sleep(2000)  # the window holds the last 1024 samples
            await rec.wait_until(lambda rec: len(rec.notices()) == 2)
            notices = [c.message for c in rec.notices()]
            assert notices == [
                "high latency: 6.0s (warning above 5s)",
                "latency back to normal: 0.2s",
            ]
            stats = client.get_stats()
            assert stats.latency_median == pytest.approx(0.25)
            assert stats.quality == 100
