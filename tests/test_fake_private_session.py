"""A private session against the fake exchange, end to end on its transports: faults reach
the private endpoint, a drop while orders fill leaves the truth in the signed REST answer,
and no secret reaches a log record."""

from __future__ import annotations

import json
import logging
import math
import secrets
from typing import Any

import pytest
import trio
import trio.testing
import trio_websocket

from okx_trio import Credentials
from okx_trio._connection import ConnectionClosed
from okx_trio._reconcile_answers import orders_snapshot, positions_snapshot
from okx_trio._signing import login_request, rest_headers
from okx_trio.testing import (
    FakeExchange,
    MemoryWebSocket,
    handle_private_rest,
    open_fake_exchange_server,
)

PRIVATE = "wss://ws.okx.com:8443/ws/v5/private"
EPOCH_MS = 1_700_000_000_000


def make_credentials() -> Credentials:
    return Credentials(
        "k" + secrets.token_hex(8), secrets.token_urlsafe(24), "P" + secrets.token_hex(6)
    )


async def recv(ws: MemoryWebSocket) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(await ws.get_message())
    return parsed


async def login(ws: MemoryWebSocket, credentials: Credentials, exchange: FakeExchange) -> None:
    await ws.send_message(login_request(credentials, exchange.wall_clock()).text)
    assert (await recv(ws))["code"] == "0"


def rest(exchange: FakeExchange, credentials: Credentials, path: str) -> bytes:
    headers = rest_headers(credentials, "GET", path, None, exchange.wall_clock())
    status, body = handle_private_rest(exchange, "GET", path, "", headers, b"", trio.current_time())
    assert status == 200
    return body


async def test_a_drop_while_orders_fill_is_healed_by_the_rest_answer(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    exchange = FakeExchange(tick_interval=math.inf, epoch_ms=EPOCH_MS)
    credentials = make_credentials()
    account = exchange.add_account(credentials)
    subscribe = json.dumps({"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]})
    async with exchange.connector(PRIVATE) as ws:
        await login(ws, credentials, exchange)
        await ws.send_message(subscribe)
        assert (await recv(ws))["event"] == "subscribe"
        assert (await recv(ws))["event"] == "channel-conn-count"
        first = account.place_order("BTC-USDT-SWAP", "buy", "2", "30000")
        second = account.place_order("BTC-USDT-SWAP", "buy", "1", "29000")
        assert [(await recv(ws))["data"][0]["ordId"] for _ in range(2)] == [first, second]
        await trio.sleep(1)
        assert exchange.drop_connections(endpoint="private") == 1
        # While the client is away, one order fills: no connection hears of it.
        account.fill_order(first)
        with pytest.raises(ConnectionClosed):
            await ws.get_message()
    await trio.sleep(1)
    async with exchange.connector(PRIVATE) as ws:
        # A replayed login would be refused; a fresh one is accepted.
        await login(ws, credentials, exchange)
        await ws.send_message(subscribe)
        assert (await recv(ws))["event"] == "subscribe"
        assert (await recv(ws))["connCount"] == "1"  # the dropped connection was freed
        # orders has no snapshot: the REST reconcile shows what changed.
        now_ms = round(exchange.wall_clock() * 1000)
        orders = orders_snapshot(
            rest(exchange, credentials, "/api/v5/trade/orders-pending"), now_ms
        )
        assert [o.ord_id for o in orders.orders] == [second]
        positions = positions_snapshot(
            rest(exchange, credentials, "/api/v5/account/positions"), now_ms
        )
        assert [(p.inst_id, str(p.pos)) for p in positions.positions] == [("BTC-USDT-SWAP", "2")]
        account.fill_order(second)
        push = await recv(ws)
        assert (push["data"][0]["ordId"], push["data"][0]["state"]) == (second, "filled")
        assert trio.current_time() == 2.0
    secret_values = (credentials.reveal_passphrase(), credentials._secret_key.reveal())
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        assert not any(value in text for value in secret_values)
    for request in exchange.requests:
        assert credentials.reveal_passphrase() not in request.raw


async def test_faults_reach_the_private_endpoint(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange(tick_interval=math.inf, epoch_ms=EPOCH_MS)
    credentials = make_credentials()
    account = exchange.add_account(credentials)
    async with exchange.connector(PRIVATE) as ws:
        await login(ws, credentials, exchange)
        await ws.send_message(json.dumps({"op": "subscribe", "args": [{"channel": "fills"}]}))
        assert (await recv(ws))["event"] == "subscribe"
        exchange.go_silent(endpoint="private")
        ord_id = account.place_order("BTC-USDT", "sell", "1", "30000")
        account.fill_order(ord_id)
        with trio.move_on_after(5):
            await ws.get_message()
            pytest.fail("a silent connection pushed")  # pragma: no cover
        exchange.resume(endpoint="private")
        push = await recv(ws)  # held back, not lost
        assert push["arg"]["channel"] == "fills" and push["data"][0]["ordId"] == ord_id


async def test_the_socket_server_serves_the_private_endpoint() -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    credentials = make_credentials()
    exchange.add_account(credentials)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            private = url.replace("/ws/v5/public", "/ws/v5/private")
            assert private.startswith("ws://127.0.0.1:")
            async with trio_websocket.open_websocket_url(private) as ws:
                await ws.send_message(login_request(credentials, exchange.wall_clock()).text)
                reply = json.loads(await ws.get_message())
                assert (reply["event"], reply["code"]) == ("login", "0")
