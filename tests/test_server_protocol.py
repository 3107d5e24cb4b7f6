"""The fake exchange's per-connection protocol, alone: no Trio run, no transport, numbers
for ``now`` (the way a client's sans-IO protocol can be paired with it)."""

from __future__ import annotations

import json
import math

from okx_trio._subscription import Subscription
from okx_trio.testing import FakeExchange, FakeServerProtocol

TICKERS = Subscription("tickers", "BTC-USDT")


def subscribe(*subs: Subscription, op: str = "subscribe") -> str:
    return json.dumps({"id": "7", "op": op, "args": [s.arg for s in subs]})


def protocol(**kwargs: object) -> tuple[FakeExchange, FakeServerProtocol]:
    exchange = FakeExchange(epoch_ms=1_700_000_000_000, **kwargs)  # type: ignore[arg-type]
    return exchange, exchange.server_protocol("public", now=0.0)


def test_subscribe_ack_then_pushes_on_the_cadence() -> None:
    exchange, proto = protocol(tick_interval=0.25, stagger_ms=0)
    [ack] = proto.receive(subscribe(TICKERS), 1.0)
    assert json.loads(ack) == {
        "id": "7",
        "event": "subscribe",
        "arg": TICKERS.arg,
        "connId": proto.record.conn_id,
    }
    assert proto.next_deadline() == 1.0
    [push] = proto.pushes_due(1.0)
    assert json.loads(push)["data"][0]["ts"] == "1700000001000"
    assert proto.pushes_due(1.2) == []
    assert proto.next_deadline() == 1.25
    # Called late (1.25 and 1.5 went by): one push, the current one, not a burst of three
    # that would make a driver on a loaded machine later still.
    assert len(proto.pushes_due(1.75)) == 1
    assert proto.next_deadline() == 2.0
    assert proto.record.pushes == 2 and exchange.pushes == 2
    assert [r.subscriptions for r in exchange.requests] == [(TICKERS,)]
    assert proto.receive(subscribe(TICKERS, op="unsubscribe"), 2.0)[0].count("unsubscribe") == 1
    assert proto.pushes_due(10.0) == [] and proto.record.subscribed == set()


def test_ping_errors_and_the_idle_close() -> None:
    _, proto = protocol(tick_interval=math.inf)
    assert proto.receive("ping", 5.0) == ["pong"]
    assert proto.next_deadline() == 35.0
    assert proto.close_due(34.9) is None
    assert proto.close_due(35.0) == (4004, "No data received in 30s.")
    [error] = proto.receive("{", 6.0)
    assert json.loads(error)["code"] == "60012"
    [error] = proto.receive(subscribe(Subscription("candle1m", "BTC-USDT")), 7.0)
    assert list(json.loads(error)) == ["id", "event", "msg", "code", "connId"]
    assert json.loads(error)["code"] == "64001"
    uly = json.dumps({"op": "subscribe", "args": [{"channel": "opt-summary", "uly": "BTC-USD"}]})
    [error] = proto.receive(uly, 7.5)
    assert json.loads(error)["code"] == "64000"
    proto.receive(subscribe(TICKERS), 8.0)
    assert proto.close_due(100.0) is None  # subscribed: never idle


def test_notice_close_silence_and_data_before_ack() -> None:
    exchange, proto = protocol(tick_interval=0.1, data_before_ack=True, idle_timeout=None)
    push, ack = proto.receive(subscribe(TICKERS), 0.0)
    assert "data" in json.loads(push) and json.loads(ack)["event"] == "subscribe"
    assert proto.next_deadline() == 0.1
    notice = proto.notice("64008", "upgrade", 1.0)
    assert json.loads(notice)["code"] == "64008"
    assert proto.next_deadline() == 0.1
    exchange.go_silent()
    assert proto.receive("ping", 2.0) == [] and proto.pushes_due(2.0) == []
    exchange.resume()
    assert len(proto.pushes_due(2.15)) == 1  # the schedule kept going while silent
    assert proto.close_due(60.9) is None
    assert proto.close_due(61.0) == (1001, "Service upgrade")
    proto.connection_lost()
    assert proto.next_deadline() == math.inf


def test_a_rate_limited_request_is_refused_whole() -> None:
    exchange, proto = protocol(tick_interval=math.inf, max_requests_per_hour=1)
    assert len(proto.receive(subscribe(TICKERS), 0.0)) == 1
    [refusal] = proto.receive(subscribe(Subscription("trades", "BTC-USDT")), 1.0)
    assert json.loads(refusal)["code"] == "60014"
    assert proto.record.subscribed == {TICKERS} and exchange.requests_refused_by_limit == 1
    assert len(proto.receive(subscribe(Subscription("trades", "BTC-USDT")), 3600.0)) == 1
