"""The fake exchange's accounts: keys to log in with, balances, positions, open orders.

:class:`FakeAccount` is what ``FakeExchange.add_account`` returns: a test scripts it
(:meth:`~FakeAccount.place_order`, :meth:`~FakeAccount.fill_order`,
:meth:`~FakeAccount.cancel_order`, :meth:`~FakeAccount.set_position`,
:meth:`~FakeAccount.set_balance`, ...) and every change becomes the private events OKX
pushes (``orders``, ``fills``, ``account``, ``positions``, ``balance_and_position``,
``liquidation-warning``, ``account-greeks``), handed to the logged-in connections that
listen. No Trio, no I/O: time comes from the *clock* the exchange gives (Unix ms) or a
``ts=`` argument. The money is kept by a :class:`~._ledger.Ledger`.

The key's secret and passphrase live in a :class:`okx_trio.Credentials` and never show in
a repr, an error or a log. Accounting is deliberately simple (see the ledger).
"""

from __future__ import annotations

import hmac
import itertools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from .._credentials import Credentials
from ._account_shapes import (
    SNAPSHOT,
    SNAPSHOT_CHANNELS,
    Holding,
    Listener,
    OpenOrder,
    PrivateEvent,
    bal_pos_object,
    decimal_arg,
    fill_object,
    greeks_values,
    liquidation_warning_object,
    order_object,
    position_object,
)
from ._ledger import Ledger

__all__ = ["FakeAccount"]


class FakeAccount:
    """One API key's (sub-)account on the fake exchange (see the module docstring).

    ``api_key`` and ``uid`` are public; ``ip_allowed``/``expired`` may be changed at any
    time (the next login or signed request sees them); ``demo``: a demo-trading key (its
    signed REST requests must carry ``x-simulated-trading: 1``, others must not);
    ``conn_cap`` is OKX's limit of connections per private channel (30); ``page_size`` how
    many positions or currencies one snapshot page holds (OKX's is undocumented: set it
    small to test pagination).
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        uid: str,
        clock: Callable[[], int],
        changed: Callable[[], None],
        ip_allowed: bool = True,
        expired: bool = False,
        demo: bool = False,
        conn_cap: int = 30,
        page_size: int = 100,
        fee_rate: Decimal | str = "0.001",
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise TypeError(f"credentials must be Credentials, not {type(credentials).__name__}")
        for name, value in (("conn_cap", conn_cap), ("page_size", page_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        self._credentials = credentials
        self.uid = uid
        self.ip_allowed = ip_allowed
        self.expired = expired
        self.demo = demo
        self.conn_cap = conn_cap
        self.page_size = page_size
        self._clock = clock
        self._changed = changed
        self._listeners: list[Listener] = []
        self._ids = itertools.count(1)
        self._ledger = Ledger(decimal_arg("fee_rate", fee_rate), self._ids)
        self._orders: dict[str, OpenOrder] = {}
        self._greeks: dict[str, dict[str, str]] = {}
        #: Timestamps of successful logins, for OKX's refusal of a reused one (60006).
        self.login_timestamps: set[str] = set()
        #: Per private channel, the ``connId`` of every connection subscribed to it (OKX's
        #: cap of ``conn_cap`` connections per channel counts these).
        self.channel_connections: dict[str, set[str]] = {}
        #: Page numbers the next paginated snapshot leaves out (see lose_snapshot_pages).
        self.lost_pages: set[int] = set()

    @property
    def api_key(self) -> str:
        return self._credentials.api_key

    def __repr__(self) -> str:
        return f"FakeAccount(api_key={self._credentials.masked_api_key!r}, uid={self.uid!r})"

    # -- what the exchange asks --------------------------------------------------------------

    def signs(self, message: str, signature: str) -> bool:
        """Whether *signature* is this key's HMAC of *message* (constant time)."""
        return hmac.compare_digest(self._credentials.sign(message).encode(), signature.encode())

    def passphrase_is(self, passphrase: str) -> bool:
        """Whether *passphrase* is this key's (constant time)."""
        expected = self._credentials.reveal_passphrase().encode()
        return hmac.compare_digest(expected, passphrase.encode())

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unlisten(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def now_ms(self, ts: int | None = None) -> int:
        return self._clock() if ts is None else ts

    # -- views -------------------------------------------------------------------------------

    def cash(self, ccy: str) -> Decimal:
        """The cash balance of *ccy* (0 if the account never held it)."""
        return self._ledger.cash(ccy)

    @property
    def currencies(self) -> list[str]:
        """The currencies the account holds or held, sorted."""
        return self._ledger.currencies

    def open_orders(self) -> list[OpenOrder]:
        """The live and partially filled orders, newest first (OKX's REST order)."""
        live = [o for o in self._orders.values() if o.is_open]
        return sorted(live, key=lambda o: int(o.ord_id), reverse=True)

    def order(self, ord_id: str) -> OpenOrder:
        """The order *ord_id* (open or not).

        Raises:
            ValueError: naming the id, if the account has no such order.
        """
        order = self._orders.get(ord_id)
        if order is None:
            raise ValueError(f"{self!r} has no order {ord_id!r}")
        return order

    def positions(self) -> list[Holding]:
        """The non-zero positions, in the order they were opened."""
        return self._ledger.positions()

    def account_object(self, ccys: list[str] | None, ts: int) -> dict[str, Any]:
        """An ``account`` data item with the details of *ccys* (None: all)."""
        return self._ledger.account_object(ccys, ts)

    def greeks_objects(self, ts: int) -> list[dict[str, Any]]:
        return [{"ccy": ccy, **values, "ts": str(ts)} for ccy, values in self._greeks.items()]

    # -- scripting ---------------------------------------------------------------------------

    def set_balance(self, ccy: str, cash: Decimal | str | int, *, ts: int | None = None) -> None:
        """Set *ccy*'s cash balance (a deposit or transfer): pushes ``account`` and
        ``balance_and_position`` (``eventType`` ``transferred``)."""
        now = self.now_ms(ts)
        self._ledger.cash_of[ccy] = decimal_arg("cash", cash)
        self._emit_balances([ccy], now, "transferred")

    def place_order(
        self,
        inst_id: str,
        side: str,
        sz: Decimal | str | int,
        px: Decimal | str | int | None = None,
        *,
        ord_type: str | None = None,
        cl_ord_id: str = "",
        td_mode: str | None = None,
        inst_type: str | None = None,
        ts: int | None = None,
    ) -> str:
        """A new live order; returns its ``ordId``. Pushes ``orders`` (state ``live``) and,
        for spot, ``account`` with the frozen funds (a buy freezes ``px * sz`` of the quote
        currency, a sell ``sz`` of the base). *ord_type* is ``limit`` with a *px*,
        ``market`` without. No balance check.

        Raises:
            ValueError: a *side* other than buy/sell, a *sz* that is not > 0, a limit order
                without a price.
        """
        now = self.now_ms(ts)
        order = OpenOrder.new(
            str(next(self._ids) + 700_000_000_000_000_000),
            inst_id,
            side,
            sz,
            px,
            ord_type=ord_type,
            cl_ord_id=cl_ord_id,
            td_mode=td_mode,
            inst_type=inst_type,
            now=now,
        )
        self._orders[order.ord_id] = order
        self._emit(PrivateEvent("orders", (order_object(order),)))
        frozen = self._ledger.freeze(order, order.sz)
        if frozen:
            self._emit_account(frozen, now)
        return order.ord_id

    def fill_order(
        self,
        ord_id: str,
        sz: Decimal | str | int | None = None,
        px: Decimal | str | int | None = None,
        *,
        exec_type: str = "T",
        ts: int | None = None,
    ) -> str:
        """Fill *sz* (default: all that remains) of an open order at *px* (default: its
        price; a market order needs one); returns the ``tradeId``.

        Pushes, in OKX's order: ``orders`` (``partially_filled``/``filled`` with this
        fill's fields), ``fills``, ``account`` (the currencies that moved), ``positions``
        (derivatives: the net position, ``event_update``) and ``balance_and_position``
        (``eventType`` ``filled``). Spot moves base and quote cash, fee at ``fee_rate``
        (in the base currency on a buy, the quote on a sell); derivatives move the net
        position (average price weighted on increase) and charge the fee in the
        settlement currency.

        Raises:
            ValueError: no such order, not open, *sz* not > 0 or more than remains, no
                price for a market order.
        """
        order = self.order(ord_id)
        if not order.is_open:
            raise ValueError(f"order {ord_id!r} is {order.state}, not open")
        size = order.remaining if sz is None else decimal_arg("sz", sz, positive=True)
        if size > order.remaining:
            raise ValueError(
                f"sz {size} is more than order {ord_id!r} has left ({order.remaining})"
            )
        if px is None and order.px is None:
            raise ValueError(f"market order {ord_id!r}: fill_order needs a px")
        price = order.px if px is None else decimal_arg("px", px, positive=True)
        assert price is not None
        now = self.now_ms(ts)
        trade_id = str(next(self._ids) + 900_000_000)
        order.record_fill(size, price, now)
        moved, fee, fee_ccy, holding = self._ledger.settle(order, size, price, trade_id, now)
        order.fee -= fee
        order.fee_ccy = fee_ccy
        fill = (price, size, trade_id, now, -fee)
        self._emit(PrivateEvent("orders", (order_object(order, fill=fill, exec_type=exec_type),)))
        fill_item = fill_object(order, size, price, trade_id, now, exec_type)
        self._emit(PrivateEvent("fills", (fill_item,)))
        self._emit_account(moved, now)
        if holding is not None:
            self._emit(PrivateEvent("positions", (position_object(holding, now),), "event_update"))
        self._emit_bal_pos(moved, [holding] if holding else [], now, "filled", order, trade_id)
        return trade_id

    def cancel_order(self, ord_id: str, *, ts: int | None = None) -> None:
        """Cancel an open order: pushes ``orders`` (``canceled``, ``cancelSource`` "1":
        by the user) and, for spot, ``account`` with the funds unfrozen.

        Raises:
            ValueError: no such order, or it is not open.
        """
        order = self.order(ord_id)
        if not order.is_open:
            raise ValueError(f"order {ord_id!r} is {order.state}, not open")
        now = self.now_ms(ts)
        released = self._ledger.unfreeze(order, order.remaining)
        order.state, order.cancel_source, order.u_time = "canceled", "1", now
        self._emit(PrivateEvent("orders", (order_object(order),)))
        if released:
            self._emit_account(released, now)

    def set_position(
        self,
        inst_id: str,
        pos: Decimal | str | int,
        avg_px: Decimal | str | int | None = None,
        *,
        pos_side: str = "net",
        mgn_mode: str = "cross",
        lever: Decimal | str | int = 3,
        mark_px: Decimal | str | int | None = None,
        inst_type: str | None = None,
        event_type: str = "adjust_margin",
        ts: int | None = None,
    ) -> str:
        """Set a position (0 closes it); returns its ``posId``. Pushes ``positions``
        (``event_update``) and ``balance_and_position`` with *event_type*."""
        now = self.now_ms(ts)
        holding = self._ledger.holding(inst_id, pos_side, mgn_mode, inst_type, now)
        holding.pos = decimal_arg("pos", pos)
        holding.avg_px = None if avg_px is None else decimal_arg("avg_px", avg_px, positive=True)
        holding.mark_px = (
            None if mark_px is None else decimal_arg("mark_px", mark_px, positive=True)
        )
        holding.lever = decimal_arg("lever", lever, positive=True)
        holding.u_time = now
        self._emit(PrivateEvent("positions", (position_object(holding, now),), "event_update"))
        self._emit_bal_pos([], [holding], now, event_type)
        return holding.pos_id

    def warn_liquidation(
        self, inst_id: str, *, pos_side: str = "net", ts: int | None = None
    ) -> None:
        """Push a ``liquidation-warning`` for the position.

        Raises:
            ValueError: if the account has no such position.
        """
        holding = self._ledger.holdings.get((inst_id, pos_side))
        if holding is None or holding.pos == 0:
            raise ValueError(f"{self!r} has no {pos_side} position in {inst_id!r}")
        warning = liquidation_warning_object(holding, self.now_ms(ts))
        self._emit(PrivateEvent("liquidation-warning", (warning,)))

    def push_snapshots(self, *channels: str) -> None:
        """Push OKX's regular snapshot now to every subscription of *channels* (default:
        ``account`` and ``positions``), in pages as on subscribe (``eventType``
        ``snapshot``): what OKX sends every few seconds.

        Raises:
            ValueError: naming a channel that has no snapshot.
        """
        chosen = channels or ("account", "positions")
        for channel in chosen:
            if channel not in SNAPSHOT_CHANNELS:
                raise ValueError(
                    f"{channel!r} has no snapshot; OKX sends them on {sorted(SNAPSHOT_CHANNELS)}"
                )
        for channel in chosen:
            self._emit(PrivateEvent(channel, (), SNAPSHOT))

    def lose_snapshot_pages(self, *pages: int) -> None:
        """Leave pages *pages* (1 is the first) out of the next paginated snapshot pushed
        (on subscribe or by :meth:`push_snapshots`): a fault for the client's assembler.
        The loss applies once, to the first snapshot that has those pages.

        Raises:
            ValueError: for a page number below 1.
        """
        if any(isinstance(p, bool) or not isinstance(p, int) or p < 1 for p in pages):
            raise ValueError(f"page numbers are ints >= 1, got {pages!r}")
        self.lost_pages.update(pages)

    def set_greeks(self, ccy: str, greeks: Mapping[str, str], *, ts: int | None = None) -> None:
        """Set *ccy*'s greeks (OKX's keys: ``deltaBS``, ``deltaPA``, ...; missing ones
        are "0") and push ``account-greeks``.

        Raises:
            ValueError: naming a key OKX does not send.
        """
        values = greeks_values(greeks)
        self._greeks[ccy] = values
        self._emit(
            PrivateEvent("account-greeks", ({"ccy": ccy, **values, "ts": str(self.now_ms(ts))},))
        )

    # -- accounting --------------------------------------------------------------------------

    def _emit(self, event: PrivateEvent) -> None:
        for listener in list(self._listeners):
            listener(event)
        self._changed()

    def _emit_account(self, ccys: list[str], now: int) -> None:
        """``account`` (``event_update``) with these currencies."""
        self._emit(PrivateEvent("account", (self.account_object(ccys, now),), "event_update"))

    def _emit_balances(self, ccys: list[str], now: int, event_type: str) -> None:
        self._emit_account(ccys, now)
        self._emit_bal_pos(ccys, [], now, event_type)

    def _emit_bal_pos(
        self,
        ccys: list[str],
        holdings: list[Holding],
        now: int,
        event_type: str,
        order: OpenOrder | None = None,
        trade_id: str = "",
    ) -> None:
        cash = {c: self.cash(c) for c in ccys}
        item = bal_pos_object(cash, holdings, now, event_type, order, trade_id)
        self._emit(PrivateEvent("balance_and_position", (item,)))
