"""The fake OKX exchange: construction, connecting, observation (faults: ``_faults``)."""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from urllib.parse import urlsplit

import trio

from .._okx import BUSINESS_PATH, PRIVATE_PATH, PUBLIC_PATH
from .._subscription import Subscription
from ._account_registry import Accounts
from ._book_faults import BookFaultsMixin
from ._exchange_accounts import AccountsMixin
from ._exchange_venue import VenueMixin
from ._fidelity import Fidelity
from ._limits import CONNECT_WINDOW, admit_into_window
from ._listing import DEFAULT_LISTING, Listing
from ._market import MarketSimulator
from ._memory import MemoryWebSocket, open_memory_connection
from ._private_rest import PRIVATE_REST_PATHS, handle_private_rest
from ._records import EndpointName, FakeConnection, RecordedRequest
from ._rest import RestReply, RestRequest
from ._rest_exchange import RestMixin
from ._server_protocol import FakeServerProtocol
from ._session import ExchangeSession
from ._transport import ServerTransport
from ._venue import Venue

__all__ = ["FakeExchange", "endpoint_of_path"]

_PATHS: dict[str, EndpointName] = {
    PUBLIC_PATH: "public",
    BUSINESS_PATH: "business",
    PRIVATE_PATH: "private",
}


def endpoint_of_path(path: str) -> EndpointName | None:
    """``"public"`` / ``"business"`` / ``"private"`` for OKX's URL paths, None for any
    other path."""
    return _PATHS.get(path.rstrip("/") or "/")


class FakeExchange(VenueMixin, BookFaultsMixin, RestMixin, AccountsMixin):
    """An in-process OKX v5 exchange serving every public and business market channel.

    Connect through :meth:`connector` (in memory, deterministic under Trio's ``MockClock``)
    or through :func:`open_fake_exchange_server` (a real WebSocket on a local port). Both
    route by URL path (``/ws/v5/public``, ``/ws/v5/business``) and run the same sans-IO
    ``FakeServerProtocol`` per connection, so faults injected here reach every connection,
    however it was made.

    Each subscription gets its first push right after its ack, then one per its channel's
    cadence: ``tick_interval`` for tickers, trades and books (twice that for mark and index
    prices), 1 s for candles, 3 s open interest, 60 s funding, the full list only once for
    ``instruments``; *cadence* overrides any (by channel, or ``"candle"`` for every candle
    channel). With ``tick_interval`` of 0 or ``math.inf`` nothing is pushed automatically;
    use :meth:`push` / :meth:`push_ticker`.

    Fidelity switches (all OKX's behaviour by default; see :class:`Fidelity`):
    *reject_unlisted*, *idle_timeout*, *notice_close_after*, *msg_before_code*, *conn_id*,
    *stagger_ms*, *data_before_ack*, *book_checksums*, *book_snapshots*. The listing is
    *listed* (instrument ids) and *indexes* (for the index channels); default: see
    ``okx_trio.testing._listing``.

    Timestamps are ``epoch_ms + round((trio.current_time() - latency) * 1000)``, less a
    stable per-instrument stagger of up to *stagger_ms*, and never decrease from one push
    of an instrument to the next.

    Books (``books``: 400 levels, irregular seqIds the same on every connection, keep-alives,
    resets) break on demand through the per-book faults (``drop_book_update`` ...); the REST
    API (``GET /api/v5/market/books``, ``/api/v5/public/time``) is served in memory by
    :meth:`http_transport` and on loopback next to the WebSocket (:attr:`rest_url`).

    OKX's rate limits are off unless asked for; set them at construction or later through
    the attributes of the same names. An event at time ``t`` counts against its window until
    ``t + window`` and not at that instant; refused events do not count at all.

    Args:
        tick_interval: Seconds between automatic pushes of the fast channels.
        seed: Seeds the default market and the ``connId`` sequence.
        epoch_ms: Added to the Trio clock (in ms) for each push's ``ts``. By default
            *wall_clock* when the exchange is made, less the Trio clock.
        wall_clock: Seconds since the epoch, read once, only when *epoch_ms* is not given.
        market: Where tickers come from; default ``MarketSimulator(seed)``.
        max_connects_per_second: Refuse a connection attempt when this many were let through
            in the last second (OKX: 3 per IP), as :meth:`refuse_connections` refuses.
        max_requests_per_hour: Answer a subscribe/unsubscribe request with error 60014
            ``Requests too frequent``, and do not apply it, when this many requests on the
            same connection were let through in the last 3600 s (OKX: 480).

    Raises:
        ValueError: if *tick_interval* is negative or NaN, a limit is not an int >= 1 or
            ``None``, a *cadence* entry is unknown or not > 0, a switch is out of range, or
            an id in *listed*/*indexes* is not an instrument id.
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
        listed: Iterable[str] | None = None,
        indexes: Iterable[str] | None = None,
        cadence: Mapping[str, float] | None = None,
        reject_unlisted: bool = True,
        idle_timeout: float | None = 30.0,
        notice_close_after: float | None = 60.0,
        msg_before_code: bool = True,
        conn_id: bool = True,
        stagger_ms: int = 5,
        data_before_ack: bool = False,
        book_checksums: bool = False,
        book_snapshots: bool = True,
    ) -> None:
        self.max_connects_per_second = max_connects_per_second
        if epoch_ms is None:
            try:
                trio_now = trio.current_time()
            except RuntimeError:  # made outside a Trio run
                trio_now = 0.0
            # Exchange timestamps are wall-clock time: the one fair use, read once here.
            epoch_ms = round((wall_clock() - trio_now) * 1000)
        fidelity = Fidelity(
            reject_unlisted=reject_unlisted,
            idle_timeout=idle_timeout,
            notice_close_after=notice_close_after,
            msg_before_code=msg_before_code,
            conn_id=conn_id,
            stagger_ms=stagger_ms,
            data_before_ack=data_before_ack,
            book_checksums=book_checksums,
            book_snapshots=book_snapshots,
        )
        listing = Listing(
            DEFAULT_LISTING[0] if listed is None else listed,
            DEFAULT_LISTING[1] if indexes is None else indexes,
        )
        self._venue = Venue(
            tick_interval=tick_interval,
            seed=seed,
            epoch_ms=epoch_ms,
            market=market if market is not None else MarketSimulator(seed),
            listing=listing,
            fidelity=fidelity,
            cadence=cadence or {},
            max_requests_per_hour=max_requests_per_hour,
            changed=self._notify,
        )
        venue = self._venue
        self._accounts = Accounts(
            epoch_ms=epoch_ms,
            clock=lambda: venue.stamp(None, _trio_now()),
            changed=self._changed_all,
        )
        self._conn_ids = random.Random(f"okx-trio-conn-ids:{seed}")
        self._sessions: list[ExchangeSession] = []
        self._refuse = 0
        # When the connection attempts the rate limit let through arrived.
        self._connect_window: deque[float] = deque()
        self._changed = trio.Event()
        self.connection_attempts = 0
        """Every connection attempt so far, refused ones included."""
        self.connect_times: list[float] = []
        """``trio.current_time()`` of every connection attempt, refused ones included."""
        self.connects_refused_by_limit = 0
        """Connection attempts refused by ``max_connects_per_second``."""
        self.accepted_connections = 0
        """Connection attempts that were accepted."""
        self._init_rest()
        for path in sorted(PRIVATE_REST_PATHS):
            # Signed routes: the accounts' orders, positions and balances.
            self.rest.add("GET", path, self._private_rest)

    def _private_rest(self, request: RestRequest) -> RestReply:
        status, body = handle_private_rest(
            self._accounts, request.method, request.path, request.query, request.headers,
            request.body, request.now,
        )
        return RestReply(status, body)

    # -- settings ----------------------------------------------------------------------------

    # -- connecting --------------------------------------------------------------------------

    def connector(self, url: str) -> AbstractAsyncContextManager[MemoryWebSocket]:
        """Open an in-memory connection; use as ``async with exchange.connector(url) as ws``.

        Compatible with ``okx_trio._connection.Connector``. *url*'s path picks the endpoint:
        ``/ws/v5/business`` the business one, ``/ws/v5/private`` the private one (log in
        with an account of :meth:`add_account`), ``/ws/v5/public`` or any other path the
        public one. ``get_message``
        returns what was already sent and then raises
        ``okx_trio._connection.ConnectionClosed(code, reason)``.

        Leaving the block closes the connection (the exchange records code 1000) and cancels
        the server side.

        Raises:
            ConnectionRefusedError: from ``__aenter__``, if :meth:`refuse_connections` or
                ``max_connects_per_second`` says this attempt fails.
        """
        path = urlsplit(url).path
        return self._connect(path, endpoint_of_path(path) or "public")

    @asynccontextmanager
    async def _connect(self, path: str, endpoint: EndpointName) -> AsyncIterator[MemoryWebSocket]:
        await trio.lowlevel.checkpoint()
        self.admit()
        async with open_memory_connection(lambda t: self.accept(t, endpoint).run) as ws:
            yield ws

    def admit(self) -> None:
        """Count a connection attempt (for transports: the loopback server calls it).

        The rate limit is checked first: an attempt it refuses does not use up a
        :meth:`refuse_connections` count.

        Raises:
            ConnectionRefusedError: if this attempt is to be refused.
        """
        now = trio.current_time()
        self.connection_attempts += 1
        self.connect_times.append(now)
        if not admit_into_window(self._connect_window, now, CONNECT_WINDOW, self._max_connects):
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

    def accept(self, transport: ServerTransport, endpoint: EndpointName) -> ExchangeSession:
        """Register an admitted connection on *endpoint* served over *transport* (for
        transports); the caller runs ``session.run()``.

        Synchronous, so the connection is in :attr:`connections` before the client's
        connect returns.
        """
        now = trio.current_time()
        record = FakeConnection(
            conn_id=f"{self._conn_ids.getrandbits(32):08x}", opened_at=now, endpoint=endpoint
        )
        session = ExchangeSession(
            FakeServerProtocol(self._venue, record, now, self._accounts), transport, self._forget
        )
        self._sessions.append(session)
        self.accepted_connections += 1
        self._notify()
        return session

    def server_protocol(
        self, endpoint: EndpointName = "public", now: float = 0.0
    ) -> FakeServerProtocol:
        """A sans-IO protocol for one connection on *endpoint* opened at *now*, sharing this
        exchange's market, faults and records but served by no transport (for unit tests
        that drive it, or pair it with a client's sans-IO protocol, with no sockets). It is
        not in :attr:`connections`; the faults that pick connections do not reach it.
        """
        conn_id = f"{self._conn_ids.getrandbits(32):08x}"
        record = FakeConnection(conn_id=conn_id, opened_at=now, endpoint=endpoint)
        return FakeServerProtocol(self._venue, record, now, self._accounts)

    def _forget(self, session: ExchangeSession) -> None:
        if session in self._sessions:
            self._sessions.remove(session)
        self._notify()

    # -- observation -------------------------------------------------------------------------

    @property
    def silent(self) -> bool:
        """Whether the exchange-wide :meth:`go_silent` is in effect."""
        return self._venue.silent

    @property
    def ignoring_requests(self) -> bool:
        """Whether :meth:`ignore_requests` is in effect."""
        return self._venue.ignoring_requests

    @property
    def pushes(self) -> int:
        """Data pushes sent so far, over all connections and channels."""
        return self._venue.pushes

    @property
    def requests_refused_by_limit(self) -> int:
        """Subscribe/unsubscribe requests answered 60014 because of ``max_requests_per_hour``."""
        return self._venue.requests_refused_by_limit

    @property
    def connections(self) -> list[FakeConnection]:
        """The connections open now, oldest first (a new list on every access)."""
        return [session.record for session in self._sessions]

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received on any connection, in arrival order (a new list)."""
        return list(self._venue.requests)

    def clear_requests(self) -> None:
        """Forget the requests recorded so far (exchange-wide list; per connection they stay)."""
        self._venue.requests.clear()

    def subscriptions(self) -> set[str]:
        """The ``tickers`` shortcut: instruments subscribed to ``tickers`` on any open
        connection."""
        out: set[str] = set()
        for session in self._sessions:
            out |= session.record.subscriptions
        return out

    def subscribed(self, endpoint: EndpointName | None = None) -> set[Subscription]:
        """Every subscription of any open connection (on *endpoint*, if given)."""
        out: set[Subscription] = set()
        for session in self._select(None, endpoint):
            out |= session.record.subscribed
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


def _trio_now() -> float:
    try:
        return trio.current_time()
    except RuntimeError:  # scripted outside a Trio run (a sans-IO test)
        return 0.0
