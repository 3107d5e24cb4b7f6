"""Log lines (verbose mode, or stdout not a terminal) and the words for a state change.

Pure: every function takes what it shows, time included (``elapsed`` seconds since start).
State lines are rendered from :class:`okx_trio.StateChange`'s ``state``, ``retry_count`` and
``delay``, and from the host the monitor knows it is talking to, not from the library's
message text, except for the reason a connection was lost or refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from okx_trio import ConnectionState, ConnectionStats, StateChange, Ticker

from ._figures import (
    failover_url,
    format_latency,
    format_pool_part,
    is_pooled,
    network_hint,
    notable_figures,
)
from ._format import clock, format_age, format_duration, format_percent, format_price, one_line

__all__ = [
    "RateLimiter",
    "StateWords",
    "TickLogLimiter",
    "format_closing_line",
    "format_delay",
    "format_stats_line",
    "format_tick_line",
    "state_words",
    "timestamped",
]


def format_delay(seconds: float) -> str:
    """A backoff delay as a person reads it: ``0.5 s``, ``13 s``."""
    return f"{seconds:.1f} s" if seconds < 9.95 else f"{seconds:.0f} s"


@dataclass(frozen=True)
class StateWords:
    """A state change in words: *kind* is the event tag, *text* what follows it."""

    kind: str
    text: str

    @property
    def line(self) -> str:
        """The log line without its timestamp, e.g. ``[state] connected: connected to HOST``."""
        return f"[{self.kind}] {self.text}"


def _strip_label(message: str, connection: int) -> str:
    return message.removeprefix(f"[connection {connection}] ")


def business_label(message: str) -> str:
    """``"[business N] "`` or ``"[private N] "`` when *message* is a business or private
    connection's (the library's prefix for them), else ``""``."""
    for prefix in ("[business ", "[private "):
        if message.startswith(prefix):
            end = message.find("] ")
            if end > 0 and message[len(prefix) : end].isdigit():
                return message[: end + 2]
    return ""


def state_words(
    change: StateChange, *, host: str = "", notice: bool = False, pooled: bool = False
) -> StateWords:
    """The words for *change*.

    *host* is what the connection talks to (``ws.okx.com``, or ``the demo exchange at
    127.0.0.1:4321``); *notice* says the change is not a transition but a notice on the
    same stream (a rejected instrument, an upgrade announcement); *pooled* prefixes
    ``[connection N]``. A RECONNECTING change says when the next attempt comes (its
    ``delay``), and a failed name lookup adds the hint to try ``--demo``.
    """
    business = business_label(change.message)
    label = business or (f"[connection {change.connection}] " if pooled else "")
    reason = one_line(_strip_label(change.message.removeprefix(business), change.connection))
    if notice:
        kind = "rejected" if reason.startswith("instrument rejected") else "notice"
        return StateWords(kind, label + reason)
    state = change.state
    where = f" to {host}" if host else ""
    if state is ConnectionState.CONNECTED:
        text = f"connected{where}"
    elif state is ConnectionState.CONNECTING:
        text = f"connecting{where} (attempt {change.retry_count + 1})"
    elif state is ConnectionState.RECONNECTING:
        if change.delay is not None:
            text = f"{reason}; next attempt in {format_delay(change.delay)}"
            text += f" (retry {change.retry_count})"
        else:
            text = reason if "attempt" in reason else f"{reason} (attempt {change.retry_count})"
        hint = network_hint(reason)
        if hint is not None:
            text += f" ({hint})"
    else:
        text = reason
    return StateWords("state", f"{state.value}: {label}{text}")


def timestamped(elapsed: float, line: str) -> str:
    """A log line with the time since the monitor started: ``00:01:02.25 [state] ...``."""
    return f"{clock(elapsed, fraction=True)} {line}"


def format_tick_line(ticker: Ticker) -> str:
    """The log line for a ticker, e.g. ``"[tick] BTC-USDT: $45000.00 (+2.34%)"``."""
    return (
        f"[tick] {ticker.inst_id}: ${format_price(ticker.last)} "
        f"({format_percent(ticker.change_pct)})"
    )


def format_stats_line(stats: ConnectionStats) -> str:
    """The periodic stats log line; ``last_error`` comes last since it contains spaces.

    The figures of :func:`notable_figures` (and ``url=`` after a failover) appear only when
    they say something, and a pool adds ``pool=[...]`` (:func:`format_pool_part`).
    """
    rejected = ",".join(stats.rejected_pairs) or "-"
    extra = ""
    failed_over = failover_url(stats)
    if failed_over is not None:
        extra += f" url={failed_over}"
    for key, _, value in notable_figures(stats):
        extra += f" {key}={value}"
    if is_pooled(stats):
        extra += f" pool=[{format_pool_part(stats)}]"
    return (
        f"[stats] state={stats.state.value} reconnects={stats.reconnect_count} "
        f"retry={stats.retry_count} subscribed={stats.subscribed_pairs}/{stats.desired_pairs} "
        f"duration={format_duration(stats.connection_duration)} "
        f"last_msg={format_age(stats.last_message_age)} "
        f"ticks={stats.ticks_received} dropped={stats.ticks_dropped} "
        f"bad={stats.bad_messages} rejected={rejected} "
        f"quality={stats.quality} latency={format_latency(stats, compact=True)}{extra} "
        f"last_error={one_line(stats.last_error) or '-'}"
    )


def format_closing_line(uptime: float, stats: ConnectionStats | None, why: str) -> str:
    """The last line: how long it ran, how it went and why it ended.

    ``[bye] ran 1m05s: 3 reconnects, 1234 ticks (0 dropped), quality 98/100; duration over``
    """
    text = f"[bye] ran {format_duration(uptime)}"
    if stats is not None:
        reconnects = (
            "1 reconnect" if stats.reconnect_count == 1 else (f"{stats.reconnect_count} reconnects")
        )
        text += (
            f": {reconnects}, {stats.ticks_received} ticks ({stats.ticks_dropped} dropped), "
            f"quality {stats.quality}/100"
        )
    return f"{text}; {why}"


class TickLogLimiter:
    """Allows one tick log line per pair per *interval* seconds; time is passed in as *now*."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}

    def should_log(self, inst_id: str, now: float) -> bool:
        """True (and remember *now*) if *inst_id* was not logged in the last *interval*."""
        last = self._last.get(inst_id)
        if last is not None and now - last < self.interval:
            return False
        self._last[inst_id] = now
        return True

    def forget(self, inst_id: str) -> None:
        """Drop the memory of *inst_id*, so its next tick is logged at once."""
        self._last.pop(inst_id, None)


class RateLimiter:
    """True from :meth:`ready` at most once per *interval*, the first time at *start + interval*."""

    def __init__(self, interval: float, start: float) -> None:
        self.interval = interval
        self._next = start + interval

    def ready(self, now: float) -> bool:
        """Whether the next period has begun; if so, start counting the one after it."""
        if now < self._next:
            return False
        self._next += self.interval
        if self._next <= now:  # after a long pause: once, then a full interval again
            self._next = now + self.interval
        return True
