"""A chaos soak for order books: a seeded schedule of book faults, drops and upgrade notices
against one client, and a judge that never lets a wrong book pass.

:func:`run_book_chaos` runs a client subscribed to a few ``books`` on the in-memory fake
exchange, injects faults from :meth:`BookChaosSchedule.generate` (a dropped, repeated or
reordered update, a crossed book, a wrong checksum, a late snapshot, a sequence reset, a
dropped connection, OKX's ``64008`` upgrade notice) and checks, every ``check_every`` seconds
of virtual time, for every book:

- **never wrong**: ``client.book()`` is None, or it is the exchange's book as it was at that
  book's ``seqId``: its checksum of the best 25 levels is the exchange's after that change
  (the client may be a push behind the exchange, never wrong), and when the ``seqId`` is the
  exchange's latest, every level is the exchange's;
- **the stream holds the book**: a consumer that applies ``stream("books")`` holds exactly the
  client's book whenever the client has one;
- **it heals**: after each fault, every book is valid again within ``resync_bound`` seconds.

Run it under Trio's autojump clock: an hour of chaos takes seconds.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import trio

from .._book import BookEngine
from .._book_records import BookUpdate
from .._config import ClientConfig
from .._fanout import Gap
from .._open import open_okx_client
from ._exchange import FakeExchange
from ._market import MarketSimulator

__all__ = ["BookChaosReport", "BookChaosSchedule", "BookFault", "BookFaultKind", "run_book_chaos"]

DEFAULT_BOOKS: Final = ("BTC-USDT", "ETH-USDT", "SOL-USDT")
#: Every how many checks a book is compared level by level (else by checksum and seqId).
_FULL_EVERY: Final = 8


class BookFaultKind(enum.Enum):
    DROP_UPDATE = "drop_update"
    REPEAT_UPDATE = "repeat_update"
    REORDER_UPDATES = "reorder_updates"
    CROSS = "cross"
    CORRUPT_CHECKSUM = "corrupt_checksum"
    DELAY_SNAPSHOT = "delay_snapshot"
    RESET_SEQUENCE = "reset_sequence"
    DROP_CONNECTION = "drop_connection"
    UPGRADE_NOTICE = "upgrade_notice"


#: Which faults break the book they touch (the others must leave it valid throughout).
BREAKING: Final = frozenset(
    {
        BookFaultKind.DROP_UPDATE,
        BookFaultKind.REPEAT_UPDATE,
        BookFaultKind.REORDER_UPDATES,
        BookFaultKind.CROSS,
        BookFaultKind.CORRUPT_CHECKSUM,
    }
)


@dataclass(frozen=True, slots=True)
class BookFault:
    """One fault at ``at`` seconds: its kind, the book it targets, and for a late snapshot
    how late (a drop comes with it, so that a resubscribe asks for that snapshot)."""

    at: float
    kind: BookFaultKind
    inst_id: str
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class BookChaosSchedule:
    faults: tuple[BookFault, ...]
    duration: float
    books: tuple[str, ...]

    @classmethod
    def generate(
        cls,
        seed: int,
        duration: float,
        *,
        books: Sequence[str] = DEFAULT_BOOKS,
        mean_gap: float = 20.0,
    ) -> BookChaosSchedule:
        """A pure function of its arguments: one seed, one schedule. Faults come ``mean_gap``
        seconds apart on average (exponentially), none in the first or last 10 s."""
        rng = random.Random(f"book-chaos:{seed}")
        kinds = list(BookFaultKind)
        faults: list[BookFault] = []
        at = 10.0
        while True:
            at += rng.expovariate(1.0 / mean_gap)
            if at > duration - 10.0:
                break
            kind = rng.choice(kinds)
            delay = rng.uniform(1.0, 12.0) if kind is BookFaultKind.DELAY_SNAPSHOT else 0.0
            faults.append(BookFault(round(at, 3), kind, rng.choice(list(books)), round(delay, 3)))
        return cls(tuple(faults), duration, tuple(books))


@dataclass
class BookChaosReport:
    """What a run saw: faults injected per kind, checks made, heal times, and violations."""

    simulated: float = 0.0
    faults: dict[str, int] = field(default_factory=dict)
    checks: int = 0
    valid_checks: int = 0
    #: Checks where the client's book was at the exchange's latest seqId: compared in full.
    exact_checks: int = 0
    heal_times: list[float] = field(default_factory=list)
    stream_items: int = 0
    violations: list[str] = field(default_factory=list)
    stats: Any = None

    def summary(self) -> str:
        worst = max(self.heal_times, default=0.0)
        return (
            f"{self.simulated:.0f}s simulated, faults {dict(sorted(self.faults.items()))}, "
            f"{self.checks} checks ({self.valid_checks} with a valid book, "
            f"{self.exact_checks} at the exchange's latest), "
            f"{self.stream_items} stream items, worst heal {worst:.3f}s, "
            f"{len(self.violations)} violations"
        )


class _Follower:
    """A consumer that keeps its own books from the stream."""

    def __init__(self) -> None:
        self.engines: dict[str, BookEngine] = {}
        self.items = 0
        self.broken: list[str] = []

    async def follow(self, channel: trio.MemoryReceiveChannel[Any]) -> None:
        async for item in channel:
            self.items += 1
            if isinstance(item, Gap):
                self.engines.pop(item.inst_id or "", None)
                continue
            assert isinstance(item, BookUpdate)
            engine = self.engines.setdefault(item.inst_id, BookEngine(item.inst_id, item.channel))
            bids = [(lv.price_text, lv.size_text, "0", str(lv.orders)) for lv in item.bids]
            asks = [(lv.price_text, lv.size_text, "0", str(lv.orders)) for lv in item.asks]
            engine.apply(
                item.action, item.prev_seq_id, item.seq_id, item.ts, bids, asks, item.checksum
            )
            if not engine.valid:
                self.broken.append(
                    f"the stream broke the consumer's {item.inst_id} book: {engine.invalid_detail}"
                )
                del self.engines[item.inst_id]


def _truth_rows(rows: Any) -> list[tuple[str, str, str]]:
    return [(row[0], row[1], row[3]) for row in rows]


async def run_book_chaos(
    schedule: BookChaosSchedule,
    *,
    seed: int = 0,
    tick_interval: float = 0.5,
    check_every: float = 0.25,
    resync_bound: float = 30.0,
    config: ClientConfig | None = None,
) -> BookChaosReport:
    """Run *schedule* against one client; return the report (see the module docstring).

    *resync_bound*: how long after a fault every book must be valid again (a late
    snapshot's delay plus ``book_snapshot_timeout`` and the backoff fit in it).
    """
    report = BookChaosReport()
    exchange = FakeExchange(
        tick_interval=tick_interval,
        market=MarketSimulator(seed, volatility=0.00003),
        book_checksums=True,
    )
    config = config or ClientConfig(
        jitter=0.0, max_connects_per_second=None, max_requests_per_hour=None, tick_buffer=4096
    )
    follower = _Follower()
    subs = [f"books:{inst_id}" for inst_id in schedule.books]
    start = trio.current_time()
    async with open_okx_client(
        subscriptions=subs, config=config, connector=exchange.connector
    ) as client, trio.open_nursery() as nursery:
        nursery.start_soon(follower.follow, client.stream("books"))
        pending = list(schedule.faults)
        heal_deadline: float | None = None
        last_fault_at = start
        # Checks fall between the exchange's pushes (never at the instant of one, when the
        # exchange has moved and the client may not have read it yet).
        await trio.sleep(check_every / 2.5)
        while trio.current_time() - start < schedule.duration:
            await trio.sleep(check_every)
            now = trio.current_time() - start
            all_valid = _check(client, exchange, follower, schedule.books, now, report)
            if heal_deadline is not None:
                if all_valid:
                    report.heal_times.append(now - last_fault_at)
                    heal_deadline = None
                elif now > heal_deadline:
                    report.violations.append(
                        f"{now:.2f}s: a book still invalid {now - last_fault_at:.2f}s after the "
                        "last fault"
                    )
                    heal_deadline = None
            # Faults go in after the check, so the next check is the first to see them.
            while pending and pending[0].at <= now:
                fault = pending.pop(0)
                _inject(exchange, fault)
                report.faults[fault.kind.value] = report.faults.get(fault.kind.value, 0) + 1
                last_fault_at = now
                heal_deadline = now + resync_bound + fault.delay
        report.simulated = trio.current_time() - start
        report.stream_items = follower.items
        report.violations.extend(follower.broken)
        report.stats = client.get_stats()
        nursery.cancel_scope.cancel()
    return report


def _inject(exchange: FakeExchange, fault: BookFault) -> None:
    key = f"books:{fault.inst_id}"
    kind = fault.kind
    if kind is BookFaultKind.DROP_UPDATE:
        exchange.drop_book_update(key)
    elif kind is BookFaultKind.REPEAT_UPDATE:
        exchange.repeat_book_update(key)
    elif kind is BookFaultKind.REORDER_UPDATES:
        exchange.reorder_book_updates(key)
    elif kind is BookFaultKind.CROSS:
        exchange.cross_book(key)
    elif kind is BookFaultKind.CORRUPT_CHECKSUM:
        exchange.corrupt_book_checksum(key)
    elif kind is BookFaultKind.DELAY_SNAPSHOT:
        exchange.delay_book_snapshot(key, fault.delay)
        exchange.drop_book_update(key)  # so that a resync asks for that snapshot
    elif kind is BookFaultKind.RESET_SEQUENCE:
        exchange.reset_book_sequence(fault.inst_id)
    elif kind is BookFaultKind.DROP_CONNECTION:
        exchange.drop_connections()
    else:
        exchange.send_notice("64008")


def _check(
    client: Any,
    exchange: FakeExchange,
    follower: _Follower,
    books: Sequence[str],
    now: float,
    report: BookChaosReport,
) -> bool:
    """One checkpoint of every book; True if all are valid. The checksum of the best 25
    levels is compared every time, every level every ``_FULL_EVERY``-th time (it costs far
    more than the client's own work)."""
    all_valid = True
    for inst_id in books:
        report.checks += 1
        full = report.checks % _FULL_EVERY == 0
        book = client.book(inst_id)
        if book is None:
            all_valid = False
            continue
        report.valid_checks += 1
        expected = exchange.book_checksum_at(inst_id, book.seq_id)
        if expected is None:
            report.violations.append(
                f"{now:.2f}s: {inst_id} book at seqId {book.seq_id}, which the exchange's "
                "recent changes do not hold (a stale or invented book)"
            )
        elif book.checksum() != expected:
            report.violations.append(
                f"{now:.2f}s: {inst_id} book at seqId {book.seq_id} differs from the "
                "exchange's at that seqId"
            )
        depth = len(book)
        if full:
            truth = exchange.order_book(inst_id)
            if truth is not None and truth["seqId"] == book.seq_id:
                report.exact_checks += 1
                # OKX's original strings, as the book keeps them: no Decimal here.
                bids, asks = book.raw_depth(depth)
                if bids != _truth_rows(truth["bids"]) or asks != _truth_rows(truth["asks"]):
                    report.violations.append(
                        f"{now:.2f}s: {inst_id} book differs from the exchange's, level by level"
                    )
        engine = follower.engines.get(inst_id)
        own = engine.book() if engine is not None else None
        if (
            own is None
            or own.seq_id != book.seq_id
            or own.checksum() != book.checksum()
            or (full and own.raw_depth(depth) != book.raw_depth(depth))
        ):
            report.violations.append(
                f"{now:.2f}s: the stream's consumer does not hold the client's {inst_id} book"
            )
    return all_valid
