"""The part of the screen above the status panel in the views other than tickers: picks
the view's pair and data from the model (and the book from a :class:`BookSource`) and
draws it in the lines it is given."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ._account_view import render_account
from ._book_view import BookSource, book_lines, render_book
from ._candles_view import MAX_ROWS, render_candles
from ._channels import SwapLine
from ._funding_view import render_funding
from ._model import MonitorModel
from ._trades_view import render_trades
from ._views import View

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = ["VIEW_LINES", "view_part"]

#: The most lines each view uses, however tall the terminal (the events get the rest).
VIEW_LINES: Final[dict[View, int]] = {
    "book": book_lines(12),
    "trades": 24,
    "candles": MAX_ROWS + 2,
    "funding": 20,
    "account": 24,
}


def view_part(
    model: MonitorModel, books: BookSource | None, *, width: int, lines: int
) -> RenderableType:
    """The view on screen (``model.channels.view``, not ``tickers``) in at most *lines*
    lines of *width* columns. *books* None: the client keeps no books (the book view says
    ``waiting for book``). A subscription of the view the exchange refused is named, with
    the reason, on a line above. Notes in the model which books it has seen valid."""
    channels = model.channels
    view = channels.view
    lines = min(lines, VIEW_LINES.get(view, lines))
    if view == "account":
        return render_account(model.account, lines=lines)
    inst_id = channels.selected()
    refused = channels.refused(view, None if view == "funding" else inst_id)
    if not refused:
        return _part(model, books, width=width, lines=lines)
    from rich.console import Group
    from rich.text import Text

    sub, reason = refused[0]
    line = Text(f"{sub.key} refused by the exchange: {reason}", style="bold red")
    if len(refused) > 1:
        line.append(f" (+{len(refused) - 1} more)")
    line.no_wrap, line.overflow = True, "ellipsis"
    return Group(line, _part(model, books, width=width, lines=lines - 1))


def _part(
    model: MonitorModel, books: BookSource | None, *, width: int, lines: int
) -> RenderableType:
    channels = model.channels
    view = channels.view
    inst_id = channels.selected()
    pairs = channels.pairs(view)
    position = f"{pairs.index(inst_id) + 1}/{len(pairs)}" if inst_id in pairs else ""
    if view == "book":
        channel = (channels.channels_of("book", inst_id) or ["books"])[0]
        book = books.book(inst_id, channel) if books is not None and inst_id else None
        if book is not None and inst_id is not None:
            channels.books_seen.add((inst_id, channel))
        return render_book(
            book,
            inst_id,
            channel,
            lines=lines,
            width=width,
            position=position,
            had_book=inst_id is not None and (inst_id, channel) in channels.books_seen,
            available=books is not None,
        )
    if view == "trades":
        tape = channels.trades.get(inst_id) if inst_id else None
        return render_trades(tape, inst_id, lines=lines, position=position)
    if view == "candles":
        channel = (channels.channels_of("candles", inst_id) or ["candle1m"])[0]
        bars = channels.candles.get(inst_id) if inst_id else None
        return render_candles(
            list(bars.values()) if bars else None,
            inst_id,
            channel,
            lines=lines,
            width=width,
            position=position,
        )
    swaps = [channels.swaps.get(i) or SwapLine(i) for i in channels.pairs("funding")]
    return render_funding(swaps, rows=lines - 3)
