"""The funding view: one line per swap with its funding rate, when funding comes next and
its mark price (from the ``funding-rate`` and ``mark-price`` channels)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from ._channels import SwapLine
from ._format import format_duration
from ._trades_view import exchange_time

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = ["format_rate", "render_funding"]


def format_rate(rate: Decimal) -> str:
    """A funding rate as a signed percentage with four decimals: ``0.0001 -> "+0.0100%"``."""
    if not rate.is_finite():
        return "n/a"
    text = f"{rate * 100:+.4f}%"
    return "+0.0000%" if text == "-0.0000%" else text


def render_funding(lines: Sequence[SwapLine], *, rows: int) -> RenderableType:
    """A table of *lines* (at most *rows* of them, with a ``+N more`` line when cut):
    swap, mark price, funding rate, the time to the next funding and its UTC time.

    A figure not received yet reads ``-``; no lines at all gets a hint how to add some.
    """
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    title = Text("funding & mark", style="bold", no_wrap=True, overflow="ellipsis")
    if not lines:
        title.append("  no swaps subscribed", style="dim")
        hint = "type +funding-rate:BTC-USDT-SWAP +mark-price:BTC-USDT-SWAP and Enter"
        return Group(title, Text(hint, style="dim", no_wrap=True, overflow="ellipsis"))
    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold", expand=False
    )
    table.add_column("Swap", no_wrap=True)
    table.add_column("Mark", justify="right", no_wrap=True)
    table.add_column("Funding", justify="right", no_wrap=True)
    table.add_column("Next in", justify="right", no_wrap=True)
    table.add_column("At (UTC)", justify="right", no_wrap=True)
    shown = list(lines)[: max(1, rows)]
    for line in shown:
        mark: RenderableType = "-"
        if line.mark is not None:
            style = {1: "green", -1: "red"}.get(line.direction, "")
            mark = Text(f"{line.mark.mark_px:f}", style=style)
        rate: RenderableType = "-"
        wait, at = "-", "-"
        funding = line.funding
        if funding is not None:
            sign = funding.funding_rate
            rate = Text(
                format_rate(sign), style="green" if sign > 0 else "red" if sign < 0 else "dim"
            )
            wait = format_duration(max(0, funding.funding_time - funding.ts) / 1000)
            at = exchange_time(funding.funding_time, millis=False)
        table.add_row(line.inst_id, mark, rate, wait, at)
    parts: list[RenderableType] = [title, table]
    if len(lines) > len(shown):
        parts.append(Text(f"+{len(lines) - len(shown)} more", style="yellow"))
    return Group(*parts)
