"""The fake OKX exchange: state, fault injection, observation, and the in-memory connector."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import trio

from ._market import MarketSimulator
from ._memory import MemoryWebSocket, open_memory_connection
from ._protocol import NOTICE_UPGRADE_CODE, NOTICE_UPGRADE_MSG, encode_notice
from ._records import FakeConnection, RecordedRequest
from ._session import ExchangeSession
from ._transport import ServerTransport

__all__ = ["FakeExchange"]


class FakeExchange:
    """An in-process OKX v5 public WebSocket endpoint serving the ``tickers`` channel.

    Connect through :meth:`connector` (in memory, deterministic under Trio's ``MockClock``)
    or through :func:`open_fake_exchange_server` (a real WebSocket on a local port). Both
    run the same server logic against this object, so faults injected here reach every
    connection, however it was made.

    Every subscribed instrument gets one push per *tick_interval* seconds on every connection
    subscribed to it, the first right after the subscribe ack. With ``tick_interval`` of 0
    or ``math.inf`` nothing is pushed automatically; use :meth:`push_ticker`.

    Fault injection and observation are plain synchronous methods and attributes, usable
    from any task of the Trio run that serves the exchange. Timestamps are
    ``epoch_ms + round((trio.current_time() - latency) * 1000)``.

    Args:
        tick_interval: Seconds between automatic pushes per instrument and connection.
        seed: Seeds the default market and the ``connId`` sequence.
        epoch_ms: Added to the Trio clock (in ms) for each push's ``ts``. By default the
            real wall clock when the exchange is made, less the Trio clock, so that in real
            time ``ts`` is the real time (the client's latency figures read true); pass a
            number for ``ts`` values that repeat from run to run.
        market: Where tickers come from; default ``MarketSimulator(seed)``.

    Raises:
        ValueError: if *tick_interval* is negative or NaN.
    """

    def __init__(
        self,
        *,
        tick_interval: float = 0.1,
        seed: int = 0,
        epoch_ms: int | None = None,
        market: MarketSimulator | None = None,
    ) -> None:
        if not tick_interval >= 0:  # also rejects NaN
            raise ValueError(f"tick_interval must be >= 0, got {tick_interval!r}")
        self._tick_interval = tick_interval
        if epoch_ms is None:
            try:
                trio_now = trio.current_time()
            except RuntimeError:  # made outside a Trio run
                trio_now = 0.0
            # Wall-clock time: the one fair use, so exchange timestamps look real.
            epoch_ms = round((time.time() - trio_now) * 1000)
        self.epoch_ms = epoch_ms
        self.market = market if market is not None else MarketSimulator(seed)
        self._conn_ids = random.Random(f"okx-trio-conn-ids:{seed}")
        self._sessions: list[ExchangeSession] = []
        self._requests: list[RecordedRequest] = []
        self._rejected: dict[str, str] = {}
        self._refuse = 0
        self._silent = False
        self._ignoring = False
        self._changed = trio.Event()
        self.connection_attempts = 0
        """Every connection attempt so far, refused ones included."""
        self.accepted_connections = 0
        """Connection attempts that were accepted."""
        self.pushes = 0
        """Ticker pushes sent so far, over all connections."""
        self.latency = 0.0
        """Seconds each push's ``ts`` lags :meth:`wall_clock` (latency injection)."""

    @property
    def tick_interval(self) -> float:
        """Seconds between automatic pushes (fixed at construction)."""
        return self._tick_interval

    # -- connecting --------------------------------------------------------------------------

    def connector(self, url: str) -> AbstractAsyncContextManager[MemoryWebSocket]:
        """Open an in-memory connection; use as ``async with exchange.connector(url) as ws``.

        Compatible with ``Callable[[str], AbstractAsyncContextManager[Any]]``, the shape of
        ``trio_websocket.open_websocket_url``. *url* is accepted and ignored. The yielded
        :class:`MemoryWebSocket` has ``send_message``, ``get_message``, ``aclose`` and
        ``closed``; after the exchange closes the connection, ``get_message`` returns what
        was already sent and then raises ``trio_websocket.ConnectionClosed``.

        The server side runs in a nursery owned by the context manager. Leaving the block
        closes the connection (the exchange records code 1000) and cancels the server side.

        Raises:
            ConnectionRefusedError: from ``__aenter__``, if :meth:`refuse_connections`
                says this attempt fails.
        """
        return self._connect()

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[MemoryWebSocket]:
        await trio.lowlevel.checkpoint()
        self._admit()
        async with open_memory_connection(lambda t: self._open_session(t).run) as ws:
            yield ws

    def _admit(self) -> None:
        """Count a connection attempt (internal).

        Raises:
            ConnectionRefusedError: if this attempt is to be refused.
        """
        self.connection_attempts += 1
        if self._refuse > 0:
            self._refuse -= 1
            self._notify()
            raise ConnectionRefusedError("connection refused by FakeExchange.refuse_connections")
        self._notify()

    def _open_session(self, transport: ServerTransport) -> ExchangeSession:
        """Register an admitted connection served over *transport* (internal).

        Synchronous, so the connection is in :attr:`connections` before the client's
        connect returns; the caller runs ``session.run()`` in its own nursery.
        """
        conn_id = f"{self._conn_ids.getrandbits(32):08x}"
        record = FakeConnection(conn_id=conn_id, opened_at=trio.current_time())
        session = ExchangeSession(self, record, transport)
        self._sessions.append(session)
        self.accepted_connections += 1
        self._notify()
        return session

    # -- fault injection ---------------------------------------------------------------------

    def drop_connections(self, code: int = 1006, reason: str = "") -> int:
        """Close every open connection now, with *code*; returns how many were open.

        Code 1006 (the default) aborts without a closing handshake, like a dead network
        path; other codes send a close frame. Messages queued before the drop are still
        delivered first. The connections leave :attr:`connections` immediately. Clients see
        ``CloseReason(code, reason)``, with an empty *reason* as ``None`` (as trio-websocket
        reports it).
        """
        sessions = list(self._sessions)
        for session in sessions:
            session.close_nowait(code, reason)
        self._notify()
        return len(sessions)

    def go_silent(self) -> None:
        """Become a half-open server: stop pushing and stop answering anything.

        Connections stay open and requests are still recorded, but there is no ``pong``, no
        ack and no error. Explicit :meth:`push_ticker`, :meth:`send_notice` and
        :meth:`send_raw` calls still go out. WebSocket-level ping frames on the real-socket
        server are still answered by trio-websocket; OKX clients use the text ``ping``.
        """
        self._silent = True
        self._notify()

    def resume(self) -> None:
        """Undo :meth:`go_silent`: pushes continue on their schedule and requests get answers."""
        self._silent = False
        self._notify()

    @property
    def silent(self) -> bool:
        """Whether :meth:`go_silent` is in effect."""
        return self._silent

    @property
    def ignoring_requests(self) -> bool:
        """Whether :meth:`ignore_requests` is in effect."""
        return self._ignoring

    def refuse_connections(self, n: int) -> None:
        """Make the next *n* connection attempts fail (replacing any earlier count).

        In memory the attempt raises ``ConnectionRefusedError``; the real-socket server
        rejects the handshake with HTTP 503.

        Raises:
            ValueError: if *n* is negative.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n!r}")
        self._refuse = n
        self._notify()

    def reject_instruments(self, *inst_ids: str, code: str = "60018") -> None:
        """Answer future subscribes of *inst_ids* with a per-argument error *code*.

        Other arguments of the same request are acked normally. Existing subscriptions are
        not touched.
        """
        for inst_id in inst_ids:
            self._rejected[inst_id] = code
        self._notify()

    def accept_instruments(self, *inst_ids: str) -> None:
        """Undo :meth:`reject_instruments` for *inst_ids*."""
        for inst_id in inst_ids:
            self._rejected.pop(inst_id, None)
        self._notify()

    def ignore_requests(self, ignore: bool = True) -> None:
        """Keep pushing and ponging, but never answer (or act on) subscribe/unsubscribe.

        Ignored requests are still recorded; they change no subscription. Malformed requests
        still get error 60012.
        """
        self._ignoring = ignore
        self._notify()

    def send_notice(self, code: str = NOTICE_UPGRADE_CODE, msg: str = NOTICE_UPGRADE_MSG) -> None:
        """Send a ``notice`` event (default: 64008, service upgrade) to all open connections."""
        for session in self._sessions:
            session.send_nowait(encode_notice(code, msg, session.record.conn_id))
        self._notify()

    def send_raw(self, payload: str | bytes) -> None:
        """Send *payload* to all open connections: ``str`` as a text frame, ``bytes`` as binary.

        Raises:
            TypeError: if *payload* is neither ``str`` nor ``bytes``.
        """
        if not isinstance(payload, str | bytes):
            raise TypeError(f"payload must be str or bytes, not {type(payload).__name__}")
        for session in self._sessions:
            session.send_nowait(payload)
        self._notify()

    def push_ticker(self, inst_id: str) -> None:
        """Push one ticker for *inst_id* now, to every open connection subscribed to it."""
        for session in self._sessions:
            if inst_id in session.record.subscriptions:
                session.push(inst_id)
        self._notify()

    # -- observation -------------------------------------------------------------------------

    @property
    def connections(self) -> list[FakeConnection]:
        """The connections open now, oldest first (a new list on every access)."""
        return [session.record for session in self._sessions]

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received on any connection, in arrival order (a new list)."""
        return list(self._requests)

    def subscriptions(self) -> set[str]:
        """The union of server-side subscribed instruments over all open connections."""
        out: set[str] = set()
        for session in self._sessions:
            out |= session.record.subscriptions
        return out

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Return once ``predicate()`` is true.

        The predicate is checked now and again after every exchange event (a connection
        attempt, open or close, a request, a push, a fault-injection call). Cancellation
        simply abandons the wait.
        """
        if predicate():
            await trio.lowlevel.checkpoint()
            return
        while not predicate():
            await self._changed.wait()

    # -- used by sessions (internal) ---------------------------------------------------------

    def _notify(self) -> None:
        """Wake every :meth:`wait_until` to re-check its predicate."""
        self._changed.set()
        self._changed = trio.Event()

    def wall_clock(self) -> float:
        """The exchange's idea of wall-clock time in seconds: ``epoch_ms`` plus Trio's clock.

        Pass it as ``open_okx_client(..., wall_clock=exchange.wall_clock)`` so latency
        figures are exact under the autojump clock.
        """
        return self.epoch_ms / 1000 + trio.current_time()

    def _now_ms(self) -> int:
        return self.epoch_ms + round((trio.current_time() - self.latency) * 1000)

    def _next_ticker(self, inst_id: str) -> dict[str, str]:
        return self.market.next_ticker(inst_id, self._now_ms())

    def _count_push(self) -> None:
        self.pushes += 1
        self._notify()

    def _record_request(self, record: FakeConnection, request: RecordedRequest) -> None:
        record.requests.append(request)
        self._requests.append(request)
        self._notify()

    def _rejection_code(self, inst_id: str) -> str | None:
        return self._rejected.get(inst_id)

    def _forget(self, session: ExchangeSession) -> None:
        if session in self._sessions:
            self._sessions.remove(session)
        self._notify()
