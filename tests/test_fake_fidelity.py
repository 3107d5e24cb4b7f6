"""The fake exchange as OKX's equal by default, and each fidelity switch turned off.

Routing by URL path, 64001/64002 on the wrong endpoint, 60011 for login channels, 60018 for
unlisted instruments, the 30 s idle close, the close after a 64008, ``msg`` before ``code``,
acks without ``connId``, staggered timestamps, data before the ack, and the blackhole (in
memory here; on the real socket too, where even WebSocket pings go unanswered).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import trio
import trio.testing
import trio_websocket

from okx_trio._connection import ConnectionClosed
from okx_trio._subscription import Subscription
from okx_trio.testing import FakeExchange, MemoryWebSocket, open_fake_exchange_server

PUBLIC = "wss://ws.okx.com:8443/ws/v5/public"
BUSINESS = "wss://ws.okx.com:8443/ws/v5/business"


def sub_text(*subs: Subscription, req_id: str = "1", op: str = "subscribe") -> str:
    return json.dumps({"id": req_id, "op": op, "args": [s.arg for s in subs]})


async def recv(ws: MemoryWebSocket) -> dict[str, Any]:
    message = json.loads(await ws.get_message())
    assert isinstance(message, dict)
    return message


async def assert_quiet(ws: MemoryWebSocket, seconds: float) -> None:
    with trio.move_on_after(seconds):
        message = await ws.get_message()
        pytest.fail(f"unexpected message {message!r}")


# -- endpoints ------------------------------------------------------------------------------


async def test_connector_routes_by_path(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    async with (
        exchange.connector(PUBLIC),
        exchange.connector(BUSINESS),
        exchange.connector("wss://ws.okx.com:8443"),
        exchange.connector("wss://ws.okx.com:8443/ws/v5/private"),
    ):
        assert [c.endpoint for c in exchange.connections] == [
            "public",
            "business",
            "public",
            "private",
        ]


async def test_wrong_endpoint_gets_64001_and_64002(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    candle, tickers = Subscription("candle1m", "BTC-USDT"), Subscription("tickers", "BTC-USDT")
    async with exchange.connector(PUBLIC) as public, exchange.connector(BUSINESS) as business:
        pub, bus = exchange.connections
        await public.send_message(sub_text(candle, tickers))
        error = await recv(public)
        assert list(error) == ["id", "event", "msg", "code", "connId"]
        assert (error["event"], error["code"], error["connId"]) == ("error", "64001", pub.conn_id)
        assert "candle1m" in error["msg"]
        assert (await recv(public))["event"] == "subscribe"
        await business.send_message(sub_text(tickers, candle, req_id="2"))
        error = await recv(business)
        assert (error["id"], error["code"]) == ("2", "64002")
        assert (await recv(business))["arg"] == candle.arg
        assert pub.subscribed == {tickers} and bus.subscribed == {candle}
        assert exchange.subscribed() == {tickers, candle}
        assert exchange.subscribed("business") == {candle}
        assert exchange.subscriptions() == {"BTC-USDT"}


async def test_login_channels_are_refused_with_60011(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    async with exchange.connector(PUBLIC) as ws:
        for sub in (Subscription("books-l2-tbt", "BTC-USDT"), Subscription("account")):
            await ws.send_message(sub_text(sub))
            error = await recv(ws)
            assert (error["code"], error["msg"]) == ("60011", "Please log in")
        assert exchange.subscribed() == set()


async def test_the_server_routes_by_path_and_refuses_others_with_404() -> None:
    exchange = FakeExchange(tick_interval=0.05)
    candle = Subscription("candle1m", "ETH-USDT")
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            business = url.replace("/ws/v5/public", "/ws/v5/business")
            async with trio_websocket.open_websocket_url(business) as ws:
                await ws.send_message(sub_text(candle))
                assert json.loads(await ws.get_message())["event"] == "subscribe"
                push = json.loads(await ws.get_message())
                assert push["arg"] == candle.arg
                assert exchange.connections[0].endpoint == "business"
            with pytest.raises(trio_websocket.ConnectionRejected) as info:
                async with trio_websocket.open_websocket_url(url.replace("public", "other")):
                    pytest.fail("connected")  # pragma: no cover
            assert info.value.status_code == 404


# -- listing --------------------------------------------------------------------------------


async def test_unlisted_instruments_get_60018_unless_switched_off(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    assert {"BTC-USDT", "ETH-USDT-SWAP", "BTC-USD-220527", "BTC-USD-251226-95000-C"} <= (
        exchange.listed
    )
    bogus = Subscription("tickers", "BOGUS-USDT")
    async with exchange.connector(PUBLIC) as ws:
        await ws.send_message(sub_text(bogus, Subscription("funding-rate", "BTC-USDT")))
        for what in ("tickers,instId:BOGUS-USDT", "funding-rate,instId:BTC-USDT"):
            error = await recv(ws)
            assert error["code"] == "60018"
            assert error["msg"].startswith(f"Wrong URL or channel:{what} doesn't exist.")
        exchange.list_instruments("BOGUS-USDT")
        await ws.send_message(sub_text(bogus))
        assert (await recv(ws))["event"] == "subscribe"
    with pytest.raises(ValueError, match="not an OKX instrument id: 'bogus'"):
        exchange.list_instruments("bogus")
    lenient = FakeExchange(tick_interval=math.inf, reject_unlisted=False)
    async with lenient.connector(PUBLIC) as ws:
        await ws.send_message(sub_text(Subscription("tickers", "FOO-BAR")))
        assert (await recv(ws))["event"] == "subscribe"
        lenient.push_ticker("FOO-BAR")
        assert float((await recv(ws))["data"][0]["last"]) > 0
    only = FakeExchange(tick_interval=math.inf, listed=["AAA-USDT"], indexes=[])
    assert only.listed == {"AAA-USDT"} and only.listed_indexes == frozenset()


# -- closes ---------------------------------------------------------------------------------


async def test_an_idle_connection_is_closed_with_4004_after_30_s(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    async with exchange.connector(PUBLIC) as quiet, exchange.connector(PUBLIC) as pinging:
        a, b = exchange.connections
        await trio.sleep(20)
        await pinging.send_message("ping")
        assert await pinging.get_message() == "pong"
        with pytest.raises(ConnectionClosed) as info:
            await quiet.get_message()
        assert (info.value.code, info.value.reason) == (4004, "No data received in 30s.")
        assert (a.closed_at, a.close_code) == (30.0, 4004)
        with pytest.raises(ConnectionClosed):
            await pinging.get_message()
        assert (b.closed_at, b.close_code) == (50.0, 4004)


async def test_a_subscribed_or_switched_off_connection_is_not_closed_idle(
    autojump_clock: trio.testing.MockClock,
) -> None:
    for exchange, subscribe in (
        (FakeExchange(tick_interval=math.inf), True),
        (FakeExchange(tick_interval=math.inf, idle_timeout=None), False),
    ):
        async with exchange.connector(PUBLIC) as ws:
            if subscribe:
                await ws.send_message(sub_text(Subscription("tickers", "BTC-USDT")))
                await ws.get_message()
            await assert_quiet(ws, 100)
            assert len(exchange.connections) == 1


async def test_a_64008_notice_is_followed_by_the_close_60_s_later(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf, idle_timeout=None)
    async with exchange.connector(PUBLIC) as ws:
        [conn] = exchange.connections
        await trio.sleep(5)
        exchange.send_notice()
        notice = await recv(ws)
        assert (notice["event"], notice["code"]) == ("notice", "64008")
        with pytest.raises(ConnectionClosed) as info:
            await ws.get_message()
        assert info.value.code == 1001
        assert (conn.closed_at, conn.close_code) == (65.0, 1001)
    off = FakeExchange(tick_interval=math.inf, idle_timeout=None, notice_close_after=None)
    async with off.connector(PUBLIC) as ws:
        off.send_notice()
        assert (await recv(ws))["code"] == "64008"
        await assert_quiet(ws, 200)
        assert len(off.connections) == 1


# -- wire details ---------------------------------------------------------------------------


async def test_error_key_order_and_conn_id_switches(autojump_clock: trio.testing.MockClock) -> None:
    sub = Subscription("tickers", "BTC-USDT")
    exchange = FakeExchange(tick_interval=math.inf, msg_before_code=False, conn_id=False)
    async with exchange.connector(PUBLIC) as ws:
        await ws.send_message(sub_text(sub, Subscription("tickers", "NOPE-USDT")))
        assert await ws.get_message() == (
            '{"id":"1","event":"subscribe","arg":{"channel":"tickers","instId":"BTC-USDT"}}'
        )
        assert list(await recv(ws)) == ["id", "event", "code", "msg"]
        await ws.send_message("nonsense")
        assert list(await recv(ws)) == ["event", "code", "msg"]
        exchange.send_notice()
        assert list(await recv(ws)) == ["event", "msg", "code"]


async def test_instruments_are_not_all_stamped_alike(
    autojump_clock: trio.testing.MockClock,
) -> None:
    pairs = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "ADA-USDT", "DOGE-USDT"]
    subs = [Subscription("tickers", p) for p in pairs]
    for stagger, distinct in ((5, True), (0, False)):
        exchange = FakeExchange(tick_interval=math.inf, epoch_ms=10**12, stagger_ms=stagger)
        async with exchange.connector(PUBLIC) as ws:
            await ws.send_message(sub_text(*subs))
            for _ in subs:
                await ws.get_message()
            await trio.sleep(1)
            for pair in pairs:
                exchange.push_ticker(pair)
            stamps = [int((await recv(ws))["data"][0]["ts"]) for _ in pairs]
        now_ms = 10**12 + round(trio.current_time() * 1000)
        assert all(now_ms - 5 <= ts <= now_ms for ts in stamps)
        assert (len(set(stamps)) > 1) is distinct


async def test_data_before_ack(autojump_clock: trio.testing.MockClock) -> None:
    sub = Subscription("candle1m", "BTC-USDT")
    exchange = FakeExchange(tick_interval=0.1, data_before_ack=True)
    async with exchange.connector(BUSINESS) as ws:
        await ws.send_message(sub_text(sub))
        first, second = await recv(ws), await recv(ws)
        assert (first["arg"], "data" in first) == (sub.arg, True)
        assert second["event"] == "subscribe"
        await recv(ws)
        assert trio.current_time() == 1.0  # the next push keeps the 1 s cadence


# -- blackhole ------------------------------------------------------------------------------


async def test_blackhole_stalls_everything_until_resume(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sub = Subscription("tickers", "BTC-USDT")
    exchange = FakeExchange(tick_interval=1.0)
    async with exchange.connector(PUBLIC) as ws, exchange.connector(BUSINESS) as other:
        conn, bystander = exchange.connections
        await ws.send_message(sub_text(sub))
        assert (await recv(ws))["event"] == "subscribe"
        await recv(ws)
        assert exchange.blackhole(endpoint="public") == 1
        assert conn.blackholed and not bystander.blackholed
        await ws.send_message("ping")
        await assert_quiet(ws, 20)  # no pong, no push
        await other.send_message("ping")
        assert await other.get_message() == "pong"
        await assert_quiet(ws, 20)
        assert [r.op for r in conn.requests] == ["subscribe"]  # the ping was never read
        # Resume between two pushes: at a whole second the resume and the push due then
        # would race (Trio varies the order of tasks that are ready at the same instant).
        await trio.sleep(0.5)
        exchange.resume()
        assert await ws.get_message() == "pong"
        assert trio.current_time() == 40.5
        assert (await recv(ws))["arg"] == sub.arg
        assert trio.current_time() == 41.0  # the next push, on its own schedule


async def test_a_blackholed_idle_connection_is_closed_only_once_the_stall_ends(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    async with exchange.connector(PUBLIC) as ws:
        [conn] = exchange.connections
        exchange.send_notice()
        await recv(ws)
        exchange.blackhole()
        await assert_quiet(ws, 100)  # neither the idle nor the upgrade close gets through
        exchange.resume()
        with pytest.raises(ConnectionClosed) as info:
            await ws.get_message()
        assert (info.value.code, conn.closed_at) == (1001, 100.0)


@pytest.mark.realtime
async def test_blackhole_on_the_socket_leaves_websocket_pings_unanswered() -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    with trio.fail_after(5):
        async with (
            open_fake_exchange_server(exchange) as url,
            trio_websocket.open_websocket_url(url, disconnect_timeout=1) as ws,
        ):
            await ws.ping(b"before")  # answered by the server's WebSocket layer
            exchange.go_silent()
            await ws.ping(b"silent")  # go_silent does not reach the WebSocket layer
            exchange.resume()
            exchange.blackhole()
            with trio.move_on_after(0.5) as scope:
                await ws.ping(b"stalled")
            assert scope.cancelled_caught
            await ws.send_message("ping")
            with trio.move_on_after(0.3):
                pytest.fail(f"unexpected {await ws.get_message()!r}")
            exchange.resume()
            assert await ws.get_message() == "pong"
            await ws.ping(b"after")
