"""What the fake exchange observed: connections and requests, for tests to assert on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .._subscription import Subscription

__all__ = ["FakeConnection", "RecordedRequest"]

RequestOp = Literal["subscribe", "unsubscribe", "ping", "invalid", "login"]
EndpointName = Literal["public", "business", "private"]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One frame a client sent, as the exchange understood it.

    Attributes:
        time: ``trio.current_time()`` when the exchange received it.
        conn_id: The ``connId`` of the connection it arrived on.
        op: ``"subscribe"``, ``"unsubscribe"``, ``"ping"``, ``"login"``, or ``"invalid"`` for
            anything the exchange answered with error 60012 (not JSON, unknown op, bad args
            or id, binary).
        id: The request's ``id`` (``None`` if it had none, and for ping and invalid requests).
        inst_ids: The ``instId`` of every argument that has one, in request order (empty
            unless subscribe or unsubscribe).
        raw: The frame's text (binary frames decoded as UTF-8 with replacement); a login's
            with its passphrase and signature as ``***``.
        subscriptions: The :class:`Subscription` of every argument that makes one, in
            request order (an unknown channel makes none).
    """

    time: float
    conn_id: str
    op: RequestOp
    id: str | None
    inst_ids: tuple[str, ...]
    raw: str
    subscriptions: tuple[Subscription, ...] = ()


@dataclass(eq=False)
class FakeConnection:
    """The exchange's view of one accepted connection; it stays valid after the close.

    Compared by identity (``eq=False``), so it can be kept in sets and dicts. The exchange
    updates it in place: ``subscribed`` is the server-side set of subscriptions (what the
    exchange pushes, not what the client believes), and ``closed_at`` / ``close_code`` are
    filled in when either side closes. ``close_code`` is the code of the drop (see
    :meth:`FakeExchange.drop_connections`), the exchange's own close (4004 idle, or the close
    that follows a 64008 notice), the client's close code (1000 when the client leaves
    normally), or 1006 when the connection ended without a close handshake.

    Attributes:
        endpoint: ``"public"``, ``"business"`` or ``"private"``: the URL path the client
            connected to.
        subscribed: Every subscription this connection has, any channel.
        frozen: The subscribed instruments whose pushes this connection withholds (see
            :meth:`FakeExchange.freeze_instruments`), on every channel.
        silent: Whether ``FakeExchange.go_silent(only=...)`` singled this connection out
            (an exchange-wide :meth:`FakeExchange.go_silent` does not set it).
        blackholed: Whether :meth:`FakeExchange.blackhole` stalled this connection.
        pushes: Data pushes sent on this connection, automatic and explicit, any channel.
        last_push_at: Per ``tickers`` instrument, ``trio.current_time()`` of its latest push.
        last_push_of: Per subscription, the time of its latest push here.
        api_key: The API key the connection logged in with (None: not logged in).
    """

    conn_id: str
    opened_at: float
    requests: list[RecordedRequest] = field(default_factory=list)
    closed_at: float | None = None
    close_code: int | None = None
    frozen: set[str] = field(default_factory=set)
    silent: bool = False
    pushes: int = 0
    last_push_at: dict[str, float] = field(default_factory=dict)
    endpoint: EndpointName = "public"
    subscribed: set[Subscription] = field(default_factory=set)
    blackholed: bool = False
    last_push_of: dict[Subscription, float] = field(default_factory=dict)
    api_key: str | None = None

    @property
    def subscriptions(self) -> set[str]:
        """The ``tickers`` shortcut: the instIds of this connection's ``tickers`` subscriptions
        (a new set on every access)."""
        return {s.inst_id for s in self.subscribed if s.channel == "tickers" and s.inst_id}
