"""The fake's public REST routes: ``GET /api/v5/market/books`` and ``GET /api/v5/public/time``
(sans-IO handlers over the exchange's shared :class:`Venue`).

The REST book is the instrument's book the WebSocket streams, at the same instant: the
same levels and the same ``seqId`` (so a client can seed a book from it and continue with
the WebSocket's updates, as OKX's guide says). Errors are OKX's: ``50014`` for a missing
``instId``, ``51000`` for a bad ``sz``, ``51001`` for an instrument that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .._subscription import Subscription
from ._books import BOOK_DEPTH
from ._rest import RateLimit, RestReply, RestRequest, RestRouter, okx_error, okx_ok
from ._venue import Venue

__all__ = ["BOOKS_LIMIT", "BOOKS_PATH", "TIME_LIMIT", "TIME_PATH", "add_market_routes"]

BOOKS_PATH: Final = "/api/v5/market/books"
TIME_PATH: Final = "/api/v5/public/time"
#: OKX: 40 requests per 2 s per IP for the order book, 10 per 2 s for the time.
BOOKS_LIMIT: Final = RateLimit(40, 2.0)
TIME_LIMIT: Final = RateLimit(10, 2.0)


def add_market_routes(router: RestRouter, venue: Venue, skew_ms: Callable[[], int]) -> None:
    """Register the book and time routes on *router*; *skew_ms* is added to the time."""

    def books(request: RestRequest) -> RestReply:
        return _books(venue, request)

    def public_time(request: RestRequest) -> RestReply:
        ts = venue.epoch_ms + round(request.now * 1000) + skew_ms()
        return okx_ok([{"ts": str(ts)}])

    router.add("GET", BOOKS_PATH, books, limit=BOOKS_LIMIT)
    router.add("GET", TIME_PATH, public_time, limit=TIME_LIMIT)


def _books(venue: Venue, request: RestRequest) -> RestReply:
    inst_id = request.query.get("instId", "")
    if not inst_id:
        return okx_error("50014", "Parameter instId can not be empty.", 400)
    sz_text = request.query.get("sz", "1")
    if not (sz_text.isascii() and sz_text.isdigit() and 1 <= int(sz_text) <= BOOK_DEPTH):
        return okx_error("51000", "Parameter sz error", 400)
    try:
        sub = Subscription("books", inst_id)
    except ValueError:
        return _unknown()
    if venue.fidelity.reject_unlisted and not venue.listing.serves(sub):
        return _unknown()
    feed = venue.data.feeds.feed(inst_id)
    ts = venue.stamp(inst_id, request.now)
    feed.at(ts)
    book = feed.current_book()
    book.keep_alive(ts)
    depth = int(sz_text)
    data = {
        "asks": [list(row) for row in book.rows(False, depth)],
        "bids": [list(row) for row in book.rows(True, depth)],
        "ts": str(book.ts),
        "seqId": book.seq_id,
    }
    return okx_ok([data])


def _unknown() -> RestReply:
    return okx_error("51001", "Instrument ID does not exist", 200)
