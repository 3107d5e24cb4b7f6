#!/usr/bin/env python3
"""Live OKX ticker monitor: watch the okx_trio client stream prices and heal itself.

Usage::

    python examples/monitor.py BTC-USDT ETH-USDT SOL-USDT      # the real OKX public endpoint
    python examples/monitor.py --url wss://wsaws.okx.com:8443/ws/v5/public
    python examples/monitor.py --demo                          # offline: fake exchange + chaos
    python examples/monitor.py --demo --verbose --duration 30  # log lines instead of the table
    python examples/monitor.py --demo --max-pairs-per-connection 2  # a pool: a row per connection

On a terminal it draws a live table with ``rich`` (``pip install okx-trio[monitor]``); with
``--verbose``, or when stdout is not a terminal, it prints one log line per event instead.
While it runs, type ``+SOL-USDT`` or ``-ETH-USDT`` and Enter to add or remove pairs on the live
connection, ``?`` for help and ``q`` to quit.

``--demo`` starts the fake exchange from :mod:`okx_trio.testing` on a loopback port inside the
same Trio program and, unless ``--no-chaos``, injects a fault every so often (a dropped
connection, a silent connection, a 64008 service-upgrade notice, a rejected instrument) so you
can watch the client recover.

Exit codes: 0 on ``q``/``--duration``, 1 when the client gives up (state FAILED), 2 for bad
command-line arguments, 130 on Ctrl-C (143 on SIGTERM).

The module is laid out so that everything but :func:`run` works without Trio or a terminal:
formatting helpers, :func:`parse_commands`, the log-line formatters and rate limiters,
:class:`MonitorModel` and :func:`render`, :func:`build_parser` / :func:`main`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import math
import os
import random
import signal
import sys
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final, Literal, TextIO
from urllib.parse import urlsplit

import trio

from okx_trio import (
    ClientConfig,
    ConnectionState,
    ConnectionStats,
    Connector,
    OkxClient,
    StateChange,
    Ticker,
    open_okx_client,
    validate_inst_id,
)

if TYPE_CHECKING:
    from rich.console import RenderableType

    from okx_trio.testing import FakeExchange

__all__ = [
    "DEFAULT_PAIRS",
    "LOW_REQUEST_BUDGET",
    "ChaosSchedule",
    "Command",
    "CommandError",
    "Event",
    "MonitorModel",
    "Options",
    "PairRow",
    "RateLimiter",
    "TickLogLimiter",
    "build_parser",
    "failover_url",
    "format_age",
    "format_connection_part",
    "format_duration",
    "format_percent",
    "format_pool_part",
    "format_price",
    "format_state_line",
    "format_state_message",
    "format_stats_line",
    "format_tick_line",
    "format_volume",
    "is_pooled",
    "main",
    "notable_figures",
    "options_from_args",
    "parse_commands",
    "preferred_url",
    "render",
    "render_connections",
    "request_budget_low",
    "run",
    "sparkline",
    "url_failure_count",
    "url_host",
]

#: Watched when no pairs are given on the command line.
DEFAULT_PAIRS: Final = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT")

#: Client settings for ``--demo`` so that healing is visible within seconds; each one can
#: still be overridden on the command line.
DEMO_TUNING: Final[dict[str, float]] = {
    "ping_interval": 3.0,
    "connection_timeout": 5.0,
    "initial_delay": 0.5,
    "max_delay": 5.0,
}
#: In the demo a connection counts as stable (retry count back to 0) after this long.
DEMO_STABLE_AFTER: Final = 5.0

INSTALL_HINT: Final = (
    "monitor: the live table needs rich (pip install okx-trio[monitor]); using log lines instead"
)

HELP_LINES: Final = (
    "+PAIR   watch a pair, e.g. +SOL-USDT (lower case is fine: +sol-usdt)",
    "-PAIR   stop watching a pair, e.g. -ETH-USDT",
    "        several on one line: +SOL-USDT -ETH-USDT",
    "q       quit (or Ctrl-C)",
    "?       this help",
)

SPARK_BLOCKS: Final = "▁▂▃▄▅▆▇█"

#: The hourly request budget (OKX: 480 per connection) is shown once it is this low.
LOW_REQUEST_BUDGET: Final = 48

# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def _to_decimal(value: Decimal | float | int) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:  # pragma: no cover - str() of a number is always parseable
        return Decimal("NaN")


def format_price(value: Decimal | float | int) -> str:
    """A price with at least 2 decimals and more for prices below 1, no thousands separators.

    Prices below 1 keep four significant digits: ``0.38125 -> "0.3813"``,
    ``0.0000123456 -> "0.00001235"``; everything else gets two decimals:
    ``45000 -> "45000.00"``.
    """
    price = _to_decimal(value)
    if not price.is_finite():
        return "n/a"
    # adjusted() is floor(log10(|price|)): -1 for 0.38, -5 for 0.0000123.
    small = price != 0 and abs(price) < 1
    decimals = min(12, max(4, -price.adjusted() + 3)) if small else 2
    return f"{price:.{decimals}f}"


def format_percent(value: Decimal | float | None) -> str:
    """A signed percentage with two decimals (``"+2.34%"``, ``"-0.50%"``); ``"n/a"`` for None."""
    if value is None:
        return "n/a"
    pct = _to_decimal(value)
    if not pct.is_finite():
        return "n/a"
    text = f"{pct:+.2f}%"
    return "+0.00%" if text == "-0.00%" else text


_VOLUME_UNITS: Final = (
    (Decimal(10) ** 12, "T"),
    (Decimal(10) ** 9, "B"),
    (Decimal(10) ** 6, "M"),
    (Decimal(10) ** 3, "k"),
)


def format_volume(value: Decimal | float | int) -> str:
    """A volume with a k/M/B/T suffix and two decimals: ``17602.1 -> "17.60k"``."""
    volume = _to_decimal(value)
    if not volume.is_finite():
        return "n/a"
    for size, suffix in _VOLUME_UNITS:
        # Round first so 999.999k becomes 1.00M rather than "1000.00k".
        if abs(volume) >= size * Decimal("0.999995"):
            return f"{volume / size:.2f}{suffix}"
    return f"{volume:.2f}"


def format_duration(seconds: float) -> str:
    """A duration: ``"12.3s"`` below a minute, ``"4m05s"`` below an hour, else ``"2h03m"``.

    Negative or non-finite values (clock skew, not yet known) are shown as ``"0.0s"`` / ``"-"``.
    """
    if math.isnan(seconds) or math.isinf(seconds):
        return "-"
    seconds = max(0.0, seconds)
    if seconds < 59.95:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 100 * 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def format_age(seconds: float | None) -> str:
    """The age of something, like :func:`format_duration`; ``"-"`` when it never happened."""
    if seconds is None:
        return "-"
    return format_duration(seconds)


def sparkline(values: Iterable[Decimal | float], width: int = 20) -> str:
    """The last *width* values as unicode blocks ``▁▂▃▄▅▆▇█`` scaled between their min and max.

    A flat series is drawn at mid height; non-finite values are skipped.
    """
    if width <= 0:
        return ""
    points = [float(v) for v in values]
    points = [p for p in points if math.isfinite(p)][-width:]
    if not points:
        return ""
    low, high = min(points), max(points)
    if high == low:
        return SPARK_BLOCKS[len(SPARK_BLOCKS) // 2 - 1] * len(points)
    top = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[round((p - low) / (high - low) * top)] for p in points)


def base_volume(ticker: Ticker) -> Decimal:
    """The 24 h volume in base currency: ``vol24h`` for SPOT, ``volCcy24h`` for derivatives.

    (For SWAP and FUTURES OKX reports ``vol24h`` in contracts and ``volCcy24h`` in base
    currency; for SPOT ``vol24h`` is base and ``volCcy24h`` quote currency.)
    """
    return ticker.vol_24h if ticker.inst_type == "SPOT" else ticker.vol_ccy_24h


# --------------------------------------------------------------------------------------------
# Commands typed while running
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One command typed on stdin: ``add``/``remove`` carry an upper-cased, valid ``inst_id``."""

    op: Literal["add", "remove", "quit", "help"]
    inst_id: str = ""


@dataclass(frozen=True)
class CommandError:
    """A word that is not a valid command, with the reason shown to the user."""

    token: str
    reason: str

    def __str__(self) -> str:
        return self.reason


_QUIT_WORDS: Final = frozenset({"q", "quit", "exit"})
_HELP_WORDS: Final = frozenset({"?", "h", "help"})


def parse_commands(line: str) -> list[Command | CommandError]:
    """Parse one input line into commands, in order; bad words become :class:`CommandError`.

    ``+ID`` adds and ``-ID`` removes a pair (``+ ID`` with a space works too), ids are
    upper-cased and validated with :func:`okx_trio.validate_inst_id`; ``q`` quits, ``?``
    shows help. Words may be separated by spaces or commas. Never raises.

    >>> parse_commands("+sol-usdt -ETH-USDT")
    [Command(op='add', inst_id='SOL-USDT'), Command(op='remove', inst_id='ETH-USDT')]
    """
    words = line.replace(",", " ").split()
    result: list[Command | CommandError] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        lowered = word.lower()
        if lowered in _QUIT_WORDS:
            result.append(Command("quit"))
            continue
        if lowered in _HELP_WORDS:
            result.append(Command("help"))
            continue
        sign, rest = word[0], word[1:]
        if sign not in "+-":
            result.append(
                CommandError(
                    word,
                    f"unknown command {word!r}: type +PAIR to add, -PAIR to remove, "
                    "q to quit, ? for help",
                )
            )
            continue
        if not rest and i < len(words):  # "+ SOL-USDT"
            rest = words[i]
            i += 1
        op: Literal["add", "remove"] = "add" if sign == "+" else "remove"
        if not rest:
            result.append(CommandError(word, f"{word!r} needs a pair, e.g. {sign}BTC-USDT"))
            continue
        try:
            inst_id = validate_inst_id(rest.upper())
        except ValueError as exc:
            result.append(CommandError(word, str(exc)))
            continue
        result.append(Command(op, inst_id))
    return result


# --------------------------------------------------------------------------------------------
# Log lines (verbose mode)
# --------------------------------------------------------------------------------------------


def format_state_message(change: StateChange) -> str:
    """``"{state}: {message}"``, with ``" (attempt N)"`` added for RECONNECTING if missing."""
    message = change.message
    if change.state is ConnectionState.RECONNECTING and "attempt" not in message:
        message = f"{message} (attempt {change.retry_count})"
    return f"{change.state.value}: {message}"


def format_state_line(change: StateChange) -> str:
    """The log line for a state change, e.g. ``"[state] connected: connected to OKX"``."""
    return f"[state] {format_state_message(change)}"


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
        f"quality={stats.quality} latency={format_latency(stats)}{extra} "
        f"last_error={_one_line(stats.last_error) or '-'}"
    )


def is_pooled(stats: ConnectionStats) -> bool:
    """Whether the client runs more than one connection (a sharded pool)."""
    return len(stats.connections) > 1


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


def format_latency(stats: ConnectionStats) -> str:
    """Median exchange-to-here latency with its p99, e.g. ``0.12s/p99 0.31s``; ``-`` if none."""
    if stats.latency_median is None or stats.latency_p99 is None:
        return "-"
    return f"{stats.latency_median:.2f}s/p99 {stats.latency_p99:.2f}s"


def _one_line(text: str) -> str:
    return " ".join(text.split())


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


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------

EventKind = Literal["state", "rejected", "chaos", "cmd", "error", "help", "info"]


@dataclass(frozen=True)
class Event:
    """One line in the event list: *at* is Trio time, *kind* its log tag."""

    at: float
    kind: EventKind
    text: str
    state: ConnectionState | None = None


@dataclass
class PairRow:
    """What the monitor knows about one pair.

    ``history`` holds one price per ``sample_interval`` (the latest price of that interval),
    so the sparkline covers a steady stretch of time whatever the tick rate.
    """

    inst_id: str
    history: deque[Decimal]
    ticker: Ticker | None = None
    previous_last: Decimal | None = None
    updated_at: float | None = None
    sampled_at: float | None = None

    @property
    def direction(self) -> int:
        """+1, -1 or 0: how the last price moved on the latest tick."""
        if self.ticker is None or self.previous_last is None:
            return 0
        return (self.ticker.last > self.previous_last) - (self.ticker.last < self.previous_last)


class MonitorModel:
    """Everything the table shows, updated from okx_trio's Ticker/StateChange/ConnectionStats.

    Pure state: every method takes the current time as ``now`` (Trio time in the monitor) and
    nothing here does I/O.
    """

    def __init__(
        self,
        pairs: Iterable[str] = (),
        *,
        started_at: float = 0.0,
        history_len: int = 30,
        sample_interval: float = 1.0,
        max_events: int = 8,
    ) -> None:
        self.started_at = started_at
        self.history_len = history_len
        self.sample_interval = sample_interval
        self.rows: dict[str, PairRow] = {}
        self.events: deque[Event] = deque(maxlen=max_events)
        self.state = ConnectionState.DISCONNECTED
        self.stats: ConnectionStats | None = None
        #: Ticks per second of each connection (by index), between the last two snapshots.
        self.tick_rates: dict[int, float] = {}
        self._tick_counts: dict[int, tuple[float, int]] = {}
        for inst_id in pairs:
            self.add_pair(inst_id)

    def add_pair(self, inst_id: str) -> bool:
        """Start showing *inst_id*; False if it is already shown."""
        if inst_id in self.rows:
            return False
        self.rows[inst_id] = PairRow(inst_id, deque(maxlen=self.history_len))
        return True

    def remove_pair(self, inst_id: str) -> bool:
        """Stop showing *inst_id*; False if it was not shown."""
        return self.rows.pop(inst_id, None) is not None

    def on_ticker(self, ticker: Ticker, now: float) -> bool:
        """Record a ticker; False (and ignored) for a pair that is not shown (e.g. just removed)."""
        row = self.rows.get(ticker.inst_id)
        if row is None:
            return False
        row.previous_last = row.ticker.last if row.ticker is not None else None
        row.ticker = ticker
        row.updated_at = now
        due = row.sampled_at is None or now - row.sampled_at >= self.sample_interval
        if due or not row.history:
            row.history.append(ticker.last)
            row.sampled_at = now
        else:
            row.history[-1] = ticker.last
        return True

    def on_state_change(self, change: StateChange, now: float) -> Event:
        """Record a state change (or a notice on the state stream) as an event."""
        self.state = change.state
        kind: EventKind = "rejected" if "rejected" in change.message else "state"
        return self.add_event(kind, format_state_message(change), now, state=change.state)

    def on_stats(self, stats: ConnectionStats, now: float | None = None) -> None:
        """Remember the latest statistics; with *now*, update :attr:`tick_rates`.

        A rate is the connection's new ticks over the time since the previous snapshot; a
        counter that went down (a connection index reused) just restarts its rate.
        """
        self.stats = stats
        self.state = stats.state
        if now is None:
            return
        counts: dict[int, tuple[float, int]] = {}
        for conn in stats.connections:
            counts[conn.index] = (now, conn.ticks_received)
            before = self._tick_counts.get(conn.index)
            if before is None:
                continue
            then, ticks = before
            if now > then and conn.ticks_received >= ticks:
                self.tick_rates[conn.index] = (conn.ticks_received - ticks) / (now - then)
            elif conn.ticks_received < ticks:
                self.tick_rates.pop(conn.index, None)
            else:  # the same instant: keep the previous sample as the reference
                counts[conn.index] = before
        self._tick_counts = counts
        for index in [i for i in self.tick_rates if i not in counts]:
            del self.tick_rates[index]

    def add_event(
        self, kind: EventKind, text: str, now: float, *, state: ConnectionState | None = None
    ) -> Event:
        """Append an event line (the oldest falls off beyond ``max_events``)."""
        event = Event(now, kind, _one_line(text), state)
        self.events.append(event)
        return event


# --------------------------------------------------------------------------------------------
# Rendering (rich)
# --------------------------------------------------------------------------------------------

STATE_STYLES: Final[dict[ConnectionState, str]] = {
    ConnectionState.CONNECTED: "bold green",
    ConnectionState.CONNECTING: "yellow",
    ConnectionState.RECONNECTING: "bold yellow",
    ConnectionState.FAILED: "bold red",
    ConnectionState.DISCONNECTED: "dim",
}
EVENT_STYLES: Final[dict[str, str]] = {
    "rejected": "red",
    "error": "bold red",
    "chaos": "magenta",
    "cmd": "cyan",
    "help": "dim",
    "info": "blue",
}
#: A pair whose last update is older than this is shown as stale (yellow age).
STALE_AFTER: Final = 5.0


def rich_available() -> bool:
    """Whether ``rich`` can be imported (it is the optional ``monitor`` extra)."""
    return importlib.util.find_spec("rich") is not None


def _clock(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def render(model: MonitorModel, stats: ConnectionStats | None, now: float) -> RenderableType:
    """The whole screen: the pairs table, the status panel and the latest events.

    *stats* is normally ``client.get_stats()``; None falls back to ``model.stats``.
    *now* is the same clock the model was fed with.
    """
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    stats = stats if stats is not None else model.stats
    rejected = set(stats.rejected_pairs) if stats is not None else set()

    table = Table(title="OKX tickers", title_style="bold", expand=False, header_style="bold")
    table.add_column("Pair", style="bold", no_wrap=True)
    table.add_column("Last", justify="right", no_wrap=True)
    table.add_column("24h %", justify="right", no_wrap=True)
    table.add_column("Bid", justify="right", no_wrap=True)
    table.add_column("Ask", justify="right", no_wrap=True)
    table.add_column("24h Vol", justify="right", no_wrap=True)
    table.add_column("Age", justify="right", no_wrap=True)
    table.add_column("Trend", no_wrap=True)
    for row in model.rows.values():
        ticker = row.ticker
        if ticker is None:
            waiting = (
                Text("rejected", style="bold red")
                if row.inst_id in rejected
                else Text("waiting…", style="dim")
            )
            table.add_row(row.inst_id, waiting, "", "", "", "", "", "")
            continue
        pct = ticker.change_pct
        pct_style = "dim" if pct is None or pct == 0 else ("green" if pct > 0 else "red")
        last_style = {1: "green", -1: "red"}.get(row.direction, "")
        age = now - row.updated_at if row.updated_at is not None else None
        age_style = "yellow" if age is not None and age > STALE_AFTER else "dim"
        name = Text(row.inst_id)
        if row.inst_id in rejected:
            name.append(" (rejected)", style="red")
        table.add_row(
            name,
            Text(format_price(ticker.last), style=last_style),
            Text(format_percent(pct), style=pct_style),
            format_price(ticker.bid),
            format_price(ticker.ask),
            format_volume(base_volume(ticker)),
            Text(format_age(age), style=age_style),
            Text(sparkline(row.history), style="cyan"),
        )
    if not model.rows:
        table.add_row(Text("no pairs: type +BTC-USDT and Enter", style="dim"), *[""] * 7)

    # Short values in two label/value pairs per line; the long ones (url, error) get a
    # full-width line each so they are never squeezed.
    status = Table.grid(padding=(0, 2))
    for _ in range(4):
        status.add_column()
    details = Table.grid(padding=(0, 2))
    details.add_column(min_width=13)
    details.add_column(overflow="fold")
    if stats is None:
        status.add_row("State", Text(model.state.value, style=STATE_STYLES[model.state]), "", "")
    else:
        rejected_text = ", ".join(stats.rejected_pairs) or "-"
        status.add_row(
            "State",
            Text(stats.state.value, style=STATE_STYLES[stats.state]),
            "Reconnects",
            str(stats.reconnect_count),
        )
        status.add_row(
            "Retry count",
            str(stats.retry_count),
            "Subscribed",
            f"{stats.subscribed_pairs}/{stats.desired_pairs}",
        )
        status.add_row(
            "Connected for",
            format_duration(stats.connection_duration),
            "Last message",
            format_age(stats.last_message_age),
        )
        status.add_row(
            "Ticks",
            f"{stats.ticks_received} (dropped {stats.ticks_dropped})",
            "Rejected",
            Text(rejected_text, style="red" if stats.rejected_pairs else "dim"),
        )
        status.add_row(
            "Quality",
            Text(f"{stats.quality}/100", style=_quality_style(stats.quality)),
            "Latency",
            format_latency(stats),
        )
        # Figures that only matter once they are not zero, two to a line.
        extra: list[tuple[str, RenderableType]] = []
        if is_pooled(stats):
            up = sum(conn.state is ConnectionState.CONNECTED for conn in stats.connections)
            extra.append(("Connections", f"{len(stats.connections)} ({up} connected)"))
        for _, label, value in notable_figures(stats):
            style = "yellow" if label in ("Requests delayed", "Request budget") else ""
            extra.append((label, Text(value, style=style)))
        for i in range(0, len(extra), 2):
            left, right = extra[i], extra[i + 1] if i + 1 < len(extra) else ("", "")
            status.add_row(left[0], left[1], right[0], right[1])
            # Keep the url and error lines lined up with the labels above them.
            details.columns[0].min_width = max(details.columns[0].min_width or 0, len(left[0]))
        url_text = Text(stats.url)
        failed_over = failover_url(stats)
        preferred = preferred_url(stats)
        if failed_over is not None and preferred is not None:
            url_text.stylize("yellow")
            url_text.append(
                f"  (failed over from {url_host(preferred)}; "
                f"{url_failure_count(stats)} failed attempts)",
                style="yellow",
            )
        details.add_row("URL", url_text)
        details.add_row(
            "Last error",
            Text(_one_line(stats.last_error) or "-", style="red" if stats.last_error else "dim"),
        )

    events = Text(no_wrap=True, overflow="ellipsis")
    for event in model.events:
        style = (
            STATE_STYLES[event.state]
            if event.kind == "state" and event.state is not None
            else EVENT_STYLES.get(event.kind, "")
        )
        if events:
            events.append("\n")
        events.append(f"{_clock(event.at - model.started_at)} ", style="dim")
        events.append(f"[{event.kind}] {event.text}", style=style)
    if not events:
        events.append("no events yet", style="dim")

    footer = Text("+PAIR add · -PAIR remove · q quit · ? help · Ctrl-C exit", style="dim")
    parts: list[RenderableType] = [table]
    pooled = stats is not None and is_pooled(stats)
    if stats is not None and pooled:
        parts.append(
            Panel(
                render_connections(stats, model.tick_rates),
                title=f"connections ({len(stats.connections)})",
                title_align="left",
                border_style="blue",
            )
        )
    parts += [
        Panel(
            Group(status, details),
            title="pool totals" if pooled else "connection",
            title_align="left",
            border_style="blue",
        ),
        Panel(events, title="events", title_align="left", border_style="blue"),
        footer,
    ]
    return Group(*parts)


def _quality_style(quality: int) -> str:
    return "green" if quality >= 80 else "yellow" if quality >= 50 else "red"


def render_connections(
    stats: ConnectionStats, tick_rates: dict[int, float] | None = None
) -> RenderableType:
    """One row per connection of the pool: index, state, host, pairs subscribed/desired,
    ticks per second (from *tick_rates*, by index; ``-`` until known), last message age,
    reconnects, quality and the hourly request budget left.

    It fits an 80-column terminal; a long host name is cut short first.
    """
    from rich.table import Table
    from rich.text import Text

    rates = tick_rates or {}
    table = Table(expand=False, header_style="bold", box=None, padding=(0, 1, 0, 0))
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("State", no_wrap=True)
    table.add_column("Host", overflow="ellipsis", min_width=6)
    table.add_column("Pairs", justify="right", no_wrap=True)
    table.add_column("Ticks/s", justify="right", no_wrap=True)
    table.add_column("Last msg", justify="right", no_wrap=True)
    table.add_column("Reconn", justify="right", no_wrap=True)
    table.add_column("Quality", justify="right", no_wrap=True)
    table.add_column("Budget", justify="right", no_wrap=True)
    for conn in stats.connections:
        rate = rates.get(conn.index)
        pairs_style = "" if conn.subscribed_pairs >= conn.desired_pairs else "yellow"
        budget = "-" if conn.request_budget is None else str(conn.request_budget)
        budget_style = "yellow" if request_budget_low(conn) else "dim"
        age = conn.last_message_age
        age_style = "yellow" if age is not None and age > STALE_AFTER else ""
        table.add_row(
            str(conn.index),
            Text(conn.state.value, style=STATE_STYLES[conn.state]),
            Text(url_host(conn.url), style="yellow" if failover_url(conn) else ""),
            Text(f"{conn.subscribed_pairs}/{conn.desired_pairs}", style=pairs_style),
            f"{rate:.1f}" if rate is not None else "-",
            Text(format_age(age), style=age_style),
            str(conn.reconnect_count),
            Text(str(conn.quality), style=_quality_style(conn.quality)),
            Text(budget, style=budget_style),
        )
    return table


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """The validated command line."""

    pairs: tuple[str, ...]
    config: ClientConfig
    table: bool = False
    demo: bool = False
    chaos: bool = True
    seed: int = 0
    duration: float | None = None
    chaos_first_after: float | None = None
    chaos_every: float = 15.0
    tick_interval: float = 0.25
    stats_every: float = 5.0


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (``prog`` is ``monitor.py``)."""
    parser = argparse.ArgumentParser(
        prog="monitor.py",
        description="Watch OKX tickers live with okx_trio and see the client heal itself.",
        epilog="While running, type: " + "; ".join(" ".join(h.split()) for h in HELP_LINES),
    )
    parser.add_argument(
        "pairs",
        nargs="*",
        metavar="PAIR",
        help=f"instrument ids to watch (default: {' '.join(DEFAULT_PAIRS)})",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", help=f"WebSocket endpoint (default: {ClientConfig().url})")
    where.add_argument(
        "--demo",
        action="store_true",
        help="run offline against a fake exchange on a loopback port, with injected faults",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print log lines instead of the live table (default when stdout is not a terminal)",
    )
    parser.add_argument(
        "--duration", type=_positive_float, metavar="SECONDS", help="exit (code 0) after this long"
    )
    parser.add_argument(
        "--stats-every",
        type=_positive_float,
        default=5.0,
        metavar="SECONDS",
        help="seconds between [stats] lines in log mode (default: 5)",
    )
    tuning = parser.add_argument_group(
        "client settings", "okx_trio.ClientConfig values; --demo picks short ones"
    )
    tuning.add_argument(
        "--config",
        metavar="FILE",
        help="a TOML file of ClientConfig keys (see examples/okx_trio.toml); flags win over it",
    )
    tuning.add_argument(
        "--transport",
        choices=("trio-websocket", "websockets"),
        help="the WebSocket library (websockets needs the 'fast' extra)",
    )
    tuning.add_argument("--ping-interval", type=float, metavar="SECONDS")
    tuning.add_argument("--connection-timeout", type=float, metavar="SECONDS")
    tuning.add_argument("--initial-delay", type=float, metavar="SECONDS")
    tuning.add_argument("--max-delay", type=float, metavar="SECONDS")
    tuning.add_argument(
        "--max-retries", type=int, metavar="N", help="give up (exit 1) after N failed retries"
    )
    tuning.add_argument(
        "--max-pairs-per-connection",
        type=_positive_int,
        metavar="N",
        help="shard the pairs over several connections, at most N on each (default: one "
        "connection); the table then shows one row per connection",
    )
    demo = parser.add_argument_group("demo", "only with --demo")
    demo.add_argument("--no-chaos", action="store_true", help="do not inject faults")
    demo.add_argument("--seed", type=int, help="seed for the market and the faults")
    demo.add_argument(
        "--chaos-first-after",
        type=_positive_float,
        metavar="SECONDS",
        help="time of the first fault, always a dropped connection (default: 5-8 s)",
    )
    demo.add_argument(
        "--chaos-every",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="mean time between faults, each drawn from 2/3..4/3 of it (default: 15)",
    )
    demo.add_argument(
        "--tick-interval",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="seconds between fake ticker pushes per pair (default: 0.25)",
    )
    return parser


def _client_config(args: argparse.Namespace) -> ClientConfig:
    """The ClientConfig for *args*; ValueError (naming the field) for bad values.

    Precedence: command-line flags, then ``--config FILE``, then the demo's short
    settings, then the defaults.
    """
    base = ClientConfig()
    values: dict[str, Any] = {}
    if args.demo:
        values.update(DEMO_TUNING)
        values["stable_after"] = DEMO_STABLE_AFTER
    if args.config is not None:
        try:
            # Over the demo's settings, so a file may tune just one of them.
            from_file = ClientConfig.from_toml(args.config, base=ClientConfig(**values))
        except OSError as exc:
            raise ValueError(f"--config: cannot read {args.config}: {exc.strerror}") from None
        values = dataclasses.asdict(from_file)
    if args.url is not None:
        values["url"] = args.url
        values["urls"] = ()  # the flag's url alone, whatever endpoint list the file had
    if args.transport is not None:
        values["transport"] = args.transport
    for name in ("ping_interval", "connection_timeout", "initial_delay", "max_delay"):
        given = getattr(args, name)
        if given is not None:
            values[name] = given
    # Keep the defaults consistent with what the user did set, so e.g. a lone
    # --connection-timeout 4 does not trip over the default ping interval.
    if args.ping_interval is None and args.connection_timeout is not None:
        ping = values.get("ping_interval", base.ping_interval)
        values["ping_interval"] = min(ping, args.connection_timeout / 2)
    if args.max_delay is None and args.initial_delay is not None:
        values["max_delay"] = max(values.get("max_delay", base.max_delay), args.initial_delay)
    if args.max_retries is not None:
        values["max_retries"] = args.max_retries
    if args.max_pairs_per_connection is not None:
        values["max_pairs_per_connection"] = args.max_pairs_per_connection
    return ClientConfig(**values)


def options_from_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace, *, table: bool = False
) -> Options:
    """Validate *args* into :class:`Options`; problems go to ``parser.error`` (exit 2)."""
    pairs: list[str] = []
    for raw in args.pairs or DEFAULT_PAIRS:
        try:
            inst_id = validate_inst_id(raw.upper())
        except ValueError as exc:
            parser.error(str(exc))
        if inst_id not in pairs:
            pairs.append(inst_id)
    if not args.demo:
        for flag, value in (
            ("--no-chaos", args.no_chaos or None),
            ("--seed", args.seed),
            ("--chaos-first-after", args.chaos_first_after),
            ("--chaos-every", args.chaos_every),
            ("--tick-interval", args.tick_interval),
        ):
            if value is not None:
                parser.error(f"{flag} only applies with --demo")
    try:
        config = _client_config(args)
    except ValueError as exc:
        parser.error(str(exc))
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    return Options(
        pairs=tuple(pairs),
        config=config,
        table=table,
        demo=args.demo,
        chaos=not args.no_chaos,
        seed=seed,
        duration=args.duration,
        chaos_first_after=args.chaos_first_after,
        chaos_every=args.chaos_every if args.chaos_every is not None else 15.0,
        tick_interval=args.tick_interval if args.tick_interval is not None else 0.25,
        stats_every=args.stats_every,
    )


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the monitor with *argv* (default ``sys.argv[1:]``); returns the exit code.

    0: ``q`` or ``--duration`` elapsed; 1: the client ended in FAILED (reason on stderr);
    2: bad arguments; 130: Ctrl-C; 143: SIGTERM.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        table = not args.verbose and sys.stdout is not None and sys.stdout.isatty()
        if table and not rich_available():
            print(INSTALL_HINT, file=sys.stderr, flush=True)
            table = False
        options = options_from_args(parser, args, table=table)
    except SystemExit as exc:
        return _exit_code(exc)
    try:
        return trio.run(run, options)
    except KeyboardInterrupt:
        return 130
    except BaseExceptionGroup as group:
        # A Ctrl-C that lands before run() installed its signal handler surfaces wrapped.
        _, rest = group.split(KeyboardInterrupt)
        if rest is None:
            return 130
        raise


# --------------------------------------------------------------------------------------------
# Demo chaos
# --------------------------------------------------------------------------------------------

Fault = Literal["drop", "silence", "notice", "reject"]
FAULTS: Final[tuple[Fault, ...]] = ("drop", "silence", "notice", "reject")


class ChaosSchedule:
    """When and which fault comes next: pure and seeded.

    The first fault is a dropped connection after *first_after* seconds (default a random
    5-8 s); the following ones come every 2/3..4/3 of *every* seconds and go through all
    fault kinds in a shuffled order before any repeats.
    """

    def __init__(
        self, rng: random.Random, *, first_after: float | None = None, every: float = 15.0
    ) -> None:
        self._rng = rng
        self._first_after = first_after
        self._every = every
        self._started = False
        self._dropped_first = False
        self._bag: list[Fault] = []

    def next_delay(self) -> float:
        """Seconds to wait before the next fault."""
        if not self._started:
            self._started = True
            if self._first_after is not None:
                return self._first_after
            return self._rng.uniform(5.0, 8.0)
        return self._rng.uniform(self._every * 2 / 3, self._every * 4 / 3)

    def next_fault(self) -> Fault:
        """The kind of the next fault: ``drop`` first, then shuffled rounds of all kinds."""
        if not self._dropped_first:
            self._dropped_first = True
            return "drop"
        if not self._bag:
            self._bag = list(FAULTS)
            self._rng.shuffle(self._bag)
        return self._bag.pop()


# --------------------------------------------------------------------------------------------
# The Trio program
# --------------------------------------------------------------------------------------------


class _Output:
    """Line output that flushes per line and survives a closed pipe (``monitor.py | head``)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.broken = False

    def line(self, text: str) -> None:
        if self.broken:
            return
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self.broken = True
            # Python would complain again when flushing stdout at exit.
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.stream.fileno())


class _Monitor:
    """The running monitor: feeds the client's channels into the model and the output."""

    def __init__(
        self,
        options: Options,
        client: OkxClient,
        out: _Output,
        *,
        exchange: FakeExchange | None,
        console_file: TextIO,
    ) -> None:
        self.options = options
        self.client = client
        self.out = out
        self.exchange = exchange
        self.console_file = console_file
        self.model = MonitorModel(options.pairs, started_at=trio.current_time())
        self.tick_limiter = TickLogLimiter(1.0)
        self.stats_limiter = RateLimiter(options.stats_every, trio.current_time())
        self.exit_code = 0
        self.failure: str | None = None
        self._cancel_scope = trio.CancelScope()

    # -- output ------------------------------------------------------------------------------

    def emit(self, kind: EventKind, text: str) -> None:
        """An event line: into the model (table) and, in log mode, to stdout."""
        self.model.add_event(kind, text, trio.current_time())
        if not self.options.table:
            self.out.line(f"[{kind}] {text}")

    def stop(self, code: int) -> None:
        """Leave the monitor with exit *code* (the first reason to stop wins)."""
        if not self._cancel_scope.cancel_called:
            self.exit_code = code
        self._cancel_scope.cancel()

    # -- tasks -------------------------------------------------------------------------------

    async def run(
        self,
        commands: trio.abc.ReceiveChannel[str] | None,
        stdin: TextIO | None,
        handle_signals: bool,
    ) -> int:
        """Run every task until one of them calls :meth:`stop`; returns the exit code.

        Cancelling it from outside ends all tasks too (the stdin thread is abandoned).
        """
        # Subscribe before the first checkpoint so no early event is missed.
        states = self.client.state_changes()
        ticks = self.client.ticks()
        stats = self.client.stats_updates()
        with self._cancel_scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._watch_states, states)
                nursery.start_soon(self._watch_ticks, ticks)
                nursery.start_soon(self._watch_stats, stats)
                if handle_signals:
                    nursery.start_soon(self._watch_signals)
                if self.options.duration is not None:
                    nursery.start_soon(self._stop_after, self.options.duration)
                if commands is None and stdin is not None:
                    send, commands = trio.open_memory_channel[str](16)
                    nursery.start_soon(self._read_lines, stdin, send)
                if commands is not None:
                    nursery.start_soon(self._handle_commands, commands)
                if self.exchange is not None and self.options.chaos:
                    nursery.start_soon(self._chaos, self.exchange)
                if self.options.table:
                    await self._draw_live()
        return self.exit_code

    async def _watch_states(self, states: trio.MemoryReceiveChannel[StateChange]) -> None:
        async with states:
            if self.client.state is ConnectionState.FAILED:  # failed before we listened
                self._fail("max retries exceeded")
                return
            async for change in states:
                self.model.on_state_change(change, trio.current_time())
                if not self.options.table:
                    self.out.line(format_state_line(change))
                if change.state is ConnectionState.FAILED:
                    self._fail(change.message)
                    return

    def _fail(self, message: str) -> None:
        last_error = _one_line(self.client.get_stats().last_error)
        reason = f"monitor: connection failed: {_one_line(message)}"
        if last_error and last_error not in reason:
            reason += f" (last error: {last_error})"
        self.failure = reason
        self.stop(1)

    async def _watch_ticks(self, ticks: trio.MemoryReceiveChannel[Ticker]) -> None:
        async with ticks:
            async for ticker in ticks:
                now = trio.current_time()
                if (
                    self.model.on_ticker(ticker, now)
                    and not self.options.table
                    and self.tick_limiter.should_log(ticker.inst_id, now)
                ):
                    self.out.line(format_tick_line(ticker))
                if self.out.broken:
                    self.stop(0)

    async def _watch_stats(self, updates: trio.MemoryReceiveChannel[ConnectionStats]) -> None:
        async with updates:
            async for stats in updates:
                self.model.on_stats(stats, trio.current_time())
                if not self.options.table and self.stats_limiter.ready(trio.current_time()):
                    self.out.line(format_stats_line(stats))

    async def _watch_signals(self) -> None:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                self.stop(130 if signum == signal.SIGINT else 143)
                return

    async def _stop_after(self, seconds: float) -> None:
        await trio.sleep(seconds)
        self.stop(0)

    async def _read_lines(self, stdin: TextIO, send: trio.MemorySendChannel[str]) -> None:
        """Read stdin in a worker thread (abandoned on cancel, so exit is never blocked)."""
        async with send:
            while True:
                try:
                    line = await trio.to_thread.run_sync(stdin.readline, abandon_on_cancel=True)
                except UnicodeDecodeError:
                    self.emit("error", "could not decode that input line")
                    continue
                except (OSError, ValueError):  # stdin closed or gone (terminal hung up)
                    return
                if not line:  # EOF: keep running, just stop reading
                    return
                await send.send(line)

    async def _handle_commands(self, commands: trio.abc.ReceiveChannel[str]) -> None:
        async with commands:
            async for line in commands:
                for command in parse_commands(line):
                    self._apply(command)

    def _apply(self, command: Command | CommandError) -> None:
        if isinstance(command, CommandError):
            self.emit("error", command.reason)
        elif command.op == "quit":
            self.emit("cmd", "quitting")
            self.stop(0)
        elif command.op == "help":
            for text in HELP_LINES:
                self.emit("help", text)
        elif command.op == "add":
            if command.inst_id in self.client.pairs:
                self.emit("cmd", f"already watching {command.inst_id}")
                return
            try:
                self.client.add_pair(command.inst_id)
            except ValueError as exc:
                self.emit("error", str(exc))
                return
            self.model.add_pair(command.inst_id)
            self.tick_limiter.forget(command.inst_id)
            self.emit("cmd", f"watching {command.inst_id}")
        else:
            if command.inst_id not in self.client.pairs and command.inst_id not in self.model.rows:
                self.emit("error", f"not watching {command.inst_id}")
                return
            try:
                self.client.remove_pair(command.inst_id)
            except (ValueError, KeyError) as exc:
                self.emit("error", str(exc))
                return
            self.model.remove_pair(command.inst_id)
            self.emit("cmd", f"stopped watching {command.inst_id}")

    async def _draw_live(self) -> None:
        """Redraw the table at a steady 4/s until cancelled; the last frame stays on screen."""
        from rich.console import Console
        from rich.live import Live

        console = Console(file=self.console_file)
        with Live(console=console, auto_refresh=False, transient=False) as live:
            try:
                while True:
                    now = trio.current_time()
                    live.update(render(self.model, self.client.get_stats(), now), refresh=True)
                    await trio.sleep(0.25)
            finally:
                live.update(
                    render(self.model, self.client.get_stats(), trio.current_time()),
                    refresh=True,
                )

    # -- demo chaos --------------------------------------------------------------------------

    async def _chaos(self, exchange: FakeExchange) -> None:
        schedule = ChaosSchedule(
            random.Random(self.options.seed),
            first_after=self.options.chaos_first_after,
            every=self.options.chaos_every,
        )
        # Which connection of a pool a fault hits: its own stream, so the schedule stays
        # the same with or without a pool.
        pick = random.Random(f"monitor-chaos-target:{self.options.seed}")
        while True:
            await trio.sleep(schedule.next_delay())
            await self._inject(schedule.next_fault(), exchange, pick)

    async def _inject(self, fault: Fault, exchange: FakeExchange, pick: random.Random) -> None:
        """Inject *fault*. With a pool, a drop or a silence hits one of the exchange's open
        connections (chosen by *pick*), so the others are seen to carry on."""
        open_now = exchange.connections
        target = (
            [pick.choice(open_now)]
            if len(open_now) > 1 and is_pooled(self.client.get_stats())
            else None
        )
        which = f"1 of its {len(open_now)} connections" if target is not None else ""
        if fault == "drop":
            self.emit("chaos", f"the exchange drops {which or 'the connection'}")
            exchange.drop_connections(only=target)
        elif fault == "silence":
            timeout = self.options.config.connection_timeout
            silence = timeout + 2.0
            self.emit(
                "chaos",
                f"the exchange goes silent {f'on {which} ' if which else ''}for {silence:.0f}s "
                f"(no data, no pongs; the client's timeout is {timeout:g}s)",
            )
            exchange.go_silent(only=target)
            try:
                await trio.sleep(silence)
            finally:
                # A silenced connection the client has given up on is closed by now;
                # resume() skips it.
                exchange.resume(only=target)
            self.emit("chaos", "the exchange answers again")
        elif fault == "notice":
            self.emit("chaos", "the exchange announces a service upgrade (64008)")
            exchange.send_notice()
        else:
            bogus = self._bogus_pair()
            self.emit("chaos", f"adding {bogus}, which the exchange rejects")
            exchange.reject_instruments(bogus)
            self.model.add_pair(bogus)
            self.client.add_pair(bogus)
            await trio.sleep(8.0)
            self.emit("chaos", f"removing {bogus} again")
            with contextlib.suppress(ValueError, KeyError):
                self.client.remove_pair(bogus)
            self.model.remove_pair(bogus)

    def _bogus_pair(self) -> str:
        n = 1
        while (candidate := "FAKE-USDT" if n == 1 else f"FAKE{n}-USDT") in self.model.rows:
            n += 1
        return candidate


async def run(
    options: Options,
    *,
    connector: Connector | None = None,
    exchange: FakeExchange | None = None,
    commands: trio.abc.ReceiveChannel[str] | None = None,
    read_stdin: bool = True,
    out: TextIO | None = None,
    err: TextIO | None = None,
    handle_signals: bool = True,
) -> int:
    """Run the monitor until ``q``, ``--duration``, a signal or FAILED; returns the exit code.

    With ``options.demo`` it serves *exchange* (default: a new seeded FakeExchange) on a
    loopback port, unless a *connector* is given (tests: the in-memory one). Input lines come
    from *commands*, else (if *read_stdin*) from ``sys.stdin`` in a worker thread. The FAILED
    reason goes to *err* as one line, after the table (if any) is gone.
    """
    out_stream = out if out is not None else sys.stdout
    err_stream = err if err is not None else sys.stderr
    stdin = sys.stdin if commands is None and read_stdin else None
    output = _Output(out_stream)
    config = options.config
    async with contextlib.AsyncExitStack() as stack:
        if options.demo:
            from okx_trio.testing import FakeExchange, open_fake_exchange_server

            if exchange is None:
                exchange = FakeExchange(tick_interval=options.tick_interval, seed=options.seed)
            if connector is None:
                url = await stack.enter_async_context(open_fake_exchange_server(exchange))
                config = config.replace(url=url)  # the fake exchange alone, no failover
        client = await stack.enter_async_context(
            open_okx_client(options.pairs, config=config, connector=connector)
        )
        monitor = _Monitor(options, client, output, exchange=exchange, console_file=out_stream)
        if options.demo:
            chaos = "no faults" if not options.chaos else "faults on"
            monitor.emit(
                "info", f"demo: fake exchange at {config.url} (seed {options.seed}, {chaos})"
            )
        code = await monitor.run(commands, stdin, handle_signals)
    if monitor.failure is not None:
        print(monitor.failure, file=err_stream, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
