"""The client's stats snapshot: totals over its connections' snapshots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._quality import LatencyWindow
from ._state import ConnectionState
from ._stats import ConnectionStats
from ._subscription import Subscription

__all__ = ["client_stats"]


def client_stats(
    *,
    state: ConnectionState,
    per_link: Sequence[ConnectionStats],
    retired: Sequence[ConnectionStats],
    url: str,
    desired: Iterable[Subscription],
    rejected: Mapping[Subscription, str],
    streams: Mapping[str, Any],
    latency: LatencyWindow,
    connects_delayed: int,
    clock_offset: float = 0.0,
) -> ConnectionStats:
    """Totals over *per_link* (the live links) and *retired* (links whose shard emptied:
    their counts still count), with one entry per live link in ``connections``."""
    counted = [*per_link, *retired]
    first = per_link[0] if per_link else None
    budgets = [s.request_budget for s in per_link if s.request_budget is not None]
    failures: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for snapshot in counted:
        for reason, count in snapshot.book_resync_reasons:
            reasons[reason] = reasons.get(reason, 0) + count
    for snapshot in counted:
        for link_url, count in snapshot.url_failures:
            failures[link_url] = failures.get(link_url, 0) + count
    desired = list(desired)
    tickers = streams.get("tickers")
    return ConnectionStats(
        state=state,
        reconnect_count=sum(s.reconnect_count for s in counted),
        retry_count=max((s.retry_count for s in per_link), default=0),
        subscribed_pairs=sum(s.subscribed_pairs for s in per_link),
        connection_duration=min((s.connection_duration for s in per_link), default=0.0),
        last_message_age=min(
            (s.last_message_age for s in per_link if s.last_message_age is not None),
            default=None,
        ),
        last_error=next((s.last_error for s in per_link if s.last_error), ""),
        url=first.url if first is not None else url,
        desired_pairs=sum(1 for s in desired if s.channel == "tickers"),
        messages_received=sum(s.messages_received for s in counted),
        ticks_received=sum(s.ticks_received for s in counted),
        ticks_dropped=tickers.dropped if tickers is not None else 0,
        bad_messages=sum(s.bad_messages for s in counted),
        ignored_messages=sum(s.ignored_messages for s in counted),
        rejected_pairs=tuple(
            sorted(s.inst_id for s in rejected if s.channel == "tickers" and s.inst_id)
        ),
        connections_opened=sum(s.connections_opened for s in counted),
        pings_sent=sum(s.pings_sent for s in counted),
        latency_median=latency.median(),
        latency_p99=latency.p99(),
        quality=min((s.quality for s in per_link), default=100),
        url_failures=tuple(failures.items()),
        stale_resubscribes=sum(s.stale_resubscribes for s in counted),
        connects_delayed=connects_delayed,
        requests_delayed=sum(s.requests_delayed for s in counted),
        request_budget=min(budgets, default=None),
        handovers=sum(s.handovers for s in counted),
        connections=tuple(per_link),
        subscriptions=len(desired),
        acknowledged=sum(s.acknowledged for s in per_link),
        records_received=sum(s.records_received for s in counted),
        records_dropped=sum(
            fan.dropped for channel, fan in streams.items() if channel != "tickers"
        ),
        rejected=tuple(sorted(s.key for s in rejected)),
        books=sum(s.books for s in per_link),
        books_valid=sum(s.books_valid for s in per_link),
        book_resyncs=sum(s.book_resyncs for s in counted),
        book_resync_reasons=tuple(sorted(reasons.items())),
        book_rest_seeds=sum(s.book_rest_seeds for s in counted),
        clock_offset=clock_offset,
        logged_in=any(s.logged_in for s in per_link)
        and all(s.logged_in for s in per_link if s.endpoint == "private"),
    )
