"""The chaos soak (issue 4): one client, the in-memory exchange, a seeded schedule of faults.

:func:`okx_trio.testing.run_chaos` checks the invariants while the run goes on (see its
module for the list) and ends every run by cancelling the scope around the client. An hour
runs in the normal suite in about a second of real time; the simulated day runs with
``--soak``. Seeds that ever failed stay below as regression cases, with what they caught.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

import pytest
import trio
import trio.testing

from okx_trio import ConnectionState
from okx_trio.testing import (
    Auditor,
    ChaosReport,
    ChaosSchedule,
    FakeExchange,
    FaultKind,
    run_chaos,
)

HOUR = 3600.0
DAY = 24 * HOUR
#: Bytes the traced memory may grow by over a simulated day (medians of first and last thirds).
MEMORY_LIMIT = 128 * 1024

#: Seeds that once failed, and what they caught. They were harness bugs, not client bugs,
#: but each pins down a case the soak must keep judging correctly.
REGRESSION_SEEDS = {
    1: "an empty desired set settles before the exchange's side of the connection has started",
    4: "a subscribe lost to silence is only found by its timeout, after a settle in between",
}
#: The same, for seeds that failed in the simulated day (run with --soak).
REGRESSION_DAY_SEEDS = {
    3: "a ping lost to silence is found by the heartbeat after a settle with no pairs; the "
    "backoff that follows is owed even if the next fault breaks nothing",
}


@pytest.fixture(autouse=True)
def quiet_client_log() -> Iterator[None]:
    """Keep a soak's thousands of WARNING lines out of pytest's in-memory log capture.

    ``run_chaos`` counts every client ERROR record as a violation itself.
    """
    logger = logging.getLogger("okx_trio")
    handlers = logger.handlers[:]
    for handler in handlers:  # pytest's capture handlers sit on this logger too
        logger.removeHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.propagate = True
        for handler in handlers:
            logger.addHandler(handler)


def assert_clean(report: ChaosReport) -> None:
    print(report.summary())
    assert report.violation_count == 0, "\n".join(report.violations)


async def test_an_hour_of_chaos(autojump_clock: trio.testing.MockClock) -> None:
    report = await run_chaos(ChaosSchedule.generate(2020, HOUR))
    assert_clean(report)
    # The schedule did its job: faults of every kind, recoveries, ticks.
    assert report.simulated == HOUR
    assert {k.value for k in FaultKind} - {"reconnect"} <= set(report.faults)
    assert report.recovery_times and report.ticks > 1000


@pytest.mark.parametrize("seed", sorted(REGRESSION_SEEDS))
async def test_seeds_that_once_failed(seed: int, autojump_clock: trio.testing.MockClock) -> None:
    assert_clean(await run_chaos(ChaosSchedule.generate(seed, HOUR)))


@pytest.mark.parametrize("seed", range(8))
async def test_cancelling_at_a_random_moment_exits_at_once_and_leaves_nothing(
    seed: int, autojump_clock: trio.testing.MockClock
) -> None:
    # run_chaos checks that the client's block exits at the very virtual moment of the
    # cancel, with no task, connection or channel left behind. Faults every 30 s on
    # average, so the moment falls in every state (CONNECTING and backoff included).
    schedule = ChaosSchedule.generate(seed, 1200.0, mean_gap=30.0)
    cancel_at = random.Random(seed).uniform(0.0, 1200.0)
    report = await run_chaos(schedule, cancel_at=cancel_at)
    assert_clean(report)
    assert report.simulated == pytest.approx(cancel_at)


@pytest.mark.soak
@pytest.mark.timeout(900)
@pytest.mark.parametrize("seed", [2020, *sorted(REGRESSION_DAY_SEEDS)])
async def test_a_day_of_chaos(
    seed: int, autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    # pytest keeps every captured log record for the report, and a day of garbage frames
    # and rejected pairs logs a few hundred warnings (about 200 KiB of LogRecords): that is
    # pytest's memory, not the client's. Errors still reach the no-errors check.
    caplog.set_level(logging.ERROR, logger="okx_trio")
    report = await run_chaos(ChaosSchedule.generate(seed, DAY), trace_memory=True)
    assert_clean(report)
    assert report.simulated == DAY
    growth = report.memory_growth
    assert growth is not None and growth < MEMORY_LIMIT, report.memory


# -- the auditor catches what it should -----------------------------------------------------


async def test_the_auditor_flags_duplicate_subscribes_and_stray_unsubscribes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    rejected: list[str] = []
    auditor = Auditor(exchange, on_rejected=rejected.append)
    exchange.reject_instruments("BAD-USDT")

    def request(op: str, req_id: str, *pairs: str) -> str:
        args = ",".join(f'{{"channel":"tickers","instId":"{p}"}}' for p in pairs)
        return f'{{"id":"{req_id}","op":"{op}","args":[{args}]}}'

    async with auditor.connector("ws://fake") as ws:
        assert auditor.current is exchange.connections[0]
        await ws.send_message(request("subscribe", "1", "BTC-USDT", "BAD-USDT"))
        await ws.send_message(request("subscribe", "2", "BTC-USDT"))  # in flight: duplicate
        for _ in range(3):  # two acks for BTC, one refusal for BAD
            await ws.get_message()
        assert rejected == ["BAD-USDT"]
        assert auditor.subscribed() == {"BTC-USDT"}
        await ws.send_message(request("subscribe", "3", "BTC-USDT"))  # acked: duplicate
        await ws.send_message(request("unsubscribe", "4", "ETH-USDT"))  # never subscribed
        await ws.send_message(request("unsubscribe", "5", "BAD-USDT"))  # refused
        await ws.send_message(request("subscribe", "5", "SOL-USDT"))  # id used twice
    assert auditor.current is None
    found = "\n".join(auditor.violations)
    assert auditor.violation_count == 5, found
    assert found.count("BTC-USDT subscribed twice") == 2
    assert "ETH-USDT unsubscribed while not subscribed (never subscribed)" in found
    assert "BAD-USDT unsubscribed while not subscribed (never subscribed)" in found
    assert "request id 5 used twice" in found


async def test_slowed_down_connects_hold_the_client_in_connecting(
    autojump_clock: trio.testing.MockClock,
) -> None:
    from okx_trio import open_okx_client
    from okx_trio.testing import chaos_config

    exchange = FakeExchange(tick_interval=1.0)
    auditor = Auditor(exchange)
    auditor.slow_down_connects(1, 4.0)
    async with open_okx_client(
        ["BTC-USDT"], config=chaos_config(), connector=auditor.connector
    ) as client:
        await auditor.wait_connecting_slowly()
        assert client.state is ConnectionState.CONNECTING
        assert exchange.connection_attempts == 0
        await client.wait_subscribed()
        assert trio.current_time() == 4.0
        assert auditor.violation_count == 0
