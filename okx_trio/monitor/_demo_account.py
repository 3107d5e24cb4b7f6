"""The demo's account: a fake-exchange account with generated credentials, some balances,
and a small script that places, fills and cancels orders and sets a position now and then,
so the account view is alive offline."""

from __future__ import annotations

import random
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import trio

from okx_trio import Credentials, OkxClient, Ticker

if TYPE_CHECKING:
    from okx_trio.testing import FakeAccount, FakeExchange

__all__ = ["DEMO_BALANCES", "DemoAccount", "demo_credentials"]

#: The demo account's starting cash, by currency.
DEMO_BALANCES: Final = {"USDT": "25000", "BTC": "0.5", "ETH": "4"}
#: The swap the demo holds a position in.
DEMO_SWAP: Final = "BTC-USDT-SWAP"
#: Prices the script uses for a pair before its first ticker.
_FALLBACK_PX: Final = Decimal("100")
#: The most orders the script keeps open.
MAX_OPEN: Final = 3


def demo_credentials() -> Credentials:
    """Fresh random credentials for the demo's account (never shown: the view and the log
    lines name no key)."""
    return Credentials(
        "demo-" + secrets.token_hex(8), secrets.token_urlsafe(24), "P" + secrets.token_hex(8)
    )


class DemoAccount:
    """The demo's account on *exchange* (made by the constructor, with *credentials*) and
    its script (:meth:`run`), which trades *pairs* at about their last ticker price."""

    def __init__(
        self,
        exchange: FakeExchange,
        credentials: Credentials,
        pairs: tuple[str, ...],
        *,
        seed: int = 0,
    ) -> None:
        self.account: FakeAccount = exchange.add_account(credentials)
        self.pairs = pairs or ("BTC-USDT",)
        self._rng = random.Random(f"monitor-demo-account:{seed}")
        for ccy, cash in DEMO_BALANCES.items():
            self.account.set_balance(ccy, cash)

    def price(self, client: OkxClient, inst_id: str) -> Decimal:
        """About *inst_id*'s last price (its latest ticker's; 100 before one came)."""
        ticker = client.latest(inst_id.removesuffix("-SWAP"))
        last = ticker.last if isinstance(ticker, Ticker) else _FALLBACK_PX
        return last.quantize(Decimal("0.01")) if last >= 1 else last

    def step(self, client: OkxClient) -> str:
        """One scripted change, chosen at random: place an order (always while fewer than
        two are open), fill or cancel the oldest, or move the position; returns what it did
        (for tests)."""
        rng = self._rng
        open_now = self.account.open_orders()
        roll = rng.random()
        if len(open_now) < 2 or (roll < 0.4 and len(open_now) < MAX_OPEN):
            inst_id = rng.choice(self.pairs)
            side = rng.choice(("buy", "sell"))
            px = self.price(client, inst_id)
            offset = Decimal("0.995") if side == "buy" else Decimal("1.005")
            self.account.place_order(
                inst_id,
                side,
                rng.choice(("0.01", "0.05", "0.1")),
                (px * offset).quantize(px) if px >= 1 else px,
            )
            return "place"
        oldest = open_now[0]
        if roll < 0.65:
            self.account.fill_order(oldest.ord_id)
            return "fill"
        if roll < 0.9:
            self.account.cancel_order(oldest.ord_id)
            return "cancel"
        px = self.price(client, DEMO_SWAP)
        self.account.set_position(DEMO_SWAP, rng.choice(("1", "2", "3", "-1")), px, mark_px=px)
        return "position"

    async def run(self, client: OkxClient, *, every: tuple[float, float] = (2.0, 5.0)) -> None:
        """Set the position (after a first wait), then a :meth:`step` every *every*
        seconds (uniformly at random between the two) until cancelled."""
        # A first wait, so the prices are the first tickers' rather than the fallback.
        await trio.sleep(self._rng.uniform(*every))
        px = self.price(client, DEMO_SWAP)
        self.account.set_position(DEMO_SWAP, "2", px, mark_px=px)
        while True:
            await trio.sleep(self._rng.uniform(*every))
            self.step(client)
