"""The candles view: one pair's latest candles as a small unicode chart.

Each candle is a column: a wick ``│`` from its low to its high and a body ``█`` from open to
close, green when it closed up and red when down, scaled between the lowest low and the
highest high shown. Under the chart, the latest candle's open/high/low/close and volume.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from okx_trio import Candle

from ._trades_view import exchange_time

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = ["candle_cells", "render_candles"]

#: The chart is at most this many rows tall, and at least this many.
MAX_ROWS: Final = 16
MIN_ROWS: Final = 3


def _number(value: Decimal) -> str:
    return f"{value:f}"


def _overlaps(low: Decimal, high: Decimal, bottom: Decimal, top: Decimal) -> bool:
    """Whether *low*..*high* reaches into the row *bottom*..*top* (touching its edge is
    not enough, so a body ending on a row's edge does not fill the row; a flat range on the
    edge does count, or it would vanish)."""
    if low == high:
        return bottom <= low <= top
    return low < top and high > bottom


def candle_cells(candle: Candle, low: Decimal, high: Decimal, rows: int) -> list[str]:
    """The column of *candle* in a chart of *rows* rows spanning *low*..*high*, top first:
    ``█`` where the body (open to close) reaches into a row, ``│`` where only the wick
    does."""
    span = high - low
    cells: list[str] = []
    for row in range(rows):
        # Row r (from the top) covers prices [top - step, top].
        if span <= 0:
            cells.append("█" if row == rows // 2 else " ")
            continue
        top = high - span * row / rows
        bottom = high - span * (row + 1) / rows
        body_low, body_high = sorted((candle.open, candle.close))
        if _overlaps(body_low, body_high, bottom, top):
            cells.append("█")
        elif _overlaps(candle.low, candle.high, bottom, top):
            cells.append("│")
        else:
            cells.append(" ")
    return cells


def render_candles(
    candles: Sequence[Candle] | None,
    inst_id: str | None,
    channel: str,
    *,
    lines: int,
    width: int,
    position: str = "",
) -> RenderableType:
    """The newest *candles* (oldest first) of *inst_id* on *channel* (``candle1m``) in at
    most *lines* lines and *width* columns: a title, the chart with the highest high and
    the lowest low on its axis, and the latest candle's figures.

    None or empty: ``waiting for candles``; *inst_id* None: none subscribed, with a hint.
    """
    from rich.console import Group
    from rich.text import Text

    bar = channel.removeprefix("candle") or "?"
    title = Text(f"candles {bar}", style="bold", no_wrap=True, overflow="ellipsis")
    if inst_id is None:
        title.append("  no candles subscribed", style="dim")
        return Group(title, Text("type +candle1m:BTC-USDT and Enter to watch candles", style="dim"))
    title.append(f" {inst_id}", style="bold cyan")
    if position:
        title.append(f"  {position} ←/→", style="dim")
    if not candles:
        title.append("  waiting for candles", style="yellow")
        return Group(title)
    rows = max(MIN_ROWS, min(MAX_ROWS, lines - 2))
    every = list(candles)
    low = min(c.low for c in every)
    high = max(c.high for c in every)
    axis = max(len(_number(low)), len(_number(high)))
    fit = max(1, (width - axis - 2) // 2)  # a candle and a space each
    shown = every[-fit:]
    low = min(c.low for c in shown)
    high = max(c.high for c in shown)
    columns = [candle_cells(c, low, high, rows) for c in shown]
    styles = ["green" if c.close >= c.open else "red" for c in shown]
    title.append(f"  {len(shown)} of {len(every)} candles", style="dim")
    chart: list[RenderableType] = [title]
    for row in range(rows):
        label = _number(high) if row == 0 else _number(low) if row == rows - 1 else ""
        line = Text(no_wrap=True, overflow="crop")
        line.append(f"{label:>{axis}} ┤" if label else f"{'':>{axis}} │", style="dim")
        for cells, style in zip(columns, styles, strict=True):
            line.append(cells[row], style=style)
            line.append(" ")
        chart.append(line)
    last = shown[-1]
    figures = Text(no_wrap=True, overflow="ellipsis")
    figures.append(f"{exchange_time(last.ts, millis=False)} UTC ", style="dim")
    figures.append(
        f"O {_number(last.open)}  H {_number(last.high)}  L {_number(last.low)}  "
        f"C {_number(last.close)}",
        style="green" if last.close >= last.open else "red",
    )
    figures.append(f"  vol {_number(last.vol)}", style="dim")
    figures.append("  closed" if last.confirm else "  open", style="dim")
    chart.append(figures)
    return Group(*chart)
