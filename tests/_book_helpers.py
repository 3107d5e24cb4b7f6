"""Helpers for the book side tests (test_book_side.py, test_book_side_c.py)."""

from __future__ import annotations

from okx_trio._book_levels import parse_level
from okx_trio._book_side import Side


def side_of(levels: list[list[str]], bids: bool = True) -> Side:
    """A side installed with *levels* (OKX's ``[price, size, "0", orders]``)."""
    side = Side(bids)
    parsed = {}
    for level in levels:
        key, _, raw = parse_level(level)
        parsed[key] = raw
    side.install(parsed)
    return side
