"""One connection's login and private subscriptions on the fake exchange (no I/O).

:class:`PrivateChannels` is the part of a ``FakeServerProtocol`` that knows accounts: it
answers the ``login`` op (:func:`~._login.check_login`), keeps which accounts are logged
in, subscribes private channels (OKX's ``channel-conn-count`` event after the ack, or
``channel-conn-count-error`` past the account's ``conn_cap`` connections per channel,
ending that subscription), sends the initial snapshots OKX sends (``account``,
``positions`` in pages of the account's ``page_size``; ``balance_and_position``;
``account-greeks`` when set; none for ``orders``, ``fills``, ``liquidation-warning``), and
turns the accounts' :class:`~._accounts.PrivateEvent` s into pushes for the matching
subscriptions, queued until the protocol's ``pushes_due`` drains them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any, Final

from .._subscription import Subscription
from ._account_registry import Accounts
from ._account_shapes import (
    SNAPSHOT,
    PrivateEvent,
    bal_pos_position,
    family_of,
    inst_type_of,
    num,
    position_object,
)
from ._accounts import FakeAccount
from ._login import check_login

__all__ = ["CAPPED_CHANNELS", "PrivateChannels", "select_items"]

#: The private channels OKX caps at ``conn_cap`` connections per sub-account.
CAPPED_CHANNELS: Final = frozenset(
    {
        "orders",
        "account",
        "positions",
        "balance_and_position",
        "liquidation-warning",
        "account-greeks",
    }
)
_PAGED: Final = frozenset({"account", "positions"})

ErrorEncoder = Callable[[str, str, str | None], str]


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _matches_instrument(sub: Subscription, item: dict[str, Any]) -> bool:
    inst_id = item.get("instId", "")
    inst_type = item.get("instType") or inst_type_of(inst_id)
    if sub.inst_type not in (None, "ANY") and sub.inst_type != inst_type:
        return False
    if sub.inst_family is not None and sub.inst_family != family_of(inst_id):
        return False
    return sub.inst_id is None or sub.inst_id == inst_id


def select_items(sub: Subscription, event: PrivateEvent) -> list[dict[str, Any]]:
    """The data items of *event* that subscription *sub* receives (empty: none)."""
    if event.channel != sub.channel:
        return []
    if sub.channel in ("orders", "fills", "positions", "liquidation-warning"):
        return [item for item in event.items if _matches_instrument(sub, item)]
    if sub.channel == "account" and sub.ccy is not None:
        out = []
        for item in event.items:
            details = [d for d in item.get("details", []) if d.get("ccy") == sub.ccy]
            if details:
                out.append({**item, "details": details})
        return out
    if sub.channel == "account-greeks" and sub.ccy is not None:
        return [item for item in event.items if item.get("ccy") == sub.ccy]
    return list(event.items)


class PrivateChannels:
    """Login state and private subscriptions of one connection (see the module docstring).

    Args:
        accounts: The exchange's accounts (None: an exchange without any; every login
            then fails as an unknown key would).
        conn_id: The connection's ``connId`` as OKX writes it in events (None: omitted).
        record_id: The connection's own id, counted against ``conn_cap``.
        error: Renders an ``error`` event ``(code, msg, req_id)`` in the exchange's style.
    """

    def __init__(
        self,
        accounts: Accounts | None,
        conn_id: str | None,
        record_id: str,
        error: ErrorEncoder,
    ) -> None:
        self._accounts = accounts if accounts is not None else Accounts(epoch_ms=0)
        self._conn_id = conn_id
        self._record_id = record_id
        self._error = error
        self.accounts: tuple[FakeAccount, ...] = ()
        self._args: dict[Subscription, dict[str, str]] = {}
        self._outbox: list[str] = []
        self._listeners: list[tuple[FakeAccount, Callable[[PrivateEvent], None]]] = []

    @property
    def logged_in(self) -> bool:
        return bool(self.accounts)

    @property
    def pending(self) -> bool:
        """Whether pushes are queued for :meth:`drain`."""
        return bool(self._outbox)

    # -- requests ----------------------------------------------------------------------------

    def login(self, obj: dict[str, Any], now: float) -> list[str]:
        """The answer to a ``login`` request (success or OKX's error event)."""
        req_id = obj.get("id") if isinstance(obj.get("id"), str) else None
        result = check_login(self._accounts, obj, now, logged_in=self.logged_in)
        if not result.ok:
            return [self._error(result.code, result.msg, req_id)]
        self.accounts = result.accounts
        for account in self.accounts:
            listener = partial(self._on_event, account)
            self._listeners.append((account, listener))
            account.listen(listener)
        reply: dict[str, Any] = {} if req_id is None else {"id": req_id}
        reply.update(event="login", code="0", msg="")
        if self._conn_id is not None:
            reply["connId"] = self._conn_id
        return [_dumps(reply)]

    def subscribe(self, sub: Subscription, raw: dict[str, str], ack: str) -> list[str]:
        """The ack of a private subscription and what follows it: the connection count
        event (or its error, and no subscription) and the initial snapshot.

        Whether the subscription stands: :meth:`subscribed`.
        """
        if sub in self._args:
            return [ack]  # a repeated subscribe is acked again
        out = [ack]
        if sub.channel in CAPPED_CHANNELS and not any(s.channel == sub.channel for s in self._args):
            for account in self.accounts:
                conns = account.channel_connections.setdefault(sub.channel, set())
                if len(conns) >= account.conn_cap:
                    out.append(self._conn_event("channel-conn-count-error", sub, account.conn_cap))
                    return out
            for account in self.accounts:
                account.channel_connections[sub.channel].add(self._record_id)
            count = max(len(a.channel_connections[sub.channel]) for a in self.accounts)
            out.append(self._conn_event("channel-conn-count", sub, count))
        self._args[sub] = {k: v for k, v in raw.items() if k != "extraParams"}
        for account in self.accounts:
            out.extend(self._snapshot(sub, account))
        return out

    def subscribed(self, sub: Subscription) -> bool:
        return sub in self._args

    def unsubscribe(self, sub: Subscription) -> None:
        if self._args.pop(sub, None) is None:
            return
        if not any(s.channel == sub.channel for s in self._args):
            for account in self.accounts:
                account.channel_connections.get(sub.channel, set()).discard(self._record_id)

    def drain(self) -> list[str]:
        """The pushes queued since the last drain, in event order."""
        out, self._outbox = self._outbox, []
        return out

    def lost(self) -> None:
        """The connection is gone: stop listening and free its connection counts."""
        for sub in list(self._args):
            self.unsubscribe(sub)
        for account, listener in self._listeners:
            account.unlisten(listener)
        self._listeners.clear()
        self._outbox.clear()

    # -- pushes ------------------------------------------------------------------------------

    def _conn_event(self, event: str, sub: Subscription, count: int) -> str:
        out: dict[str, Any] = {"event": event, "channel": sub.channel, "connCount": str(count)}
        if self._conn_id is not None:
            out["connId"] = self._conn_id
        return _dumps(out)

    def _push(
        self,
        sub: Subscription,
        account: FakeAccount,
        items: list[dict[str, Any]],
        event_type: str | None = None,
        page: tuple[int, bool] | None = None,
    ) -> str:
        out: dict[str, Any] = {"arg": {**self._args[sub], "uid": account.uid}}
        if event_type is not None:
            out["eventType"] = event_type
        if page is not None:
            out["curPage"], out["lastPage"] = page
        out["data"] = items
        return _dumps(out)

    def _on_event(self, account: FakeAccount, event: PrivateEvent) -> None:
        if event.event_type == SNAPSHOT and not event.items:
            for sub in self._args:
                if sub.channel == event.channel:
                    self._outbox.extend(self._snapshot(sub, account))
            return
        for sub in self._args:
            items = select_items(sub, event)
            if items:
                self._outbox.append(self._push(sub, account, items, event.event_type))

    def _snapshot(self, sub: Subscription, account: FakeAccount) -> list[str]:
        now = account.now_ms()
        size = account.page_size
        if sub.channel == "account":
            ccys = account.currencies if sub.ccy is None else [sub.ccy]
            chunks = [ccys[i : i + size] for i in range(0, len(ccys), size)] or [[]]
            pages = [[account.account_object(chunk, now)] for chunk in chunks]
        elif sub.channel == "positions":
            items = [position_object(h, now) for h in account.positions()]
            items = [item for item in items if _matches_instrument(sub, item)]
            pages = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
        elif sub.channel == "balance_and_position":
            return [self._push(sub, account, [_bal_pos_snapshot(account, now)])]
        elif sub.channel == "account-greeks":
            greeks = account.greeks_objects(now)
            items = [g for g in greeks if sub.ccy is None or g["ccy"] == sub.ccy]
            return [self._push(sub, account, items)] if items else []
        else:
            return []  # orders, fills, liquidation-warning: "not pushed when first subscribed"
        last = len(pages)
        numbers = range(1, last + 1)
        lost = account.lost_pages & set(numbers)
        account.lost_pages -= lost  # a one-shot fault
        return [
            self._push(sub, account, page, SNAPSHOT, (number, number == last))
            for number, page in zip(numbers, pages, strict=True)
            if number not in lost
        ]


def _bal_pos_snapshot(account: FakeAccount, now: int) -> dict[str, Any]:
    return {
        "pTime": str(now),
        "eventType": "snapshot",
        "balData": [
            {"ccy": ccy, "cashBal": num(account.cash(ccy)), "uTime": str(now)}
            for ccy in account.currencies
            if account.cash(ccy) != 0
        ],
        "posData": [bal_pos_position(h) for h in account.positions()],
        "trades": [],
    }
