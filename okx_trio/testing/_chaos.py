"""A seeded chaos soak: one client, the in-memory exchange, a day of faults, invariants always.

:meth:`ChaosSchedule.generate` turns a seed into a timetable of faults; :func:`run_chaos`
plays it against a client connected through an :class:`Auditor` and checks, while it runs:

* after every fault, once the exchange is healthy again, the client's connection holds
  exactly the desired pairs (minus those the exchange refused) and every one of them has
  delivered a tick, within the backoff delay the client is owed plus a tick interval (plus
  ``connection_timeout`` if the exchange went silent, since a client cannot tell silence
  from a quiet market any sooner);
* the wire rules of :class:`Auditor` (no pair subscribed twice, nothing unsubscribed that
  was not subscribed) on every connection;
* every state change is a transition in :data:`okx_trio.TRANSITIONS` (a change to the same
  state is a notice), and no backoff sleep is longer than the strategy allows;
* ``get_stats()`` agrees with the exchange (connections, reconnects, subscribed pairs) and
  with the garbage the client was sent;
* after every recovery the number of Trio tasks is what it was after the first one, and
  (optionally) ``tracemalloc`` shows memory flat across the run;
* the run ends by cancelling the scope around the client: it must exit at that very moment
  of virtual time, leaving no task, connection or open channel behind.

Run it under ``trio.testing.MockClock(autojump_threshold=0)``: a simulated day then takes a
minute or two. Nothing raises for a violation; they are all in the :class:`ChaosReport`.
"""

from __future__ import annotations

import functools
import gc
import logging
import math
import time
import tracemalloc
from collections import Counter
from typing import Final

import trio

from .. import (
    TRANSITIONS,
    ClientConfig,
    ConnectionState,
    OkxClient,
    StateChange,
    Ticker,
    open_okx_client,
)
from ._audit import Auditor
from ._chaos_faults import FaultPlayer
from ._chaos_report import (
    ChaosModel,
    ChaosReport,
    ErrorLogCounter,
    chaos_config,
    count_tasks,
    diff_tasks,
    leftovers,
)
from ._chaos_schedule import GARBAGE, ChaosSchedule
from ._exchange import FakeExchange
from ._records import FakeConnection

__all__ = [
    "ChaosReport",
    "chaos_config",
    "count_tasks",
    "run_chaos",
]

S = ConnectionState

_GARBAGE_SET: Final = frozenset(GARBAGE)

# Checks at an exact virtual moment race the deadline that bounds them; this much slack
# decides the race for the client without hiding anything that matters.
_EPSILON: Final = 1e-3
_PUMP_SUFFIX: Final = "._pump"  # fan-out pumps live exactly while a consumer lags


class _Soak:
    """One run: the client, its consumers and the judge of every invariant."""

    def __init__(
        self,
        schedule: ChaosSchedule,
        config: ClientConfig,
        tick_interval: float,
        samples: int,
        trace_memory: bool,
    ) -> None:
        self.schedule = schedule
        self.config = config
        self.tick_interval = tick_interval
        self.exchange = FakeExchange(tick_interval=tick_interval, seed=schedule.seed)
        self.model = ChaosModel(schedule.initial_pairs)
        self.auditor = Auditor(self.exchange, on_rejected=self.model.refused, on_frame=self._frame)
        self.report = ChaosReport(schedule.seed, 0.0)
        self._samples = samples
        self._trace_memory = trace_memory
        self._strategy = config.reconnect_strategy()
        self._client: OkxClient | None = None
        self._start = 0.0
        self._last_tick: dict[str, float] = {}
        self._garbage_delivered = 0
        # The unsettled episode: set by _rearm(), cleared when the client settles.
        self._tracker_scope: trio.CancelScope | None = None
        self._unsettled = True
        self._breaking = True
        self._episode_conn: FakeConnection | None = None
        self._task_baseline: Counter[str] | None = None
        self._reconnecting: tuple[float, int] | None = None
        self.faults = FaultPlayer(
            schedule,
            config,
            self.exchange,
            self.auditor,
            self.model,
            self.report,
            lambda breaking: self._rearm(breaking=breaking),
            lambda: self.client,
        )

    @property
    def client(self) -> OkxClient:
        assert self._client is not None
        return self._client

    def violation(self, text: str) -> None:
        self.auditor.violation(text)

    # -- the run ---------------------------------------------------------------------------

    async def run(self, stop_after: float) -> None:
        tasks_before = count_tasks()
        self._start = trio.current_time()
        end = self._start + stop_after
        channels: list[trio.MemoryReceiveChannel[Ticker] | trio.MemoryReceiveChannel[StateChange]]
        # The enclosing scope whose cancellation (at *end*) the client must survive cleanly.
        with trio.CancelScope(deadline=end):
            async with open_okx_client(
                self.schedule.initial_pairs, config=self.config, connector=self.auditor.connector
            ) as client:
                self._client = client
                fast, slow, states = client.ticks(), client.ticks(), client.state_changes()
                channels = [fast, slow, states]
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._record_states, states)
                    nursery.start_soon(self._fast_consumer, fast)
                    nursery.start_soon(self._slow_consumer, slow)
                    nursery.start_soon(self._track)
                    nursery.start_soon(self._sample, end)
                    await self.faults.play(self._start)
                    await trio.sleep_forever()
        exited = trio.current_time()
        self.report.simulated = exited - self._start
        if exited != end:
            self.violation(
                f"cancelled at {end - self._start:.3f} s, exited {exited - end:.3f} s late"
            )
        for text in leftovers(tasks_before, self.exchange, channels):
            self.violation(text)

    # -- settling ------------------------------------------------------------------------------

    def _rearm(self, *, breaking: bool) -> None:
        """Something happened: the client owes a settled state again."""
        if self._unsettled:
            self.report.superseded += 1
        else:
            self._episode_conn = self.auditor.current
        self._unsettled = True
        self._breaking = self._breaking or breaking
        if self._tracker_scope is not None:
            self._tracker_scope.cancel()

    def _healthy(self) -> bool:
        return (
            not self.exchange.silent
            and self.exchange.connection_attempts >= self.faults.refuse_until
            and self.auditor.slow_connects_pending == 0
            and not self.auditor.connecting_slowly
        )

    def _deadline(self, healthy_at: float) -> float:
        """When the client must have settled, the exchange being healthy since *healthy_at*.

        A request (or ping) sent into silence is lost, and only its timeout tells the
        client: for a ``connection_timeout`` after a silence ends, the client may still have
        to find out and reconnect, whatever happened in between (even a settle, with
        nothing to subscribe). And a client that is not connected is owed its backoff.
        """
        detected_by = self.faults.silence_ended + self.config.connection_timeout
        deadline = max(healthy_at, detected_by) + self.tick_interval + _EPSILON
        if self._breaking or detected_by > healthy_at or self.client.state is not S.CONNECTED:
            retry = self.client.get_stats().retry_count
            deadline += self._strategy.base_delay(retry + 1) * (1 + self.config.jitter)
        return deadline

    def _settled(self, since: float) -> bool:
        client = self.client
        expected = self.model.effective()
        if not expected:
            # Nothing to subscribe: the client keeps no connection at all (OKX would close
            # an idle one), so settled means just that.
            return not client.pairs and client.state is S.DISCONNECTED
        conn = self.auditor.current
        if client.state is not S.CONNECTED or conn is None or conn.closed_at is not None:
            return False
        # The client's own view too: between the exchange applying a subscribe and the
        # client reading its ack, the server already matches and the client does not yet.
        if (
            conn.subscriptions != expected
            or client.pairs != expected
            or client.subscribed_pairs != expected
        ):
            return False
        return all(self._last_tick.get(p, -math.inf) >= since for p in expected)

    async def _track(self) -> None:
        client = self.client
        while True:
            with trio.CancelScope() as self._tracker_scope:
                await client.wait_until(self._healthy)
                healthy_at = trio.current_time()
                deadline = self._deadline(healthy_at)
                settled = functools.partial(self._settled, healthy_at)
                with trio.move_on_at(deadline):
                    await client.wait_until(settled)
                if not settled():
                    self.violation(
                        f"not settled {deadline - healthy_at:.3f} s after the "
                        f"exchange was healthy: {self._describe()}"
                    )
                    await client.wait_until(settled)
                self._on_settled(healthy_at)
                await trio.sleep_forever()

    def _describe(self) -> str:
        conn = self.auditor.current
        return (
            f"state={self.client.state.value} expected={sorted(self.model.effective())} "
            f"client={sorted(self.client.pairs)} "
            f"server={sorted(conn.subscriptions) if conn else None} "
            f"stale_ticks={sorted(p for p in self.model.effective() if p not in self._last_tick)}"
        )

    def _on_settled(self, healthy_at: float) -> None:
        now = trio.current_time()
        self.report.settles += 1
        conn = self.auditor.current
        if not self.model.effective():
            # Settled on no connection at all: nothing on the wire to compare with.
            self._unsettled = self._breaking = False
            return
        assert conn is not None
        # A recovery: a fault broke the connection and the client settled on a new one (the
        # first connection of the run is not one).
        if self._breaking and self._episode_conn is not None and conn is not self._episode_conn:
            self.report.recovery_times.append(now - healthy_at)
        self._unsettled = self._breaking = False
        self._episode_conn = conn
        stats = self.client.get_stats()
        opened = self.exchange.accepted_connections
        if stats.connections_opened != opened or stats.reconnect_count != opened - 1:
            self.violation(
                f"stats say {stats.connections_opened} connections and "
                f"{stats.reconnect_count} reconnects; the exchange accepted {opened}"
            )
        if stats.subscribed_pairs != len(conn.subscriptions) or (
            self.client.subscribed_pairs != conn.subscriptions
        ):
            self.violation(
                f"stats say {stats.subscribed_pairs} subscribed pairs, the exchange has "
                f"{sorted(conn.subscriptions)}"
            )
        if self.auditor.subscribed() != conn.subscriptions:
            self.violation(
                f"the wire says {sorted(self.auditor.subscribed())} subscribed, "
                f"the exchange {sorted(conn.subscriptions)}"
            )
        if stats.bad_messages + stats.ignored_messages != self._garbage_delivered:
            self.violation(
                f"stats count {stats.bad_messages} bad + {stats.ignored_messages} ignored "
                f"messages; {self._garbage_delivered} garbage frames were delivered"
            )
        if not conn.subscriptions:
            # With nothing to subscribe, the client settles the moment it connects, before
            # the exchange's side of the connection has even started its tasks.
            return
        if self.auditor.open_connections > 1:
            # Settled on the new connection of a handover while the old one still closes:
            # its tasks are on their way out, so the task census would count them twice.
            return
        tasks = count_tasks(exclude_suffix=_PUMP_SUFFIX)
        pumps = sum(count_tasks().values()) - sum(tasks.values())
        if pumps > 1:  # only the stalled consumer may lag
            self.violation(f"{pumps} fan-out pumps running")
        if self._task_baseline is None:
            self._task_baseline = tasks
        elif tasks != self._task_baseline:
            self.violation(f"tasks after recovery differ: {diff_tasks(tasks, self._task_baseline)}")

    # -- the background observers -------------------------------------------------------------

    def _frame(self, message: str | bytes) -> None:
        if message in _GARBAGE_SET:
            self._garbage_delivered += 1

    async def _record_states(self, channel: trio.MemoryReceiveChannel[StateChange]) -> None:
        previous = S.DISCONNECTED
        async for change in channel:
            now = trio.current_time()
            if change.state is previous:
                continue  # a notice, not a transition
            self.report.transitions += 1
            if change.state not in TRANSITIONS[previous]:
                self.violation(f"illegal transition {previous.value} -> {change.state.value}")
            if change.state is S.RECONNECTING:
                self._reconnecting = (now, change.retry_count)
            elif change.state is S.CONNECTING and self._reconnecting is not None:
                since, retry = self._reconnecting
                allowed = self._strategy.base_delay(retry) * (1 + self.config.jitter)
                if now - since > allowed + _EPSILON:
                    self.violation(
                        f"backoff before retry {retry} took {now - since:.3f} s, "
                        f"at most {allowed:.3f} s allowed"
                    )
                self._reconnecting = None
            stats = self.client.get_stats()
            if stats.connections_opened != self.exchange.accepted_connections:
                self.violation(
                    f"stats say {stats.connections_opened} connections opened, the exchange "
                    f"accepted {self.exchange.accepted_connections}"
                )
            previous = change.state

    async def _fast_consumer(self, channel: trio.MemoryReceiveChannel[Ticker]) -> None:
        last_tick = self._last_tick
        async for ticker in channel:
            self.report.ticks += 1
            last_tick[ticker.inst_id] = trio.current_time()

    async def _slow_consumer(self, channel: trio.MemoryReceiveChannel[Ticker]) -> None:
        async for _ in channel:
            if trio.current_time() < self.faults.stall_until:
                await trio.sleep_until(self.faults.stall_until)

    async def _sample(self, end: float) -> None:
        """Take memory samples evenly over the run, and trim the exchange's request log."""
        every = (end - self._start) / self._samples
        for k in range(1, self._samples + 1):
            await trio.sleep_until(self._start + k * every - 1.0)
            # The fake keeps every request it ever saw for tests to assert on; over a day
            # that log is the soak's own growth, not the client's.
            self.exchange.clear_requests()
            if self._trace_memory:
                gc.collect()
                self.report.memory.append(tracemalloc.get_traced_memory()[0])


async def run_chaos(
    schedule: ChaosSchedule,
    *,
    config: ClientConfig | None = None,
    tick_interval: float = 2.0,
    cancel_at: float | None = None,
    trace_memory: bool = False,
    samples: int = 24,
) -> ChaosReport:
    """Play *schedule* against one client and return what was seen.

    The client runs in a cancel scope that is cancelled at *cancel_at* seconds (default:
    the schedule's duration); that is how every run ends. With *trace_memory*,
    ``tracemalloc`` is started (if it is not running) and *samples* measurements are taken
    evenly over the run; the report's ``memory_growth`` compares the first and last
    third. Client ERROR log records count as violations.

    Must run under ``trio.testing.MockClock(autojump_threshold=0)`` to be quick.
    """
    config = config if config is not None else chaos_config()
    soak = _Soak(schedule, config, tick_interval, samples, trace_memory)
    started_tracing = trace_memory and not tracemalloc.is_tracing()
    if started_tracing:
        tracemalloc.start()
    handler = ErrorLogCounter(soak.auditor)
    logger = logging.getLogger("okx_trio")
    logger.addHandler(handler)
    real_start = time.perf_counter()
    try:
        await soak.run(schedule.duration if cancel_at is None else cancel_at)
    finally:
        logger.removeHandler(handler)
        if started_tracing:
            tracemalloc.stop()
    report = soak.report
    report.real_seconds = time.perf_counter() - real_start
    report.violations = soak.auditor.violations
    report.violation_count = soak.auditor.violation_count
    return report
