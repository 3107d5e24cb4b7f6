"""The client's side of order books: reading the book a connection keeps, and REST seeds.

Each connection's protocol keeps the books of its incremental book subscriptions
(:mod:`okx_trio._book_keeper`); the client reads the one of the connection that delivers
(after a make-before-break switch, the new one's). A book that needs OKX's REST snapshot asks
for it through its link; the fetch runs here, in the client's nursery, once per book at a time,
and its answer (or why there is none) goes back to the link that asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from ._book_keeper import BOOK_DEPTHS
from ._book_levels import OrderBook
from ._book_push import snapshot_update
from ._book_records import BookUpdate
from ._rest import RestClient, RestError
from ._rest_books import RestBook
from ._subscription import Subscription

__all__ = ["BOOK_CHANNELS", "ClientBooks", "book_subscription"]

#: The channels :meth:`OkxClient.book` keeps books of.
BOOK_CHANNELS = tuple(BOOK_DEPTHS)
_WHOLE = ("books5", "bbo-tbt")


class _BookHolder(Protocol):
    """What a connection offers to read a book (an :class:`~okx_trio._protocol.OkxProtocol`)."""

    def order_book(self, sub: Subscription) -> OrderBook | None: ...


class _Link(Protocol):
    """The parts of a link the books need."""

    subs: frozenset[Subscription]

    @property
    def protocol(self) -> _BookHolder | None: ...

    def rest_book(self, sub: Subscription, result: RestBook | str) -> None: ...


def book_subscription(inst_id: str, channel: str) -> Subscription:
    """The subscription whose book :meth:`OkxClient.book` reads.

    Raises:
        ValueError: for a channel without a maintained book, or a malformed instrument id.
    """
    if channel not in BOOK_DEPTHS:
        hint = " (its records are whole books: use latest())" if channel in _WHOLE else ""
        raise ValueError(
            f"book() keeps the books of {', '.join(BOOK_CHANNELS)}; got channel {channel!r}{hint}"
        )
    return Subscription(channel, inst_id)


class ClientBooks:
    """Books for one client: see the module docstring.

    *links* gives the client's live links; *spawn* starts a task in the client's nursery.
    """

    def __init__(
        self,
        rest: RestClient,
        links: Callable[[], Iterable[_Link]],
        spawn: Callable[..., object],
    ) -> None:
        self.rest = rest
        self._links = links
        self._spawn = spawn
        self._fetching: set[tuple[int, Subscription]] = set()

    def book(self, sub: Subscription) -> OrderBook | None:
        """The valid book of *sub* on the connection that delivers it, or None."""
        for link in self._links():
            if sub in link.subs:
                protocol = link.protocol
                return protocol.order_book(sub) if protocol is not None else None
        return None

    def current(self, channel: str) -> Callable[[str], BookUpdate | None]:
        """For the book fan-out of *channel*: an instrument's whole book as a snapshot."""

        def snapshot(inst_id: str) -> BookUpdate | None:
            book = self.book(Subscription(channel, inst_id))
            return snapshot_update(book) if book is not None else None

        return snapshot

    def want(self, link: _Link, sub: Subscription, depth: int) -> None:
        """Fetch the REST snapshot of *sub* for *link* (once at a time per link and book)."""
        key = (id(link), sub)
        if key in self._fetching:
            return
        self._fetching.add(key)
        self._spawn(self._fetch, link, sub, depth, key)

    async def _fetch(
        self, link: _Link, sub: Subscription, depth: int, key: tuple[int, Subscription]
    ) -> None:
        assert sub.inst_id is not None
        result: RestBook | str
        try:
            result = await self.rest.fetch_book(sub.inst_id, depth)
        except RestError as exc:
            result = str(exc)
        finally:
            self._fetching.discard(key)
        link.rest_book(sub, result)
