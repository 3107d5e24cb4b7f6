"""Live statistics of a client."""

from __future__ import annotations

from dataclasses import dataclass

from ._state import ConnectionState

__all__ = ["ConnectionStats"]


@dataclass(frozen=True, slots=True)
class ConnectionStats:
    """A snapshot of a client's connection, from :meth:`OkxClient.get_stats`.

    The first seven fields are the design note's; :meth:`as_dict` gives them as its dict.
    """

    state: ConnectionState
    #: Connections lost and re-established since the client started (a make-before-break
    #: handover's new connection included).
    reconnect_count: int
    #: Consecutive failed attempts (resets once a connection proves stable).
    retry_count: int
    #: Pairs the server has acknowledged on the current connection.
    subscribed_pairs: int
    #: Seconds since the current connection opened; 0.0 when not connected.
    connection_duration: float
    #: Seconds since the last message of any kind; None before the first one.
    last_message_age: float | None
    #: The last error, human-readable; "" when there was none.
    last_error: str
    url: str = ""
    desired_pairs: int = 0
    messages_received: int = 0
    ticks_received: int = 0
    #: Ticks replaced by a newer one for the same instrument in a slow subscriber's buffer.
    ticks_dropped: int = 0
    #: Messages that were not valid OKX messages (logged and skipped).
    bad_messages: int = 0
    #: Well-formed messages the client does not use (other channels, login, unknown events).
    ignored_messages: int = 0
    rejected_pairs: tuple[str, ...] = ()
    connections_opened: int = 0
    pings_sent: int = 0
    #: Exchange ``ts`` to local wall clock, seconds, over the last 1024 ticks; None before any.
    latency_median: float | None = None
    latency_p99: float | None = None
    #: 0-100 over the last hour; the formula is :class:`okx_trio._quality.QualityTracker`'s.
    quality: int = 100
    #: Failed connection attempts per endpoint, in ``ClientConfig.urls`` order.
    url_failures: tuple[tuple[str, int], ...] = ()
    #: Instruments resubscribed on their own because they stopped updating.
    stale_resubscribes: int = 0
    #: Connection attempts held back by ``max_connects_per_second``.
    connects_delayed: int = 0
    #: Subscription changes held back because a connection spent its hourly request budget.
    requests_delayed: int = 0
    #: Requests left in the hourly budget (the lowest over the connections); None: no limit.
    request_budget: int | None = None
    #: Connections replaced without a gap after a service-upgrade notice.
    handovers: int = 0
    #: One snapshot per connection of the pool (one entry when not sharded), by index.
    connections: tuple[ConnectionStats, ...] = ()
    #: This connection's index in the pool (0 for the whole client's totals).
    index: int = 0
    #: The endpoint of this connection ("public", "business"); "" for the client's totals.
    endpoint: str = ""
    #: Subscriptions wanted, of every channel (``desired_pairs`` counts ``tickers`` only).
    subscriptions: int = 0
    #: Subscriptions the server acknowledged, of every channel.
    acknowledged: int = 0
    #: Records of every channel received (``ticks_received`` counts tickers).
    records_received: int = 0
    #: Records of event channels a slow consumer lost (each loss ends in a ``Gap``).
    records_dropped: int = 0
    #: Subscriptions the server refused, of every channel, with their short form.
    rejected: tuple[str, ...] = ()
    #: Order books (``books``, ...) kept, and those valid at the moment.
    books: int = 0
    books_valid: int = 0
    #: Books resubscribed on their own because they broke a sequence rule or got no
    #: snapshot in time; the same per reason (``"gap"``, ``"crossed"``, ...).
    book_resyncs: int = 0
    book_resync_reasons: tuple[tuple[str, int], ...] = ()
    #: REST order-book snapshots asked for (books that got updates without a snapshot).
    book_rest_seeds: int = 0
    #: Seconds added to the local wall clock to read OKX's, measured when OKX refused a
    #: login's timestamp (0.0 until then); logins and signed REST calls use it.
    clock_offset: float = 0.0
    #: Whether this connection is logged in (the client's totals: every one that logs in).
    logged_in: bool = False

    def as_dict(self) -> dict[str, object]:
        """The design note's stats dict: the seven seed keys, ``state`` as its string."""
        return {
            "state": self.state.value,
            "reconnect_count": self.reconnect_count,
            "retry_count": self.retry_count,
            "subscribed_pairs": self.subscribed_pairs,
            "connection_duration": self.connection_duration,
            "last_message_age": self.last_message_age,
            "last_error": self.last_error,
        }
