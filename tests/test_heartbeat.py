"""Heartbeat: exact decisions at exact times, with ``now`` chosen by the test."""

from __future__ import annotations

import math

import pytest

from okx_trio._heartbeat import Heartbeat, HeartbeatAction, HeartbeatDecision

WAIT, PING, TIMEOUT = HeartbeatAction.WAIT, HeartbeatAction.PING, HeartbeatAction.TIMEOUT


def test_initial_state() -> None:
    hb = Heartbeat(20, 30, now=100.0)
    assert hb.last_message_at == 100.0
    assert hb.last_ping_at is None
    assert hb.pings_sent == 0
    assert hb.next_ping_at() == 120.0
    assert hb.deadline() == 130.0


def test_wait_until_the_ping() -> None:
    hb = Heartbeat(20, 30, now=0.0)
    assert hb.poll(0.0) == HeartbeatDecision(WAIT, 20.0)
    assert hb.poll(19.999) == HeartbeatDecision(WAIT, 20.0)


def test_ping_exactly_at_last_plus_interval() -> None:
    hb = Heartbeat(20, 30, now=0.0)
    assert hb.poll(20.0) == HeartbeatDecision(PING, 20.0)
    assert hb.poll(25.0) == HeartbeatDecision(PING, 20.0)  # still due until sent


def test_after_a_ping_wait_for_the_deadline() -> None:
    hb = Heartbeat(20, 30, now=0.0)
    hb.ping_sent(20.0)
    assert hb.pings_sent == 1
    assert hb.last_ping_at == 20.0
    assert hb.poll(20.0) == HeartbeatDecision(WAIT, 30.0)
    assert hb.poll(29.999) == HeartbeatDecision(WAIT, 30.0)


def test_timeout_exactly_at_last_plus_timeout() -> None:
    hb = Heartbeat(20, 30, now=0.0)
    hb.ping_sent(20.0)
    assert hb.poll(30.0) == HeartbeatDecision(TIMEOUT, 30.0)
    assert hb.poll(1000.0) == HeartbeatDecision(TIMEOUT, 30.0)
    assert hb.is_alive(29.999)
    assert not hb.is_alive(30.0)


def test_timeout_wins_over_a_due_ping() -> None:
    hb = Heartbeat(20, 30, now=0.0)
    assert hb.poll(30.0) == HeartbeatDecision(TIMEOUT, 30.0)


def test_repeated_pings_before_the_timeout() -> None:
    hb = Heartbeat(10, 35, now=0.0)
    timeline = []
    now = 0.0
    while True:
        decision = hb.poll(now)
        timeline.append((now, decision.action))
        if decision.action is TIMEOUT:
            break
        if decision.action is PING:
            hb.ping_sent(now)
            continue
        assert decision.until > now
        now = decision.until
    assert timeline == [
        (0.0, WAIT),
        (10.0, PING),
        (10.0, WAIT),
        (20.0, PING),
        (20.0, WAIT),
        (30.0, PING),
        (30.0, WAIT),
        (35.0, TIMEOUT),
    ]
    assert hb.pings_sent == 3


def test_a_message_resets_both_clocks() -> None:
    hb = Heartbeat(20, 30, now=0.0)
    hb.ping_sent(20.0)
    hb.message_received(25.0)  # the pong
    assert hb.last_message_at == 25.0
    assert hb.poll(30.0) == HeartbeatDecision(WAIT, 45.0)
    assert hb.poll(45.0) == HeartbeatDecision(PING, 45.0)
    assert hb.deadline() == 55.0


def test_a_message_before_the_ping_postpones_it() -> None:
    hb = Heartbeat(20, 30, now=0.0)
    hb.message_received(15.0)
    assert hb.poll(20.0) == HeartbeatDecision(WAIT, 35.0)
    assert hb.poll(35.0) == HeartbeatDecision(PING, 35.0)


def test_ping_sent_after_the_last_message_counts_from_the_ping() -> None:
    hb = Heartbeat(5, 30, now=0.0)
    hb.message_received(1.0)
    hb.ping_sent(7.0)
    assert hb.next_ping_at() == 12.0
    hb.message_received(8.0)
    assert hb.next_ping_at() == 13.0


@pytest.mark.parametrize(
    ("last", "interval", "timeout"),
    [(0.1, 20.0, 30.0), (0.3, 0.1, 0.7), (1e9 + 0.1, 20.0, 30.0), (1 / 3, 20.0, 30.0)],
)
def test_now_equal_to_the_computed_deadline_does_not_spin(
    last: float, interval: float, timeout: float
) -> None:
    # The clock wakes the caller at ``until`` exactly; at that instant the answer must not be
    # "wait until now or earlier".
    hb = Heartbeat(interval, timeout, now=last)
    ping_at = last + interval
    assert hb.poll(ping_at) == HeartbeatDecision(PING, ping_at)
    before = math.nextafter(ping_at, -math.inf)
    decision = hb.poll(before)
    assert decision == HeartbeatDecision(WAIT, ping_at)
    assert decision.until > before
    hb.ping_sent(ping_at)
    decision = hb.poll(ping_at)
    assert decision.action is WAIT
    assert decision.until > ping_at
    assert hb.poll(decision.until).action is not WAIT
    assert hb.poll(last + timeout) == HeartbeatDecision(TIMEOUT, last + timeout)


def test_driving_by_until_never_spins() -> None:
    # Follow the decisions like the client loop does, from awkward start times.
    for last in (0.1, 0.7, 123.456, 1e6 + 0.1):
        hb = Heartbeat(20, 30, now=last)
        now = last
        for _ in range(10):
            decision = hb.poll(now)
            if decision.action is TIMEOUT:
                break
            if decision.action is PING:
                hb.ping_sent(now)
                continue
            assert decision.until > now
            now = decision.until
        else:
            raise AssertionError("no timeout")
        assert now == last + 30
        assert hb.pings_sent == 1


@pytest.mark.parametrize(
    ("ping_interval", "timeout", "name"),
    [
        (0, 30, "ping_interval"),
        (-1, 30, "ping_interval"),
        (math.nan, 30, "ping_interval"),
        (20, 0, "timeout"),
        (20, -5, "timeout"),
        (20, math.nan, "timeout"),
    ],
)
def test_bad_arguments(ping_interval: float, timeout: float, name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name} must be > 0"):
        Heartbeat(ping_interval, timeout, now=0.0)


def test_decision_is_frozen() -> None:
    decision = HeartbeatDecision(WAIT, 1.0)
    with pytest.raises(AttributeError):
        decision.until = 2.0  # type: ignore[misc]
