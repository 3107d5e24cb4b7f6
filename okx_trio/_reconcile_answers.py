"""OKX's signed REST answers for the reconcile after a login, as snapshot records (sans-IO).

After every (re)login the client asks ``GET /api/v5/trade/orders-pending`` and
``GET /api/v5/account/positions`` (signed with :func:`~._signing.rest_headers`) and turns
the bodies into one :class:`~._private_records.OrdersSnapshot` and one
:class:`~._private_records.PositionsSnapshot` with the functions here. The paths and query
parameters are :data:`ORDERS_PENDING_PATH`, :data:`POSITIONS_PATH`, :data:`BALANCE_PATH`.

``orders-pending`` returns at most 100 orders a call (newest first): when an answer holds
``limit`` orders, ask again with ``after=<the last ordId>`` and join the pages with
:func:`join_orders` (:func:`next_orders_query` says which query, or None when done).

Events keep arriving while a REST request is in flight, and are delivered as they come; a
snapshot delivered after them must not undo them. :func:`merge_orders` and
:func:`merge_positions` correct a snapshot with the events seen since its request was sent
(the newer of the two versions of each order or position wins, by ``u_time``), so a
consumer that replaces its state with the snapshot holds the truth.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final

from ._private_decoders import decode_balance, decode_order, decode_position
from ._private_records import Balance, Order, OrdersSnapshot, Position, PositionsSnapshot
from ._push_values import PushError

__all__ = [
    "BALANCE_PATH",
    "ORDERS_PAGE_LIMIT",
    "ORDERS_PENDING_PATH",
    "POSITIONS_PATH",
    "RestAnswerError",
    "balances_answer",
    "join_orders",
    "merge_orders",
    "merge_positions",
    "next_orders_query",
    "orders_answer",
    "orders_snapshot",
    "positions_snapshot",
]

ORDERS_PENDING_PATH: Final = "/api/v5/trade/orders-pending"
POSITIONS_PATH: Final = "/api/v5/account/positions"
BALANCE_PATH: Final = "/api/v5/account/balance"
#: OKX's largest (and default) ``limit`` of ``orders-pending``.
ORDERS_PAGE_LIMIT: Final = 100


class RestAnswerError(ValueError):
    """An OKX REST answer that is not a success of the expected shape.

    ``code``/``msg``: OKX's (``None`` when the body is not OKX's JSON at all). OKX's
    authentication codes (50102 timestamp expired, 50105 passphrase, 50111 key, 50113
    sign, ...) arrive this way; the message quotes them, never a header.
    """

    def __init__(self, message: str, code: str | None = None, msg: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.msg = msg


def _rows(what: str, body: bytes | str) -> list[dict[str, Any]]:
    if isinstance(body, bytes | bytearray):
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise RestAnswerError(f"{what}: the answer is not UTF-8") from None
    elif isinstance(body, str):
        text = body
    else:
        raise TypeError(f"body must be bytes or str, not {type(body).__name__}")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        raise RestAnswerError(f"{what}: the answer is not JSON: {text[:80]!r}") from None
    if type(parsed) is not dict:
        raise RestAnswerError(f"{what}: the answer is not a JSON object")
    code, msg = parsed.get("code"), parsed.get("msg")
    if code != "0":
        raise RestAnswerError(
            f"{what}: OKX answered code {code!r}: {str(msg)[:200]!r}",
            code if isinstance(code, str) else None,
            msg if isinstance(msg, str) else None,
        )
    data = parsed.get("data")
    if type(data) is not list or not all(type(row) is dict for row in data):
        raise RestAnswerError(f"{what}: data is not an array of objects")
    return data


def _each(what: str, rows: list[dict[str, Any]], build: Any) -> list[Any]:
    out = []
    for index, row in enumerate(rows):
        try:
            out.append(build(row))
        except PushError as exc:
            raise RestAnswerError(f"{what}: data[{index}].{exc}") from None
    return out


def orders_answer(body: bytes | str) -> tuple[Order, ...]:
    """The orders of one ``orders-pending`` answer, in OKX's order (newest first).

    Raises:
        RestAnswerError: a code other than ``"0"`` (with OKX's code and msg), a body that
            is not OKX's JSON, or an order with a bad field (named).
        TypeError: *body* is neither bytes nor str.
    """
    return tuple(_each("orders-pending", _rows("orders-pending", body), decode_order))


def next_orders_query(page: tuple[Order, ...], limit: int = ORDERS_PAGE_LIMIT) -> str | None:
    """The query of the next ``orders-pending`` page after *page*, or None if it was the
    last (fewer than *limit* orders)."""
    if len(page) < limit or not page:
        return None
    return f"after={page[-1].ord_id}&limit={limit}"


def join_orders(pages: list[tuple[Order, ...]], ts: int) -> OrdersSnapshot:
    """One snapshot of several pages' orders (an order on two pages is kept once)."""
    seen: set[str] = set()
    orders: list[Order] = []
    for page in pages:
        for order in page:
            if order.ord_id not in seen:
                seen.add(order.ord_id)
                orders.append(order)
    return OrdersSnapshot(tuple(orders), ts)


def orders_snapshot(body: bytes | str, ts: int) -> OrdersSnapshot:
    """One ``orders-pending`` answer as an :class:`OrdersSnapshot` taken at *ts* (Unix ms
    when the request was sent). Raises as :func:`orders_answer`."""
    return OrdersSnapshot(orders_answer(body), _ts(ts))


def positions_snapshot(body: bytes | str, ts: int) -> PositionsSnapshot:
    """A ``GET /api/v5/account/positions`` answer as a :class:`PositionsSnapshot` taken at
    *ts*, without the zero positions OKX may list (a pushed snapshot has none either).

    Raises:
        RestAnswerError: as :func:`orders_answer`.
        TypeError: *body* is neither bytes nor str.
    """
    rows = _rows("positions", body)
    positions: list[Position] = _each("positions", rows, decode_position)
    return PositionsSnapshot(tuple(p for p in positions if p.pos != 0), _ts(ts), "rest")


def balances_answer(body: bytes | str) -> tuple[Balance, ...]:
    """A ``GET /api/v5/account/balance`` answer's accounts (one, normally).

    Raises:
        RestAnswerError: as :func:`orders_answer`.
    """
    return tuple(
        _each("balance", _rows("balance", body), lambda row: decode_balance(row, "snapshot"))
    )


def _ts(ts: int) -> int:
    if type(ts) is not int or ts < 0:
        raise ValueError(f"ts must be Unix milliseconds as a non-negative int, got {ts!r}")
    return ts


def merge_orders(snapshot: OrdersSnapshot, seen: Iterable[Order]) -> OrdersSnapshot:
    """*snapshot* corrected with the order events *seen* since its request was sent (in
    arrival order): an event newer than the snapshot's version of its order (``u_time``)
    replaces it, or removes it when final (filled, canceled); an event for an order the
    snapshot lacks adds it only if it is open and not older than the snapshot (``ts``):
    an older one was closed by the time the snapshot was taken. Order kept: the
    snapshot's, then the added orders in arrival order.
    """
    orders = {order.ord_id: order for order in snapshot.orders}
    for event in seen:
        known = orders.get(event.ord_id)
        if known is not None:
            if known.u_time > event.u_time:
                continue  # the snapshot is newer than this event
            if event.is_final:
                del orders[event.ord_id]
            else:
                orders[event.ord_id] = event
        elif not event.is_final and event.u_time >= snapshot.ts:
            orders[event.ord_id] = event
    return OrdersSnapshot(tuple(orders.values()), snapshot.ts)


def merge_positions(snapshot: PositionsSnapshot, seen: Iterable[Position]) -> PositionsSnapshot:
    """*snapshot* corrected with the position events *seen* since its request was sent,
    by ``pos_id`` and ``u_time`` as :func:`merge_orders` does; a position of 0 is closed
    (removed). Needs the snapshot's ``ts`` (a REST snapshot has one).

    Raises:
        ValueError: *snapshot* has no ``ts`` (an empty pushed snapshot).
    """
    if snapshot.ts is None:
        raise ValueError("a snapshot without ts (an empty pushed one) cannot be merged")
    positions = {position.pos_id: position for position in snapshot.positions}
    for event in seen:
        updated = event.u_time or 0
        known = positions.get(event.pos_id)
        if known is not None:
            if (known.u_time or 0) > updated:
                continue
            if event.pos == 0:
                del positions[event.pos_id]
            else:
                positions[event.pos_id] = event
        elif event.pos != 0 and updated >= snapshot.ts:
            positions[event.pos_id] = event
    return PositionsSnapshot(tuple(positions.values()), snapshot.ts, snapshot.source)
