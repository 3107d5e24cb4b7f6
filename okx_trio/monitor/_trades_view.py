"""The trades tape: one pair's latest trades, newest on top (time, side, price, size)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from okx_trio import Trade

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = ["exchange_time", "render_trades"]


def exchange_time(ts_ms: int, *, millis: bool = True) -> str:
    """OKX's Unix-millisecond time as UTC ``HH:MM:SS.mmm`` (``HH:MM:SS`` without *millis*);
    ``--:--:--`` for a time no calendar has."""
    try:
        when = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return "--:--:--"
    text = when.strftime("%H:%M:%S")
    return f"{text}.{ts_ms % 1000:03d}" if millis else text


def _number(value: Decimal) -> str:
    return f"{value:f}"


def render_trades(
    trades: Sequence[Trade] | None,
    inst_id: str | None,
    *,
    lines: int,
    position: str = "",
) -> RenderableType:
    """The newest trades of *inst_id* that fit in *lines* lines (title and header included),
    newest first: buys green, sells red, each with its exchange time (UTC), price and size.

    *trades* oldest first, as they came; None or empty: ``waiting for trades``. *inst_id*
    None: no trades subscribed, with a hint how to add some.
    """
    from rich.console import Group
    from rich.text import Text

    title = Text("trades", style="bold", no_wrap=True, overflow="ellipsis")
    if inst_id is None:
        title.append("  no trades subscribed", style="dim")
        return Group(title, Text("type +trades:BTC-USDT and Enter to watch trades", style="dim"))
    title.append(f" {inst_id}", style="bold cyan")
    if position:
        title.append(f"  {position} ←/→", style="dim")
    if not trades:
        title.append("  waiting for trades", style="yellow")
        return Group(title)
    shown = list(trades)[-max(1, lines - 2) :][::-1]
    price_width = max(len("Price"), *(len(_number(t.price)) for t in shown))
    size_width = max(len("Size"), *(len(_number(t.size)) for t in shown))
    title.append(f"  {len(trades)} kept", style="dim")
    header = Text(
        f"{'Time (UTC)':<12}  {'Side':<4}  {'Price':>{price_width}}  {'Size':>{size_width}}",
        style="bold",
    )
    rows: list[RenderableType] = [title, header]
    for trade in shown:
        style = "green" if trade.side == "buy" else "red" if trade.side == "sell" else "yellow"
        line = Text(no_wrap=True, overflow="crop")
        line.append(f"{exchange_time(trade.ts):<12}  ", style="dim")
        line.append(f"{trade.side:<4}", style=style)
        line.append(f"  {_number(trade.price):>{price_width}}", style=style)
        line.append(f"  {_number(trade.size):>{size_width}}")
        rows.append(line)
    return Group(*rows)
