"""The fake exchange's ``login`` op: OKX's signature rule, its timestamp window and codes.

Keys are made at run time; no secret is in any file. Sans-IO through
``exchange.server_protocol``, and once over the in-memory transport with the client's own
``login_request``.
"""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

import pytest
import trio
import trio.testing

from okx_trio import Credentials, Subscription
from okx_trio._signing import LoginFailure, classify_login_error, login_request
from okx_trio.testing import FakeExchange, FakeServerProtocol

EPOCH_MS = 1_700_000_000_000
WALL = EPOCH_MS / 1000  # the exchange's wall clock at now == 0


def make_credentials() -> Credentials:
    return Credentials(
        "k" + secrets.token_hex(8), secrets.token_urlsafe(24), "P" + secrets.token_hex(6)
    )


def exchange_with_account(**options: Any) -> tuple[FakeExchange, Credentials]:
    exchange = FakeExchange(tick_interval=math.inf, epoch_ms=EPOCH_MS)
    credentials = make_credentials()
    exchange.add_account(credentials, **options)
    return exchange, credentials


def answer(protocol: FakeServerProtocol, text: str, now: float = 0.0) -> dict[str, Any]:
    (reply,) = protocol.receive(text, now)
    parsed: dict[str, Any] = json.loads(reply)
    return parsed


def login_text(credentials: Credentials, **changes: str) -> str:
    request = json.loads(login_request(credentials, WALL).text)
    request["args"][0].update(changes)
    return json.dumps(request)


def test_a_signed_login_succeeds_with_okx_answer() -> None:
    exchange, credentials = exchange_with_account()
    protocol = exchange.server_protocol("private")
    reply = answer(protocol, login_request(credentials, WALL + 5).text, now=5.0)
    assert reply == {"event": "login", "code": "0", "msg": "", "connId": protocol.conn_id}
    assert list(reply) == ["event", "code", "msg", "connId"]
    assert protocol.private.logged_in and protocol.record.api_key == credentials.api_key


def test_the_login_is_recorded_without_the_passphrase_or_signature() -> None:
    exchange, credentials = exchange_with_account()
    protocol = exchange.server_protocol("private")
    request = login_request(credentials, WALL)
    answer(protocol, request.text)
    (recorded,) = exchange.requests
    assert recorded.op == "login"
    assert recorded.raw == request.masked_text.replace(" ", "")
    sign = json.loads(request.text)["args"][0]["sign"]
    assert credentials.reveal_passphrase() not in recorded.raw and sign not in recorded.raw
    assert credentials.reveal_passphrase() not in repr(exchange.accounts.get(credentials.api_key))


@pytest.mark.parametrize(
    ("offset", "code"),
    [(0.0, "0"), (29.0, "0"), (-29.0, "0"), (31.0, "60006"), (-31.0, "60006")],
)
def test_the_timestamp_window_is_30_seconds(offset: float, code: str) -> None:
    exchange, credentials = exchange_with_account()
    protocol = exchange.server_protocol("private")
    reply = answer(protocol, login_request(credentials, WALL + 100 + offset).text, now=100.0)
    assert reply["code"] == code
    if code != "0":
        assert (reply["event"], reply["msg"]) == ("error", "Timestamp request expired")
        assert classify_login_error(code) is LoginFailure.CLOCK


def test_a_reused_timestamp_is_refused_on_a_new_connection() -> None:
    exchange, credentials = exchange_with_account()
    text = login_request(credentials, WALL).text
    assert answer(exchange.server_protocol("private"), text)["code"] == "0"
    # A cached login replayed on reconnect (python-okx #16) fails this way.
    reply = answer(exchange.server_protocol("private", 1.0), text, now=1.0)
    assert (reply["code"], reply["msg"]) == ("60006", "Timestamp request expired")
    fresh = login_request(credentials, WALL + 1).text
    assert answer(exchange.server_protocol("private", 1.0), fresh, now=1.0)["code"] == "0"


def test_a_second_login_on_one_connection_is_60031() -> None:
    exchange, credentials = exchange_with_account()
    protocol = exchange.server_protocol("private")
    answer(protocol, login_request(credentials, WALL).text)
    reply = answer(protocol, login_request(credentials, WALL + 1).text, now=1.0)
    assert reply["code"] == "60031" and protocol.private.logged_in
    assert classify_login_error("60031") is LoginFailure.ALREADY_LOGGED_IN


def test_each_bad_credential_gets_okx_code() -> None:
    exchange, credentials = exchange_with_account()
    other = make_credentials()
    cases = {
        "60005": login_request(other, WALL).text,  # an unknown key
        "60024": login_text(credentials, passphrase="wrong"),
        "60007": login_request(
            Credentials(credentials.api_key, "not-the-secret", credentials.reveal_passphrase()),
            WALL,
        ).text,
        "60004": login_text(credentials, timestamp="yesterday"),
    }
    for code, text in cases.items():
        protocol = exchange.server_protocol("private")
        reply = answer(protocol, text)
        assert (reply["event"], reply["code"]) == ("error", code), code
        assert not protocol.private.logged_in
        assert credentials.reveal_passphrase() not in reply["msg"]
    for code in ("60005", "60024", "60007"):
        assert classify_login_error(code) is LoginFailure.CREDENTIALS


@pytest.mark.parametrize("timestamp", ["1e9", "inf", " 1700000000", "1700000000.x", "-1"])
def test_timestamps_that_are_not_unix_seconds_are_60004(timestamp: str) -> None:
    exchange, credentials = exchange_with_account()
    reply = answer(
        exchange.server_protocol("private"), login_text(credentials, timestamp=timestamp)
    )
    assert (reply["code"], reply["msg"]) == ("60004", "Invalid timestamp")


def test_a_timestamp_with_decimals_is_accepted() -> None:
    # The docs' JS example divides Date.now() by 1000; OKX accepts the decimals.
    exchange, credentials = exchange_with_account()
    timestamp = f"{WALL + 0.25:.3f}"
    sign = credentials.sign(timestamp + "GET/users/self/verify")
    text = login_text(credentials, timestamp=timestamp, sign=sign)
    assert answer(exchange.server_protocol("private"), text)["code"] == "0"


def test_an_expired_key_and_a_refused_ip() -> None:
    exchange, credentials = exchange_with_account(expired=True)
    reply = answer(exchange.server_protocol("private"), login_request(credentials, WALL).text)
    assert (reply["code"], reply["msg"]) == ("60032", "API key doesn't exist")
    account = exchange.accounts.get(credentials.api_key)
    assert account is not None
    account.expired, account.ip_allowed = False, False
    reply = answer(exchange.server_protocol("private"), login_request(credentials, WALL).text)
    assert (reply["code"], reply["msg"]) == ("60009", "Login failed.")


@pytest.mark.parametrize("field", ["apiKey", "passphrase", "timestamp", "sign"])
def test_a_missing_field_is_60027(field: str) -> None:
    exchange, credentials = exchange_with_account()
    request = json.loads(login_request(credentials, WALL).text)
    del request["args"][0][field]
    reply = answer(exchange.server_protocol("private"), json.dumps(request))
    assert (reply["code"], reply["msg"]) == ("60027", f"Parameter {field} can not be empty.")


def test_malformed_login_args_are_60012_without_secrets() -> None:
    exchange, credentials = exchange_with_account()
    protocol = exchange.server_protocol("private")
    passphrase = credentials.reveal_passphrase()
    for args in ("x", [], {"apiKey": "k", "passphrase": passphrase}, [[{"sign": passphrase}]]):
        reply = answer(protocol, json.dumps({"op": "login", "args": args}))
        assert reply["code"] == "60012" and reply["msg"].startswith("Illegal request: ")
        assert passphrase not in reply["msg"]
        assert exchange.requests[-1].op == "invalid"
        assert passphrase not in exchange.requests[-1].raw


def test_a_login_id_is_echoed() -> None:
    exchange, credentials = exchange_with_account()
    request = json.loads(login_request(credentials, WALL).text)
    reply = answer(exchange.server_protocol("private"), json.dumps({"id": "7", **request}))
    assert list(reply) == ["id", "event", "code", "msg", "connId"] and reply["id"] == "7"


def test_an_exchange_without_accounts_refuses_every_key() -> None:
    exchange = FakeExchange(tick_interval=math.inf, epoch_ms=EPOCH_MS)
    reply = answer(
        exchange.server_protocol("private"), login_request(make_credentials(), WALL).text
    )
    assert reply["code"] == "60005"


def test_login_counts_against_the_request_budget() -> None:
    exchange, credentials = exchange_with_account()
    exchange.max_requests_per_hour = 1
    protocol = exchange.server_protocol("private")
    answer(protocol, login_request(credentials, WALL).text)
    reply = answer(protocol, json.dumps({"op": "subscribe", "args": [{"channel": "account"}]}))
    assert reply["code"] == "60014"
    assert exchange.requests_refused_by_limit == 1


def test_private_channels_need_a_login_and_the_private_endpoint() -> None:
    exchange, credentials = exchange_with_account()
    protocol = exchange.server_protocol("private")
    subscribe = json.dumps({"id": "1", "op": "subscribe", "args": [{"channel": "account"}]})
    reply = answer(protocol, subscribe)
    assert (reply["code"], reply["msg"]) == ("60011", "Please log in")
    answer(protocol, login_request(credentials, WALL).text)
    tickers = json.dumps(
        {"op": "subscribe", "args": [{"channel": "tickers", "instId": "BTC-USDT"}]}
    )
    assert answer(protocol, tickers)["code"] == "60018"  # market data is not on /private
    public = exchange.server_protocol("public")
    answer(public, login_request(credentials, WALL + 1).text, now=1.0)
    assert answer(public, subscribe, now=1.0)["code"] == "60018"  # nor account on /public


def test_a_logged_in_public_connection_may_subscribe_login_only_books() -> None:
    exchange, credentials = exchange_with_account()
    public = exchange.server_protocol("public")
    books = json.dumps(
        {"id": "2", "op": "subscribe", "args": [{"channel": "books-l2-tbt", "instId": "BTC-USDT"}]}
    )
    assert answer(public, books)["code"] == "60011"
    answer(public, login_request(credentials, WALL).text)
    reply = public.receive(books, 0.0)
    assert json.loads(reply[0])["event"] == "subscribe"
    assert Subscription("books-l2-tbt", "BTC-USDT") in public.record.subscribed


PRIVATE = "wss://ws.okx.com:8443/ws/v5/private"


async def test_a_login_over_the_in_memory_transport(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf, epoch_ms=EPOCH_MS)
    credentials = make_credentials()
    account = exchange.add_account(credentials)
    await trio.sleep(3)
    async with exchange.connector(PRIVATE) as ws:
        (connection,) = exchange.connections
        assert connection.endpoint == "private"
        await ws.send_message(login_request(credentials, exchange.wall_clock()).text)
        reply = json.loads(await ws.get_message())
        assert reply == {"event": "login", "code": "0", "msg": "", "connId": connection.conn_id}
        assert trio.current_time() == 3.0
        subscribe = {
            "id": "1",
            "op": "subscribe",
            "args": [{"channel": "orders", "instType": "ANY"}],
        }
        await ws.send_message(json.dumps(subscribe))
        ack = json.loads(await ws.get_message())
        assert ack == {
            "id": "1",
            "event": "subscribe",
            "arg": {"channel": "orders", "instType": "ANY"},
            "connId": connection.conn_id,
        }
        count = json.loads(await ws.get_message())
        assert count == {
            "event": "channel-conn-count",
            "channel": "orders",
            "connCount": "1",
            "connId": connection.conn_id,
        }
        await trio.sleep(2)
        ord_id = account.place_order("BTC-USDT", "buy", "0.5", "30000")
        push = json.loads(await ws.get_message())
        assert push["arg"] == {"channel": "orders", "instType": "ANY", "uid": account.uid}
        (order,) = push["data"]
        assert (order["ordId"], order["state"], order["px"], order["sz"]) == (
            ord_id,
            "live",
            "30000",
            "0.5",
        )
        # The exchange's clock stamps it: epoch + 5 s of virtual time.
        assert order["cTime"] == str(EPOCH_MS + 5000) and trio.current_time() == 5.0
    assert connection.closed_at == 5.0
    assert account.channel_connections["orders"] == set()  # the count is freed
