"""OkxProtocol, sans-IO: messages in, events and requests out, time passed in as a number."""

from __future__ import annotations

import json
from typing import Any

import pytest

from okx_trio import ClientConfig, Subscription, Ticker
from okx_trio._protocol import (
    BecameStable,
    BudgetSpent,
    ConnectionFailed,
    Garbage,
    OkxProtocol,
    ProtocolEvent,
    Records,
    Rejected,
    StaleResubscribed,
    SubscriptionsChanged,
    UpgradeAnnounced,
)

BTC = Subscription("tickers", "BTC-USDT")
ETH = Subscription("tickers", "ETH-USDT")
TRADES = Subscription("trades", "BTC-USDT")
FUNDING = Subscription("funding-rate", "BTC-USDT-SWAP")


def config(**changes: Any) -> ClientConfig:
    return ClientConfig(max_requests_per_hour=None, **changes)


def ack(sub: Subscription, req_id: str | None = "1", op: str = "subscribe") -> str:
    out: dict[str, Any] = {} if req_id is None else {"id": req_id}
    out.update(event=op, arg=sub.arg, connId="abcd1234")
    return json.dumps(out, separators=(",", ":"))


def ticker_push(inst_id: str, ts: int, last: str = "100") -> str:
    data = {"instType": "SPOT", "instId": inst_id, "last": last, "ts": str(ts)}
    return json.dumps(
        {"arg": {"channel": "tickers", "instId": inst_id}, "data": [data]},
        separators=(",", ":"),
    )


def subscribed(subs: list[Subscription], **changes: Any) -> OkxProtocol:
    protocol = OkxProtocol(subs, config(**changes), 0.0)
    (request,) = protocol.requests(0.0)
    req_id = json.loads(request)["id"]
    for sub in subs:
        protocol.receive(ack(sub, req_id), 0.0)
    assert protocol.settled
    return protocol


def records(events: list[ProtocolEvent]) -> list[Any]:
    return [r for e in events if isinstance(e, Records) for r in e.records]


def test_a_new_connection_sends_one_subscribe_for_everything_in_okx_format() -> None:
    protocol = OkxProtocol([TRADES, ETH, BTC], config(), 0.0)
    (text,) = protocol.requests(0.0)
    assert json.loads(text) == {
        "id": "1",
        "op": "subscribe",
        "args": [
            {"channel": "tickers", "instId": "BTC-USDT"},
            {"channel": "tickers", "instId": "ETH-USDT"},
            {"channel": "trades", "instId": "BTC-USDT"},
        ],
    }
    assert protocol.requests(0.0) == []  # in flight: nothing more to send
    assert not protocol.settled


def test_acks_map_back_by_the_whole_arg_not_by_instrument() -> None:
    protocol = OkxProtocol([BTC, TRADES], config(), 0.0)
    protocol.requests(0.0)
    assert protocol.receive(ack(TRADES), 0.5) == [SubscriptionsChanged()]
    assert protocol.acknowledged == {TRADES}  # trades:BTC-USDT, not tickers:BTC-USDT
    protocol.receive(ack(BTC), 0.5)
    assert protocol.acknowledged == {BTC, TRADES}
    assert protocol.settled


def test_ticker_pushes_become_records_and_others_are_ignored() -> None:
    protocol = subscribed([BTC])
    events = protocol.receive(ticker_push("BTC-USDT", 1000, "97000.5"), 1.0)
    (ticker,) = records(events)
    assert isinstance(ticker, Ticker)
    assert (ticker.inst_id, str(ticker.last), ticker.ts) == ("BTC-USDT", "97000.5", 1000)
    assert protocol.receive(ticker_push("ETH-USDT", 1000), 1.0) == []
    assert (protocol.ticks_received, protocol.records_received) == (1, 1)


def test_data_before_its_ack_is_accepted() -> None:
    protocol = OkxProtocol([BTC], config(), 0.0)
    protocol.requests(0.0)
    assert len(records(protocol.receive(ticker_push("BTC-USDT", 5), 0.1))) == 1


def test_a_refused_argument_rejects_that_subscription_only() -> None:
    bogus = Subscription("trades", "FOO-BAR")
    protocol = OkxProtocol([BTC, bogus], config(), 0.0)
    (text,) = protocol.requests(0.0)
    req_id = json.loads(text)["id"]
    protocol.receive(ack(BTC, req_id), 0.1)
    error = {
        "id": req_id,
        "event": "error",
        "msg": "Wrong URL or channel:trades,instId:FOO-BAR doesn't exist.",
        "code": "60018",
        "connId": "abcd1234",
    }
    events = protocol.receive(json.dumps(error), 0.2)
    assert events[0] == Rejected(bogus, "60018 " + error["msg"])
    assert protocol.subscriptions == {BTC}
    assert protocol.settled  # the connection goes on


def test_a_channel_on_the_wrong_endpoint_is_rejected_with_okx_text() -> None:
    candle = Subscription("candle1m", "BTC-USDT")
    protocol = OkxProtocol([candle], config(), 0.0)
    (text,) = protocol.requests(0.0)
    error = {
        "id": json.loads(text)["id"],
        "event": "error",
        "msg": "channel:candle1m,instId:BTC-USDT doesn't exist, use the business endpoint",
        "code": "64001",
    }
    (rejected, changed) = protocol.receive(json.dumps(error), 0.1)
    assert isinstance(rejected, Rejected) and rejected.sub == candle
    assert rejected.reason.startswith("64001 ")
    assert changed == SubscriptionsChanged()


def test_heartbeat_ping_then_timeout_at_exact_times() -> None:
    protocol = subscribed([BTC], ping_interval=20.0, connection_timeout=30.0)
    assert protocol.next_deadline() == 20.0
    assert protocol.ping(19.9) is None
    assert protocol.ping(20.0) == "ping"
    assert protocol.next_deadline() == 30.0
    assert protocol.poll(29.9) == []
    assert protocol.poll(30.0) == [
        ConnectionFailed("heartbeat timeout (no message for 30s)", heartbeat_miss=True)
    ]


def test_an_unanswered_request_fails_the_connection_after_the_timeout() -> None:
    protocol = OkxProtocol([BTC], config(connection_timeout=30.0), 0.0)
    protocol.requests(0.0)
    protocol.receive("pong", 10.0)  # the connection is alive; the request is not answered
    assert protocol.poll(29.0) == []
    assert protocol.poll(30.0) == [ConnectionFailed("subscription request unanswered for 30s")]


def test_a_silent_ticker_is_resubscribed_but_a_quiet_funding_rate_is_not() -> None:
    protocol = subscribed([BTC, FUNDING], stale_after=120.0)
    for t in range(10, 120, 10):
        protocol.receive("pong", float(t))  # the connection is alive throughout
    protocol.poll(110.0)  # stable by now: only the heartbeat and the stale clock remain
    assert protocol.next_deadline() == min(120.0, protocol.heartbeat.next_ping_at())
    (event,) = [e for e in protocol.poll(120.0) if not isinstance(e, BecameStable)]
    assert event == StaleResubscribed((BTC,), 120.0)
    (unsubscribe,) = protocol.requests(120.0)
    assert json.loads(unsubscribe)["op"] == "unsubscribe"
    assert json.loads(unsubscribe)["args"] == [BTC.arg]


def test_the_request_budget_holds_changes_back_and_says_so_once() -> None:
    protocol = OkxProtocol([BTC], ClientConfig(max_requests_per_hour=1), 0.0)
    assert len(protocol.requests(0.0)) == 1
    protocol.receive(ack(BTC), 0.1)
    protocol.set_subscriptions([BTC, ETH])
    assert not protocol.wants_to_send(1.0)
    assert protocol.requests(1.0) == []
    assert [e for e in protocol.poll(1.0) if isinstance(e, BudgetSpent)] == [
        BudgetSpent(1, 3600.0)
    ]
    assert not [e for e in protocol.poll(2.0) if isinstance(e, BudgetSpent)]
    assert protocol.next_deadline() <= 3600.0
    assert protocol.wants_to_send(3600.0)
    assert len(protocol.requests(3600.0)) == 1
    assert protocol.requests_delayed == 1


@pytest.mark.parametrize("code", ["60005", "60007", "60024"])
def test_refused_credentials_are_fatal(code: str) -> None:
    protocol = subscribed([BTC])
    (event,) = protocol.receive(json.dumps({"event": "error", "code": code, "msg": "no"}), 1.0)
    assert isinstance(event, ConnectionFailed) and event.fatal


def test_an_upgrade_notice_is_announced() -> None:
    protocol = subscribed([BTC])
    notice = {"event": "notice", "code": "64008", "msg": "closing soon", "connId": "a"}
    assert protocol.receive(json.dumps(notice), 1.0) == [UpgradeAnnounced("64008", "closing soon")]


def test_garbage_is_counted_and_reported_never_raised() -> None:
    protocol = subscribed([BTC])
    junk_messages: list[str | bytes] = [
        "not json",
        b"\x00",
        "[1]",
        '{"arg":{"channel":"tickers"},"data":[{}]}',
    ]
    for junk in junk_messages:
        (event,) = protocol.receive(junk, 1.0)
        assert isinstance(event, Garbage)
    assert protocol.bad_messages == 4


def test_a_successor_holds_records_until_promoted_then_hands_on_only_new_ones() -> None:
    protocol = OkxProtocol([BTC, ETH], config(), 0.0, delivering=False)
    (text,) = protocol.requests(0.0)
    req_id = json.loads(text)["id"]
    protocol.receive(ack(BTC, req_id), 0.0)
    protocol.receive(ack(ETH, req_id), 0.0)
    assert protocol.receive(ticker_push("BTC-USDT", 1000), 0.1) == []  # held, not delivered
    assert not protocol.ready  # ETH has not ticked here yet
    assert protocol.receive(ticker_push("ETH-USDT", 1000), 0.1) == [SubscriptionsChanged()]
    assert protocol.ready
    # The old connection had delivered BTC up to ts 1000 and ETH up to 900.
    handed = protocol.start_delivering({BTC: (1000,), ETH: (900,)})
    assert [(r.sub, [t.ts for t in r.records]) for r in handed] == [(ETH, [1000])]
    # From now on it delivers, still never at or before what the old one delivered.
    assert records(protocol.receive(ticker_push("BTC-USDT", 1000), 0.2)) == []
    assert [t.ts for t in records(protocol.receive(ticker_push("BTC-USDT", 1001), 0.3))] == [1001]


def test_a_lost_connection_forgets_the_server_side() -> None:
    protocol = subscribed([BTC, TRADES])
    protocol.connection_lost()
    assert protocol.acknowledged == frozenset()
    assert protocol.subscriptions == {BTC, TRADES}  # what is wanted survives


def test_stable_after_the_stable_period_once_settled() -> None:
    protocol = subscribed([BTC], stable_after=30.0)
    assert protocol.next_deadline() <= 30.0
    protocol.receive("pong", 15.0)
    assert BecameStable() in protocol.poll(30.0)
    assert BecameStable() not in protocol.poll(31.0)
