"""A link's figures: its own counters, those of its ended connections, and the live ones.

Counters belong to what counts them: a connection's to its protocol object, a slot's
(reconnects, handovers) to its link. When a connection ends, its figures are added to the
link's totals, so nothing is lost; a snapshot adds the live connections' figures on top.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Protocol

from ._stats import ConnectionStats

if TYPE_CHECKING:
    from ._backoff import ReconnectStrategy
    from ._failover import EndpointRotation
    from ._okx import Endpoint
    from ._protocol import OkxProtocol
    from ._quality import QualityTracker
    from ._state import ConnectionState
    from ._subscription import Subscription

__all__ = ["LinkCounters", "link_stats"]

#: The per-connection counters an OkxProtocol keeps, summed over a link's connections.
_PROTOCOL_COUNTERS = (
    "messages_received",
    "records_received",
    "ticks_received",
    "bad_messages",
    "ignored_messages",
    "pings_sent",
    "stale_resubscribes",
    "requests_delayed",
    "book_resyncs",
    "book_rest_seeds",
)


@dataclass
class LinkCounters:
    """What one link counted over its life, ended connections included."""

    reconnect_count: int = 0
    connections_opened: int = 0
    handovers: int = 0
    messages_received: int = 0
    records_received: int = 0
    ticks_received: int = 0
    bad_messages: int = 0
    ignored_messages: int = 0
    pings_sent: int = 0
    stale_resubscribes: int = 0
    requests_delayed: int = 0
    book_resyncs: int = 0
    book_rest_seeds: int = 0
    book_resync_reasons: dict[str, int] = field(default_factory=dict)

    def add(self, protocol: OkxProtocol) -> None:
        """Fold an ended connection's counters into the totals."""
        for name in _PROTOCOL_COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(protocol, name))
        _add_reasons(self.book_resync_reasons, protocol.books.resync_reasons)

    def with_live(self, live: Sequence[OkxProtocol]) -> dict[str, int]:
        totals = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name != "book_resync_reasons"
        }
        for protocol in live:
            for name in _PROTOCOL_COUNTERS:
                totals[name] += getattr(protocol, name)
        return totals

    def reasons_with_live(self, live: Sequence[OkxProtocol]) -> dict[str, int]:
        reasons = dict(self.book_resync_reasons)
        for protocol in live:
            _add_reasons(reasons, protocol.books.resync_reasons)
        return reasons


def _add_reasons(into: dict[str, int], more: dict[str, int]) -> None:
    for reason, count in more.items():
        into[reason] = into.get(reason, 0) + count


class _LinkView(Protocol):
    """The parts of a link a snapshot reads."""

    state: ConnectionState
    strategy: ReconnectStrategy
    rotation: EndpointRotation
    quality: QualityTracker
    counters: LinkCounters
    connected_at: float | None
    last_error: str
    index: int
    endpoint: Endpoint
    subs: frozenset[Subscription]

    @property
    def protocol(self) -> OkxProtocol | None: ...

    @property
    def host(self) -> _LatencySource: ...


class _LatencySource(Protocol):
    def latency_median(self) -> float | None: ...


def link_stats(link: _LinkView, live: Sequence[OkxProtocol], now: float) -> ConnectionStats:
    """One link's :class:`ConnectionStats` at *now*."""
    totals = link.counters.with_live(live)
    protocol = link.protocol
    last_message_at = max(
        (p.last_message_at for p in live if p.last_message_at is not None), default=None
    )
    acknowledged = protocol.acknowledged if protocol is not None else frozenset()
    return ConnectionStats(
        state=link.state,
        reconnect_count=totals["reconnect_count"],
        retry_count=link.strategy.retry_count,
        subscribed_pairs=sum(1 for s in acknowledged if s.channel == "tickers"),
        connection_duration=(now - link.connected_at if link.connected_at is not None else 0.0),
        last_message_age=(now - last_message_at if last_message_at is not None else None),
        last_error=link.last_error,
        url=link.rotation.current,
        desired_pairs=sum(1 for s in link.subs if s.channel == "tickers"),
        messages_received=totals["messages_received"],
        ticks_received=totals["ticks_received"],
        connections_opened=totals["connections_opened"],
        pings_sent=totals["pings_sent"],
        bad_messages=totals["bad_messages"],
        ignored_messages=totals["ignored_messages"],
        quality=link.quality.score(now, link.host.latency_median()),
        url_failures=tuple(link.rotation.failures().items()),
        stale_resubscribes=totals["stale_resubscribes"],
        requests_delayed=totals["requests_delayed"],
        request_budget=protocol.request_budget(now) if protocol is not None else None,
        handovers=totals["handovers"],
        index=link.index,
        endpoint=link.endpoint,
        subscriptions=len(link.subs),
        acknowledged=len(acknowledged),
        records_received=totals["records_received"],
        books=len(protocol.books.books) if protocol is not None else 0,
        books_valid=(
            sum(1 for s in protocol.books.books if protocol.books.valid(s))
            if protocol is not None
            else 0
        ),
        book_resyncs=totals["book_resyncs"],
        book_resync_reasons=tuple(sorted(link.counters.reasons_with_live(live).items())),
        book_rest_seeds=totals["book_rest_seeds"],
        logged_in=protocol is not None and protocol.logged_in,
    )
