"""The book view: a depth ladder of one pair's maintained order book.

Asks above and bids below, the best levels meeting in the middle around a line with the
spread, the mid price and the book's ``seq_id``; each level's size is also a bar, scaled to
the largest size shown. The book comes from a :class:`BookSource` (in the app: the client),
so the view is drawn from a stub in tests. While the source has no valid book (before the
first snapshot, during a resync) the view says ``resyncing`` instead of showing a stale one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from okx_trio._book_levels import BookLevel, OrderBook

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

__all__ = ["BookSource", "bar", "book_lines", "format_level_number", "render_book"]

#: Levels shown on each side at most, however tall the terminal.
MAX_LEVELS: Final = 12
#: A bar's eighths, thinnest first.
_EIGHTHS: Final = "▏▎▍▌▋▊▉█"


@runtime_checkable
class BookSource(Protocol):
    """Where the book view reads books: ``OkxClient.book`` (None while no valid book)."""

    def book(self, inst_id: str, channel: str = "books") -> OrderBook | None: ...


def bar(value: Decimal, largest: Decimal, width: int) -> str:
    """*value* as a bar of at most *width* cells, *largest* filling them all; eighth-cell
    blocks for the remainder, so small differences still show. Empty for 0 or less."""
    if width <= 0 or largest <= 0 or value <= 0:
        return ""
    eighths = max(1, round(min(value / largest, Decimal(1)) * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest - 1] if rest else "")


def format_level_number(value: Decimal) -> str:
    """A book price or size exactly as OKX sent it, without an exponent (``0.00001783``)."""
    return f"{value:f}"


def book_lines(levels: int) -> int:
    """The lines a ladder of *levels* per side takes: title, header, levels, the middle."""
    return 3 + 2 * levels


def levels_for(lines: int) -> int:
    """How many levels per side fit in *lines* (at least 1, at most :data:`MAX_LEVELS`)."""
    return max(1, min(MAX_LEVELS, (lines - 3) // 2))


def render_book(
    book: OrderBook | None,
    inst_id: str | None,
    channel: str,
    *,
    lines: int,
    width: int,
    position: str = "",
    had_book: bool = False,
    available: bool = True,
) -> RenderableType:
    """The ladder of *book* (of *inst_id* on *channel*) in at most *lines* lines and *width*
    columns, titled with *position* (``2/3``: which of the view's pairs this is).

    *book* None draws the state instead: ``resyncing`` (*had_book*: the book broke and waits
    for a new snapshot; else it waits for its first), or, when the source has no books at
    all (*available* False), ``waiting for book``. *inst_id* None: no book subscribed yet,
    with a hint how to add one. Never raises on what a book holds (an empty side draws as
    ``-``).
    """
    from rich.console import Group
    from rich.text import Text

    # Never wrapped (the view has its lines counted); the state comes before the details,
    # so a narrow terminal cuts those first.
    title = Text("order book", style="bold", no_wrap=True, overflow="ellipsis")
    if inst_id is None:
        title.append("  no book subscribed", style="dim")
        hint = Text("type +books:BTC-USDT and Enter to watch a book", style="dim")
        hint.no_wrap, hint.overflow = True, "ellipsis"
        return Group(title, hint)
    title.append(f" {inst_id}", style="bold cyan")
    if book is None:
        if not available:
            title.append("  waiting for book", style="bold yellow")
            why = "this client keeps no books yet: the book view comes alive once it does"
        elif had_book:
            title.append("  resyncing", style="bold yellow")
            why = "resyncing: the book broke (a gap or a reconnect); waiting for a new snapshot"
        else:
            title.append("  resyncing", style="bold yellow")
            why = "resyncing: no valid book yet, waiting for the first snapshot"
    else:
        title.append("  valid", style="bold green")
    title.append(f"  ({channel})", style="dim")
    if position:
        title.append(f"  {position} ←/→", style="dim")
    if book is None:
        return Group(title, Text(why, style="yellow", no_wrap=True, overflow="ellipsis"))
    n = levels_for(lines)
    bids, asks = book.depth(n)
    largest = max((level.size for level in (*bids, *asks)), default=Decimal(0))
    prices = [format_level_number(level.price) for level in (*bids, *asks)]
    sizes = [format_level_number(level.size) for level in (*bids, *asks)]
    price_width = max([len("Price"), *map(len, prices)])
    size_width = max([len("Size"), *map(len, sizes)])
    # "ask " + price + " " + size + " " + the bar
    bar_width = max(0, width - 4 - price_width - 1 - size_width - 1)
    header = Text(f"    {'Price':>{price_width}} {'Size':>{size_width}}", style="bold")
    rows: list[Text] = [title, header]

    def row(side: str, level: BookLevel, style: str) -> Text:
        line = Text(no_wrap=True, overflow="crop")
        line.append(f"{side} {format_level_number(level.price):>{price_width}}", style=style)
        line.append(f" {format_level_number(level.size):>{size_width}} ")
        line.append(bar(level.size, largest, bar_width), style=style)
        return line

    rows += [Text("") for _ in range(n - len(asks))]  # keep the middle line in the middle
    # The highest ask on top, the best just above the middle.
    rows += [row("ask", level, "red") for level in reversed(asks)]
    rows.append(_middle(book))
    rows += [row("bid", level, "green") for level in bids]
    return Group(*rows)


def _middle(book: OrderBook) -> Text:
    """The line between the sides: spread (and in basis points), mid and ``seq_id``."""
    from rich.text import Text

    spread, mid = book.spread, book.mid
    line = Text("    ", no_wrap=True, overflow="ellipsis")
    if spread is None or mid is None:
        line.append("spread -  (one side is empty)", style="yellow")
    else:
        bps = spread / mid * 10_000 if mid else Decimal(0)
        line.append(f"spread {format_level_number(spread)} ({bps:.2f} bp)", style="bold")
        line.append(f" · mid {format_level_number(mid.normalize())}", style="dim")
    line.append(f" · seq_id {book.seq_id if book.seq_id is not None else '-'}", style="dim")
    return line
