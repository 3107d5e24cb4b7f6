"""Private channels' records, field by field against OKX's documentation samples, and the
REST answers of the reconcile."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

import okx_trio
from okx_trio import (
    AccountGreeks,
    Balance,
    BalanceAndPosition,
    BalanceDetail,
    CashBalance,
    Fill,
    LiquidationWarning,
    Order,
    OrdersSnapshot,
    Position,
    PositionChange,
    PositionsSnapshot,
    TradeRef,
)
from okx_trio._decoders import (
    PRIVATE_RECORD_TYPES,
    PushError,
    decode_data,
    decode_private_data,
    decode_push_text,
)
from okx_trio._okx import CHANNELS
from okx_trio._private_decoders import decode_position
from okx_trio._reconcile_answers import (
    RestAnswerError,
    balances_answer,
    join_orders,
    merge_orders,
    merge_positions,
    next_orders_query,
    orders_answer,
    orders_snapshot,
    positions_snapshot,
)

from .conftest import CAPTURES

D = Decimal


def _samples() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for line in (CAPTURES / "okx-docs-samples.jsonl").read_text(encoding="utf-8").splitlines():
        sample = json.loads(line)
        if sample["kind"] == "push" and sample["channel"] not in out:
            out[sample["channel"]] = sample["message"]
    return out


SAMPLES = _samples()


def decode(channel: str, message: dict[str, Any] | None = None) -> tuple[Any, ...]:
    message = SAMPLES[channel] if message is None else message
    records = decode_private_data(channel, message["arg"], message)
    # Not market data: the public entry points do not take private channels.
    assert decode_push_text(channel, json.dumps(message)) is None
    with pytest.raises(PushError, match="not handled"):
        decode_data(channel, message["arg"], message)
    return records


def test_orders_sample() -> None:
    (order,) = decode("orders")
    assert order == Order(
        inst_type="SPOT",
        inst_id="BTC-USDT",
        ord_id="452197707845865472",
        cl_ord_id="",
        tag="",
        px=D("31527.1"),
        sz=D("0.001"),
        ord_type="limit",
        side="sell",
        pos_side="",
        td_mode="cash",
        lever=D("0"),
        reduce_only=False,
        state="filled",
        acc_fill_sz=D("0.001"),
        avg_px=D("31527.1"),
        fill_px=D("31527.1"),
        fill_sz=D("0.001"),
        fill_time=1654084353263,
        fill_fee=D("-0.02522168"),
        fill_fee_ccy="USDT",
        fill_pnl=D("0.01"),
        trade_id="242589207",
        exec_type="M",
        fee=D("-0.02522168"),
        fee_ccy="USDT",
        rebate=D("0"),
        rebate_ccy="BTC",
        pnl=D("0"),
        category="normal",
        source="",
        cancel_source="",
        amend_source="",
        req_id="",
        amend_result="",
        code="0",
        msg="",
        c_time=1654084334977,
        u_time=1654084353264,
    )
    assert order.is_final


def test_fills_sample() -> None:
    assert decode("fills") == (
        Fill(
            inst_id="BTC-USDT-SWAP",
            fill_sz=D("100"),
            fill_px=D("70000"),
            side="buy",
            ts=1705449605015,
            ord_id="680800019749904384",
            cl_ord_id="1234567890",
            trade_id="12345",
            exec_type="T",
            count=10,
        ),
    )


def test_account_sample() -> None:
    (balance,) = decode("account")
    assert balance.event_type == "snapshot"
    assert (balance.u_time, balance.total_eq, balance.adj_eq) == (
        1705564223311,
        D("55868.06403501676"),
        D("55444.12216906034"),
    )
    assert (balance.iso_eq, balance.avail_eq, balance.ord_froz) == (
        D(0),
        D("55444.12216906034"),
        D(0),
    )
    assert (balance.imr, balance.mmr, balance.borrow_froz) == (D(0), D(0), D(0))
    assert balance.mgn_ratio is None  # OKX's "": no value, not zero
    assert (balance.notional_usd, balance.upl) == (D(0), D(0))
    assert balance.details == (
        BalanceDetail(
            ccy="USDT",
            eq=D("4892.951170691435"),
            cash_bal=D("4750.426970691436"),
            avail_bal=D("4734.371190691436"),
            frozen_bal=D("158.57998"),
            ord_frozen=D("0"),
            avail_eq=D("4734.371190691435"),
            dis_eq=D("4889.379316336831"),
            eq_usd=D("4889.379316336831"),
            liab=D("0"),
            upl=D("-7.475800000000003"),
            u_time=1705564213903,
        ),
    )


def test_positions_sample_is_one_snapshot() -> None:
    (snapshot,) = decode("positions")
    assert type(snapshot) is PositionsSnapshot
    assert (snapshot.ts, snapshot.source) == (1619507761462, "push")
    (position,) = snapshot.positions
    assert position == Position(
        inst_type="FUTURES",
        inst_id="ETH-USD-210430",
        pos_id="307173036051017730",
        mgn_mode="isolated",
        pos_side="long",
        pos=D("1"),
        avail_pos=D("1"),
        avg_px=D("2566.31"),
        upl=D("-0.0000009932766034"),
        upl_ratio=D("-0.0025490556801078"),
        lever=D("10"),
        liq_px=D("2352.8496681818233"),
        mark_px=D("2353.849"),
        margin=D("0.0003896645377994"),
        mgn_ratio=D("11.731726509588816"),
        imr=None,
        mmr=D("0.0000311811092368"),
        notional_usd=D("2276.2546609009605"),
        adl="1",
        realized_pnl=D("0.001"),
        pnl=D("0.0011"),
        fee=D("-0.0001"),
        funding_fee=D("0"),
        liq_penalty=D("0"),
        ccy="ETH",
        pos_ccy="",
        trade_id="109844",
        c_time=1619507758793,
        u_time=1619507761462,
        p_time=1619507761462,
        event_type="snapshot",
    )


def test_positions_event_update_is_positions_and_empty_snapshot_is_empty() -> None:
    update = copy.deepcopy(SAMPLES["positions"])
    update["eventType"] = "event_update"
    del update["curPage"], update["lastPage"]
    (position,) = decode("positions", update)
    assert type(position) is Position and position.event_type == "event_update"
    empty = {**SAMPLES["positions"], "data": []}
    assert decode("positions", empty) == (PositionsSnapshot((), None, "push"),)
    with pytest.raises(PushError, match="non-empty array"):
        decode("positions", {**update, "data": []})


def test_balance_and_position_sample() -> None:
    assert decode("balance_and_position") == (
        BalanceAndPosition(
            p_time=1597026383085,
            event_type="snapshot",
            balances=(CashBalance("BTC", D("1"), 1597026383085),),
            positions=(
                PositionChange(
                    pos_id="1111111111",
                    trade_id="2",
                    inst_id="BTC-USD-191018",
                    inst_type="FUTURES",
                    mgn_mode="cross",
                    pos_side="long",
                    pos=D("10"),
                    ccy="BTC",
                    pos_ccy="",
                    avg_px=D("3320"),
                    u_time=1597026383085,
                ),
            ),
            trades=(TradeRef("BTC-USD-191018", "2"),),
        ),
    )


def test_liquidation_warning_sample() -> None:
    assert decode("liquidation-warning") == (
        LiquidationWarning(
            inst_type="FUTURES",
            inst_id="ETH-USD-210430",
            pos_id="307173036051017730",
            mgn_mode="isolated",
            pos_side="long",
            pos=D("1"),
            pos_ccy="",
            ccy="ETH",
            lever=D("10"),
            mark_px=D("2353.849"),
            mgn_ratio=D("11.731726509588816"),
            c_time=1619507758793,
            u_time=1619507761462,
            p_time=1619507761462,
        ),
    )


def test_account_greeks_sample() -> None:
    assert decode("account-greeks") == (
        AccountGreeks(
            ccy="BTC",
            delta_bs=D("1.1246665401944310"),
            delta_pa=D("-0.0074076183688949"),
            gamma_bs=D("0.0000000000000000"),
            gamma_pa=D("0.0148152367377899"),
            theta_bs=D("2.0356991946421226"),
            theta_pa=D("-0.0000000200174309"),
            vega_bs=D("0.0000000000000000"),
            vega_pa=D("0.0000000000000000"),
            ts=1729179082006,
        ),
    )


def test_an_assembled_account_snapshot_is_one_balance_with_every_page() -> None:
    first = copy.deepcopy(SAMPLES["account"]["data"][0])
    second = copy.deepcopy(first)
    second["details"][0]["ccy"] = "BTC"
    second["totalEq"] = "1"
    push = {**SAMPLES["account"], "data": [first, second]}
    (balance,) = decode("account", push)
    assert [d.ccy for d in balance.details] == ["USDT", "BTC"]
    assert balance.total_eq == D(1)  # the last page's totals
    updates = decode("account", {**push, "eventType": "event_update"})
    assert len(updates) == 2


def test_unknown_fields_are_ignored_and_optional_ones_may_be_absent() -> None:
    item = copy.deepcopy(SAMPLES["orders"]["data"][0])
    item["someNewField"] = {"x": 1}
    for key in ("fillPx", "fillSz", "fillTime", "fillFee", "execType", "lever", "tag"):
        del item[key]
    item["px"] = ""  # a market order
    (order,) = decode("orders", {**SAMPLES["orders"], "data": [item]})
    assert (order.px, order.fill_px, order.fill_sz, order.fill_time) == (None, None, None, None)
    assert (order.exec_type, order.tag, order.lever) == ("", "", None)


@pytest.mark.parametrize(
    ("channel", "key", "value", "expected"),
    [
        ("orders", "sz", "abc", "orders: data[0].sz: 'abc' is not a finite decimal number"),
        ("orders", "sz", "", "orders: data[0].sz: '' is not a number as a non-empty string"),
        ("orders", "ordId", None, "orders: data[0].ordId: missing"),
        ("orders", "side", "long", 'orders: data[0].side: \'long\' is not "buy" or "sell"'),
        ("orders", "uTime", "12:00", "orders: data[0].uTime: '12:00' is not an integer"),
        ("orders", "reduceOnly", "yes", "orders: data[0].reduceOnly: 'yes' is not \"true\""),
        ("orders", "px", 31527.1, "orders: data[0].px: float 31527.1 is not a number as"),
        ("fills", "fillPx", "1_000", "fills: data[0].fillPx: '1_000' is not a plain decimal"),
        ("fills", "count", "x", "fills: data[0].count: 'x' is not an integer"),
        ("positions", "pos", "NaN", "positions: data[0].pos: 'NaN' is not a finite decimal"),
        ("positions", "posId", "", "positions: data[0].posId: '' is not a non-empty string"),
        ("account-greeks", "ts", "", "account-greeks: data[0].ts: '' is not an integer"),
        ("liquidation-warning", "pos", " 1", "liquidation-warning: data[0].pos: ' 1' is not"),
        ("account", "details", "x", "account: data[0].details: 'x' is not an array of objects"),
        ("balance_and_position", "pTime", None, "balance_and_position: data[0].pTime: missing"),
    ],
)
def test_bad_values_are_push_errors_naming_the_field(
    channel: str, key: str, value: Any, expected: str
) -> None:
    message = copy.deepcopy(SAMPLES[channel])
    item = message["data"][0]
    if value is None:
        del item[key]
    else:
        item[key] = value
    with pytest.raises(PushError) as caught:
        decode_private_data(channel, message["arg"], message)
    assert str(caught.value).startswith(expected)


def test_nested_bad_values_name_the_path() -> None:
    message = copy.deepcopy(SAMPLES["balance_and_position"])
    message["data"][0]["balData"][0]["cashBal"] = "x"
    with pytest.raises(PushError, match=r"data\[0\]\.balData\[0\]\.cashBal: 'x'"):
        decode_private_data("balance_and_position", message["arg"], message)
    account = copy.deepcopy(SAMPLES["account"])
    account["data"][0]["details"][0]["ccy"] = ""
    with pytest.raises(PushError, match=r"data\[0\]\.details\[0\]\.ccy"):
        decode_private_data("account", account["arg"], account)


@pytest.mark.parametrize("data", [None, "x", [1], {}])
def test_bad_data_is_a_push_error(data: Any) -> None:
    for channel in ("orders", "positions", "account"):
        with pytest.raises(PushError, match=f"^{channel}: data"):
            decode_private_data(
                channel, {"channel": channel}, {"data": data, "eventType": "snapshot"}
            )


def test_bad_event_type_is_a_push_error() -> None:
    with pytest.raises(PushError, match="positions: eventType: int 1 is not a string"):
        decode_private_data("positions", {}, {**SAMPLES["positions"], "eventType": 1})


def test_records_are_frozen_hashable_and_exported() -> None:
    for cls in (Order, Position, PositionsSnapshot, OrdersSnapshot, Balance, Fill):
        assert getattr(okx_trio, cls.__name__) is cls and cls.__name__ in okx_trio.__all__
    (order,) = decode("orders")
    hash(order)
    with pytest.raises(AttributeError):
        order.state = "live"


def test_decode_private_data_refuses_other_channels_and_non_objects() -> None:
    with pytest.raises(PushError, match="'tickers' is not a private channel"):
        decode_private_data("tickers", {}, {"data": [{}]})
    with pytest.raises(PushError, match="orders: arg and push must be JSON objects"):
        decode_private_data("orders", None, {})  # type: ignore[arg-type]
    assert set(PRIVATE_RECORD_TYPES) == {
        name for name, spec in CHANNELS.items() if spec.endpoint == "private"
    }


# -- the REST reconcile's answers ---------------------------------------------------------


def _rest(rows: list[dict[str, Any]], code: str = "0", msg: str = "") -> bytes:
    return json.dumps({"code": code, "msg": msg, "data": rows}).encode()


def test_orders_snapshot_from_rest() -> None:
    row = copy.deepcopy(SAMPLES["orders"]["data"][0])
    row["state"] = "live"
    for key in ("fillFee", "fillFeeCcy", "fillPnl", "execType"):
        del row[key]  # not in orders-pending answers
    snapshot = orders_snapshot(_rest([row]), 1_700_000_000_000)
    assert type(snapshot) is OrdersSnapshot and snapshot.ts == 1_700_000_000_000
    (order,) = snapshot.orders
    assert (order.ord_id, order.state, order.fill_fee, order.exec_type) == (
        "452197707845865472",
        "live",
        None,
        "",
    )
    assert orders_snapshot(_rest([]), 5) == OrdersSnapshot((), 5)


def test_orders_pages_are_joined_once_each() -> None:
    base = SAMPLES["orders"]["data"][0]
    rows = [{**base, "ordId": str(n)} for n in range(3, 0, -1)]
    first = orders_answer(_rest(rows[:2]))
    assert next_orders_query(first, limit=2) == "after=2&limit=2"
    second = orders_answer(_rest(rows[1:]))
    assert next_orders_query(second, limit=3) is None
    joined = join_orders([first, second], 9)
    assert [o.ord_id for o in joined.orders] == ["3", "2", "1"] and joined.ts == 9


def test_positions_snapshot_from_rest_drops_zero_positions() -> None:
    row = copy.deepcopy(SAMPLES["positions"]["data"][0])
    closed = {**row, "posId": "2", "pos": "0"}
    snapshot = positions_snapshot(_rest([row, closed]), 7)
    assert (snapshot.ts, snapshot.source) == (7, "rest")
    assert [p.pos_id for p in snapshot.positions] == ["307173036051017730"]
    assert snapshot.positions[0].event_type == ""


def test_balances_from_rest() -> None:
    (balance,) = balances_answer(_rest(SAMPLES["account"]["data"]))
    assert balance.details[0].ccy == "USDT" and balance.event_type == "snapshot"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_rest([], code="50113", msg="Invalid Sign"), "code '50113': 'Invalid Sign'"),
        (b"\xff", "not UTF-8"),
        (b"<html>", "not JSON"),
        (b"[]", "not a JSON object"),
        (json.dumps({"code": "0", "data": {}}).encode(), "data is not an array of objects"),
        (_rest([{"instId": "X"}]), r"data\[0\]\.instType: missing"),
    ],
)
def test_bad_rest_answers_are_clear_errors(body: bytes, expected: str) -> None:
    with pytest.raises(RestAnswerError, match=expected) as caught:
        orders_snapshot(body, 1)
    if b"50113" in body:
        assert (caught.value.code, caught.value.msg) == ("50113", "Invalid Sign")


def test_rest_snapshot_ts_must_be_ms() -> None:
    with pytest.raises(ValueError, match="ts must be Unix milliseconds"):
        orders_snapshot(_rest([]), -1)
    with pytest.raises(TypeError, match="body must be bytes or str"):
        orders_snapshot(None, 1)  # type: ignore[arg-type]


def _order(ord_id: str, state: str, u_time: int) -> Order:
    row = {**SAMPLES["orders"]["data"][0], "ordId": ord_id, "state": state}
    row["uTime"] = str(u_time)
    (order,) = orders_answer(_rest([row]))
    return order


def test_merge_orders_keeps_events_seen_while_the_answer_was_in_flight() -> None:
    snapshot = OrdersSnapshot((_order("1", "live", 90), _order("2", "live", 95)), ts=100)
    seen = [
        _order("1", "filled", 105),  # filled while in flight: no longer open
        _order("2", "partially_filled", 94),  # older than the snapshot's version: ignored
        _order("3", "live", 101),  # placed while in flight: added
        _order("4", "live", 99),  # older than the snapshot and absent: it closed since
        _order("5", "canceled", 102),  # final and unknown: nothing to remove
    ]
    merged = merge_orders(snapshot, seen)
    assert [(o.ord_id, o.state) for o in merged.orders] == [("2", "live"), ("3", "live")]
    assert merged.ts == 100
    assert merge_orders(snapshot, []) == snapshot


def _position(pos_id: str, pos: str, u_time: int) -> Position:
    row = {**SAMPLES["positions"]["data"][0], "posId": pos_id, "pos": pos, "uTime": str(u_time)}
    return decode_position(row, "event_update")


def test_merge_positions_by_pos_id_and_time() -> None:
    snapshot = PositionsSnapshot((_position("a", "1", 90), _position("b", "2", 95)), 100, "rest")
    seen = [_position("a", "0", 101), _position("b", "3", 94), _position("c", "5", 100)]
    merged = merge_positions(snapshot, seen)
    assert [(p.pos_id, p.pos) for p in merged.positions] == [("b", D(2)), ("c", D(5))]
    assert merged.source == "rest"
    with pytest.raises(ValueError, match="without ts"):
        merge_positions(PositionsSnapshot((), None), seen)
