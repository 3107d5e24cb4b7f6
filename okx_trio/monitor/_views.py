"""The monitor's views and which channels each one shows: pure names, no rich, no I/O.

The tickers table is the first view; the others show one selected pair of their channel's
subscriptions at a time: the book ladder, the trades tape, the candle chart and the
funding/mark line of swaps. The last, the account view, shows the logged-in account (its
balances, open orders and positions) from the private channels, not a pair.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "BOOK_CHANNELS",
    "VIEWS",
    "VIEW_BY_NAME",
    "VIEW_TITLES",
    "View",
    "parse_view",
    "view_of_channel",
]

View = Literal["tickers", "book", "trades", "candles", "funding", "account"]
#: Every view, in the order Tab goes through them.
VIEWS: Final[tuple[View, ...]] = (
    "tickers",
    "book",
    "trades",
    "candles",
    "funding",
    "account",
)
#: Each view by its name.
VIEW_BY_NAME: Final[dict[str, View]] = {view: view for view in VIEWS}
VIEW_TITLES: Final[dict[View, str]] = {
    "tickers": "tickers",
    "book": "order book",
    "trades": "trades",
    "candles": "candles",
    "funding": "funding & mark",
    "account": "account",
}
#: The channels whose book the book view draws: what ``OkxClient.book`` maintains (books5 and
#: bbo-tbt push whole shallow books, which ``book()`` does not keep: no view for them yet).
BOOK_CHANNELS: Final = frozenset({"books", "books-l2-tbt", "books50-l2-tbt"})
# What a typed view word may be: the view's name or a channel it shows.
_VIEW_WORDS: Final[dict[str, View]] = {
    "tickers": "tickers",
    "book": "book",
    "books": "book",
    "trades": "trades",
    "candles": "candles",
    "candle": "candles",
    "funding": "funding",
    "mark": "funding",
    "account": "account",
}


def view_of_channel(channel: str) -> View | None:
    """The view that shows *channel* (an OKX channel name), or None if none does.

    ``candle1m`` and the other trade-candle bars go to the candles view (the mark and index
    candles do not: they are other prices); ``funding-rate`` and ``mark-price`` share one.
    """
    if channel == "tickers":
        return "tickers"
    if channel in BOOK_CHANNELS:
        return "book"
    if channel == "trades":
        return "trades"
    if channel.startswith("candle"):
        return "candles"
    if channel in ("funding-rate", "mark-price"):
        return "funding"
    # The private channels (account, orders, positions) feed the account view through
    # its own model (._account), not a pair's subscription: no view "shows" them here.
    return None


def parse_view(word: str) -> View | None:
    """The view a typed word names (``book``, ``trades``, ``candles``...), or None."""
    return _VIEW_WORDS.get(word.lower())
