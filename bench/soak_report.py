"""Run the simulated-day chaos soak for several seeds and print one summary line per seed.

    python bench/soak_report.py                 # seeds 1-3, 24 simulated hours each
    python bench/soak_report.py --seeds 5 --first 100 --hours 1 --no-memory

Each run is :func:`okx_trio.testing.run_chaos` under Trio's autojump clock, with
``tracemalloc`` on unless ``--no-memory``. Exits 1 if any run saw a violation.
"""

from __future__ import annotations

import argparse
import sys
import time

import trio
import trio.testing

from okx_trio.testing import ChaosReport, ChaosSchedule, run_chaos


def soak(seed: int, hours: float, *, memory: bool) -> ChaosReport:
    async def main() -> ChaosReport:
        schedule = ChaosSchedule.generate(seed, hours * 3600.0)
        return await run_chaos(schedule, trace_memory=memory)

    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="how many seeds (default 3)")
    parser.add_argument("--first", type=int, default=1, help="the first seed (default 1)")
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours per seed")
    parser.add_argument("--no-memory", action="store_true", help="skip tracemalloc (faster)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    failed = 0
    for seed in range(args.first, args.first + args.seeds):
        report = soak(seed, args.hours, memory=not args.no_memory)
        print(report.summary(), flush=True)
        for violation in report.violations:
            print(f"    {violation}", flush=True)
        failed += report.violation_count > 0
    total = time.perf_counter() - started
    print(f"{args.seeds} seeds, {failed} with violations, {total:.0f} s real in all")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
