"""What the fake exchange observed: connections and requests, for tests to assert on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["FakeConnection", "RecordedRequest"]

RequestOp = Literal["subscribe", "unsubscribe", "ping", "invalid"]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One frame a client sent, as the exchange understood it.

    Attributes:
        time: ``trio.current_time()`` when the exchange received it.
        conn_id: The ``connId`` of the connection it arrived on.
        op: ``"subscribe"``, ``"unsubscribe"``, ``"ping"``, or ``"invalid"`` for anything the
            exchange answered with error 60012 (not JSON, unknown op, bad args or id, binary).
        id: The request's ``id`` (``None`` if it had none, and for ping and invalid requests).
        inst_ids: The ``instId`` of every argument, in request order (empty unless subscribe
            or unsubscribe).
        raw: The frame's text (binary frames decoded as UTF-8 with replacement).
    """

    time: float
    conn_id: str
    op: RequestOp
    id: str | None
    inst_ids: tuple[str, ...]
    raw: str


@dataclass(eq=False)
class FakeConnection:
    """The exchange's view of one accepted connection; it stays valid after the close.

    Compared by identity (``eq=False``), so it can be kept in sets and dicts. The exchange
    updates it in place: ``subscriptions`` is the server-side set of ``tickers`` instruments
    (what the exchange pushes, not what the client believes), and ``closed_at`` /
    ``close_code`` are filled in when either side closes. ``close_code`` is the code of the
    drop (see :meth:`FakeExchange.drop_connections`), the client's close code (1000 when the
    client leaves normally), or 1006 when the connection ended without a close handshake.

    Attributes:
        frozen: The subscribed instruments whose pushes this connection withholds (see
            :meth:`FakeExchange.freeze_instruments`); always a subset of ``subscriptions``.
        silent: Whether ``FakeExchange.go_silent(only=...)`` singled this connection out
            (an exchange-wide :meth:`FakeExchange.go_silent` does not set it).
        pushes: Ticker pushes sent on this connection, automatic and explicit.
        last_push_at: Per instrument, ``trio.current_time()`` of its latest push here.
    """

    conn_id: str
    opened_at: float
    subscriptions: set[str] = field(default_factory=set)
    requests: list[RecordedRequest] = field(default_factory=list)
    closed_at: float | None = None
    close_code: int | None = None
    frozen: set[str] = field(default_factory=set)
    silent: bool = False
    pushes: int = 0
    last_push_at: dict[str, float] = field(default_factory=dict)
