"""Watching a client's wire traffic against a :class:`FakeExchange` for protocol violations.

:class:`Auditor` wraps the exchange's in-memory connector. Every frame the client sends and
every frame it receives passes through it, in the client's own order, so it can hold the
client to OKX's subscription rules on each connection without trusting the client's
bookkeeping: a pair is never subscribed twice, nothing is unsubscribed that was not
subscribed, request ids are not reused. It also knows which :class:`FakeConnection` is the
client's live one, and can slow down connection handshakes on demand.

Like the rest of the fake exchange it parses OKX messages itself (plain ``json``), never with
the client's codec.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final

import trio

from ._exchange import FakeExchange
from ._memory import MemoryWebSocket
from ._records import FakeConnection

__all__ = ["AuditedConnection", "Auditor"]

# Per-argument refusals (OKX: "doesn't exist", "illegal request", "invalid args").
_REJECT_CODES: Final = frozenset({"60018", "60012", "60013"})
_INST_IN_MSG: Final = re.compile(r"instId:([A-Za-z0-9-]+)")
# Violations kept verbatim; beyond this only the count grows (a broken client in a day-long
# soak must not turn the auditor into the leak).
_MAX_KEPT: Final = 100


class _Pair(enum.Enum):
    SUBSCRIBING = "subscribing"
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBING = "unsubscribing"


class _Wire:
    """The auditor's view of one connection: each pair's state and the requests in flight."""

    __slots__ = ("pairs", "record", "requests", "used_ids")

    def __init__(self, record: FakeConnection) -> None:
        self.record = record
        self.pairs: dict[str, _Pair] = {}
        self.requests: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.used_ids: set[str] = set()


class AuditedConnection:
    """The client end of an audited connection: a :class:`MemoryWebSocket` that reports."""

    def __init__(self, ws: MemoryWebSocket, auditor: Auditor, wire: _Wire) -> None:
        self._ws = ws
        self._auditor = auditor
        self._wire = wire

    @property
    def record(self) -> FakeConnection:
        """The exchange's record of this connection."""
        return self._wire.record

    async def send_message(self, message: str | bytes) -> None:
        await self._ws.send_message(message)
        # Audited only once it is on its way: a send that raised never reached the server.
        # There is no checkpoint between the enqueue and this line.
        self._auditor._sent(self._wire, message)

    async def get_message(self) -> str | bytes:
        message = await self._ws.get_message()
        self._auditor._received(self._wire, message)
        return message

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None:
        await self._ws.aclose(code, reason)


class Auditor:
    """Holds one client's traffic with *exchange* to OKX's subscription rules.

    Pass :meth:`connector` to ``open_okx_client`` instead of ``exchange.connector``. Each
    rule broken adds a line to :attr:`violations` (nothing raises, so a soak can report every
    problem at the end). The rules, per connection, in the order the client sends and
    receives:

    * a subscribe for a pair already subscribed, or with a subscribe in flight, is a
      duplicate;
    * an unsubscribe for a pair that is not subscribed (never was, already unsubscribing,
      or its subscribe not yet acknowledged) unsubscribes what was not subscribed;
    * a request id is used once, and one request names a pair once.

    Only one client may use an auditor at a time: it takes the exchange's newest
    connection to be the client's.

    Args:
        exchange: The exchange to connect to.
        on_rejected: Called with the pair when the client receives a per-argument refusal of
            its subscribe, at the moment the client receives it.
        on_frame: Called with every frame the client receives, as it receives it.
    """

    def __init__(
        self,
        exchange: FakeExchange,
        *,
        on_rejected: Callable[[str], None] | None = None,
        on_frame: Callable[[str | bytes], None] | None = None,
    ) -> None:
        self.exchange = exchange
        self._on_rejected = on_rejected
        self._on_frame = on_frame
        self._current: _Wire | None = None
        self._open: list[_Wire] = []
        self._violations: list[str] = []
        self.violation_count = 0
        """Violations found so far (:attr:`violations` keeps the first 100)."""
        self.frames_sent = 0
        self.frames_received = 0
        self._slow_left = 0
        self._slow_latency = 0.0
        self.connecting_slowly = False
        """Whether a slowed-down handshake (see :meth:`slow_down_connects`) is under way."""
        self._slow_started = trio.Event()

    # -- observation -----------------------------------------------------------------------

    @property
    def violations(self) -> list[str]:
        """The first violations found, each one line naming the connection and the pair."""
        return list(self._violations)

    @property
    def current(self) -> FakeConnection | None:
        """The exchange's record of the client's open connection, or None between them."""
        return self._current.record if self._current is not None else None

    @property
    def open_connections(self) -> int:
        """Connections open now: two while a make-before-break handover overlaps them."""
        return len(self._open)

    def subscribed(self) -> frozenset[str]:
        """Pairs acknowledged on the current connection, by the wire (not the client)."""
        wire = self._current
        if wire is None:
            return frozenset()
        return frozenset(p for p, s in wire.pairs.items() if s is _Pair.SUBSCRIBED)

    def violation(self, text: str) -> None:
        """Record a violation found by someone else (a soak's own checks)."""
        self.violation_count += 1
        if len(self._violations) < _MAX_KEPT:
            self._violations.append(f"t={trio.current_time():.3f}: {text}")

    # -- slow handshakes ----------------------------------------------------------------------

    def slow_down_connects(self, n: int, latency: float) -> None:
        """Make each of the next *n* connection attempts take *latency* seconds to open.

        The delay comes before the exchange sees the attempt (a slow network path, not a
        slow server), so the exchange's counters only count attempts that got through. An
        attempt cancelled during the delay (connect timeout, ``reconnect()``) never arrives.
        """
        self._slow_left = n
        self._slow_latency = latency

    @property
    def slow_connects_pending(self) -> int:
        """Slowed-down attempts still to come (not counting one under way)."""
        return self._slow_left

    async def wait_connecting_slowly(self) -> None:
        """Return once a slowed-down handshake is under way (at once if one is)."""
        while not self.connecting_slowly:
            await self._slow_started.wait()

    # -- the connector ------------------------------------------------------------------------

    def connector(self, url: str) -> AbstractAsyncContextManager[AuditedConnection]:
        """Open an audited connection through ``exchange.connector(url)``."""
        return self._connect(url)

    @asynccontextmanager
    async def _connect(self, url: str) -> AsyncIterator[AuditedConnection]:
        if self._slow_left > 0:
            self._slow_left -= 1
            self.connecting_slowly = True
            self._slow_started.set()
            self._slow_started = trio.Event()
            try:
                await trio.sleep(self._slow_latency)
            finally:
                self.connecting_slowly = False
        async with self.exchange.connector(url) as ws:
            # The exchange registers a connection synchronously before its connector yields,
            # and nothing can run in between: the newest connection is ours.
            wire = self._current = _Wire(self.exchange.connections[-1])
            self._open.append(wire)
            try:
                yield AuditedConnection(ws, self, wire)
            finally:
                # During a make-before-break handover two connections overlap: the newest
                # one still open is the current one.
                self._open.remove(wire)
                self._current = self._open[-1] if self._open else None

    # -- the rules -----------------------------------------------------------------------------

    def _sent(self, wire: _Wire, message: str | bytes) -> None:
        self.frames_sent += 1
        request = _parse_request(message)
        if request is None:
            return
        op, req_id, inst_ids = request
        conn = wire.record.conn_id
        if req_id is not None:
            if req_id in wire.used_ids:
                self.violation(f"conn {conn}: request id {req_id} used twice")
            wire.used_ids.add(req_id)
            wire.requests[req_id] = (op, inst_ids)
        if len(set(inst_ids)) != len(inst_ids):
            self.violation(f"conn {conn}: one {op} names a pair twice: {inst_ids}")
        for inst_id in inst_ids:
            state = wire.pairs.get(inst_id)
            if op == "subscribe":
                if state is _Pair.SUBSCRIBING or state is _Pair.SUBSCRIBED:
                    self.violation(
                        f"conn {conn}: {inst_id} subscribed twice (it was {state.value})"
                    )
                wire.pairs[inst_id] = _Pair.SUBSCRIBING
            else:
                if state is not _Pair.SUBSCRIBED:
                    what = "never subscribed" if state is None else state.value
                    self.violation(
                        f"conn {conn}: {inst_id} unsubscribed while not subscribed ({what})"
                    )
                wire.pairs[inst_id] = _Pair.UNSUBSCRIBING

    def _received(self, wire: _Wire, message: str | bytes) -> None:
        self.frames_received += 1
        if self._on_frame is not None:
            self._on_frame(message)
        event = _parse_event(message)
        if event is None:
            return
        kind = event.get("event")
        if kind in ("subscribe", "unsubscribe"):
            arg = event.get("arg")
            if not isinstance(arg, dict) or arg.get("channel") != "tickers":
                return
            inst_id = arg.get("instId")
            if not isinstance(inst_id, str):
                return
            state = wire.pairs.get(inst_id)
            if kind == "subscribe" and state is _Pair.SUBSCRIBING:
                wire.pairs[inst_id] = _Pair.SUBSCRIBED
            elif kind == "unsubscribe" and state is _Pair.UNSUBSCRIBING:
                del wire.pairs[inst_id]
            self._settle_request(wire, event.get("id"), inst_id)
        elif kind == "error" and event.get("code") in _REJECT_CODES:
            self._refused(wire, event)

    def _refused(self, wire: _Wire, event: dict[str, Any]) -> None:
        req_id = event.get("id")
        request = wire.requests.get(req_id) if isinstance(req_id, str) else None
        if request is None:
            return
        op, inst_ids = request
        if len(inst_ids) == 1:
            inst_id: str | None = inst_ids[0]
        else:
            found = _INST_IN_MSG.search(str(event.get("msg", "")))
            inst_id = found.group(1) if found else None
        if inst_id is None:
            return
        if op == "subscribe" and wire.pairs.get(inst_id) is _Pair.SUBSCRIBING:
            del wire.pairs[inst_id]
            if self._on_rejected is not None:
                self._on_rejected(inst_id)
        elif op == "unsubscribe" and wire.pairs.get(inst_id) is _Pair.UNSUBSCRIBING:
            del wire.pairs[inst_id]
        self._settle_request(wire, req_id, inst_id)

    @staticmethod
    def _settle_request(wire: _Wire, req_id: object, inst_id: str) -> None:
        # Forget answered requests, so a long-lived connection does not accumulate them.
        if not isinstance(req_id, str) or req_id not in wire.requests:
            return
        op, inst_ids = wire.requests[req_id]
        rest = tuple(p for p in inst_ids if p != inst_id)
        if rest:
            wire.requests[req_id] = (op, rest)
        else:
            del wire.requests[req_id]


def _parse_request(message: str | bytes) -> tuple[str, str | None, tuple[str, ...]] | None:
    """``(op, id, inst_ids)`` of a subscribe or unsubscribe frame; None for anything else."""
    if isinstance(message, bytes) or message == "ping":
        return None
    try:
        obj = json.loads(message)
    except ValueError:
        return None
    if not isinstance(obj, dict) or obj.get("op") not in ("subscribe", "unsubscribe"):
        return None
    args = obj.get("args")
    if not isinstance(args, list):
        return None
    inst_ids = tuple(
        a["instId"] for a in args if isinstance(a, dict) and isinstance(a.get("instId"), str)
    )
    req_id = obj.get("id")
    return str(obj["op"]), req_id if isinstance(req_id, str) else None, inst_ids


def _parse_event(message: str | bytes) -> dict[str, Any] | None:
    if isinstance(message, bytes) or not message.startswith('{"'):
        return None
    if message.startswith('{"arg"'):
        return None  # a push: the hot path, nothing to audit
    try:
        obj = json.loads(message)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None
