"""A fake OKX v5 public WebSocket exchange for testing OKX clients, Trio-native.

:class:`FakeExchange` serves the ``tickers`` channel from a seeded :class:`MarketSimulator`,
in memory through :meth:`FakeExchange.connector` (deterministic under
``trio.testing.MockClock``) or over a real socket with :func:`open_fake_exchange_server`, and
lets a test inject the faults a real exchange produces: dropped and refused connections, a
silent half-open server, rejected instruments, lost requests, upgrade notices and garbage.
:class:`ReplayExchange` plays back a recorded session (see :func:`load_capture`).

The server side is an independent implementation of the OKX wire format; it does not use
the client's codec, so it can catch the client's mistakes.
"""

from ._exchange import FakeExchange as FakeExchange
from ._market import MarketSimulator as MarketSimulator
from ._memory import MemoryWebSocket as MemoryWebSocket
from ._records import FakeConnection as FakeConnection
from ._records import RecordedRequest as RecordedRequest
from ._replay import CaptureLine as CaptureLine
from ._replay import ReplayExchange as ReplayExchange
from ._replay import load_capture as load_capture
from ._server import open_fake_exchange_server as open_fake_exchange_server

__all__ = [
    "CaptureLine",
    "FakeConnection",
    "FakeExchange",
    "MarketSimulator",
    "MemoryWebSocket",
    "RecordedRequest",
    "ReplayExchange",
    "load_capture",
    "open_fake_exchange_server",
]
