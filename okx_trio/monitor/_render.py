"""The whole screen, fitted to the terminal.

:func:`render` returns a rich renderable that lays itself out when rich asks for it, with
the width and (in the alternate screen) the height rich offers. It never cuts a price or a
pair name: when the table is too wide it drops the least useful columns first (the trend
sparkline, then the volume, then bid/ask, then the age); when the pairs do not fit in
height it shows a window of them with a scroll marker, and the status panel, the events
and the input line always stay on screen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from okx_trio import ConnectionStats

from ._book_view import BookSource
from ._figures import is_pooled
from ._format import base_volume, format_age, format_percent, format_price, format_volume
from ._format import sparkline as draw_sparkline
from ._model import MonitorModel
from ._panels import STALE_AFTER, render_connections, render_events, render_status
from ._view_part import view_part

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.table import Table

__all__ = ["COLUMNS", "DROP_ORDER", "Screen", "pair_window", "render"]

#: Every column of the pair table, left to right.
COLUMNS: Final = ("Pair", "Last", "24h %", "Bid", "Ask", "24h Vol", "Age", "Trend")
#: Which columns go first when the table is too wide (Pair and Last never go).
DROP_ORDER: Final = (("Trend",), ("24h Vol",), ("Bid", "Ask"), ("Age",), ("24h %",))
#: The sparkline is at most this wide, and no narrower than its minimum.
TREND_WIDTH: Final = 20
TREND_MIN: Final = 8
#: Events kept on screen however many pairs there are.
MIN_EVENTS: Final = 2
#: The connections panel goes before the pair table has fewer rows than this.
POOL_MIN_ROWS: Final = 5

FOOTER: Final = (
    "+PAIR add · -PAIR remove · Tab view · PgUp/PgDn scroll · q quit · ? help · Ctrl-C exit"
)
#: The footer in the other views: their keys first.
VIEW_FOOTER: Final = (
    "Tab/Shift-Tab view · ←/→ pair · +books:PAIR add · -books:PAIR remove · q quit · ? help"
)
#: Lines a view other than tickers gets when the height is not limited.
UNLIMITED_VIEW_LINES: Final = 30


def render(
    model: MonitorModel,
    stats: ConnectionStats | None,
    now: float,
    *,
    title: str = "OKX tickers",
    height: int | None = None,
    books: BookSource | None = None,
) -> Screen:
    """The whole screen: the pair table (or the view on screen: ``model.channels.view``),
    the pool's connections (if any), the status panel, the latest events and the input line.

    *stats* is normally ``client.get_stats()``; None falls back to ``model.stats``. *now* is
    the same clock the model was fed with. With *height* (the terminal's rows) the screen
    fits in that many lines; without, every pair and event is shown. The width is what
    rich offers when it renders. The book view reads books from *books* (None: the client
    keeps none, and the view says so).
    """
    return Screen(model, stats if stats is not None else model.stats, now, title, height, books)


def pair_window(total: int, first: int, room: int) -> tuple[int, int]:
    """The ``(start, stop)`` of the pair rows to show in *room* rows, from *first* on.

    The window is clamped so it never runs past the last pair.
    """
    if total <= room:
        return 0, total
    start = min(max(0, first), total - room)
    return start, start + room


@dataclass
class Screen:
    """A renderable of the whole screen; see the module's docstring for how it fits."""

    model: MonitorModel
    stats: ConnectionStats | None
    now: float
    title: str = "OKX tickers"
    height: int | None = None
    books: BookSource | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # Each part is rendered without the height: a Panel given one would fill it.
        free = options.update(height=None)
        for part in self._parts(console, options):
            yield from console.render(part, free)

    # -- layout ------------------------------------------------------------------------------

    def _parts(self, console: Console, options: ConsoleOptions) -> Iterator[RenderableType]:
        from rich.panel import Panel
        from rich.text import Text

        width, height = options.max_width, self.height
        free = options.update(height=None)
        pooled = self.stats is not None and is_pooled(self.stats)
        status = Panel(
            render_status(self.model, self.stats, self.now),
            title="pool totals" if pooled else "connection",
            title_align="left",
            border_style="blue",
        )
        pool: Panel | None = None
        if self.stats is not None and pooled:
            pool = Panel(
                render_connections(self.stats, self.model.tick_rates),
                title=f"connections ({len(self.stats.connections)})",
                title_align="left",
                border_style="blue",
            )

        def lines_of(part: RenderableType) -> int:
            return len(console.render_lines(part, free, pad=False))

        if self.model.channels.view != "tickers":
            yield from self._view_parts(width, lines_of, status, pool)
            return
        total = len(self.model.rows)
        rows, events, room = total, None, 0  # unlimited height: everything
        if height is not None:
            fixed = lines_of(status) + 1 + 3 + 2  # input line, table head, events border
            # The connections panel only if it leaves room for a few pairs too.
            pool_room = min(max(total, 1), POOL_MIN_ROWS) + MIN_EVENTS + 1
            if pool is not None and height - fixed - lines_of(pool) >= pool_room:
                fixed += lines_of(pool)
            else:
                pool = None  # a tiny terminal: the totals still say how the pool is
            room = max(2, height - fixed)  # for pair rows, the scroll marker and events
            if total + MIN_EVENTS <= room:
                rows = max(total, 1)  # the "no pairs" hint takes a row too
                events = room - rows
            else:
                events = MIN_EVENTS if room >= MIN_EVENTS + 2 else 1
                rows = max(1, room - events - 1)  # one line for the scroll marker
        # A wide terminal takes the pairs in two tables side by side before it scrolls, as
        # long as each half keeps the prices (only the trend or the volume may go).
        halves = False
        if height is not None and total > rows:
            half = self._table(console, free, width // 2 - 2, 0, rows, self.title)
            halves = len(half.columns) >= len(COLUMNS) - 2
        if halves:
            per_half = -(-total // 2)
            if per_half + MIN_EVENTS <= room:
                rows, events = per_half, room - per_half
        window = 2 * rows if halves else rows
        self.model.visible_rows = window
        start, stop = pair_window(total, self.model.scroll, window)
        if halves:
            from rich.table import Table

            middle = min(stop, start + rows)
            halfwidth = width // 2 - 2
            left = self._table(console, free, halfwidth, start, middle, self.title)
            right = self._table(console, free, halfwidth, middle, stop, " ")
            # Both halves show the same columns: those both kept.
            kept = {str(c.header) for c in left.columns} & {str(c.header) for c in right.columns}
            drop = set(COLUMNS) - kept
            grid = Table.grid(padding=(0, 3))
            grid.add_row(
                self._table(console, free, halfwidth, start, middle, self.title, drop),
                self._table(console, free, halfwidth, middle, stop, " ", drop),
            )
            yield grid
        else:
            yield self._table(console, free, width, start, stop, self.title)
        if start > 0 or stop < total:
            yield Text(
                f"pairs {start + 1}-{stop} of {total} · PgUp/PgDn or ↑/↓ to scroll",
                style="bold yellow",
            )
        if pool is not None:
            yield pool
        yield status
        yield Panel(
            render_events(self.model, events),
            title="events",
            title_align="left",
            border_style="blue",
        )
        yield self._input_line()

    def _view_parts(
        self,
        width: int,
        lines_of: Callable[[RenderableType], int],
        status: RenderableType,
        pool: RenderableType | None,
    ) -> Iterator[RenderableType]:
        """A view other than tickers: the view in the lines left over by the status panel,
        the pool panel (if it fits too), two events and the input line; the events get what
        the view does not use."""
        from rich.panel import Panel

        events: int | None = None
        if self.height is None:
            part = view_part(self.model, self.books, width=width, lines=UNLIMITED_VIEW_LINES)
        else:
            fixed = lines_of(status) + 1 + 2  # the input line, the events border
            if pool is not None and self.height - fixed - lines_of(pool) >= MIN_EVENTS + 6:
                fixed += lines_of(pool)
            else:
                pool = None
            room = max(MIN_EVENTS + 2, self.height - fixed)
            part = view_part(self.model, self.books, width=width, lines=room - MIN_EVENTS)
            events = max(1, room - lines_of(part))
        yield part
        if pool is not None:
            yield pool
        yield status
        yield Panel(
            render_events(self.model, events),
            title="events",
            title_align="left",
            border_style="blue",
        )
        yield self._input_line(VIEW_FOOTER)

    def _input_line(self, footer: str = FOOTER) -> RenderableType:
        from rich.text import Text

        line = Text("> ", style="bold cyan", no_wrap=True, overflow="ellipsis")
        if self.model.input_text:
            line.append(self.model.input_text)
            line.append("█", style="blink")
        else:
            line.append("█", style="dim")
            line.append(f"  {footer}", style="dim")
        return line

    # -- the pair table ----------------------------------------------------------------------

    def _table(
        self,
        console: Console,
        options: ConsoleOptions,
        width: int,
        start: int,
        stop: int,
        title: str,
        drop: set[str] | None = None,
    ) -> Table:
        """The pair table for rows *start*..*stop*, without the *drop* columns and without
        as many more (in :data:`DROP_ORDER`) as it takes to fit in *width*."""
        dropped: set[str] = set(drop or ())
        trend = TREND_WIDTH
        wide = options.update_width(10_000)  # measure what the table wants, not what fits
        table = self._build(start, stop, dropped, trend, title)
        for group in DROP_ORDER:
            if console.measure(table, options=wide).maximum <= width:
                break
            if group == ("Trend",):
                # First narrow the sparkline, then drop it.
                over = console.measure(table, options=wide).maximum - width
                if trend - over >= TREND_MIN:
                    trend -= over
                    table = self._build(start, stop, dropped, trend, title)
                    if console.measure(table, options=wide).maximum <= width:
                        break
            dropped.update(group)
            table = self._build(start, stop, dropped, trend, title)
        return table

    def _build(self, start: int, stop: int, dropped: set[str], trend: int, title: str) -> Table:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        stats = self.stats
        rejected = set(stats.rejected_pairs) if stats is not None else set()
        table = Table(
            title=title,
            title_style="bold",
            expand=False,
            header_style="bold",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
        )
        shown = [name for name in COLUMNS if name not in dropped]
        for name in shown:
            table.add_column(
                name,
                justify="left" if name in ("Pair", "Trend") else "right",
                no_wrap=True,
                min_width=trend if name == "Trend" else None,
                max_width=trend if name == "Trend" else None,
            )
        for row in list(self.model.rows.values())[start:stop]:
            ticker = row.ticker
            cells: dict[str, RenderableType] = {}
            if ticker is None:
                cells["Pair"] = row.inst_id
                cells["Last"] = (
                    Text("rejected", style="bold red")
                    if row.inst_id in rejected
                    else Text("waiting…", style="dim")
                )
            else:
                pct = ticker.change_pct
                pct_style = "dim" if pct is None or pct == 0 else ("green" if pct > 0 else "red")
                age = self.now - row.updated_at if row.updated_at is not None else None
                pair = Text(row.inst_id)
                if row.inst_id in rejected:
                    pair.append(" (rejected)", style="red")
                cells = {
                    "Pair": pair,
                    "Last": Text(
                        format_price(ticker.last),
                        style={1: "green", -1: "red"}.get(row.direction, ""),
                    ),
                    "24h %": Text(format_percent(pct), style=pct_style),
                    "Bid": format_price(ticker.bid),
                    "Ask": format_price(ticker.ask),
                    "24h Vol": format_volume(base_volume(ticker)),
                    "Age": Text(
                        format_age(age),
                        style="yellow" if age is not None and age > STALE_AFTER else "dim",
                    ),
                    "Trend": Text(draw_sparkline(row.history, trend), style="cyan"),
                }
            table.add_row(*(cells.get(name, "") for name in shown))
        if not self.model.rows:
            table.add_row(
                Text("no pairs: type +BTC-USDT and Enter", style="dim"), *[""] * (len(shown) - 1)
            )
        return table
