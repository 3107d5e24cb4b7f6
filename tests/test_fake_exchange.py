"""The fake OKX exchange, spoken to in raw OKX protocol (no client library involved).

In-memory tests run under the autojump clock and assert exact virtual times; the real-socket
tests at the end use real time, loopback and short bounds.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing
import trio_websocket

from okx_trio._connection import ConnectionClosed
from okx_trio.testing import (
    FakeConnection,
    FakeExchange,
    MemoryWebSocket,
    RecordedRequest,
    open_fake_exchange_server,
)

from .conftest import CAPTURES

URL = "wss://ws.okx.com:8443/ws/v5/public"
EPOCH = 1_700_000_000_000
UPGRADE_MSG = "The connection will soon be closed for a service upgrade. Please reconnect."


def _okx_ticker_keys() -> list[str]:
    """The key order of a real OKX tickers data object, from the captured traffic."""
    lines = (CAPTURES / "okx-messages.jsonl").read_text().splitlines()
    push = json.loads(lines[4])
    assert push["arg"]["channel"] == "tickers"
    return list(push["data"][0])


OKX_TICKER_KEYS = _okx_ticker_keys()


def request(op: str, *inst_ids: str, req_id: str | None = None, channel: str = "tickers") -> str:
    obj: dict[str, Any] = {} if req_id is None else {"id": req_id}
    obj["op"] = op
    obj["args"] = [{"channel": channel, "instId": inst_id} for inst_id in inst_ids]
    return json.dumps(obj)


def ack(op: str, inst_id: str, conn_id: str, req_id: str | None = None) -> str:
    prefix = "" if req_id is None else f'"id":"{req_id}",'
    return (
        f'{{{prefix}"event":"{op}","arg":{{"channel":"tickers","instId":"{inst_id}"}},'
        f'"connId":"{conn_id}"}}'
    )


def arg_error(what: str, conn_id: str, req_id: str, code: str = "60018") -> str:
    msg = (
        f"Wrong URL or channel:{what} doesn't exist. Please use the correct URL, channel and "
        "parameters referring to API document."
    )
    return json.dumps(
        {"id": req_id, "event": "error", "msg": msg, "code": code, "connId": conn_id},
        separators=(",", ":"),
    )


async def recv_text(ws: MemoryWebSocket | trio_websocket.WebSocketConnection) -> str:
    message = await ws.get_message()
    assert isinstance(message, str)
    return message


async def recv_json(ws: MemoryWebSocket | trio_websocket.WebSocketConnection) -> dict[str, Any]:
    obj = json.loads(await recv_text(ws))
    assert isinstance(obj, dict)
    return obj


async def assert_quiet(ws: MemoryWebSocket, seconds: float) -> None:
    """Nothing arrives for *seconds* (virtual time)."""
    with trio.move_on_after(seconds):
        message = await ws.get_message()
        pytest.fail(f"unexpected message {message!r}")


@asynccontextmanager
async def subscribed(
    exchange: FakeExchange, *inst_ids: str
) -> AsyncIterator[tuple[MemoryWebSocket, FakeConnection]]:
    """A connection subscribed to *inst_ids*, acks consumed."""
    async with exchange.connector(URL) as ws:
        conn = exchange.connections[-1]
        await ws.send_message(request("subscribe", *inst_ids))
        for inst_id in inst_ids:
            assert await recv_text(ws) == ack("subscribe", inst_id, conn.conn_id)
        yield ws, conn


# -- basic protocol ------------------------------------------------------------------------


async def test_ping_is_answered_with_pong(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange()
    async with exchange.connector(URL) as ws:
        await trio.sleep(1)
        await ws.send_message("ping")
        assert await ws.get_message() == "pong"
        assert trio.current_time() == 1
        [req] = exchange.requests
        conn_id = exchange.connections[0].conn_id
        assert req == RecordedRequest(1.0, conn_id, "ping", None, (), "ping")


async def test_subscribe_acks_each_arg_with_id_and_conn_id(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    async with exchange.connector(URL) as ws:
        [conn] = exchange.connections
        assert len(conn.conn_id) == 8
        int(conn.conn_id, 16)
        await ws.send_message(request("subscribe", "BTC-USDT", "ETH-USDT", req_id="17"))
        assert await recv_text(ws) == ack("subscribe", "BTC-USDT", conn.conn_id, "17")
        assert await recv_text(ws) == ack("subscribe", "ETH-USDT", conn.conn_id, "17")
        # Without an id, the ack has no "id" key at all.
        await ws.send_message(request("subscribe", "SOL-USDT"))
        assert await recv_text(ws) == ack("subscribe", "SOL-USDT", conn.conn_id)
        assert conn.subscriptions == {"BTC-USDT", "ETH-USDT", "SOL-USDT"}
        assert exchange.subscriptions() == {"BTC-USDT", "ETH-USDT", "SOL-USDT"}


async def test_repeated_subscribe_is_acked_but_not_duplicated(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.25)
    async with exchange.connector(URL) as ws:
        conn = exchange.connections[0]
        await ws.send_message(request("subscribe", "BTC-USDT"))
        assert await recv_text(ws) == ack("subscribe", "BTC-USDT", conn.conn_id)
        assert (await recv_json(ws))["arg"]["instId"] == "BTC-USDT"
        await trio.sleep(0.1)
        await ws.send_message(request("subscribe", "BTC-USDT", req_id="2"))
        assert await recv_text(ws) == ack("subscribe", "BTC-USDT", conn.conn_id, "2")
        # Still one push per tick, on the original schedule.
        times = []
        for _ in range(3):
            assert "data" in await recv_json(ws)
            times.append(trio.current_time())
        assert times == [0.25, 0.5, 0.75]
        assert conn.subscriptions == {"BTC-USDT"}


async def test_unsubscribe_stops_pushes_and_unknown_is_acked(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.25)
    async with subscribed(exchange, "BTC-USDT") as (ws, conn):
        assert (await recv_json(ws))["data"][0]["instId"] == "BTC-USDT"
        await ws.send_message(request("unsubscribe", "BTC-USDT", "DOGE-USDT", req_id="9"))
        assert await recv_text(ws) == ack("unsubscribe", "BTC-USDT", conn.conn_id, "9")
        assert await recv_text(ws) == ack("unsubscribe", "DOGE-USDT", conn.conn_id, "9")
        assert conn.subscriptions == set()
        await assert_quiet(ws, 2)
        assert exchange.pushes == 1
        assert exchange.requests[-1].op == "unsubscribe"
        assert exchange.requests[-1].inst_ids == ("BTC-USDT", "DOGE-USDT")


async def test_pushes_every_tick_with_okx_keys_and_string_values(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.25, epoch_ms=EPOCH, stagger_ms=0)
    inst_ids = ("BTC-USDT", "ETH-USDT-SWAP", "BTC-USD-250627")
    await trio.sleep(3)
    async with subscribed(exchange, *inst_ids) as (ws, _):
        seen: list[tuple[float, str]] = []
        types: dict[str, str] = {}
        for _ in range(9):
            push = await recv_json(ws)
            assert list(push) == ["arg", "data"]
            inst_id = push["arg"]["instId"]
            assert push["arg"] == {"channel": "tickers", "instId": inst_id}
            [ticker] = push["data"]
            assert list(ticker) == OKX_TICKER_KEYS
            assert all(isinstance(value, str) for value in ticker.values())
            assert ticker["instId"] == inst_id
            assert ticker["ts"] == str(EPOCH + int(trio.current_time() * 1000))
            assert float(ticker["bidPx"]) < float(ticker["last"]) <= float(ticker["askPx"])
            seen.append((trio.current_time(), inst_id))
            types[inst_id] = ticker["instType"]
        # The first push right after the acks, then one per tick per instrument.
        assert seen == [(t, i) for t in (3.0, 3.25, 3.5) for i in inst_ids]
        assert types == {"BTC-USDT": "SPOT", "ETH-USDT-SWAP": "SWAP", "BTC-USD-250627": "FUTURES"}
        assert exchange.pushes == 9


async def test_no_automatic_pushes_without_tick_interval_but_push_ticker_works(
    autojump_clock: trio.testing.MockClock,
) -> None:
    for interval in (0.0, math.inf):
        exchange = FakeExchange(tick_interval=interval)
        async with subscribed(exchange, "BTC-USDT") as (ws, _):
            await assert_quiet(ws, 5)
            exchange.push_ticker("ETH-USDT")  # not subscribed: nothing
            exchange.push_ticker("BTC-USDT")
            assert (await recv_json(ws))["arg"]["instId"] == "BTC-USDT"
            assert exchange.pushes == 1


async def test_connections_at_the_same_instant_see_the_same_market(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    async with (
        subscribed(exchange, "BTC-USDT") as (ws1, _),
        subscribed(exchange, "BTC-USDT") as (ws2, _),
    ):
        exchange.push_ticker("BTC-USDT")
        assert await recv_json(ws1) == await recv_json(ws2)
        assert exchange.pushes == 2


async def test_same_seed_same_session(autojump_clock: trio.testing.MockClock) -> None:
    async def session(seed: int) -> list[object]:
        exchange = FakeExchange(seed=seed, tick_interval=0.1)
        async with subscribed(exchange, "SOL-USDT") as (ws, conn):
            tickers = [(await recv_json(ws))["data"][0] for _ in range(5)]
        for ticker in tickers:
            del ticker["ts"]  # the sessions run one after the other in virtual time
        return [conn.conn_id, *tickers]

    assert await session(7) == await session(7)
    assert await session(7) != await session(8)


# -- faults --------------------------------------------------------------------------------


async def test_drop_connections_closes_with_code(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    async with exchange.connector(URL) as ws1, exchange.connector(URL) as ws2:
        conn1, conn2 = exchange.connections
        await trio.sleep(2)
        assert exchange.drop_connections(4000, "bye") == 2
        assert exchange.connections == []
        for ws, conn in ((ws1, conn1), (ws2, conn2)):
            with pytest.raises(ConnectionClosed) as info:
                await ws.get_message()
            assert (info.value.code, info.value.reason) == (4000, "bye")
            assert ws.closed is not None and ws.closed.code == 4000
            assert (conn.closed_at, conn.close_code) == (2.0, 4000)
            with pytest.raises(ConnectionClosed):
                await ws.send_message("ping")
    assert exchange.drop_connections() == 0


async def test_drop_default_is_abnormal_1006_after_queued_messages(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    async with exchange.connector(URL) as ws:
        [conn] = exchange.connections
        exchange.send_notice()
        exchange.drop_connections()
        assert (await recv_json(ws))["event"] == "notice"
        with pytest.raises(ConnectionClosed) as info:
            await ws.get_message()
        assert info.value.code == 1006
        assert conn.close_code == 1006


async def test_go_silent_stops_pushes_and_answers_until_resume(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.5)
    async with subscribed(exchange, "BTC-USDT") as (ws, conn):
        assert "data" in await recv_json(ws)  # t=0
        exchange.go_silent()
        assert exchange.silent
        await ws.send_message("ping")
        await ws.send_message(request("subscribe", "ETH-USDT"))
        await ws.send_message("garbage")
        await assert_quiet(ws, 9.8)  # off the push grid, so resume() does not race a push
        # Half-open: the requests arrived and the connection is still open.
        assert [r.op for r in conn.requests[-3:]] == ["ping", "subscribe", "invalid"]
        assert exchange.connections == [conn]
        assert conn.subscriptions == {"BTC-USDT"}
        assert exchange.pushes == 1
        exchange.resume()
        assert not exchange.silent
        await ws.send_message("ping")
        assert await ws.get_message() == "pong"
        assert trio.current_time() == 9.8
        assert "data" in await recv_json(ws)
        assert trio.current_time() == 10.0  # back on the 0.5 s grid


async def test_refuse_connections(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange()
    exchange.refuse_connections(2)
    for _ in range(2):
        with pytest.raises(ConnectionRefusedError):
            async with exchange.connector(URL):
                pytest.fail("connected")  # pragma: no cover
    async with exchange.connector(URL) as ws:
        await ws.send_message("ping")
        assert await ws.get_message() == "pong"
    assert (exchange.connection_attempts, exchange.accepted_connections) == (3, 1)


async def test_rejected_instrument_gets_error_while_others_are_acked(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf, reject_unlisted=False)
    exchange.reject_instruments("FOO-BAR")
    exchange.reject_instruments("OLD-USDT", code="60099")
    async with exchange.connector(URL) as ws:
        cid = exchange.connections[0].conn_id
        await ws.send_message(
            request("subscribe", "BTC-USDT", "FOO-BAR", "OLD-USDT", "ETH-USDT", req_id="5")
        )
        assert await recv_text(ws) == ack("subscribe", "BTC-USDT", cid, "5")
        assert await recv_text(ws) == arg_error("tickers,instId:FOO-BAR", cid, "5")
        assert await recv_text(ws) == arg_error("tickers,instId:OLD-USDT", cid, "5", "60099")
        assert await recv_text(ws) == ack("subscribe", "ETH-USDT", cid, "5")
        assert exchange.subscriptions() == {"BTC-USDT", "ETH-USDT"}
        exchange.accept_instruments("FOO-BAR")
        await ws.send_message(request("subscribe", "FOO-BAR", req_id="6"))
        assert await recv_text(ws) == ack("subscribe", "FOO-BAR", cid, "6")


async def test_unknown_channels_get_60018(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange()
    async with exchange.connector(URL) as ws:
        cid = exchange.connections[0].conn_id
        await ws.send_message(request("subscribe", "BTC-USDT", req_id="1", channel="nosuch"))
        assert await recv_text(ws) == arg_error("nosuch,instId:BTC-USDT", cid, "1")
        assert exchange.subscriptions() == set()
        assert exchange.subscribed() == set()


async def test_ignore_requests_keeps_pushing_and_ponging(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with subscribed(exchange, "BTC-USDT") as (ws, conn):
        assert "data" in await recv_json(ws)
        exchange.ignore_requests()
        assert exchange.ignoring_requests
        await ws.send_message(request("subscribe", "ETH-USDT", req_id="3"))
        await ws.send_message(request("unsubscribe", "BTC-USDT", req_id="4"))
        await ws.send_message("ping")
        assert await ws.get_message() == "pong"
        assert (await recv_json(ws))["arg"]["instId"] == "BTC-USDT"
        assert trio.current_time() == 1.0
        assert conn.subscriptions == {"BTC-USDT"}
        assert [r.id for r in exchange.requests[-3:]] == ["3", "4", None]
        exchange.ignore_requests(False)
        await ws.send_message(request("subscribe", "ETH-USDT", req_id="7"))
        assert await recv_text(ws) == ack("subscribe", "ETH-USDT", conn.conn_id, "7")


async def test_notice_goes_to_every_connection(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange()
    async with exchange.connector(URL) as ws1, exchange.connector(URL) as ws2:
        ids = [c.conn_id for c in exchange.connections]
        exchange.send_notice()
        exchange.send_notice("64009", "custom")
        for ws, cid in zip((ws1, ws2), ids, strict=True):
            assert await recv_text(ws) == json.dumps(
                {"event": "notice", "msg": UPGRADE_MSG, "code": "64008", "connId": cid},
                separators=(",", ":"),
            )
            assert await recv_json(ws) == {
                "event": "notice",
                "msg": "custom",
                "code": "64009",
                "connId": cid,
            }


async def test_send_raw_delivers_frames_as_is(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange()
    async with exchange.connector(URL) as ws:
        exchange.send_raw("{not json")
        exchange.send_raw(b"\x00\xff")
        assert await ws.get_message() == "{not json"
        assert await ws.get_message() == b"\x00\xff"


@pytest.mark.parametrize(
    "frame",
    [
        "hello",
        "[1, 2]",
        '{"op":"login","args":[]}',
        '{"op":"subscribe","args":"tickers"}',
        '{"op":"subscribe","args":[]}',
        '{"op":"subscribe","args":["spot/ticker:BTC-USDT"]}',
        '{"op":"subscribe","args":[{"channel":"tickers"}]}',
        '{"op":"subscribe","args":[{"channel":"tickers","instId":7}]}',
        '{"id":17,"op":"subscribe","args":[{"channel":"tickers","instId":"BTC-USDT"}]}',
        '{"id":"a-b","op":"subscribe","args":[{"channel":"tickers","instId":"BTC-USDT"}]}',
        "[" * 100_000,
        b'{"op":"subscribe"}',
    ],
)
async def test_bad_input_gets_60012_and_the_connection_survives(
    autojump_clock: trio.testing.MockClock, frame: str | bytes
) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    async with exchange.connector(URL) as ws:
        cid = exchange.connections[0].conn_id
        await ws.send_message(frame)
        text = frame.decode() if isinstance(frame, bytes) else frame
        assert await recv_json(ws) == {
            "event": "error",
            "code": "60012",
            "msg": f"Illegal request: {text}",
            "connId": cid,
        }
        [req] = exchange.requests
        assert (req.op, req.id, req.inst_ids, req.raw) == ("invalid", None, (), text)
        await ws.send_message(request("subscribe", "BTC-USDT"))
        assert await recv_text(ws) == ack("subscribe", "BTC-USDT", cid)


# -- observation ---------------------------------------------------------------------------


async def test_observation_fields(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    await trio.sleep(1)
    async with subscribed(exchange, "BTC-USDT") as (ws1, conn1):
        await trio.sleep(1)
        async with subscribed(exchange, "ETH-USDT") as (_, conn2):
            assert exchange.connections == [conn1, conn2]
            assert (conn1.opened_at, conn2.opened_at) == (1.0, 2.0)
            assert exchange.subscriptions() == {"BTC-USDT", "ETH-USDT"}
            await trio.sleep(1)
        assert (conn2.closed_at, conn2.close_code) == (3.0, 1000)
        assert exchange.connections == [conn1]
        assert exchange.subscriptions() == {"BTC-USDT"}
        await ws1.send_message("ping")
        assert await ws1.get_message() == "pong"
        assert [r.op for r in exchange.requests] == ["subscribe", "subscribe", "ping"]
        ids = [conn1.conn_id, conn2.conn_id, conn1.conn_id]
        assert [r.conn_id for r in exchange.requests] == ids
        assert [r.time for r in exchange.requests] == [1.0, 2.0, 3.0]
        assert conn1.requests == [exchange.requests[0], exchange.requests[2]]
        assert conn2.requests == [exchange.requests[1]]
        assert exchange.requests[0].raw == request("subscribe", "BTC-USDT")
    assert exchange.connections == []
    assert (conn1.closed_at, conn1.close_code) == (3.0, 1000)
    assert (exchange.connection_attempts, exchange.accepted_connections) == (2, 2)


async def test_wait_until(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange(tick_interval=0.25)

    async def client() -> None:
        await trio.sleep(1)
        async with subscribed(exchange, "BTC-USDT") as (ws, _):
            with pytest.raises(ConnectionClosed):
                while True:
                    await ws.get_message()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(client)
        await exchange.wait_until(lambda: exchange.accepted_connections == 1)
        assert trio.current_time() == 1.0
        await exchange.wait_until(lambda: exchange.pushes == 5)
        assert trio.current_time() == 2.0
        start = trio.current_time()
        await exchange.wait_until(lambda: True)  # already true: returns at once
        assert trio.current_time() == start
        exchange.drop_connections()
        await exchange.wait_until(lambda: not exchange.connections)
        nursery.cancel_scope.cancel()


async def test_exception_in_block_is_not_wrapped(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange()
    with pytest.raises(KeyError):
        async with subscribed(exchange, "BTC-USDT"):
            raise KeyError("mine")
    [] = exchange.connections


async def test_cancelling_the_block_cancels_the_server_side(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.1)
    with trio.move_on_after(1):
        async with subscribed(exchange, "BTC-USDT") as (_, conn):
            await trio.sleep_forever()
    assert (conn.closed_at, conn.close_code) == (1.0, 1000)
    pushes = exchange.pushes
    await trio.sleep(1)
    assert exchange.pushes == pushes  # no pusher survived the block


# -- over a real socket (real time, loopback, short bounds) --------------------------------


@pytest.mark.realtime
async def test_server_speaks_the_same_protocol() -> None:
    exchange = FakeExchange(tick_interval=0.05)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            assert url.startswith("ws://127.0.0.1:") and url.endswith("/ws/v5/public")
            async with trio_websocket.open_websocket_url(url) as ws:
                await ws.send_message("ping")
                assert await ws.get_message() == "pong"
                [conn] = exchange.connections
                await ws.send_message(request("subscribe", "BTC-USDT", req_id="1"))
                assert await recv_text(ws) == ack("subscribe", "BTC-USDT", conn.conn_id, "1")
                for _ in range(2):
                    push = await recv_json(ws)
                    assert list(push["data"][0]) == OKX_TICKER_KEYS
                await ws.send_message(b"\x01")
                while (reply := await recv_json(ws)).get("event") != "error":
                    pass
                assert reply["code"] == "60012"
            await exchange.wait_until(lambda: not exchange.connections)
            assert conn.close_code == 1000
            assert exchange.pushes >= 2


@pytest.mark.realtime
async def test_server_refuses_with_503() -> None:
    exchange = FakeExchange()
    exchange.refuse_connections(1)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            with pytest.raises(trio_websocket.ConnectionRejected) as info:
                async with trio_websocket.open_websocket_url(url):
                    pytest.fail("connected")  # pragma: no cover
            assert info.value.status_code == 503
            async with trio_websocket.open_websocket_url(url) as ws:
                await ws.send_message("ping")
                assert await ws.get_message() == "pong"
    assert (exchange.connection_attempts, exchange.accepted_connections) == (2, 1)


@pytest.mark.realtime
@pytest.mark.parametrize(("code", "reason"), [(1006, None), (4000, "bye")])
async def test_server_drop_really_closes(code: int, reason: str | None) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            async with trio_websocket.open_websocket_url(url, disconnect_timeout=1) as ws:
                await ws.send_message("ping")
                assert await ws.get_message() == "pong"
                [conn] = exchange.connections
                assert exchange.drop_connections(code, reason or "") == 1
                with pytest.raises(trio_websocket.ConnectionClosed) as info:
                    await ws.get_message()
                assert info.value.reason is not None
                assert (info.value.reason.code, info.value.reason.reason) == (code, reason)
            assert conn.close_code == code


@pytest.mark.realtime
async def test_leaving_the_server_aborts_open_connections() -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    stop = trio.Event()

    async def serve(*, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        async with open_fake_exchange_server(exchange) as url:
            task_status.started(url)
            await stop.wait()

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            url = await nursery.start(serve)
            async with trio_websocket.open_websocket_url(url, disconnect_timeout=1) as ws:
                await ws.send_message("ping")
                assert await ws.get_message() == "pong"
                [conn] = exchange.connections
                stop.set()
                with pytest.raises(trio_websocket.ConnectionClosed) as info:
                    await ws.get_message()
                assert info.value.reason is not None and info.value.reason.code == 1006
    assert conn.close_code == 1006
    assert exchange.connections == []


@pytest.mark.realtime
async def test_server_drop_is_not_held_up_by_a_client_that_stopped_reading() -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    chunk = "x" * 100_000
    with trio.fail_after(5):
        async with (
            open_fake_exchange_server(exchange) as url,
            trio_websocket.open_websocket_url(url, disconnect_timeout=1) as ws,
        ):
            await ws.send_message("ping")
            assert await ws.get_message() == "pong"
            # Far more than the socket buffers hold while nobody reads: the server's writer
            # blocks, and the drop has to happen anyway.
            for _ in range(300):
                exchange.send_raw(chunk)
            await trio.sleep(0.2)
            exchange.drop_connections()
            await trio.sleep(1.5)
            received = 0
            with pytest.raises(trio_websocket.ConnectionClosed) as info:
                while True:
                    await ws.get_message()
                    received += 1
            assert received < 300
            assert info.value.reason is not None and info.value.reason.code == 1006


async def test_default_epoch_comes_from_the_injected_wall_clock(
    autojump_clock: trio.testing.MockClock,
) -> None:
    await trio.sleep(2.5)
    exchange = FakeExchange(wall_clock=lambda: 1_700_000_000.0)
    # ts = epoch_ms + trio clock in ms: now, that is the injected wall clock exactly.
    assert exchange.epoch_ms + round(trio.current_time() * 1000) == 1_700_000_000_000
    assert exchange.wall_clock() == 1_700_000_000.0
