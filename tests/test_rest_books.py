"""OKX's REST order book: parsing the answer (sans-IO) and fetching it over httpx on Trio."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from okx_trio._rest import RestClient, RestError
from okx_trio._rest_books import RestBook, books_params, parse_books_answer

ANSWER = {
    "code": "0",
    "msg": "",
    "data": [
        {
            "asks": [["41006.8", "0.60038921", "0", "1"]],
            "bids": [["41006.3", "0.30178218", "0", "2"]],
            "ts": "1629966436396",
            "seqId": 3235851742,
        }
    ],
}


def body(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def test_the_answer_of_okxs_docs_parses_with_its_strings_kept() -> None:
    book = parse_books_answer(200, body(ANSWER), "BTC-USDT")
    assert book == RestBook(
        3235851742,
        1629966436396,
        (("41006.3", "0.30178218", "0", "2"),),
        (("41006.8", "0.60038921", "0", "1"),),
    )


@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        (200, {"code": "51001", "msg": "Instrument ID does not exist"}, "OKX error 51001"),
        (429, {"code": "50011", "msg": "Too Many Requests"}, "HTTP 429 (OKX error 50011"),
        (404, b"<html>Not Found</html>", "HTTP 404 (<html>Not Found</html>)"),
        (200, b"not json", "not a JSON object"),
        (200, {"code": "0", "data": []}, "expected data to hold one book"),
        (200, {"code": "0", "data": [{"asks": [], "bids": [], "ts": "1"}]}, "seqId must be"),
        (200, {"code": "0", "data": [{"asks": [], "bids": [], "seqId": 1}]}, "ts must be"),
        (
            200,
            {
                "code": "0",
                "data": [{"asks": [["1", "x", "0", "1"]], "bids": [], "ts": "1", "seqId": 1}],
            },
            "asks: level",
        ),
    ],
    ids=["okx-error", "rate-limit", "html-404", "not-json", "no-book", "no-seq", "no-ts", "bad"],
)
def test_a_bad_answer_says_what_is_wrong(status: int, payload: Any, expected: str) -> None:
    raw = payload if isinstance(payload, bytes) else body(payload)
    with pytest.raises(RestError) as caught:
        parse_books_answer(status, raw, "BTC-USDT")
    assert "REST order book of BTC-USDT" in str(caught.value)
    assert expected in str(caught.value)


def test_the_depth_is_checked() -> None:
    assert books_params("BTC-USDT", 400) == {"instId": "BTC-USDT", "sz": "400"}
    with pytest.raises(ValueError, match=r"within 1\.\.400, got 401"):
        books_params("BTC-USDT", 401)


async def test_a_fetch_asks_okxs_route_on_the_configured_host() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ANSWER)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        rest = RestClient(http, "https://www.okx.com/", 5.0)
        book = await rest.fetch_book("BTC-USDT", 400)
    assert book.seq_id == 3235851742
    (request,) = seen
    assert str(request.url) == "https://www.okx.com/api/v5/market/books?instId=BTC-USDT&sz=400"
    assert (rest.requests, rest.failures) == (1, 0)


async def test_a_transport_failure_is_one_sentence() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        rest = RestClient(http, "https://www.okx.com", 5.0)
        with pytest.raises(RestError, match="REST order book of ETH-USDT: ConnectError"):
            await rest.fetch_book("ETH-USDT", 400)
    assert rest.failures == 1


async def test_no_answer_within_the_timeout_is_a_failure_at_exactly_that_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await trio.sleep(60)
        return httpx.Response(200, json=ANSWER)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        rest = RestClient(http, "https://www.okx.com", 5.0)
        start = trio.current_time()
        with pytest.raises(RestError, match="no answer within 5s"):
            await rest.fetch_book("BTC-USDT", 400)
        assert trio.current_time() - start == 5.0


async def test_fetches_keep_to_the_rate_budget(autojump_clock: trio.testing.MockClock) -> None:
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(trio.current_time())
        return httpx.Response(200, json=ANSWER)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        rest = RestClient(http, "https://www.okx.com", 5.0)
        for _ in range(25):
            await rest.fetch_book("BTC-USDT", 400)
    assert times[:20] == [0.0] * 20  # 20 per 2 s: half of OKX's 40, for other clients
    assert times[20:] == [2.0] * 5


async def test_a_client_made_here_is_closed_and_one_given_is_not() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    async with httpx.AsyncClient(transport=transport) as http:
        given = RestClient(http, "https://www.okx.com", 5.0)
        await given.aclose()
        assert not http.is_closed
    own = RestClient(None, "https://www.okx.com", 5.0)
    made = own._client()
    await own.aclose()
    assert made.is_closed
