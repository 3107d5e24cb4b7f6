"""okx_trio.monitor._faults: the demo's fault schedule."""

from __future__ import annotations

import random

import okx_trio.monitor as monitor


def test_chaos_schedule_starts_with_a_drop_then_cycles_through_every_fault() -> None:

    schedule = monitor.DemoFaultSchedule(random.Random(7))
    first = schedule.next_delay()
    assert 5.0 <= first <= 8.0
    assert schedule.next_fault() == "drop"
    for _ in range(3):
        kinds = set()
        for _ in range(4):
            assert 10.0 <= schedule.next_delay() <= 20.0
            kinds.add(schedule.next_fault())
        assert kinds == {"drop", "silence", "notice", "reject"}
    fixed = monitor.DemoFaultSchedule(random.Random(1), first_after=1.5, every=3.0)
    assert fixed.next_delay() == 1.5
    assert 2.0 <= fixed.next_delay() <= 4.0
    a, b = monitor.DemoFaultSchedule(random.Random(3)), monitor.DemoFaultSchedule(random.Random(3))
    assert [(a.next_delay(), a.next_fault()) for _ in range(9)] == [
        (b.next_delay(), b.next_fault()) for _ in range(9)
    ]
