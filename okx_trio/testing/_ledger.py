"""A fake account's money: cash, funds frozen by open orders, positions (no I/O).

:class:`Ledger` does the deliberately simple accounting of
:class:`~._accounts.FakeAccount`: no margin checks, one net position per instrument, fees at
``fee_rate`` of the notional, contract value 1, USD prices only for USD stablecoins. It
renders the ``account`` data item as OKX writes it.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any, Final

from ._account_shapes import ZERO, Holding, OpenOrder, inst_type_of, num

__all__ = ["Ledger"]

#: USD prices of the currencies the fake knows (others show ``eqUsd`` ``""``).
_USD: Final = {"USDT": Decimal(1), "USDC": Decimal(1), "USD": Decimal(1)}


def _spot_ccys(inst_id: str) -> tuple[str, str]:
    base, _, rest = inst_id.partition("-")
    return base, rest.split("-")[0]


def _settlement_ccy(inst_id: str) -> str:
    # Linear contracts (BTC-USDT-SWAP) settle in the quote currency, inverse ones
    # (BTC-USD-SWAP, ETH-USD-210430) in the base.
    parts = inst_id.split("-")
    if len(parts) < 2:
        return parts[0]
    return parts[0] if parts[1] == "USD" else parts[1]


class Ledger:
    """Cash, frozen funds and positions of one fake account."""

    def __init__(self, fee_rate: Decimal, ids: itertools.count[int]) -> None:
        self.fee_rate = fee_rate
        self._ids = ids
        self.cash_of: dict[str, Decimal] = {}
        self.frozen_of: dict[str, Decimal] = {}
        self.holdings: dict[tuple[str, str], Holding] = {}

    def cash(self, ccy: str) -> Decimal:
        return self.cash_of.get(ccy, ZERO)

    @property
    def currencies(self) -> list[str]:
        return sorted(set(self.cash_of) | set(self.frozen_of))

    def positions(self) -> list[Holding]:
        return [h for h in self.holdings.values() if h.pos != 0]

    # -- rendering ---------------------------------------------------------------------------

    def account_object(self, ccys: list[str] | None, ts: int) -> dict[str, Any]:
        """An ``account`` data item with the details of *ccys* (None: all), OKX's keys."""
        chosen = self.currencies if ccys is None else ccys
        total = sum((_USD[c] * self.cash(c) for c in self.currencies if c in _USD), ZERO)
        upl = sum((h.upl or ZERO for h in self.positions()), ZERO)
        return {
            "adjEq": num(total),
            "availEq": num(total),
            "borrowFroz": "",
            "details": [self._detail(ccy, ts) for ccy in chosen],
            "imr": "0",
            "isoEq": "0",
            "mgnRatio": "",
            "mmr": "0",
            "notionalUsd": "0",
            "ordFroz": num(sum(self.frozen_of.values(), ZERO)),
            "totalEq": num(total),
            "uTime": str(ts),
            "upl": num(upl),
        }

    def _detail(self, ccy: str, ts: int) -> dict[str, Any]:
        cash, frozen = self.cash(ccy), self.frozen_of.get(ccy, ZERO)
        usd = _USD.get(ccy)
        return {
            "availBal": num(cash - frozen),
            "availEq": num(cash - frozen),
            "cashBal": num(cash),
            "ccy": ccy,
            "disEq": "" if usd is None else num(cash * usd),
            "eq": num(cash),
            "eqUsd": "" if usd is None else num(cash * usd),
            "frozenBal": num(frozen),
            "liab": "0",
            "ordFrozen": num(frozen),
            "uTime": str(ts),
            "upl": "0",
        }

    # -- accounting --------------------------------------------------------------------------

    def freeze(self, order: OpenOrder, size: Decimal) -> list[str]:
        """Freeze the funds *size* of a spot order needs; the currencies touched."""
        if order.inst_type != "SPOT":
            return []
        base, quote = _spot_ccys(order.inst_id)
        if order.side == "sell":
            self.frozen_of[base] = self.frozen_of.get(base, ZERO) + size
            return [base]
        if order.px is None:
            return []
        self.frozen_of[quote] = self.frozen_of.get(quote, ZERO) + order.px * size
        return [quote]

    def unfreeze(self, order: OpenOrder, size: Decimal) -> list[str]:
        """Release what :meth:`freeze` froze for *size*; the currencies touched."""
        if order.inst_type != "SPOT":
            return []
        base, quote = _spot_ccys(order.inst_id)
        ccy, amount = (base, size) if order.side == "sell" else (quote, (order.px or ZERO) * size)
        if not amount:
            return []
        self.frozen_of[ccy] = max(ZERO, self.frozen_of.get(ccy, ZERO) - amount)
        return [ccy]

    def settle(
        self, order: OpenOrder, size: Decimal, price: Decimal, trade_id: str, now: int
    ) -> tuple[list[str], Decimal, str, Holding | None]:
        """Move the money of one fill: (currencies moved, fee, fee currency, position)."""
        rate = self.fee_rate
        if order.inst_type == "SPOT":
            base, quote = _spot_ccys(order.inst_id)
            self.unfreeze(order, size)
            if order.side == "buy":
                fee = size * rate  # OKX charges a spot buy's fee in what was bought
                self.cash_of[base] = self.cash(base) + size - fee
                self.cash_of[quote] = self.cash(quote) - size * price
                return sorted({base, quote}), fee, base, None
            fee = size * price * rate
            self.cash_of[base] = self.cash(base) - size
            self.cash_of[quote] = self.cash(quote) + size * price - fee
            return sorted({base, quote}), fee, quote, None
        holding = self.holding(order.inst_id, "net", "cross", order.inst_type, now)
        delta = size if order.side == "buy" else -size
        old, new = holding.pos, holding.pos + delta
        if old == 0 or (old > 0) == (delta > 0):
            holding.avg_px = ((holding.avg_px or price) * abs(old) + price * size) / abs(new)
        elif new != 0 and (old > 0) != (new > 0):
            holding.avg_px = price  # flipped: what is left opened at this price
        holding.pos, holding.u_time, holding.trade_id = new, now, trade_id
        holding.mark_px = holding.mark_px or price
        settle = holding.ccy
        inverse = settle == order.inst_id.split("-")[0]
        fee = size * rate if inverse else size * price * rate
        self.cash_of[settle] = self.cash(settle) - fee
        return [settle], fee, settle, holding

    def holding(
        self, inst_id: str, pos_side: str, mgn_mode: str, inst_type: str | None, now: int
    ) -> Holding:
        """The position of *inst_id* on *pos_side*, opened (at 0) if there is none."""
        key = (inst_id, pos_side)
        holding = self.holdings.get(key)
        if holding is None:
            holding = Holding(
                pos_id=str(next(self._ids) + 300_000_000_000_000_000),
                inst_id=inst_id,
                inst_type=inst_type or inst_type_of(inst_id),
                mgn_mode=mgn_mode,
                pos_side=pos_side,
                pos=ZERO,
                avg_px=None,
                lever=Decimal(3),
                ccy=_settlement_ccy(inst_id),
                c_time=now,
                u_time=now,
            )
            self.holdings[key] = holding
        return holding
