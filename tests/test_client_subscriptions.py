"""The general subscription API: add/remove/replace, validation, streams and Gap, endpoints."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from okx_trio import ClientConfig, ConnectionState, Gap, Subscription, open_okx_client
from okx_trio._fanout import Fanout
from okx_trio.testing import FakeExchange

TICKER = Subscription("tickers", "BTC-USDT")


def make_config() -> ClientConfig:
    return ClientConfig(jitter=0.0, max_connects_per_second=None, max_requests_per_hour=None)


async def test_one_string_for_pairs_is_a_type_error_that_says_to_pass_a_list() -> None:
    with pytest.raises(TypeError, match=r"open_okx_client\(\['BTC-USDT'\]\)"):
        async with open_okx_client("BTC-USDT"):
            pass


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ("tradez:BTC-USDT", "unknown channel 'tradez'"),
        ("trades:btc-usdt", "invalid inst_id 'btc-usdt'"),
        ("trades", "channel 'trades' needs inst_id"),
        ("orders:SPOT", "channel 'orders' is private"),
        (42, "expected a Subscription"),
    ],
)
async def test_a_bad_subscription_raises_at_the_call_and_changes_nothing(
    autojump_clock: trio.testing.MockClock, bad: object, match: str
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(
        ["BTC-USDT"], config=make_config(), connector=exchange.connector
    ) as client:
        await client.wait_subscribed()
        with pytest.raises(ValueError, match=match):
            client.add(Subscription("trades", "ETH-USDT"), bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=match):
            client.replace([bad])  # type: ignore[list-item]
        assert client.subscriptions == {TICKER}


async def test_the_tickers_shortcuts_are_tickers_subscriptions(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(
        ["BTC-USDT"], config=make_config(), connector=exchange.connector
    ) as client:
        client.add("tickers:ETH-USDT")
        await client.wait_subscribed()
        assert client.pairs == {"BTC-USDT", "ETH-USDT"}
        assert client.subscriptions == {TICKER, Subscription("tickers", "ETH-USDT")}
        assert client.acknowledged == client.subscriptions
        client.remove_pair("ETH-USDT")
        await client.wait_subscribed()
        assert client.subscriptions == {TICKER}
        ticker = client.latest("BTC-USDT")
        assert ticker is not None and client.latest(TICKER) is ticker


async def test_a_client_with_nothing_subscribed_keeps_no_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(config=make_config(), connector=exchange.connector) as client:
        await trio.sleep(60)
        assert exchange.connection_attempts == 0
        assert client.state is ConnectionState.DISCONNECTED
        await client.wait_subscribed()  # nothing wanted: nothing to wait for
        client.add_pair("BTC-USDT")
        await client.wait_subscribed()
        assert exchange.accepted_connections == 1
        client.remove_pair("BTC-USDT")
        await client.wait_until(lambda: client.state is ConnectionState.DISCONNECTED)
        await exchange.wait_until(lambda: not exchange.connections)


async def test_an_event_stream_never_conflates_a_lagging_consumer_gets_a_gap() -> None:
    async with trio.open_nursery() as nursery:
        fan: Fanout[object] = Fanout(3, nursery.start_soon, gap=lambda n: Gap("trades", n))
        receive = fan.subscribe()
        for n in range(10):  # 3 fit the channel, 3 the overflow; the 4 oldest of it are lost
            fan.publish(n)
        got = [await receive.receive() for _ in range(7)]
        assert got == [0, 1, 2, Gap("trades", 4), 7, 8, 9]
        assert fan.dropped == 4
        fan.close()


async def test_a_state_stream_conflates_per_instrument() -> None:
    async with trio.open_nursery() as nursery:
        fan: Fanout[tuple[str, int]] = Fanout(1, nursery.start_soon, key=lambda r: r[0])
        receive = fan.subscribe()
        for item in [("A", 1), ("B", 1), ("A", 2), ("A", 3)]:
            fan.publish(item)
        got = [await receive.receive() for _ in range(3)]
        assert got == [("A", 1), ("B", 1), ("A", 3)]
        fan.close()


async def test_stream_of_an_unknown_channel_is_a_value_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(connector=exchange.connector) as client:
        with pytest.raises(ValueError, match="unknown channel 'candle7m'"):
            client.stream("candle7m")


async def test_data_that_arrives_before_its_ack_is_delivered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0, data_before_ack=True)
    trades = Subscription("trades", "BTC-USDT")
    async with open_okx_client(
        subscriptions=[trades], config=make_config(), connector=exchange.connector
    ) as client:
        stream = client.stream("trades")
        first = await stream.receive()
        assert trio.current_time() == 0.0  # the very first push, ahead of its ack
        assert first.inst_id == "BTC-USDT"
        await client.wait_subscribed()
        assert client.acknowledged == {trades}
        assert client.get_stats().bad_messages == 0


async def test_business_channels_get_a_connection_of_their_own(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    candle = Subscription("candle1m", "BTC-USDT")
    async with open_okx_client(
        ["BTC-USDT"], subscriptions=[candle], config=make_config(), connector=exchange.connector
    ) as client:
        await client.wait_subscribed()
        by_endpoint = {c.endpoint: c.subscribed for c in exchange.connections}
        assert by_endpoint == {"public": {TICKER}, "business": {candle}}
        client.remove(candle)
        await exchange.wait_until(lambda: [c.endpoint for c in exchange.connections] == ["public"])
        assert client.subscriptions == {TICKER}
