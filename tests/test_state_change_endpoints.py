"""Behaviour: a state change says which connection it is about, endpoint and index, so a
business connection 0 is never mistaken for public connection 0."""

from __future__ import annotations

import trio
import trio.testing

from okx_trio import ConnectionState, Subscription, open_okx_client
from okx_trio.testing import FakeExchange

from .conftest import make_config, recording

S = ConnectionState
TICKER = Subscription("tickers", "BTC-USDT")
CANDLE = Subscription("candle1m", "BTC-USDT")


async def test_each_state_change_names_its_endpoint_and_its_stats_row(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0, seed=3)
    async with open_okx_client(
        subscriptions=[TICKER, CANDLE],
        config=make_config(initial_delay=1.0),
        connector=exchange.connector,
        wall_clock=exchange.wall_clock,
    ) as client:
        async with recording(client) as recorder:
            await client.wait_subscribed()
            exchange.drop_connections(endpoint="business")
            await client.wait_until(lambda: exchange.subscribed("business") == {CANDLE})
            await trio.sleep(0.1)
            stats = client.get_stats()
    changes = [change for _, change in recorder.changes]
    business = [c for c in changes if c.endpoint == "business"]
    public = [c for c in changes if c.endpoint == "public"]
    # The business drop: lost, then back, all on ("business", 0), none on public 0.
    assert [c.state for c in business] == [
        S.CONNECTING,
        S.CONNECTED,
        S.RECONNECTING,
        S.CONNECTING,
        S.CONNECTED,
    ]
    assert all(c.connection == 0 and c.message.startswith("[business 0]") for c in business)
    assert [c.state for c in public] == [S.CONNECTING, S.CONNECTED]
    assert business[2].delay == 1.0
    # (endpoint, connection) finds the connection's row in the stats.
    rows = {(c.endpoint, c.index) for c in stats.connections}
    assert (
        {(c.endpoint, c.connection) for c in business + public}
        <= rows
        == {
            ("public", 0),
            ("business", 0),
        }
    )
