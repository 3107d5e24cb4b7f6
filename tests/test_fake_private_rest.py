"""The fake exchange's signed REST routes for the reconcile (sans-IO), signed with the
client's own ``rest_headers``."""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

import pytest

from okx_trio import Credentials, Order
from okx_trio._decoders import decode_private_data
from okx_trio._reconcile_answers import (
    balances_answer,
    merge_orders,
    next_orders_query,
    orders_answer,
    orders_snapshot,
    positions_snapshot,
)
from okx_trio._signing import login_request, rest_headers
from okx_trio.testing import PRIVATE_REST_PATHS, FakeAccount, FakeExchange, handle_private_rest

EPOCH_MS = 1_700_000_000_000
WALL = EPOCH_MS / 1000


def make_credentials() -> Credentials:
    return Credentials(
        "k" + secrets.token_hex(8), secrets.token_urlsafe(24), "P" + secrets.token_hex(6)
    )


def setup(**options: Any) -> tuple[FakeExchange, Credentials, FakeAccount]:
    exchange = FakeExchange(tick_interval=math.inf, epoch_ms=EPOCH_MS)
    credentials = make_credentials()
    return exchange, credentials, exchange.add_account(credentials, **options)


def get(
    exchange: FakeExchange,
    credentials: Credentials,
    path: str,
    query: str = "",
    *,
    now: float = 0.0,
    wall: float | None = None,
    changes: dict[str, str | None] | None = None,
) -> tuple[int, dict[str, Any]]:
    request_path = path + (f"?{query}" if query else "")
    headers = rest_headers(
        credentials, "GET", request_path, None, WALL + now if wall is None else wall
    )
    for name, value in (changes or {}).items():
        key = name.replace("_", "-")
        if value is None:
            del headers[key]
        else:
            headers[key] = value
    status, body = handle_private_rest(exchange, "GET", path, query, headers, b"", now)
    parsed: dict[str, Any] = json.loads(body)
    return status, parsed


def test_pending_orders_newest_first_and_decoded_by_the_client() -> None:
    exchange, credentials, account = setup()
    first = account.place_order("BTC-USDT", "buy", "1", "30000")
    second = account.place_order("ETH-USDT-SWAP", "sell", "2", "2000")
    done = account.place_order("BTC-USDT", "buy", "1", "29000")
    account.fill_order(done)
    status, body = get(exchange, credentials, "/api/v5/trade/orders-pending", now=12.0)
    assert status == 200 and body["code"] == "0"
    assert [row["ordId"] for row in body["data"]] == [second, first]
    assert "fillFee" not in body["data"][0]  # not in REST answers
    snapshot = orders_snapshot(json.dumps(body), EPOCH_MS + 12_000)
    assert [(o.ord_id, o.state, o.fill_fee) for o in snapshot.orders] == [
        (second, "live", None),
        (first, "live", None),
    ]
    status, body = get(exchange, credentials, "/api/v5/trade/orders-pending", "instType=SPOT")
    assert [row["ordId"] for row in body["data"]] == [first]


def test_pending_orders_page_with_after_and_limit() -> None:
    exchange, credentials, account = setup()
    ids = [account.place_order("BTC-USDT", "buy", "1", "1") for _ in range(5)]
    path = "/api/v5/trade/orders-pending"
    _, body = get(exchange, credentials, path, "limit=2")
    page = orders_answer(json.dumps(body))
    assert [o.ord_id for o in page] == [ids[4], ids[3]]
    query = next_orders_query(page, limit=2)
    assert query == f"after={ids[3]}&limit=2"
    _, body = get(exchange, credentials, path, query, now=1.0)
    assert [row["ordId"] for row in body["data"]] == [ids[2], ids[1]]
    _, body = get(exchange, credentials, path, f"before={ids[3]}", now=2.0)
    assert [row["ordId"] for row in body["data"]] == [ids[4]]


def test_positions_and_balance() -> None:
    exchange, credentials, account = setup()
    account.set_position("BTC-USDT-SWAP", "2", "30000")
    account.set_position("ETH-USD-250627", "-1", "2000")
    account.set_balance("USDT", "50")
    status, body = get(exchange, credentials, "/api/v5/account/positions", now=3.0)
    assert status == 200
    snapshot = positions_snapshot(json.dumps(body), EPOCH_MS + 3000)
    assert [(p.inst_id, str(p.pos)) for p in snapshot.positions] == [
        ("BTC-USDT-SWAP", "2"),
        ("ETH-USD-250627", "-1"),
    ]
    assert snapshot.positions[0].p_time == EPOCH_MS + 3000
    _, body = get(exchange, credentials, "/api/v5/account/positions", "instType=FUTURES")
    assert [row["instId"] for row in body["data"]] == ["ETH-USD-250627"]
    _, body = get(exchange, credentials, "/api/v5/account/balance", "ccy=USDT")
    (balance,) = balances_answer(json.dumps(body))
    assert [(d.ccy, str(d.cash_bal)) for d in balance.details] == [("USDT", "50")]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"OK_ACCESS_KEY": None}, "50103"),
        ({"OK_ACCESS_PASSPHRASE": None}, "50104"),
        ({"OK_ACCESS_SIGN": None}, "50106"),
        ({"OK_ACCESS_TIMESTAMP": None}, "50107"),
        ({"OK_ACCESS_TIMESTAMP": "1700000000"}, "50112"),
        ({"OK_ACCESS_TIMESTAMP": "2023-13-40T00:00:00.000Z"}, "50112"),
        ({"OK_ACCESS_KEY": "unknown"}, "50111"),
        ({"OK_ACCESS_PASSPHRASE": "wrong"}, "50105"),
        ({"OK_ACCESS_SIGN": "c2lnbg=="}, "50113"),
    ],
)
def test_auth_refusals(changes: dict[str, str | None], code: str) -> None:
    exchange, credentials, _ = setup()
    status, body = get(exchange, credentials, "/api/v5/account/positions", changes=changes)
    assert (status, body["code"], body["data"]) == (401, code, [])
    assert credentials.reveal_passphrase() not in body["msg"]


@pytest.mark.parametrize(("skew", "code"), [(29.0, "0"), (31.0, "50102"), (-31.0, "50102")])
def test_the_timestamp_window(skew: float, code: str) -> None:
    exchange, credentials, _ = setup()
    _, body = get(exchange, credentials, "/api/v5/account/balance", now=50.0, wall=WALL + 50 + skew)
    assert body["code"] == code


def test_the_signature_covers_the_query() -> None:
    exchange, credentials, _ = setup()
    headers = rest_headers(
        credentials, "GET", "/api/v5/account/positions?instType=SWAP", None, WALL
    )
    status, body = handle_private_rest(
        exchange, "GET", "/api/v5/account/positions", "instType=FUTURES", headers, b"", 0.0
    )
    assert (status, json.loads(body)["code"]) == (401, "50113")
    # Headers are matched whatever their case; a mapping query is encoded in its order.
    lower = {name.lower(): value for name, value in headers.items()}
    status, _ = handle_private_rest(
        exchange.accounts,
        "GET",
        "/api/v5/account/positions",
        {"instType": "SWAP"},
        lower,
        None,
        0.0,
    )
    assert status == 200


def test_an_expired_key_and_a_refused_ip() -> None:
    exchange, credentials, account = setup(expired=True)
    assert get(exchange, credentials, "/api/v5/account/balance")[1]["code"] == "50119"
    account.expired, account.ip_allowed = False, False
    assert get(exchange, credentials, "/api/v5/account/balance")[1]["code"] == "50110"


def test_other_paths_methods_and_bad_parameters() -> None:
    exchange, credentials, _ = setup()
    assert {
        "/api/v5/trade/orders-pending",
        "/api/v5/account/positions",
        "/api/v5/account/balance",
    } == PRIVATE_REST_PATHS
    status, _ = handle_private_rest(exchange, "GET", "/api/v5/x", "", {}, b"", 0.0)
    assert status == 404
    status, _ = handle_private_rest(exchange, "POST", "/api/v5/account/balance", "", {}, b"", 0.0)
    assert status == 405
    for query, name in (
        ("limit=101", "limit"),
        ("instType=SPOTS", "instType"),
        ("after=x", "after"),
    ):
        status, body = get(exchange, credentials, "/api/v5/trade/orders-pending", query)
        assert (status, body["code"], body["msg"]) == (400, "51000", f"Parameter {name} error")
    status, body = get(exchange, credentials, "/api/v5/account/positions", "instType=SPOT")
    assert (status, body["msg"]) == (400, "Parameter instType error")
    status, _ = handle_private_rest(
        exchange, "GET", "/api/v5/account/balance", "", {}, b"\xff", 0.0
    )
    assert status == 400


def test_a_demo_key_needs_the_simulated_trading_header() -> None:
    exchange, credentials, _ = setup(demo=True)
    path = "/api/v5/account/balance"
    assert get(exchange, credentials, path)[1]["code"] == "50101"
    headers = rest_headers(credentials, "GET", path, None, WALL, demo=True)
    status, _ = handle_private_rest(exchange, "GET", path, "", headers, b"", 0.0)
    assert status == 200
    live = make_credentials()
    exchange.add_account(live)
    headers = rest_headers(live, "GET", path, None, WALL, demo=True)
    status, body = handle_private_rest(exchange, "GET", path, "", headers, b"", 0.0)
    assert (status, json.loads(body)["msg"]) == (401, "APIKey does not match current environment.")


def test_an_event_during_the_rest_flight_is_not_undone_by_the_snapshot() -> None:
    exchange, credentials, account = setup()
    first = account.place_order("BTC-USDT", "buy", "1", "30000", ts=EPOCH_MS)
    second = account.place_order("BTC-USDT", "buy", "1", "29000", ts=EPOCH_MS)
    client = exchange.server_protocol("private", 1.0)
    client.receive(login_request(credentials, WALL + 1).text, 1.0)
    subscribe = {"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]}
    client.receive(json.dumps(subscribe), 1.0)
    # The REST answer is computed (the request left at 1 s) ...
    _, body = get(exchange, credentials, "/api/v5/trade/orders-pending", now=1.0)
    snapshot = orders_snapshot(json.dumps(body), EPOCH_MS + 1000)
    # ... and before it arrives, the first order fills and a third is placed.
    account.fill_order(first, ts=EPOCH_MS + 1500)
    third = account.place_order("BTC-USDT", "sell", "1", "31000", ts=EPOCH_MS + 1600)
    events = [
        record
        for push in map(json.loads, client.pushes_due(2.0))
        for record in decode_private_data("orders", push["arg"], push)
        if isinstance(record, Order)
    ]
    assert [(e.ord_id, e.state) for e in events] == [(first, "filled"), (third, "live")]
    merged = merge_orders(snapshot, events)
    assert [o.ord_id for o in merged.orders] == [second, third]
    assert {o.ord_id for o in merged.orders} == {o.ord_id for o in account.open_orders()}
