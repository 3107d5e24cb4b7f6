"""OkxProtocol's login, sans-IO: login first, subscribe what needs it only after OKX's answer,
a fresh timestamp per attempt, and each refusal handled as OKX's code means."""

from __future__ import annotations

import json
from typing import Any

import pytest

from okx_trio import ClientConfig, Credentials, Subscription
from okx_trio._protocol import (
    BecameStable,
    ConnectionFailed,
    LoginClockRefused,
    OkxProtocol,
    ProtocolEvent,
    Rejected,
)
from okx_trio._signing import LoginRequest, login_request

ORDERS = Subscription("orders", inst_type="ANY")
ACCOUNT = Subscription("account")
TICKER = Subscription("tickers", "BTC-USDT")
TBT = Subscription("books-l2-tbt", "BTC-USDT")
SECRET = "s3cr3t-" + "k" * 20
PASSPHRASE = "pass-" + "p" * 10


def credentials() -> Credentials:
    return Credentials("key-1234567890", SECRET, PASSPHRASE)


class Signer:
    """Makes login requests at a wall time the test moves on."""

    def __init__(self) -> None:
        self.wall = 1_800_000_000.0
        self.made: list[LoginRequest] = []

    def __call__(self) -> LoginRequest:
        request = login_request(credentials(), self.wall)
        self.made.append(request)
        self.wall += 1.0
        return request


def config(**changes: Any) -> ClientConfig:
    return ClientConfig(max_requests_per_hour=None, stale_after=None, jitter=0.0, **changes)


def ops(texts: list[str]) -> list[str]:
    return [json.loads(t)["op"] for t in texts]


def private(signer: Signer, subs: list[Subscription] | None = None) -> OkxProtocol:
    return OkxProtocol(
        subs or [ORDERS, ACCOUNT], config(), 0.0, signer=signer, login_required=True
    )


def login_ok() -> str:
    return json.dumps({"event": "login", "code": "0", "msg": "", "connId": "a4d3ae55"})


def login_error(code: str, msg: str = "Login failed.") -> str:
    return json.dumps({"event": "error", "code": code, "msg": msg, "connId": "a4d3ae55"})


def kinds(events: list[ProtocolEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_the_login_goes_first_and_subscriptions_wait_for_its_answer() -> None:
    signer = Signer()
    protocol = private(signer)
    (text,) = protocol.requests(0.0)
    arg = json.loads(text)["args"][0]
    assert json.loads(text)["op"] == "login"
    assert (arg["apiKey"], arg["passphrase"], arg["timestamp"]) == (
        "key-1234567890",
        PASSPHRASE,
        "1800000000",
    )
    assert protocol.requests(0.1) == []  # nothing is subscribed before OKX answers
    assert not protocol.settled and not protocol.logged_in
    events = protocol.receive(login_ok(), 0.2)
    assert kinds(events) == ["LoggedIn", "SubscriptionsChanged"]
    assert protocol.logged_in
    (subscribe,) = protocol.requests(0.2)
    assert json.loads(subscribe)["op"] == "subscribe"
    assert sorted(a["channel"] for a in json.loads(subscribe)["args"]) == ["account", "orders"]


def test_the_logged_text_masks_the_passphrase_and_the_signature() -> None:
    signer = Signer()
    protocol = private(signer)
    (text,) = protocol.requests(0.0)
    shown = protocol.loggable(text)
    assert PASSPHRASE not in shown and signer.made[0].text == text
    assert json.loads(text)["args"][0]["sign"] not in shown
    assert "key-1234567890" in shown


def test_a_public_connection_logs_in_only_for_login_channels_and_sends_the_rest_at_once() -> None:
    signer = Signer()
    protocol = OkxProtocol([TICKER, TBT], config(), 0.0, signer=signer)
    texts = protocol.requests(0.0)
    assert ops(texts) == ["login", "subscribe"]
    assert json.loads(texts[1])["args"] == [TICKER.arg]
    protocol.receive(login_ok(), 0.1)
    (later,) = protocol.requests(0.1)
    assert json.loads(later)["args"] == [TBT.arg]
    plain = OkxProtocol([TICKER], config(), 0.0, signer=signer)
    assert ops(plain.requests(0.0)) == ["subscribe"]  # no login channel: no login
    plain.set_subscriptions({TICKER, TBT})
    assert ops(plain.requests(1.0)) == ["login"]  # added later: it logs in then


@pytest.mark.parametrize("code", ["60005", "60007", "60024", "60032"])
def test_refused_credentials_are_fatal_and_never_retried(code: str) -> None:
    protocol = private(Signer())
    protocol.requests(0.0)
    (event,) = protocol.receive(login_error(code, "Invalid OK-ACCESS-KEY"), 0.3)
    assert isinstance(event, ConnectionFailed) and event.fatal
    assert event.reason == f"login refused: error {code}: Invalid OK-ACCESS-KEY"
    assert protocol.requests(1.0) == []


def test_60009_is_retried_once_with_a_fresh_timestamp_then_fatal() -> None:
    signer = Signer()
    protocol = private(signer)
    protocol.requests(0.0)
    assert kinds(protocol.receive(login_error("60009"), 0.1)) == ["SubscriptionsChanged"]
    (again,) = protocol.requests(0.1)
    assert json.loads(again)["op"] == "login"
    assert [r.timestamp for r in signer.made] == ["1800000000", "1800000001"]
    (event,) = protocol.receive(login_error("60009"), 0.2)
    assert isinstance(event, ConnectionFailed) and event.fatal


def test_a_clock_refusal_asks_for_the_offset_and_logs_in_again_once() -> None:
    signer = Signer()
    protocol = private(signer)
    protocol.requests(0.0)
    (event,) = protocol.receive(login_error("60006", "Timestamp request expired"), 0.1)
    assert event == LoginClockRefused("login refused: error 60006: Timestamp request expired")
    assert protocol.requests(0.2) == []  # nothing until the offset is measured
    protocol.clock_measured()
    assert ops(protocol.requests(0.5)) == ["login"]
    (second,) = protocol.receive(login_error("60006", "Timestamp request expired"), 0.6)
    assert isinstance(second, ConnectionFailed) and not second.fatal  # backoff, not fatal


def test_an_unanswered_login_fails_the_attempt_at_connection_timeout() -> None:
    protocol = private(Signer())
    protocol.requests(2.0)
    protocol.receive("pong", 25.0)  # the connection itself is alive
    assert not [e for e in protocol.poll(31.9) if isinstance(e, ConnectionFailed)]
    assert protocol.next_deadline() == 32.0
    (event,) = protocol.poll(32.0)
    assert isinstance(event, ConnectionFailed) and not event.fatal
    assert event.reason == "login unanswered for 30s"


def test_a_refused_login_on_the_public_endpoint_rejects_only_the_login_channels() -> None:
    protocol = OkxProtocol([TICKER, TBT], config(), 0.0, signer=Signer())
    protocol.requests(0.0)
    events = protocol.receive(login_error("60024", "Wrong passphrase"), 0.1)
    assert events == [Rejected(TBT, "login refused: error 60024: Wrong passphrase")]
    assert protocol.subscriptions == {TICKER}


def test_the_login_counts_against_the_request_budget() -> None:
    protocol = OkxProtocol(
        [ORDERS], ClientConfig(max_requests_per_hour=2), 0.0, signer=Signer(), login_required=True
    )
    protocol.requests(0.0)
    protocol.receive(login_ok(), 0.1)
    protocol.requests(0.1)
    assert protocol.request_budget(0.2) == 0


def test_without_credentials_no_login_is_sent() -> None:
    protocol = OkxProtocol([TICKER, TBT], config(), 0.0)
    (text,) = protocol.requests(0.0)
    assert json.loads(text)["op"] == "subscribe"  # OKX's 60011 then says why TBT is refused
    assert protocol.login is None


def test_a_connection_waiting_for_its_login_is_not_stable() -> None:
    protocol = OkxProtocol(
        [ORDERS], config(stable_after=10.0), 0.0, signer=Signer(), login_required=True
    )
    protocol.requests(0.0)
    protocol.receive("pong", 9.0)
    assert not any(isinstance(e, BecameStable) for e in protocol.poll(10.0))


def test_too_many_connections_on_a_private_channel_ends_it_without_a_retry_loop() -> None:
    protocol = private(Signer(), [ORDERS, ACCOUNT])
    protocol.requests(0.0)
    protocol.receive(login_ok(), 0.1)
    protocol.requests(0.1)
    for sub in (ORDERS, ACCOUNT):
        protocol.receive(json.dumps({"event": "subscribe", "arg": sub.arg, "connId": "x"}), 0.2)
    count = {"event": "channel-conn-count", "channel": "orders", "connCount": "2", "connId": "x"}
    assert protocol.receive(json.dumps(count), 0.3) == []
    count.update(event="channel-conn-count-error", connCount="30")
    (event,) = protocol.receive(json.dumps(count), 0.4)
    assert isinstance(event, Rejected) and event.sub == ORDERS
    assert "channel-conn-count-error" in event.reason and "30" in event.reason
    assert protocol.subscriptions == {ACCOUNT}
    assert protocol.requests(0.5) == []  # no unsubscribe of what OKX ended, no resubscribe
    assert protocol.settled
