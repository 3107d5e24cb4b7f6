"""What the account view knows: the balances, open orders and positions of the logged-in
account, kept from the client's ``account``, ``orders`` and ``positions`` streams.

Pure state, like :mod:`._channels`: records come in through :meth:`AccountModel.on_record`;
nothing here does I/O or reads a clock. Every stream's snapshot (sent after every login,
so it holds the truth after an outage) replaces what its part holds; every other item is
a change applied on top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from okx_trio import (
    Balance,
    BalanceDetail,
    Order,
    OrdersSnapshot,
    Position,
    PositionsSnapshot,
    Subscription,
)

__all__ = ["ACCOUNT_CHANNELS", "ACCOUNT_SUBSCRIPTIONS", "FINAL_ORDER_STATES", "AccountModel"]

#: The private channels the account view shows (``orders`` and ``positions`` with
#: instType ``ANY``).
ACCOUNT_CHANNELS: Final = ("account", "orders", "positions")
#: What the account view subscribes when the client has credentials.
ACCOUNT_SUBSCRIPTIONS: Final = (
    Subscription("account"),
    Subscription("orders", inst_type="ANY"),
    Subscription("positions", inst_type="ANY"),
)
#: Order states after which an order is no longer open.
FINAL_ORDER_STATES: Final = frozenset({"filled", "canceled", "mmp_canceled"})


@dataclass
class AccountModel:
    """The account's totals and currencies (by ccy, in the order first seen), its open
    orders (by ``ordId``, oldest first) and open positions (by ``posId``).

    ``enabled``: the client has credentials (False: the view says how to give them);
    ``seen``: at least one record has arrived.
    """

    enabled: bool = False
    total_eq: Decimal | None = None
    balances: dict[str, BalanceDetail] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    seen: bool = False

    def on_record(self, record: object) -> bool:
        """Apply *record* (a :class:`Balance`, :class:`OrdersSnapshot`, :class:`Order`,
        :class:`PositionsSnapshot` or :class:`Position`); False (ignored) for anything
        else, e.g. a ``Gap``. Never raises."""
        if isinstance(record, Balance):
            self._on_balance(record)
        elif isinstance(record, OrdersSnapshot):
            self.orders = {o.ord_id: o for o in record.orders if o.state not in FINAL_ORDER_STATES}
        elif isinstance(record, Order):
            if record.state in FINAL_ORDER_STATES:
                self.orders.pop(record.ord_id, None)
            else:
                self.orders[record.ord_id] = record
        elif isinstance(record, PositionsSnapshot):
            self.positions = {_position_key(p): p for p in record.positions if p.pos != 0}
        elif isinstance(record, Position):
            if record.pos == 0:
                self.positions.pop(_position_key(record), None)
            else:
                self.positions[_position_key(record)] = record
        else:
            return False
        self.seen = True
        return True

    def _on_balance(self, balance: Balance) -> None:
        # A snapshot is the whole account; an event_update carries only the currencies
        # that changed (the totals are always the account's).
        if balance.event_type != "event_update":
            self.balances = {}
        for detail in balance.details:
            self.balances[detail.ccy] = detail
        if balance.total_eq is not None:
            self.total_eq = balance.total_eq


def _position_key(position: Position) -> str:
    # posId is OKX's key of a position; a push without one falls back to what names it.
    return position.pos_id or f"{position.inst_id}:{position.pos_side}:{position.mgn_mode}"
