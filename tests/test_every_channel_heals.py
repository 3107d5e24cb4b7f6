"""Behaviour: a client on several channels and both endpoints heals every way OKX breaks.

Tickers, trades and funding-rate on /ws/v5/public, a 1-minute candle on /ws/v5/business; each
endpoint is dropped in turn, public gets a 64008 upgrade notice, and a slow trades consumer
falls behind. Every subscription comes back on its own endpoint, one endpoint's trouble never
touches the other's records, and the slow consumer is told what it lost.
"""

from __future__ import annotations

import itertools

import trio
import trio.testing

from okx_trio import (
    Candle,
    ClientConfig,
    ConnectionState,
    FundingRate,
    Gap,
    Subscription,
    Ticker,
    Trade,
    open_okx_client,
)
from okx_trio.testing import FakeExchange

S = ConnectionState
TICKER = Subscription("tickers", "BTC-USDT")
TRADES = Subscription("trades", "BTC-USDT")
FUNDING = Subscription("funding-rate", "BTC-USDT-SWAP")
CANDLE = Subscription("candle1m", "BTC-USDT")
PUBLIC = {TICKER, TRADES, FUNDING}
BUSINESS = {CANDLE}


def make_config(**changes: object) -> ClientConfig:
    return ClientConfig(
        jitter=0.0,
        initial_delay=1.0,
        max_connects_per_second=None,
        max_requests_per_hour=None,
        tick_buffer=8,
        **changes,  # type: ignore[arg-type]
    )


class Seen:
    """Records per stream, with the (virtual) time each arrived."""

    def __init__(self) -> None:
        self.items: dict[str, list[tuple[float, object]]] = {}

    async def collect(self, client: object, channel: str) -> None:
        async with client.stream(channel) as stream:  # type: ignore[attr-defined]
            async for item in stream:
                self.items.setdefault(channel, []).append((trio.current_time(), item))

    def times(self, channel: str, kind: type) -> list[float]:
        return [t for t, item in self.items.get(channel, []) if isinstance(item, kind)]


async def test_every_subscription_comes_back_on_its_endpoint_through_every_fault(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0, seed=3)
    seen = Seen()
    async with open_okx_client(
        subscriptions=[TICKER, TRADES, FUNDING, CANDLE],
        config=make_config(),
        connector=exchange.connector,
        wall_clock=exchange.wall_clock,
    ) as client:
        slow_trades = client.stream("trades")  # read late, below: it must get a Gap
        async with trio.open_nursery() as nursery:
            for channel in ("tickers", "candle1m", "funding-rate"):
                nursery.start_soon(seen.collect, client, channel)
            await client.wait_subscribed()
            assert exchange.subscribed("public") == PUBLIC
            assert exchange.subscribed("business") == BUSINESS
            assert {c.endpoint for c in exchange.connections} == {"public", "business"}
            await trio.sleep(90.5)  # funding-rate pushes every 30-90 s: one has come

            # 1. The business endpoint drops: public records never pause.
            dropped_at = trio.current_time()
            exchange.drop_connections(endpoint="business")
            await client.wait_until(
                lambda: exchange.subscribed("business") == BUSINESS and client._settled()
            )
            business_back = trio.current_time()
            assert business_back - dropped_at <= 1.0 + 0.1  # initial_delay, then at once
            ticks = seen.times("tickers", Ticker)
            assert not [
                b - a for a, b in itertools.pairwise(ticks) if a >= dropped_at - 1
                if b - a > 1.0 + 1e-9
            ]

            # 2. The public endpoint drops: candles go on.
            await trio.sleep(10)
            dropped_at = trio.current_time()
            exchange.drop_connections(endpoint="public")
            await client.wait_until(
                lambda: exchange.subscribed("public") == PUBLIC and client._settled()
            )
            candles = [t for t in seen.times("candle1m", Candle) if t >= dropped_at - 1]
            assert candles and max(b - a for a, b in itertools.pairwise(candles)) <= 1.0 + 1e-9

            # 3. A 64008 on public: a new connection takes over without a gap.
            await trio.sleep(40)
            noticed_at = trio.current_time()
            exchange.send_notice("64008", endpoint="public")
            await client.wait_until(lambda: client.get_stats().handovers == 1)
            await trio.sleep(70)  # past the close OKX makes 60 s after the notice
            ticks = [t for t in seen.times("tickers", Ticker) if t >= noticed_at - 1]
            assert max(b - a for a, b in itertools.pairwise(ticks)) <= 1.0 + 1e-9

            # 4. The slow trades consumer reads at last: it lost the oldest and was told.
            received: list[object] = []
            while not any(isinstance(i, Gap) for i in received) and len(received) < 100:
                received.append(await slow_trades.receive())
            # Its buffer (8), the one record already on its way, then the Gap: the lost ones
            # were the oldest held back, right after that record.
            assert len(received) == 8 + 1 + 1
            gaps = [item for item in received if isinstance(item, Gap)]
            assert gaps and all(g.channel == "trades" and g.missed > 0 for g in gaps)
            assert all(isinstance(i, Trade | Gap) for i in received)
            nursery.cancel_scope.cancel()

        stats = client.get_stats()
        assert client.state is S.CONNECTED
        assert client.acknowledged == PUBLIC | BUSINESS
        assert exchange.subscribed("public") == PUBLIC
        assert exchange.subscribed("business") == BUSINESS
        assert stats.records_dropped > 0 and stats.handovers == 1
        assert {c.endpoint for c in stats.connections} == {"public", "business"}
        assert seen.times("funding-rate", FundingRate)
        assert isinstance(client.latest(FUNDING), FundingRate)
