"""After every (re)login: OKX's open orders and positions over signed REST (Trio shell).

``orders`` has no initial snapshot, so an order filled while the client was reconnecting
would go unseen; positions may have moved too. After each login of the delivering private
connection the client fetches ``GET /api/v5/trade/orders-pending`` (page by page) for each
``orders`` subscription and ``GET /api/v5/account/positions`` for each ``positions`` one, and
delivers one :class:`~okx_trio._private_records.OrdersSnapshot` /
:class:`~okx_trio._private_records.PositionsSnapshot` on that subscription's stream. Events
delivered while the answers are in flight are kept and merged in
(:func:`~okx_trio._reconcile_answers.merge_orders`), so the older snapshot never undoes them:
a consumer that replaces its state with the snapshot holds the truth after every outage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from ._credentials import Credentials
from ._private_records import Order, Position
from ._reconcile_answers import (
    ORDERS_PENDING_PATH,
    POSITIONS_PATH,
    RestAnswerError,
    join_orders,
    merge_orders,
    merge_positions,
    next_orders_query,
    orders_answer,
    positions_snapshot,
)
from ._rest import RestClient, RestError
from ._signing import rest_headers
from ._subscription import Subscription

__all__ = ["RECONCILED_CHANNELS", "Reconciler"]

RECONCILED_CHANNELS = frozenset({"orders", "positions"})
#: Pages of open orders fetched at most (100 each): a runaway answer cannot loop forever.
_MAX_PAGES = 50


def _query(sub: Subscription) -> str:
    params = {}
    if sub.inst_type is not None and sub.inst_type != "ANY":
        params["instType"] = sub.inst_type
    if sub.inst_family is not None:
        params["instFamily"] = sub.inst_family
    if sub.inst_id is not None:
        params["instId"] = sub.inst_id
    return urlencode(params)


class Reconciler:
    """The reconcile of one client; see the module docstring.

    *deliver* hands a snapshot to the consumers; *note* reports on the state stream;
    *spawn* starts a task in the client's nursery; *wall_clock* and *offset* time the
    signatures (OKX refuses a REST call more than 30 s off its clock).
    """

    def __init__(
        self,
        rest: RestClient,
        credentials: Credentials,
        *,
        wall_clock: Callable[[], float],
        offset: Callable[[], float],
        demo: bool,
        deliver: Callable[[Subscription, tuple[Any, ...]], None],
        note: Callable[[str, int], None],
        spawn: Callable[..., object],
    ) -> None:
        self._rest = rest
        self._credentials = credentials
        self._wall_clock = wall_clock
        self._offset = offset
        self._demo = demo
        self._deliver = deliver
        self._note = note
        self._spawn = spawn
        #: Per subscription being reconciled: the events delivered since its request left.
        self._seen: dict[Subscription, list[Any]] = {}

    def start(self, subs: Iterable[Subscription]) -> None:
        """Reconcile each ``orders``/``positions`` subscription among *subs* (once at a time)."""
        for sub in subs:
            if sub.channel in RECONCILED_CHANNELS and sub not in self._seen:
                self._seen[sub] = []
                self._spawn(self._run, sub)

    def seen(self, sub: Subscription, records: tuple[Any, ...]) -> None:
        """Records just delivered (the per-record path: one dict lookup when idle)."""
        waiting = self._seen.get(sub)
        if waiting is not None:
            waiting.extend(records)

    async def _get(self, path: str, query: str, what: str) -> bytes:
        target = path + (f"?{query}" if query else "")
        headers = rest_headers(
            self._credentials,
            "GET",
            target,
            None,
            self._wall_clock(),
            offset=self._offset(),
            demo=self._demo,
        )
        return await self._rest.get(target, headers, what)

    async def _run(self, sub: Subscription) -> None:
        ts = round((self._wall_clock() + self._offset()) * 1000)
        try:
            if sub.channel == "orders":
                snapshot: Any = await self._orders(sub, ts)
            else:
                body = await self._get(POSITIONS_PATH, _query(sub), "REST positions")
                snapshot = positions_snapshot(body, ts)
        except (RestError, RestAnswerError) as exc:
            self._seen.pop(sub, None)
            self._note(
                f"could not fetch {sub.key} over REST after the login ({exc}); the stream "
                "goes on, but changes during the outage may be missing",
                logging.WARNING,
            )
            return
        seen = self._seen.pop(sub, [])
        if sub.channel == "orders":
            snapshot = merge_orders(snapshot, [r for r in seen if isinstance(r, Order)])
        else:
            snapshot = merge_positions(snapshot, [r for r in seen if isinstance(r, Position)])
        self._deliver(sub, (snapshot,))

    async def _orders(self, sub: Subscription, ts: int) -> Any:
        base = _query(sub)
        pages: list[tuple[Order, ...]] = []
        query: str | None = base
        while query is not None and len(pages) < _MAX_PAGES:
            body = await self._get(ORDERS_PENDING_PATH, query, "REST open orders")
            page = orders_answer(body)
            pages.append(page)
            more = next_orders_query(page)
            query = None if more is None else "&".join(q for q in (base, more) if q)
        return join_orders(pages, ts)
