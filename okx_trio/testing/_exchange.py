"""The fake OKX exchange: state, fault injection, observation, and the in-memory connector."""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Final

import trio

from ._market import MarketSimulator
from ._memory import MemoryWebSocket, open_memory_connection
from ._protocol import NOTICE_UPGRADE_CODE, NOTICE_UPGRADE_MSG, encode_notice
from ._records import FakeConnection, RecordedRequest
from ._session import ExchangeSession, admit_into_window
from ._transport import ServerTransport

__all__ = ["FakeExchange"]

# OKX counts connection attempts per second.
_CONNECT_WINDOW: Final = 1.0

Only = Iterable[FakeConnection | int] | None
"""Which open connections a fault reaches: records, or indices into ``connections``."""


def _check_limit(name: str, value: int | None) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ValueError(f"{name} must be an int >= 1 or None, got {value!r}")
    return value


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
    ``epoch_ms + round((trio.current_time() - latency) * 1000)``, and never decrease from one
    push of an instrument to the next.

    Faults aimed at single connections take ``only``: an iterable of :class:`FakeConnection`
    records and/or indices into :attr:`connections` as it is at the call (negative indices
    count from the newest). ``None``, the default, means every open connection. Records of
    connections that have closed since are skipped.

    OKX's rate limits are off unless asked for; set them at construction or later through
    the attributes of the same names. An event at time ``t`` counts against its window until
    ``t + window`` and not at that instant; refused events do not count at all.

    Args:
        tick_interval: Seconds between automatic pushes per instrument and connection.
        seed: Seeds the default market and the ``connId`` sequence.
        epoch_ms: Added to the Trio clock (in ms) for each push's ``ts``. By default
            *wall_clock* when the exchange is made, less the Trio clock, so that in real
            time ``ts`` is the real time (the client's latency figures read true); pass a
            number for ``ts`` values that repeat from run to run.
        wall_clock: Seconds since the epoch, read once, only when *epoch_ms* is not given:
            the exchange's side of the client's ``wall_clock`` (exchange timestamps against
            the wall clock are the one thing that is not virtual time).
        market: Where tickers come from; default ``MarketSimulator(seed)``.
        max_connects_per_second: Refuse a connection attempt when this many were let through
            in the last second (OKX: 3 per IP), as :meth:`refuse_connections` refuses.
        max_requests_per_hour: Answer a subscribe/unsubscribe request with error 60014
            ``Requests too frequent``, and do not apply it, when this many requests on the
            same connection were let through in the last 3600 s (OKX: 480).

    Raises:
        ValueError: if *tick_interval* is negative or NaN, or a limit is not an int >= 1
            or ``None``.
    """

    def __init__(
        self,
        *,
        tick_interval: float = 0.1,
        seed: int = 0,
        epoch_ms: int | None = None,
        market: MarketSimulator | None = None,
        max_connects_per_second: int | None = None,
        max_requests_per_hour: int | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not tick_interval >= 0:  # also rejects NaN
            raise ValueError(f"tick_interval must be >= 0, got {tick_interval!r}")
        self.max_connects_per_second = max_connects_per_second
        self.max_requests_per_hour = max_requests_per_hour
        self._tick_interval = tick_interval
        if epoch_ms is None:
            try:
                trio_now = trio.current_time()
            except RuntimeError:  # made outside a Trio run
                trio_now = 0.0
            # Exchange timestamps are wall-clock time: the one fair use, read once here.
            epoch_ms = round((wall_clock() - trio_now) * 1000)
        self.epoch_ms = epoch_ms
        self.market = market if market is not None else MarketSimulator(seed)
        self._conn_ids = random.Random(f"okx-trio-conn-ids:{seed}")
        self._sessions: list[ExchangeSession] = []
        self._requests: list[RecordedRequest] = []
        self._rejected: dict[str, str] = {}
        self._refuse = 0
        self._silent = False
        self._ignoring = False
        # inst_id -> whether resubscribing cures it (see freeze_instruments).
        self._frozen: dict[str, bool] = {}
        # When the connection attempts the rate limit let through arrived.
        self._connect_window: deque[float] = deque()
        self._changed = trio.Event()
        self.connection_attempts = 0
        """Every connection attempt so far, refused ones included."""
        self.connect_times: list[float] = []
        """``trio.current_time()`` of every connection attempt, refused ones included."""
        self.connects_refused_by_limit = 0
        """Connection attempts refused by ``max_connects_per_second``."""
        self.requests_refused_by_limit = 0
        """Subscribe/unsubscribe requests answered 60014 because of ``max_requests_per_hour``."""
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

    @property
    def max_connects_per_second(self) -> int | None:
        """Connection attempts let through per sliding second, or ``None`` for no limit.

        Settable at any time; attempts made while it was ``None`` still count.

        Raises:
            ValueError: on setting anything but an int >= 1 or ``None``.
        """
        return self._max_connects

    @max_connects_per_second.setter
    def max_connects_per_second(self, value: int | None) -> None:
        self._max_connects = _check_limit("max_connects_per_second", value)

    @property
    def max_requests_per_hour(self) -> int | None:
        """Subscribe/unsubscribe requests let through per connection per sliding 3600 s.

        ``None`` means no limit. Settable at any time; requests made while it was ``None``
        still count. Pings, illegal requests and requests that :meth:`ignore_requests` or
        :meth:`go_silent` leave unanswered are not counted.

        Raises:
            ValueError: on setting anything but an int >= 1 or ``None``.
        """
        return self._max_requests

    @max_requests_per_hour.setter
    def max_requests_per_hour(self, value: int | None) -> None:
        self._max_requests = _check_limit("max_requests_per_hour", value)

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
            ConnectionRefusedError: from ``__aenter__``, if :meth:`refuse_connections` or
                ``max_connects_per_second`` says this attempt fails.
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

        The rate limit is checked first: an attempt it refuses does not use up a
        :meth:`refuse_connections` count.

        Raises:
            ConnectionRefusedError: if this attempt is to be refused.
        """
        now = trio.current_time()
        self.connection_attempts += 1
        self.connect_times.append(now)
        if not admit_into_window(
            self._connect_window, now, _CONNECT_WINDOW, self.max_connects_per_second
        ):
            self.connects_refused_by_limit += 1
            self._notify()
            raise ConnectionRefusedError(
                "connection refused by FakeExchange.max_connects_per_second"
            )
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

    def drop_connections(self, code: int = 1006, reason: str = "", *, only: Only = None) -> int:
        """Close the open connections now (or those in *only*), with *code*; returns how many.

        Code 1006 (the default) aborts without a closing handshake, like a dead network
        path; other codes send a close frame. Messages queued before the drop are still
        delivered first. The connections leave :attr:`connections` immediately. Clients see
        ``CloseReason(code, reason)``, with an empty *reason* as ``None`` (as trio-websocket
        reports it).

        Raises:
            TypeError, IndexError, ValueError: for a bad *only* (see :meth:`send_notice`);
                nothing is dropped then.
        """
        sessions = self._select(only)
        for session in sessions:
            session.close_nowait(code, reason)
        self._notify()
        return len(sessions)

    def go_silent(self, *, only: Only = None) -> None:
        """Become a half-open server: stop pushing and stop answering anything.

        Connections stay open and requests are still recorded, but there is no ``pong``, no
        ack and no error. Explicit :meth:`push_ticker`, :meth:`send_notice` and
        :meth:`send_raw` calls still go out. WebSocket-level ping frames on the real-socket
        server are still answered by trio-websocket; OKX clients use the text ``ping``.

        With *only*, just those connections go half-open (their ``FakeConnection.silent``
        becomes true), for good: a connection made later is not silent, and :attr:`silent`
        stays false.

        Raises:
            TypeError, IndexError, ValueError: for a bad *only* (see :meth:`send_notice`).
        """
        if only is None:
            self._silent = True
        else:
            for session in self._select(only):
                session.record.silent = True
        self._notify()

    def resume(self, *, only: Only = None) -> None:
        """Undo :meth:`go_silent`: pushes continue on their schedule and requests get answers.

        Without *only* this ends every silence, exchange-wide and per connection. With
        *only*, it ends those connections' own silence; an exchange-wide silence stays.

        Raises:
            TypeError, IndexError, ValueError: for a bad *only* (see :meth:`send_notice`).
        """
        if only is None:
            self._silent = False
        for session in self._select(only):
            session.record.silent = False
        self._notify()

    @property
    def silent(self) -> bool:
        """Whether the exchange-wide :meth:`go_silent` is in effect."""
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

    def send_notice(
        self, code: str = NOTICE_UPGRADE_CODE, msg: str = NOTICE_UPGRADE_MSG, *, only: Only = None
    ) -> None:
        """Send a ``notice`` event (default: 64008, service upgrade) to the open connections.

        Raises:
            TypeError: if *only* is not an iterable, or holds something other than records
                and ints.
            IndexError: if an index in *only* is out of range for :attr:`connections`.
            ValueError: if a record in *only* is open but not a connection of this exchange.
        """
        for session in self._select(only):
            session.send_nowait(encode_notice(code, msg, session.record.conn_id))
        self._notify()

    def send_raw(self, payload: str | bytes, *, only: Only = None) -> None:
        """Send *payload* to the open connections: ``str`` as a text frame, ``bytes`` as binary.

        Raises:
            TypeError: if *payload* is neither ``str`` nor ``bytes``.
            TypeError, IndexError, ValueError: for a bad *only* (see :meth:`send_notice`).
        """
        if not isinstance(payload, str | bytes):
            raise TypeError(f"payload must be str or bytes, not {type(payload).__name__}")
        for session in self._select(only):
            session.send_nowait(payload)
        self._notify()

    def push_ticker(self, inst_id: str, *, only: Only = None) -> None:
        """Push one ticker for *inst_id* now, to every open connection subscribed to it.

        Connections on which *inst_id* is frozen get nothing; a silent one still gets it.

        Raises:
            TypeError, IndexError, ValueError: for a bad *only* (see :meth:`send_notice`).
        """
        for session in self._select(only):
            if inst_id in session.record.subscriptions:
                session.push(inst_id)
        self._notify()

    def freeze_instruments(self, *inst_ids: str, cured_by_resubscribe: bool = True) -> None:
        """Stop pushing *inst_ids* on every connection, while they stay subscribed.

        The "frozen price" fault: subscribes are still acked and ``subscriptions`` does not
        change, but the subscriptions of *inst_ids* that exist now get no push, automatic
        or from :meth:`push_ticker`, until :meth:`thaw_instruments`. Automatic pushes keep
        their schedule meanwhile, so a thaw resumes them on the same grid.

        By default the fault is per subscription, like a stuck server-side feed: a new
        subscribe of a frozen instrument (on a new connection, or after an unsubscribe on
        the same one) is served normally. A repeated subscribe without an unsubscribe
        changes nothing, so it cures nothing. With *cured_by_resubscribe* false, every
        subscription of *inst_ids*, now or later, stays frozen until the thaw.

        Raises:
            ValueError: if no instrument is named (:meth:`thaw_instruments` with none thaws
                all; freezing all is not offered).
        """
        if not inst_ids:
            raise ValueError("name at least one instrument to freeze")
        for inst_id in inst_ids:
            self._frozen[inst_id] = cured_by_resubscribe
        for session in self._sessions:
            record = session.record
            record.frozen |= record.subscriptions.intersection(inst_ids)
        self._notify()

    def thaw_instruments(self, *inst_ids: str) -> None:
        """Undo :meth:`freeze_instruments` for *inst_ids* (none: for every instrument).

        Automatic pushes resume at the next point of their schedule.
        """
        thawed = set(inst_ids) if inst_ids else None
        if thawed is None:
            self._frozen.clear()
        else:
            for inst_id in thawed:
                self._frozen.pop(inst_id, None)
        for session in self._sessions:
            if thawed is None:
                session.record.frozen.clear()
            else:
                session.record.frozen -= thawed
        self._notify()

    @property
    def frozen_instruments(self) -> frozenset[str]:
        """The instruments frozen and not thawed since.

        Whether a subscription is still frozen is per connection: see
        ``FakeConnection.frozen``.
        """
        return frozenset(self._frozen)

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

    def _frozen_for_new_subscriptions(self, inst_id: str) -> bool:
        return self._frozen.get(inst_id) is False

    def _select(self, only: Only) -> list[ExchangeSession]:
        """The open sessions *only* names, oldest first, each once (internal).

        Validates all of *only* before returning, so a fault with a bad *only* does nothing.
        """
        sessions = list(self._sessions)
        if only is None:
            return sessions
        if isinstance(only, FakeConnection | int | str | bytes):
            raise TypeError(
                "only must be an iterable of FakeConnection records or indices into "
                f"connections, not {type(only).__name__}"
            )
        by_record = {session.record: session for session in sessions}
        chosen: set[ExchangeSession] = set()
        for item in only:
            if isinstance(item, FakeConnection):
                session = by_record.get(item)
                if session is not None:
                    chosen.add(session)
                elif item.closed_at is None:
                    raise ValueError(f"{item!r} is not a connection of this exchange")
            elif isinstance(item, int) and not isinstance(item, bool):
                try:
                    chosen.add(sessions[item])
                except IndexError:
                    raise IndexError(
                        f"no connection at index {item}: {len(sessions)} open"
                    ) from None
            else:
                raise TypeError(
                    f"only must hold FakeConnection records or ints, not {type(item).__name__}"
                )
        return [session for session in sessions if session in chosen]

    def _forget(self, session: ExchangeSession) -> None:
        if session in self._sessions:
            self._sessions.remove(session)
        self._notify()
