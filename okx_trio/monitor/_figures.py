"""What a ConnectionStats snapshot says, in words: hosts, failover, pools, the figures worth
showing, and hints for errors a user can act on. Pure functions shared by the table and the
log lines."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from okx_trio import ConnectionStats

__all__ = [
    "LOW_REQUEST_BUDGET",
    "connection_of",
    "failover_url",
    "format_connection_part",
    "format_latency",
    "format_pool_part",
    "is_business",
    "is_pooled",
    "is_private",
    "network_hint",
    "notable_figures",
    "preferred_url",
    "request_budget_low",
    "url_failure_count",
    "url_host",
]

#: The hourly request budget (OKX: 480 per connection) is shown once it is this low.
LOW_REQUEST_BUDGET: Final = 48

# How the resolver's failure reads on Linux, macOS and in trio's wrapping of it.
_NAME_RESOLUTION_SIGNS: Final = (
    "gaierror",
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname",
    "no address associated with hostname",
)


def is_business(conn: ConnectionStats) -> bool:
    """Whether *conn* is a business connection (candles): its url's path says so."""
    return urlsplit(conn.url).path.endswith("/business")


def is_private(conn: ConnectionStats) -> bool:
    """Whether *conn* is a private connection (the account): its endpoint or url says so."""
    return conn.endpoint == "private" or urlsplit(conn.url).path.endswith("/private")


def is_pooled(stats: ConnectionStats) -> bool:
    """Whether the client runs more than one public connection (a sharded pool).

    A business connection (candles) or a private one (the account) beside one public
    connection is no pool: the panel and the log line stay those of one connection, their
    state changes are named apart.
    """
    public = [c for c in stats.connections if not is_business(c) and not is_private(c)]
    return len(public) > 1


def connection_of(
    stats: ConnectionStats, endpoint: str | None, index: int
) -> ConnectionStats | None:
    """The row of ``stats.connections`` for connection *index* of *endpoint* (each endpoint
    numbers its connections from 0), or None."""
    return next((c for c in stats.connections if (c.endpoint, c.index) == (endpoint, index)), None)


def url_host(url: str) -> str:
    """The host of a url (``ws.okx.com``); the url itself if it has none."""
    return urlsplit(url).hostname or url


def preferred_url(stats: ConnectionStats) -> str | None:
    """The first of ``ClientConfig.urls``: ``url_failures`` lists them in that order."""
    return stats.url_failures[0][0] if stats.url_failures else None


def failover_url(stats: ConnectionStats) -> str | None:
    """``stats.url`` when it is not the preferred url (the client failed over), else None."""
    preferred = preferred_url(stats)
    if preferred is None or not stats.url or stats.url == preferred:
        return None
    return stats.url


def url_failure_count(stats: ConnectionStats) -> int:
    """Failed connection attempts over every url."""
    return sum(count for _, count in stats.url_failures)


def request_budget_low(stats: ConnectionStats) -> bool:
    """Whether the hourly request budget is worth showing: low, or already waited for."""
    budget = stats.request_budget
    return budget is not None and (budget <= LOW_REQUEST_BUDGET or stats.requests_delayed > 0)


def notable_figures(stats: ConnectionStats) -> list[tuple[str, str, str]]:
    """``(log key, label, value)`` of the figures shown only when they are not zero.

    Handovers (make-before-break on 64008), stale-instrument resubscribes, connection
    attempts and subscription requests held back by the rate limits, and the hourly request
    budget when it is low (:func:`request_budget_low`).
    """
    figures: list[tuple[str, str, str]] = []
    for key, label, value in (
        ("handovers", "Handovers", stats.handovers),
        ("stale_resubscribes", "Stale resubs", stats.stale_resubscribes),
        ("connects_delayed", "Connects delayed", stats.connects_delayed),
        ("requests_delayed", "Requests delayed", stats.requests_delayed),
    ):
        if value:
            figures.append((key, label, str(value)))
    if request_budget_low(stats):
        figures.append(("request_budget", "Request budget", f"{stats.request_budget} left"))
    return figures


def format_connection_part(conn: ConnectionStats) -> str:
    """One connection of a pool, compactly: ``conn1 reconnecting 0/500 q62``.

    ``@host`` is added when that connection has failed over to another url.
    """
    text = (
        f"conn{conn.index} {conn.state.value} "
        f"{conn.subscribed_pairs}/{conn.desired_pairs} q{conn.quality}"
    )
    failed_over = failover_url(conn)
    if failed_over is not None:
        text += f" @{url_host(failed_over)}"
    return text


def format_pool_part(stats: ConnectionStats) -> str:
    """Every connection of the pool, ``"; "``-separated; ``""`` for one connection."""
    if not is_pooled(stats):
        return ""
    return "; ".join(format_connection_part(conn) for conn in stats.connections)


def format_latency(stats: ConnectionStats, *, compact: bool = False) -> str:
    """Exchange-to-here latency: ``median 0.12s · p99 0.31s``; ``-`` before the first tick.

    *compact* is the log line's ``0.12s,p99=0.31s`` (no spaces, so the line stays
    ``key=value`` separated).
    """
    if stats.latency_median is None or stats.latency_p99 is None:
        return "-"
    if compact:
        return f"{stats.latency_median:.2f}s,p99={stats.latency_p99:.2f}s"
    return f"median {stats.latency_median:.2f}s · p99 {stats.latency_p99:.2f}s"


def network_hint(error: str) -> str | None:
    """A suggestion for an error the user can act on, or None.

    A failed name lookup usually means no network (or a typo in the host): the offline
    demo still works then.
    """
    lowered = error.lower()
    if any(sign in lowered for sign in _NAME_RESOLUTION_SIGNS):
        return "cannot resolve the host: no network? try --demo for the offline demo"
    return None
