"""A fake OKX v5 WebSocket exchange for testing OKX clients, Trio-native.

:class:`FakeExchange` serves every public and business market channel (tickers, trades,
books, candles, mark and index prices, funding, ...) from a seeded :class:`MarketSimulator`,
on both endpoints, in memory through :meth:`FakeExchange.connector` (deterministic under
``trio.testing.MockClock``) or over a real socket with :func:`open_fake_exchange_server`, and
lets a test inject the faults a real exchange produces: dropped and refused connections, a
silent half-open server, a stalled stream, rejected instruments, lost requests, upgrade
notices and garbage, and per-book faults (a dropped, repeated or reordered update, a crossed
book, a wrong checksum, a late snapshot). It serves OKX's REST order book and time too
(:meth:`FakeExchange.http_transport` in memory, :func:`open_fake_rest_server` on loopback;
routes: :class:`RestRouter`, :func:`register_route`). Each connection is a sans-IO
:class:`FakeServerProtocol`; how closely it follows OKX is set by the :class:`Fidelity`
switches. :meth:`FakeExchange.add_account` makes a :class:`FakeAccount` that logs in
(OKX's signature, timestamp window and codes) and whose scripted orders, fills and
positions become private pushes.
:class:`ReplayExchange` plays back a recorded session (see :func:`load_capture`).
:func:`run_chaos` soaks a client in a seeded :class:`ChaosSchedule` of faults, holding it to
its invariants throughout (the wire rules are :class:`Auditor`'s); :func:`run_book_chaos`
does the same for order books (a :class:`BookChaosSchedule` of book faults: never a wrong
book, always healed).

The server side is an independent implementation of the OKX wire format; it does not use
the client's codec, so it can catch the client's mistakes.
"""

from pathlib import Path

from ._account_registry import Accounts as Accounts
from ._account_shapes import PrivateEvent as PrivateEvent
from ._accounts import FakeAccount as FakeAccount
from ._audit import AuditedConnection as AuditedConnection
from ._audit import Auditor as Auditor
from ._book_chaos import BookChaosReport as BookChaosReport
from ._book_chaos import BookChaosSchedule as BookChaosSchedule
from ._book_chaos import BookFault as BookFault
from ._book_chaos import BookFaultKind as BookFaultKind
from ._book_chaos import run_book_chaos as run_book_chaos
from ._chaos import run_chaos as run_chaos
from ._chaos_report import ChaosReport as ChaosReport
from ._chaos_report import chaos_config as chaos_config
from ._chaos_report import count_tasks as count_tasks
from ._chaos_schedule import ChaosSchedule as ChaosSchedule
from ._chaos_schedule import Fault as Fault
from ._chaos_schedule import FaultKind as FaultKind
from ._exchange import FakeExchange as FakeExchange
from ._fidelity import Fidelity as Fidelity
from ._http import FakeRestTransport as FakeRestTransport
from ._http import open_fake_rest_server as open_fake_rest_server
from ._market import MarketSimulator as MarketSimulator
from ._memory import MemoryWebSocket as MemoryWebSocket
from ._private_rest import PRIVATE_REST_PATHS as PRIVATE_REST_PATHS
from ._private_rest import handle_private_rest as handle_private_rest
from ._record import RecordSummary as RecordSummary
from ._record import record_session as record_session
from ._records import FakeConnection as FakeConnection
from ._records import RecordedRequest as RecordedRequest
from ._replay import CaptureLine as CaptureLine
from ._replay import ReplayExchange as ReplayExchange
from ._replay import load_capture as load_capture
from ._replay import parse_capture as parse_capture
from ._rest import RateLimit as RateLimit
from ._rest import RestReply as RestReply
from ._rest import RestRequest as RestRequest
from ._rest import RestRouter as RestRouter
from ._rest import okx_error as okx_error
from ._rest import okx_ok as okx_ok
from ._rest import register_route as register_route
from ._server import open_fake_exchange_server as open_fake_exchange_server
from ._server_protocol import FakeServerProtocol as FakeServerProtocol

#: Recorded OKX traffic and OKX's documentation samples, shipped with the package (see its
#: README.md): ``CAPTURE_DIR / "okx-public-2022-05-13.txt"`` replays with ReplayExchange.
CAPTURE_DIR = Path(__file__).resolve().parent / "captures"

__all__ = [
    "CAPTURE_DIR",
    "PRIVATE_REST_PATHS",
    "Accounts",
    "AuditedConnection",
    "Auditor",
    "BookChaosReport",
    "BookChaosSchedule",
    "BookFault",
    "BookFaultKind",
    "CaptureLine",
    "ChaosReport",
    "ChaosSchedule",
    "FakeAccount",
    "FakeConnection",
    "FakeExchange",
    "FakeRestTransport",
    "FakeServerProtocol",
    "Fault",
    "FaultKind",
    "Fidelity",
    "MarketSimulator",
    "MemoryWebSocket",
    "PrivateEvent",
    "RateLimit",
    "RecordSummary",
    "RecordedRequest",
    "ReplayExchange",
    "RestReply",
    "RestRequest",
    "RestRouter",
    "chaos_config",
    "count_tasks",
    "handle_private_rest",
    "load_capture",
    "okx_error",
    "okx_ok",
    "open_fake_exchange_server",
    "open_fake_rest_server",
    "parse_capture",
    "record_session",
    "register_route",
    "run_book_chaos",
    "run_chaos",
]
