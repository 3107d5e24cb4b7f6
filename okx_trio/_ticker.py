"""The ``Ticker`` record handed to consumers."""

from __future__ import annotations

from decimal import Decimal

import msgspec

__all__ = ["Ticker"]

_HUNDRED = Decimal(100)


# A msgspec Struct rather than a frozen dataclass: one is built per message on the hot path,
# and a frozen dataclass's __init__ costs ten times more. gc=False: it holds no containers.
class Ticker(msgspec.Struct, frozen=True, gc=False):
    """One ``tickers`` push for one instrument.

    Prices and sizes are :class:`~decimal.Decimal` built from OKX's strings, so nothing is
    rounded on the way (``NaN`` where OKX sends an empty string, e.g. no bid on an illiquid
    book); ``ts`` is the exchange's timestamp in milliseconds since the epoch. Immutable,
    hashable, comparable field by field.
    """

    inst_id: str
    inst_type: str
    last: Decimal
    last_size: Decimal
    bid: Decimal
    bid_size: Decimal
    ask: Decimal
    ask_size: Decimal
    open_24h: Decimal
    high_24h: Decimal
    low_24h: Decimal
    vol_24h: Decimal
    vol_ccy_24h: Decimal
    ts: int

    @property
    def change_pct(self) -> Decimal | None:
        """Change of ``last`` against ``open_24h`` in percent; ``None`` when ``open_24h`` is 0
        or unknown (NaN)."""
        if not self.open_24h or self.open_24h.is_nan():
            return None
        return (self.last - self.open_24h) / self.open_24h * _HUNDRED
