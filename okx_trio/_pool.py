"""The client's pool of links: which connection (endpoint and shard) holds each subscription.

Public and business subscriptions live on separate connections, and with
``max_subscriptions_per_connection`` each endpoint's are sharded (sticky rendezvous placement,
``_sharding.py``). The pool starts a :class:`~okx_trio._link.Link` for a slot that gains
subscriptions and retires one whose slot empties: an endpoint with nothing on it has no
connection. A slot that comes back keeps its history (its counters).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from ._link import Link, LinkHost
from ._okx import Endpoint
from ._sharding import Placement
from ._subscription import Subscription

__all__ = ["Pool"]

_ENDPOINTS: Final[tuple[Endpoint, ...]] = ("public", "business", "private")

Slot = tuple[Endpoint, int]


class Pool:
    """The links of one client; :meth:`place` brings them in line with the desired set."""

    def __init__(
        self,
        host: LinkHost,
        per_connection: int | None,
        start: Callable[[Link], None],
    ) -> None:
        self._host = host
        self._per_connection = per_connection
        self._start = start
        self._placements: dict[Endpoint, Placement] = {}
        self.links: dict[Slot, Link] = {}
        #: Links whose slot emptied: their figures still count in the totals.
        self.retired: list[Link] = []
        self.closing = False

    def place(self, desired: Iterable[Subscription]) -> None:
        """Place *desired*: start, update and retire links as needed."""
        by_endpoint: dict[Endpoint, dict[str, Subscription]] = {}
        for sub in desired:
            by_endpoint.setdefault(sub.endpoint, {})[sub.key] = sub
        wanted: set[Slot] = set()
        for endpoint in _ENDPOINTS:
            subs = by_endpoint.get(endpoint, {})
            placement = self._placements.get(endpoint)
            if placement is None:
                if not subs:
                    continue
                placement = self._placements[endpoint] = Placement(self._per_connection)
            for index, keys in placement.assign(subs).items():
                if not keys:
                    continue  # an endpoint with nothing on it has no connection
                wanted.add((endpoint, index))
                shard = frozenset(subs[k] for k in keys)
                link = self.links.get((endpoint, index))
                if link is None:
                    self._start_link(endpoint, index, shard)
                elif link.subs != shard:
                    link.set_subscriptions(shard)
        for slot in [s for s in self.links if s not in wanted]:
            link = self.links.pop(slot)
            link.retire()
            self.retired.append(link)

    def _start_link(self, endpoint: Endpoint, index: int, subs: frozenset[Subscription]) -> None:
        if self.closing:
            return
        # Messages say which connection they are about once there can be several.
        label = endpoint != "public" or self._per_connection is not None
        link = Link(self._host, endpoint, index, subs, label=label)
        for old in self.retired:
            if (old.endpoint, old.index) == (endpoint, index):
                # The slot comes back (its shard emptied and filled again): its history
                # goes on, so its first connection now counts as a reconnect.
                link.counters = old.counters
                self.retired.remove(old)
                break
        self.links[(endpoint, index)] = link
        self._start(link)

    def sorted(self) -> list[Link]:
        """The live links, public first, then by shard index."""
        return sorted(self.links.values(), key=_order)


def _order(link: Link) -> tuple[int, int]:
    return (_ENDPOINTS.index(link.endpoint), link.index)
