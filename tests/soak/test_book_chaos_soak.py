"""The order-book chaos soak (issue 11): a seeded schedule of book faults, drops and upgrade
notices; never a wrong book, every book healed within its bound after each fault.

Ten minutes run in the normal suite in seconds of real time; an hour runs with ``--soak``.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from okx_trio._book_side import Side
from okx_trio.testing import (
    BookChaosReport,
    BookChaosSchedule,
    BookFaultKind,
    run_book_chaos,
)

HOUR = 3600.0


def assert_clean(report: BookChaosReport) -> None:
    print(report.summary())
    assert not report.violations, "\n".join(report.violations[:20])


async def test_ten_minutes_of_book_chaos(autojump_clock: trio.testing.MockClock) -> None:
    schedule = BookChaosSchedule.generate(2026, 600.0, mean_gap=12.0)
    report = await run_book_chaos(schedule, seed=2026)
    assert_clean(report)
    assert report.simulated == pytest.approx(600.0, abs=0.5)
    # The schedule did its job: faults of every kind, books healed after each.
    assert set(report.faults) == {kind.value for kind in BookFaultKind}
    assert report.valid_checks > 0.9 * report.checks
    assert report.exact_checks > 100 and report.stream_items > 3000
    assert max(report.heal_times) < 30.0
    stats = report.stats
    assert stats.book_resyncs >= sum(
        report.faults.get(k, 0) for k in ("drop_update", "cross", "corrupt_checksum")
    )
    assert stats.handovers >= 1


@pytest.mark.soak
@pytest.mark.timeout(900)
async def test_an_hour_of_book_chaos(autojump_clock: trio.testing.MockClock) -> None:
    report = await run_book_chaos(BookChaosSchedule.generate(7, HOUR), seed=7)
    assert_clean(report)
    assert report.simulated == pytest.approx(HOUR, abs=0.5)


async def test_the_judge_catches_a_book_that_loses_levels(
    autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client that lost the last level of every update (a merge bug) would hold a wrong
    # book while its seqIds look fine: the soak must say so, not pass it.
    merge_all = Side.merge_all

    def lossy(self: Side, levels: Any) -> None:
        merge_all(self, levels[:-1])

    monkeypatch.setattr(Side, "merge_all", lossy)
    schedule = BookChaosSchedule((), 30.0, ("BTC-USDT",))
    report = await run_book_chaos(schedule)
    assert any("differs from the exchange's" in v for v in report.violations), report.summary()


def test_a_seed_names_one_schedule() -> None:
    a = BookChaosSchedule.generate(5, 600.0)
    assert a == BookChaosSchedule.generate(5, 600.0)
    assert a != BookChaosSchedule.generate(6, 600.0)
    assert all(10.0 <= f.at <= 590.0 for f in a.faults)
    assert all(f.delay > 0 for f in a.faults if f.kind is BookFaultKind.DELAY_SNAPSHOT)
