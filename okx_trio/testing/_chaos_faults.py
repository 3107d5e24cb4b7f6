"""The fault side of a chaos soak: plays a :class:`ChaosSchedule` against the fake exchange and
the client, at the schedule's virtual times (see :mod:`._chaos`, which judges the client)."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable

import trio

from .. import ClientConfig, ConnectionState, OkxClient
from ._audit import Auditor
from ._chaos_report import ChaosModel, ChaosReport
from ._chaos_schedule import GARBAGE, ChaosSchedule, Fault, FaultKind
from ._exchange import FakeExchange

__all__ = ["FaultPlayer"]

S = ConnectionState


class FaultPlayer:
    """Injects each fault of *schedule* when its time comes and ends the lasting ones.

    ``rearm(breaking)`` is called after every fault (the client owes a settled state again;
    *breaking*: the fault broke or replaced the connection). What the judge needs to know
    of the faults in force: ``stall_until`` (the slow consumer sleeps until then),
    ``silence_ended`` (when the last silence ended), ``refuse_until`` (the connection
    attempt count up to which the exchange refuses).
    """

    def __init__(
        self,
        schedule: ChaosSchedule,
        config: ClientConfig,
        exchange: FakeExchange,
        auditor: Auditor,
        model: ChaosModel,
        report: ChaosReport,
        rearm: Callable[[bool], None],
        client: Callable[[], OkxClient],
    ) -> None:
        self.schedule = schedule
        self.config = config
        self.exchange = exchange
        self.auditor = auditor
        self.model = model
        self.report = report
        self._rearm = rearm
        self._client = client
        self.stall_until = -math.inf
        self.silence_ended = -math.inf
        self.refuse_until = 0
        self._silent_depth = 0
        self._rejecting: Counter[str] = Counter()

    @property
    def client(self) -> OkxClient:
        return self._client()

    async def play(self, start: float) -> None:
        actions: list[tuple[float, int, Fault, bool]] = []
        for index, fault in enumerate(self.schedule.faults):
            actions.append((fault.at, index, fault, True))
            if fault.kind in (FaultKind.SILENCE, FaultKind.REJECT):
                actions.append((fault.at + fault.duration, index, fault, False))
        actions.sort(key=lambda a: (a[0], a[1], not a[3]))
        for at, _, fault, starting in actions:
            await trio.sleep_until(start + at)
            if starting:
                if fault.kind is not FaultKind.RECONNECT:  # counted by the state it hit
                    self.report.faults[fault.kind.value] += 1
                await self._inject(fault)
            else:
                self._end(fault)

    async def _inject(self, fault: Fault) -> None:
        exchange = self.exchange
        kind = fault.kind
        if kind is FaultKind.DROP:
            exchange.drop_connections(fault.code)
            self._rearm(True)
        elif kind is FaultKind.SILENCE:
            self._silent_depth += 1
            exchange.go_silent()
            self._rearm(True)
        elif kind is FaultKind.REFUSE:
            # Refusals only matter to a client that needs to connect: drop it first.
            exchange.refuse_connections(fault.count)
            self.refuse_until = exchange.connection_attempts + fault.count
            exchange.drop_connections()
            self._rearm(True)
        elif kind is FaultKind.NOTICE:
            exchange.send_notice("64008")
            self._rearm(True)
        elif kind is FaultKind.REJECT:
            self._rejecting[fault.pair] += 1
            exchange.reject_instruments(fault.pair)
            self._rearm(False)
        elif kind is FaultKind.GARBAGE:
            rng = random.Random(fault.seed)
            for _ in range(fault.count):
                exchange.send_raw(rng.choice(GARBAGE))
            self._rearm(False)
        elif kind is FaultKind.SLOW_CONSUMER:
            self.stall_until = trio.current_time() + fault.duration
            self._rearm(False)
        elif kind is FaultKind.CHURN:
            await self._churn(fault)
        elif kind is FaultKind.RECONNECT:
            await self._reconnect(fault)

    def _end(self, fault: Fault) -> None:
        if fault.kind is FaultKind.SILENCE:
            self._silent_depth -= 1
            if self._silent_depth == 0:
                self.exchange.resume()
                self.silence_ended = trio.current_time()
                self._rearm(True)
        elif fault.kind is FaultKind.REJECT:
            self._rejecting[fault.pair] -= 1
            if self._rejecting[fault.pair] == 0:
                del self._rejecting[fault.pair]
                self.exchange.accept_instruments(fault.pair)

    async def _churn(self, fault: Fault) -> None:
        rng = random.Random(fault.seed)
        universe = list(self.schedule.universe)
        client, model = self.client, self.model
        for _ in range(fault.count):
            roll = rng.random()
            if roll < 0.45:
                pair = rng.choice(universe)
                client.add_pair(pair)
                model.add(pair)
            elif roll < 0.85:
                pair = rng.choice(sorted(model.intent) or universe)
                client.remove_pair(pair)
                model.remove(pair)
            else:
                pairs = rng.sample(universe, rng.randint(0, len(universe)))
                client.subscribe(pairs)
                model.replace(pairs)
            self._rearm(False)
            # Some changes land in the same instant, some while answers are in flight.
            if rng.random() < 0.5:
                await trio.sleep(rng.choice((0.0, rng.uniform(0.0, 2.0))))

    async def _reconnect(self, fault: Fault) -> None:
        client, rng = self.client, random.Random(fault.seed)
        if fault.mode == "connecting":
            # Slow the next handshake down and reconnect while it is under way.
            self.auditor.slow_down_connects(1, fault.duration)
            self._call_reconnect()
            with trio.move_on_after(600):
                await self.auditor.wait_connecting_slowly()
                window = min(fault.duration, self.config.connect_timeout)
                await trio.sleep(rng.uniform(0.0, 0.9) * window)
                if self.auditor.connecting_slowly:
                    self._call_reconnect()
        elif fault.mode == "reconnecting":
            self.exchange.drop_connections()
            self._rearm(True)
            with trio.move_on_after(600):
                await client.wait_state(S.RECONNECTING)
                shortest = self.config.initial_delay * (1 - self.config.jitter)
                await trio.sleep(rng.uniform(0.0, 0.5) * shortest)
                if client.state is S.RECONNECTING:
                    self._call_reconnect()
        else:
            self._call_reconnect()

    def _call_reconnect(self) -> None:
        client = self.client
        self.report.faults[f"reconnect@{client.state.value}"] += 1
        client.reconnect()
        self._rearm(True)
