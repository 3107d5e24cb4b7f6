"""The panels under the pair table: the connection status, the pool's connections and the
events. Each is built from the model and a stats snapshot; nothing here does I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from okx_trio import ConnectionState, ConnectionStats

from ._figures import (
    failover_url,
    format_latency,
    is_business,
    is_pooled,
    is_private,
    network_hint,
    notable_figures,
    preferred_url,
    request_budget_low,
    url_failure_count,
    url_host,
)
from ._format import clock, format_age, format_duration, one_line
from ._loglines import format_delay
from ._model import MonitorModel

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

__all__ = [
    "EVENT_STYLES",
    "STALE_AFTER",
    "STATE_STYLES",
    "quality_style",
    "render_connections",
    "render_events",
    "render_status",
]

STATE_STYLES: Final[dict[ConnectionState, str]] = {
    ConnectionState.CONNECTED: "bold green",
    ConnectionState.CONNECTING: "yellow",
    ConnectionState.RECONNECTING: "bold yellow",
    ConnectionState.FAILED: "bold red",
    ConnectionState.DISCONNECTED: "dim",
}
EVENT_STYLES: Final[dict[str, str]] = {
    "rejected": "red",
    "notice": "yellow",
    "error": "bold red",
    "log": "yellow",
    "chaos": "magenta",
    "cmd": "cyan",
    "help": "dim",
    "info": "blue",
}
#: A pair (or connection) whose last update is older than this is shown as stale.
STALE_AFTER: Final = 5.0


def quality_style(quality: int) -> str:
    return "green" if quality >= 80 else "yellow" if quality >= 50 else "red"


def _connection_row(model: MonitorModel, stats: ConnectionStats, now: float) -> tuple[str, str]:
    """How the connection is doing over time; the retry count only while it is down."""
    if stats.state is ConnectionState.CONNECTED:
        return "Connected for", format_duration(stats.connection_duration)
    wait = model.next_attempt_in(now)
    if stats.state is ConnectionState.RECONNECTING and wait is not None:
        return "Next attempt", f"in {format_delay(wait)} (retry {stats.retry_count})"
    if stats.state is ConnectionState.CONNECTING:
        return "Connecting", f"attempt {stats.retry_count + 1}"
    if stats.state is ConnectionState.FAILED:
        return "Gave up", f"after {stats.retry_count} retries"
    return "Connected for", "-" if not model.ever_connected else "down"


def render_status(model: MonitorModel, stats: ConnectionStats | None, now: float) -> RenderableType:
    """The status grid: short figures two to a line, then the url and the last error on a
    full-width line each, cut (never wrapped) to one line."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    status = Table.grid(padding=(0, 2))
    for _ in range(4):
        status.add_column(no_wrap=True)
    if stats is None:
        status.add_row("State", Text(model.state.value, style=STATE_STYLES[model.state]), "", "")
        return status
    label, value = _connection_row(model, stats, now)
    status.add_row(
        "State",
        Text(stats.state.value, style=STATE_STYLES[stats.state]),
        "Subscribed",
        f"{stats.subscribed_pairs}/{stats.desired_pairs}",
    )
    status.add_row(label, value, "Reconnects", str(stats.reconnect_count))
    status.add_row(
        "Last message",
        format_age(stats.last_message_age),
        "Ticks",
        f"{stats.ticks_received} (dropped {stats.ticks_dropped})",
    )
    status.add_row(
        "Quality",
        Text(f"{stats.quality}/100", style=quality_style(stats.quality)),
        "Latency",
        format_latency(stats),
    )
    # Figures that only matter once they are not zero, two to a line.
    extra: list[tuple[str, RenderableType]] = []
    if stats.rejected_pairs:
        extra.append(("Rejected", Text(", ".join(stats.rejected_pairs), style="red")))
    if is_pooled(stats):
        up = sum(conn.state is ConnectionState.CONNECTED for conn in stats.connections)
        extra.append(("Connections", f"{len(stats.connections)} ({up} connected)"))
    if stats.books:
        resyncs = stats.book_resyncs
        books = f"{stats.books_valid}/{stats.books} valid, {resyncs} resyncs"
        extra.append(("Books", Text(books, style="yellow" if resyncs else "")))
    for _, name, figure in notable_figures(stats):
        style = "yellow" if name in ("Requests delayed", "Request budget") else ""
        extra.append((name, Text(figure, style=style)))
    for i in range(0, len(extra), 2):
        left, right = extra[i], extra[i + 1] if i + 1 < len(extra) else ("", "")
        status.add_row(left[0], left[1], right[0], right[1])

    # The url and error lines get the full width; their labels line up with those above.
    labels = [label, "Last message", "Last error", *(name for name, _ in extra[::2])]
    status.columns[0].min_width = max(len(text) for text in labels)
    details = Table.grid(padding=(0, 2))
    details.add_column(min_width=status.columns[0].min_width, no_wrap=True)
    details.add_column(no_wrap=True, overflow="ellipsis")
    url_text = Text(stats.url or "-", overflow="ellipsis", no_wrap=True)
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
    error = one_line(stats.last_error)
    error_text = Text(error or "-", style="red" if error else "dim", no_wrap=True)
    error_text.overflow = "ellipsis"
    details.add_row("Last error", error_text)
    hint = network_hint(error) if stats.state is not ConnectionState.CONNECTED else None
    if hint is not None:
        details.add_row("Hint", Text(hint, style="bold yellow"))
    return Group(status, details)


def render_events(model: MonitorModel, lines: int | None) -> Text:
    """The latest *lines* events (all with None), one line each, cut with an ellipsis."""
    from rich.text import Text

    events = Text(no_wrap=True, overflow="ellipsis")
    shown = list(model.events)
    if lines is not None:
        shown = shown[-lines:] if lines > 0 else []
    for event in shown:
        style = (
            STATE_STYLES[event.state]
            if event.kind == "state" and event.state is not None
            else EVENT_STYLES.get(event.kind, "")
        )
        if events:
            events.append("\n")
        events.append(f"{clock(event.at - model.started_at)} ", style="dim")
        events.append(f"[{event.kind}] {event.text}", style=style)
    if not events:
        events.append("no events yet", style="dim")
    return events


def render_connections(
    stats: ConnectionStats, tick_rates: dict[tuple[str, int], float] | None = None
) -> RenderableType:
    """One row per connection of the pool: index (``b0`` for a business one, ``p0`` for a
    private one), state, host, pairs subscribed/desired, ticks per second (from
    *tick_rates*, by (endpoint, index); ``-`` until known), last message age, reconnects,
    quality and the hourly request budget left.

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
        rate = rates.get((conn.endpoint, conn.index))
        pairs_style = "" if conn.subscribed_pairs >= conn.desired_pairs else "yellow"
        budget = "-" if conn.request_budget is None else str(conn.request_budget)
        budget_style = "yellow" if request_budget_low(conn) else "dim"
        age = conn.last_message_age
        age_style = "yellow" if age is not None and age > STALE_AFTER else ""
        table.add_row(
            # A business or private connection counts from 0 too: b0 is not connection 0.
            f"b{conn.index}"
            if is_business(conn)
            else f"p{conn.index}"
            if is_private(conn)
            else str(conn.index),
            Text(conn.state.value, style=STATE_STYLES[conn.state]),
            Text(url_host(conn.url), style="yellow" if failover_url(conn) else ""),
            Text(f"{conn.subscribed_pairs}/{conn.desired_pairs}", style=pairs_style),
            f"{rate:.1f}" if rate is not None else "-",
            Text(format_age(age), style=age_style),
            str(conn.reconnect_count),
            Text(str(conn.quality), style=quality_style(conn.quality)),
            Text(budget, style=budget_style),
        )
    return table
