"""The fake exchange's REST API: the sans-IO routes, the in-memory ``httpx`` transport (autojump
clock, exact virtual times), the loopback HTTP server (real time, short bounds), OKX's rate
limit, and the faults a client's retry is tested with."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from okx_trio._book import BookEngine
from okx_trio.testing import (
    FakeExchange,
    MarketSimulator,
    RateLimit,
    RestReply,
    RestRequest,
    RestRouter,
    okx_error,
    okx_ok,
    open_fake_exchange_server,
    open_fake_rest_server,
    register_route,
)

EPOCH = 1_700_000_000_000
PUBLIC = "wss://ws.okx.com:8443/ws/v5/public"
BOOKS = "/api/v5/market/books"


def calm(**kwargs: Any) -> FakeExchange:
    kwargs.setdefault("tick_interval", 0.1)
    kwargs.setdefault("epoch_ms", EPOCH)
    return FakeExchange(market=MarketSimulator(0, volatility=0.00003), **kwargs)


@asynccontextmanager
async def http_client(exchange: FakeExchange) -> AsyncIterator[httpx.AsyncClient]:
    transport = exchange.http_transport()
    async with httpx.AsyncClient(transport=transport, base_url="https://www.okx.com") as http:
        yield http


# -- the order book ------------------------------------------------------------------------


async def test_the_rest_book_is_okx_shaped_and_the_websockets_book(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm()
    engine = BookEngine("BTC-USDT", "books")
    async with http_client(exchange) as http, exchange.connector(PUBLIC) as ws:
        sub = {"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]}
        await ws.send_message(json.dumps(sub))
        last: dict[str, Any] = {}
        while trio.current_time() < 1.0 or not last:
            message = json.loads(await ws.get_message())
            if "data" in message:
                [last] = message["data"]
                engine.apply(
                    message["action"],
                    last["prevSeqId"],
                    last["seqId"],
                    int(last["ts"]),
                    last["bids"],
                    last["asks"],
                )
        assert trio.current_time() == 1.0
        response = await http.get(BOOKS, params={"instId": "BTC-USDT", "sz": "400"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        answer = response.json()
        assert list(answer) == ["code", "msg", "data"]
        assert (answer["code"], answer["msg"]) == ("0", "")
        [rest] = answer["data"]
        assert list(rest) == ["asks", "bids", "ts", "seqId"]
        assert isinstance(rest["seqId"], int) and isinstance(rest["ts"], str)
        # At the instant of the WebSocket's push, REST shows the same book.
        assert rest["seqId"] == last["seqId"] and rest["ts"] == last["ts"]
        book = engine.book()
        assert book is not None
        bids, asks = book.raw_depth(400)
        assert rest["bids"] == [[px, sz, "0", orders] for px, sz, orders in bids]
        assert rest["asks"] == [[px, sz, "0", orders] for px, sz, orders in asks]
        assert len(rest["bids"]) == len(rest["asks"]) == 400
        assert all(len(row) == 4 and row[2] == "0" for row in rest["bids"] + rest["asks"])
        # sz is the depth per side; the default is 1.
        top = (await http.get(BOOKS, params={"instId": "BTC-USDT", "sz": "5"})).json()["data"][0]
        assert top["bids"] == rest["bids"][:5] and top["asks"] == rest["asks"][:5]
        one = (await http.get(BOOKS, params={"instId": "BTC-USDT"})).json()["data"][0]
        assert len(one["bids"]) == len(one["asks"]) == 1
    assert exchange.rest_requests == {BOOKS: 3}


@pytest.mark.parametrize(
    ("query", "status", "code", "msg"),
    [
        ({}, 400, "50014", "Parameter instId can not be empty."),
        ({"instId": ""}, 400, "50014", "Parameter instId can not be empty."),
        ({"instId": "BTC-USDT", "sz": "0"}, 400, "51000", "Parameter sz error"),
        ({"instId": "BTC-USDT", "sz": "401"}, 400, "51000", "Parameter sz error"),
        ({"instId": "BTC-USDT", "sz": "ten"}, 400, "51000", "Parameter sz error"),
        ({"instId": "BTC-USDT", "sz": "-5"}, 400, "51000", "Parameter sz error"),
        ({"instId": "NOPE-USDT"}, 200, "51001", "Instrument ID does not exist"),
        ({"instId": "btc-usdt"}, 200, "51001", "Instrument ID does not exist"),
    ],
)
async def test_bad_book_requests_get_okxs_errors(
    autojump_clock: trio.testing.MockClock,
    query: dict[str, str],
    status: int,
    code: str,
    msg: str,
) -> None:
    async with http_client(calm()) as http:
        response = await http.get(BOOKS, params=query)
    assert response.status_code == status
    assert response.json() == {"code": code, "msg": msg, "data": []}


async def test_unknown_paths_and_methods_are_refused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with http_client(calm()) as http:
        missing = await http.get("/api/v5/market/nothing")
        wrong = await http.post(BOOKS, content=b"{}")
    assert missing.status_code == 404 and missing.json()["code"] == "50000"
    assert wrong.status_code == 405 and "POST" in wrong.json()["msg"]


async def test_the_book_route_allows_40_requests_per_2_s(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm()
    params = {"instId": "BTC-USDT"}
    async with http_client(exchange) as http:
        statuses = [(await http.get(BOOKS, params=params)).status_code for _ in range(40)]
        assert statuses == [200] * 40
        refused = await http.get(BOOKS, params=params)
        assert refused.status_code == 429
        assert refused.json() == {"msg": "Too Many Requests", "code": "50011"}
        await trio.sleep(1.999)
        assert (await http.get(BOOKS, params=params)).status_code == 429
        await trio.sleep(0.001)  # the first request counted until 2.0, not at 2.0
        assert trio.current_time() == 2.0
        assert (await http.get(BOOKS, params=params)).status_code == 200
        # The time route has its own budget.
        assert (await http.get("/api/v5/public/time")).status_code == 200
    assert exchange.rest_requests == {BOOKS: 43, "/api/v5/public/time": 1}
    assert exchange.rest.limited == {BOOKS: 2}


# -- time ----------------------------------------------------------------------------------


async def test_public_time_is_the_exchanges_wall_clock_and_can_be_skewed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm()
    async with http_client(exchange) as http:
        await trio.sleep(12.345)
        answer = (await http.get("/api/v5/public/time")).json()
        assert answer == {"code": "0", "msg": "", "data": [{"ts": str(EPOCH + 12_345)}]}
        assert int(answer["data"][0]["ts"]) == round(exchange.wall_clock() * 1000)
        exchange.clock_skew = -2.5
        skewed = (await http.get("/api/v5/public/time")).json()["data"][0]["ts"]
        assert int(skewed) == EPOCH + 12_345 - 2_500
    with pytest.raises(ValueError, match="clock_skew must be a finite number of seconds"):
        exchange.clock_skew = float("inf")


# -- faults --------------------------------------------------------------------------------


async def test_fail_rest_answers_the_next_requests_with_an_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm()
    exchange.fail_rest(2, status=502)
    async with http_client(exchange) as http:
        got = [(await http.get(BOOKS, params={"instId": "BTC-USDT"})) for _ in range(3)]
    assert [r.status_code for r in got] == [502, 502, 200]
    assert got[0].json() == {"code": "50001", "msg": "Service temporarily unavailable", "data": []}
    assert exchange.rest_failures == 2 and exchange.rest_requests == {BOOKS: 1}
    with pytest.raises(ValueError, match="n must be an int >= 0, got -1"):
        exchange.fail_rest(-1)
    with pytest.raises(ValueError, match="status must be an HTTP error status 400-599, got 200"):
        exchange.fail_rest(1, status=200)


async def test_delay_rest_answers_late_and_a_client_timeout_sees_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm()
    exchange.delay_rest(1.5, n=2)
    async with http_client(exchange) as http:
        await http.get("/api/v5/public/time")
        assert trio.current_time() == 1.5
        with trio.move_on_after(1.0) as scope:  # a client that gives up after 1 s
            await http.get("/api/v5/public/time")
        assert scope.cancelled_caught and trio.current_time() == 2.5
        await http.get("/api/v5/public/time")  # the delays are used up
        assert trio.current_time() == 2.5
    assert exchange.rest_requests == {"/api/v5/public/time": 2}  # the abandoned one is not
    with pytest.raises(ValueError, match="seconds must be a finite number >= 0, got -1"):
        exchange.delay_rest(-1)


# -- the route table -----------------------------------------------------------------------


def _balance(request: RestRequest) -> RestReply:
    if request.headers.get("ok-access-key") != "key":
        return okx_error("50113", "Invalid Sign", 401)
    return okx_ok([{"totalEq": "1", "at": request.now, "q": dict(request.query)}])


async def test_routes_can_be_registered_and_a_failing_handler_is_a_500(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm()
    register_route(exchange.rest, "GET", "/api/v5/account/balance", _balance, limit=RateLimit(1, 1))

    def broken(request: RestRequest) -> RestReply:
        raise KeyError("oops")

    register_route(exchange.rest, "POST", "/api/v5/trade/order", broken)
    assert ("GET", "/api/v5/account/balance") in exchange.rest.routes
    async with http_client(exchange) as http:
        await trio.sleep(3.0)
        ok = await http.get("/api/v5/account/balance?ccy=BTC", headers={"OK-ACCESS-KEY": "key"})
        assert ok.json()["data"] == [{"totalEq": "1", "at": 3.0, "q": {"ccy": "BTC"}}]
        assert (await http.get("/api/v5/account/balance")).status_code == 429
        failed = await http.post("/api/v5/trade/order", content=b"{}")
    assert failed.status_code == 500 and failed.json()["code"] == "50026"
    assert "KeyError" in failed.json()["msg"]


def test_the_router_is_sans_io_and_checks_its_routes() -> None:
    router = RestRouter()
    router.add("GET", "/x/", lambda r: okx_ok([r.query["a"]]))
    reply = router.handle(RestRequest("GET", "/x", {"a": "1"}, {}, b"", 0.0))
    assert reply == RestReply(200, b'{"code":"0","msg":"","data":["1"]}')
    secret = RestRequest("GET", "/x", {}, {"ok-access-passphrase": "hunter2"}, b"hunter2", 1.0)
    assert "hunter2" not in repr(secret)
    with pytest.raises(ValueError, match="method must be upper-case, like 'GET', got 'get'"):
        router.add("get", "/y", lambda r: okx_ok([]))
    with pytest.raises(ValueError, match="path must start with '/' and hold no query"):
        router.add("GET", "y?z=1", lambda r: okx_ok([]))
    with pytest.raises(ValueError, match="requests must be an int >= 1, got 0"):
        RateLimit(0, 1.0)
    with pytest.raises(ValueError, match="window must be a number > 0, got 0"):
        RateLimit(1, 0)


# -- loopback ------------------------------------------------------------------------------


async def test_the_loopback_server_answers_rest_next_to_the_websocket() -> None:
    exchange = FakeExchange(tick_interval=0.05)
    assert exchange.rest_url is None
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as ws_url:
            rest_url = exchange.rest_url
            assert rest_url is not None and rest_url.startswith("http://127.0.0.1:")
            assert rest_url.rsplit(":", 1)[1] != ws_url.split(":")[2].split("/")[0]
            async with httpx.AsyncClient(base_url=rest_url, timeout=5.0) as http:
                books = await http.get(BOOKS, params={"instId": "ETH-USDT", "sz": "400"})
                assert books.status_code == 200
                [rest] = books.json()["data"]
                assert len(rest["bids"]) == len(rest["asks"]) == 400
                times = [(await http.get("/api/v5/public/time")).status_code for _ in range(11)]
                assert times == [200] * 10 + [429]  # 10 per 2 s, per peer IP
                bad = await http.get(BOOKS, params={"instId": "ETH-USDT", "sz": "0"})
                assert bad.status_code == 400 and bad.json()["code"] == "51000"
        assert exchange.rest_url is None
    assert exchange.rest_requests == {BOOKS: 2, "/api/v5/public/time": 11}


async def test_a_standalone_rest_server_survives_garbage() -> None:
    exchange = FakeExchange(tick_interval=0.05)
    with trio.fail_after(10):
        async with open_fake_rest_server(exchange) as url:
            assert exchange.rest_url == url
            host, port = url.removeprefix("http://").split(":")
            stream = await trio.open_tcp_stream(host, int(port))
            await stream.send_all(b"NOT HTTP AT ALL\r\n\r\n")
            reply = b""
            while chunk := await stream.receive_some():
                reply += chunk
            assert reply.startswith(b"HTTP/1.1 400")
            await stream.aclose()
            async with httpx.AsyncClient(base_url=url, timeout=5.0) as http:
                answer = (await http.get("/api/v5/public/time")).json()
                assert answer["code"] == "0"


async def test_a_book_seeds_from_loopback_rest_and_continues_on_the_loopback_websocket() -> None:
    from trio_websocket import open_websocket_url

    exchange = FakeExchange(
        tick_interval=0.05, book_snapshots=False, market=MarketSimulator(0, volatility=0.00003)
    )
    engine = BookEngine("BTC-USDT", "books")
    engine.begin_rest_seed()
    outcomes: list[str] = []
    with trio.fail_after(10):
        async with (
            open_fake_exchange_server(exchange) as ws_url,
            open_websocket_url(ws_url) as ws,
            httpx.AsyncClient(base_url=str(exchange.rest_url), timeout=5.0) as http,
        ):
            sub = {"op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT"}]}
            await ws.send_message(json.dumps(sub))

            async def apply_next() -> None:
                message = json.loads(await ws.get_message())
                if "data" in message:
                    [data] = message["data"]
                    result = engine.apply(
                        message["action"],
                        data["prevSeqId"],
                        data["seqId"],
                        int(data["ts"]),
                        data["bids"],
                        data["asks"],
                    )
                    outcomes.append(result.outcome.value)

            while engine.buffered < 3:
                await apply_next()
            answer = await http.get(BOOKS, params={"instId": "BTC-USDT", "sz": "400"})
            [rest] = answer.json()["data"]
            seeded = engine.apply_rest_snapshot(
                rest["seqId"], int(rest["ts"]), rest["bids"], rest["asks"]
            )
            assert seeded.value == "ok"
            while len(outcomes) < 40:
                await apply_next()
    assert engine.valid
    assert set(outcomes) <= {"buffered", "applied", "skipped"}
    assert outcomes[-10:] == ["applied"] * 10
