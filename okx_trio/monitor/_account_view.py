"""The account view: total equity and the balances, open orders and positions of the
logged-in account (see :class:`._account.AccountModel`)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from ._account import AccountModel

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

__all__ = ["NO_CREDENTIALS", "render_account"]

#: What the view says when the client has no credentials.
NO_CREDENTIALS = "no credentials: set OKX_API_KEY, OKX_SECRET_KEY and OKX_PASSPHRASE"


def _num(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.normalize():f}"


def _table(
    title: str, header: Sequence[str], rows: list[list[str]], *, room: int, empty: str
) -> list[Text]:
    """*title*, a header and the *rows* that fit in *room* lines (columns right-aligned
    but the first, each as wide as its widest cell); the title says ``(N shown)`` when
    some do not fit."""
    from rich.text import Text

    heading = Text(title, style="bold", no_wrap=True, overflow="ellipsis")
    if room < 1:
        return []
    if not rows:
        heading.append(f"  {empty}", style="dim")
        return [heading]
    shown = rows[: max(0, room - 2)]
    heading.append(f"  {len(rows)}", style="dim")
    if len(shown) < len(rows):
        heading.append(f" ({len(shown)} shown)", style="yellow")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        first = f"{cells[0]:<{widths[0]}}"
        rest = (f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    lines = [heading, Text(line(header), style="bold", no_wrap=True, overflow="crop")]
    del lines[room:]  # room for the title only: no header
    lines.extend(Text(line(r), no_wrap=True, overflow="crop") for r in shown)
    return lines


def render_account(account: AccountModel, *, lines: int) -> RenderableType:
    """The account in at most *lines* lines: a title with the total equity, then the
    balances (ccy, equity, cash, available), the open orders (inst, side, px, sz, filled,
    state) and the positions (inst, side, pos, avg px, upl), each table cut to its share
    of the lines. Without credentials (``account.enabled`` False) one line says which
    variables to set; before the first record it says it is waiting."""
    from rich.console import Group
    from rich.text import Text

    title = Text("account", style="bold", no_wrap=True, overflow="ellipsis")
    if not account.enabled:
        title.append(f"  {NO_CREDENTIALS}", style="dim")
        return Group(title)
    if not account.seen:
        title.append("  waiting for the account", style="yellow")
        return Group(title)
    title.append(f"  total equity {_num(account.total_eq)} USD", style="bold cyan")
    balances = [
        [d.ccy, _num(d.eq), _num(d.cash_bal), _num(d.avail_bal)] for d in account.balances.values()
    ]
    orders = [
        [
            o.inst_id,
            o.side,
            _num(o.px) if o.px is not None else "market",
            _num(o.sz),
            _num(o.acc_fill_sz),
            o.state,
        ]
        for o in account.orders.values()
    ]
    positions = [
        [p.inst_id, p.pos_side, _num(p.pos), _num(p.avg_px), _num(p.upl)]
        for p in account.positions.values()
    ]
    room = max(0, lines - 1)
    # Each table gets what it needs (title, header, rows), the orders first when short.
    wants = [2 + len(t) if t else 1 for t in (balances, orders, positions)]
    shares = _share(room, wants)
    parts: list[RenderableType] = [title]
    parts += _table(
        "balances", ("Ccy", "Equity", "Cash", "Available"), balances, room=shares[0], empty="none"
    )
    parts += _table(
        "open orders",
        ("Inst", "Side", "Px", "Sz", "Filled", "State"),
        orders,
        room=shares[1],
        empty="none",
    )
    parts += _table(
        "positions",
        ("Inst", "Side", "Pos", "Avg px", "UPL"),
        positions,
        room=shares[2],
        empty="none",
    )
    return Group(*parts)


def _share(room: int, wants: list[int]) -> list[int]:
    """Split *room* lines among tables wanting *wants*: one line each first (their
    titles, in order while room lasts), then the rest round-robin up to what each wants."""
    shares = [0] * len(wants)
    for i in range(len(wants)):
        if room > 0:
            shares[i] = 1
            room -= 1
    while room > 0 and any(s < w for s, w in zip(shares, wants, strict=True)):
        for i, want in enumerate(wants):
            if room > 0 and shares[i] < want:
                shares[i] += 1
                room -= 1
    return shares
