"""The fake exchange's accounts: scripted orders, fills, positions and balances become
OKX's private pushes, decoded here with the client's own decoders (sans-IO)."""

from __future__ import annotations

import json
import math
import secrets
from decimal import Decimal
from typing import Any

import pytest

from okx_trio import Balance, BalanceAndPosition, Credentials, Fill, Order, Position
from okx_trio._decoders import decode_private_data
from okx_trio._private_records import PositionsSnapshot
from okx_trio._signing import login_request
from okx_trio._snapshot_pages import SnapshotPages
from okx_trio.testing import FakeAccount, FakeExchange, FakeServerProtocol

EPOCH_MS = 1_700_000_000_000
D = Decimal


def make_credentials() -> Credentials:
    return Credentials(
        "k" + secrets.token_hex(8), secrets.token_urlsafe(24), "P" + secrets.token_hex(6)
    )


class Client:
    """One logged-in private connection, driven by hand."""

    def __init__(self, exchange: FakeExchange, credentials: Credentials, now: float = 0.0):
        self.protocol: FakeServerProtocol = exchange.server_protocol("private", now)
        self.now = now
        (reply,) = self.protocol.receive(
            login_request(credentials, EPOCH_MS / 1000 + now).text, now
        )
        assert json.loads(reply)["code"] == "0"

    def subscribe(self, **arg: str) -> list[dict[str, Any]]:
        text = json.dumps({"id": "1", "op": "subscribe", "args": [arg]})
        return [json.loads(m) for m in self.protocol.receive(text, self.now)]

    def unsubscribe(self, **arg: str) -> list[dict[str, Any]]:
        text = json.dumps({"op": "unsubscribe", "args": [arg]})
        return [json.loads(m) for m in self.protocol.receive(text, self.now)]

    def pushes(self) -> list[dict[str, Any]]:
        return [json.loads(m) for m in self.protocol.pushes_due(self.now)]


def setup(**options: Any) -> tuple[FakeExchange, Credentials, FakeAccount]:
    exchange = FakeExchange(tick_interval=math.inf, epoch_ms=EPOCH_MS)
    credentials = make_credentials()
    return exchange, credentials, exchange.add_account(credentials, **options)


def records(push: dict[str, Any]) -> tuple[Any, ...]:
    return decode_private_data(push["arg"]["channel"], push["arg"], push)


def test_an_account_snapshot_in_pages_assembles_to_one_balance() -> None:
    exchange, credentials, account = setup(page_size=2)
    for ccy, cash in (("BTC", "1.5"), ("ETH", "10"), ("USDT", "2500")):
        account.set_balance(ccy, cash, ts=EPOCH_MS)
    client = Client(exchange, credentials)
    ack, count, *pages = client.subscribe(channel="account")
    assert (ack["event"], count["event"], count["connCount"]) == (
        "subscribe",
        "channel-conn-count",
        "1",
    )
    assert [(p["curPage"], p["lastPage"]) for p in pages] == [(1, False), (2, True)]
    assert all(list(p) == ["arg", "eventType", "curPage", "lastPage", "data"] for p in pages)
    assert pages[0]["arg"] == {"channel": "account", "uid": account.uid}
    assembler = SnapshotPages()
    assert assembler.feed(pages[0], 0.0).pushes == ()
    (joined,) = assembler.feed(pages[1], 0.0).pushes
    (balance,) = records(joined)
    assert type(balance) is Balance and balance.event_type == "snapshot"
    assert [(d.ccy, d.cash_bal) for d in balance.details] == [
        ("BTC", D("1.5")),
        ("ETH", D("10")),
        ("USDT", D("2500")),
    ]
    assert balance.total_eq == D("2500")  # only USD stablecoins are priced


def test_a_ccy_filter_and_an_empty_account() -> None:
    exchange, credentials, account = setup()
    client = Client(exchange, credentials)
    *_, snapshot = client.subscribe(channel="account", ccy="BTC")
    assert snapshot["arg"] == {"channel": "account", "ccy": "BTC", "uid": account.uid}
    (balance,) = records(snapshot)
    assert [(d.ccy, d.cash_bal) for d in balance.details] == [("BTC", D(0))]
    account.set_balance("ETH", "1")
    assert client.pushes() == []  # not BTC
    account.set_balance("BTC", "2")
    (push,) = client.pushes()
    assert push["eventType"] == "event_update" and "curPage" not in push
    assert records(push)[0].details[0].cash_bal == D(2)


def test_a_spot_order_placed_filled_and_its_pushes() -> None:
    exchange, credentials, account = setup()
    account.set_balance("USDT", "1000", ts=EPOCH_MS)
    client = Client(exchange, credentials)
    for channel in ("orders", "fills", "account", "balance_and_position"):
        arg = {"channel": channel}
        if channel == "orders":
            arg["instType"] = "SPOT"
        client.subscribe(**arg)
    ord_id = account.place_order("BTC-USDT", "buy", "0.01", "30000", ts=EPOCH_MS + 1)
    placed, frozen = client.pushes()
    (order,) = records(placed)
    assert type(order) is Order
    assert (order.ord_id, order.state, order.px, order.sz, order.c_time) == (
        ord_id,
        "live",
        D("30000"),
        D("0.01"),
        EPOCH_MS + 1,
    )
    (balance,) = records(frozen)
    assert (balance.details[0].ccy, balance.details[0].frozen_bal) == ("USDT", D("300"))
    assert balance.details[0].avail_bal == D("700")

    trade_id = account.fill_order(ord_id, "0.004", ts=EPOCH_MS + 2)
    pushes = client.pushes()
    channels = [p["arg"]["channel"] for p in pushes]
    assert channels == ["orders", "fills", "account", "balance_and_position"]
    (partial,) = records(pushes[0])
    assert (partial.state, partial.acc_fill_sz, partial.fill_sz, partial.trade_id) == (
        "partially_filled",
        D("0.004"),
        D("0.004"),
        trade_id,
    )
    assert (partial.fill_fee, partial.fill_fee_ccy, partial.exec_type) == (
        D("-0.000004"),
        "BTC",
        "T",
    )
    (fill,) = records(pushes[1])
    assert fill == Fill(
        "BTC-USDT", D("0.004"), D("30000"), "buy", EPOCH_MS + 2, ord_id, "0", trade_id, "T", 1
    )
    (moved,) = records(pushes[2])
    assert {d.ccy: d.cash_bal for d in moved.details} == {
        "BTC": D("0.003996"),
        "USDT": D("880"),
    }
    (bal_pos,) = records(pushes[3])
    assert type(bal_pos) is BalanceAndPosition and bal_pos.event_type == "filled"
    assert [t.trade_id for t in bal_pos.trades] == [trade_id]

    account.fill_order(ord_id, ts=EPOCH_MS + 3)
    (done,) = records(client.pushes()[0])
    assert (done.state, done.acc_fill_sz, done.is_final) == ("filled", D("0.01"), True)
    assert account.open_orders() == [] and account.cash("USDT") == D("700")


def test_cancel_and_the_order_filters() -> None:
    exchange, credentials, account = setup()
    client = Client(exchange, credentials)
    client.subscribe(channel="orders", instType="SWAP")
    client.subscribe(channel="orders", instType="ANY", instId="BTC-USDT")
    swap = account.place_order("BTC-USDT-SWAP", "sell", "2", "40000")
    spot = account.place_order("BTC-USDT", "buy", "1", "30000")
    pushes = client.pushes()
    assert [(p["arg"].get("instType"), p["data"][0]["ordId"]) for p in pushes] == [
        ("SWAP", swap),
        ("ANY", spot),
    ]
    account.cancel_order(spot)
    (canceled,) = records(client.pushes()[0])
    assert (canceled.state, canceled.cancel_source) == ("canceled", "1")
    with pytest.raises(ValueError, match="is canceled, not open"):
        account.cancel_order(spot)
    with pytest.raises(ValueError, match="has no order 'nope'"):
        account.fill_order("nope")


def test_a_swap_fill_moves_the_net_position() -> None:
    exchange, credentials, account = setup()
    client = Client(exchange, credentials)
    client.subscribe(channel="positions", instType="SWAP")
    ord_id = account.place_order("ETH-USDT-SWAP", "buy", "3", "2000", ts=EPOCH_MS)
    assert client.pushes() == []  # not subscribed to orders
    account.fill_order(ord_id, ts=EPOCH_MS + 5)
    (push,) = client.pushes()
    (position,) = records(push)
    assert type(position) is Position and position.event_type == "event_update"
    assert (position.inst_id, position.pos, position.avg_px, position.pos_side, position.ccy) == (
        "ETH-USDT-SWAP",
        D(3),
        D(2000),
        "net",
        "USDT",
    )
    assert account.cash("USDT") == D("-6")  # the fee: 0.1 % of 6000
    second = account.place_order("ETH-USDT-SWAP", "buy", "1", "2400")
    account.fill_order(second)
    (later,) = records(client.pushes()[0])
    assert (later.pos, later.avg_px) == (D(4), D(2100))


def test_positions_snapshot_pages_filters_and_an_empty_one() -> None:
    exchange, credentials, account = setup(page_size=1)
    account.set_position("BTC-USDT-SWAP", "2", "30000", mark_px="31000")
    account.set_position("ETH-USD-250627", "-5", "2000")
    account.set_position("SOL-USDT-SWAP", "0")  # closed: not in snapshots
    client = Client(exchange, credentials)
    *_, first, second = client.subscribe(channel="positions", instType="ANY")
    assembler = SnapshotPages()
    assembler.feed(first, 0.0)
    (snapshot,) = records(assembler.feed(second, 0.0).pushes[0])
    assert type(snapshot) is PositionsSnapshot
    assert [(p.inst_id, p.pos, p.upl) for p in snapshot.positions] == [
        ("BTC-USDT-SWAP", D(2), D(2000)),
        ("ETH-USD-250627", D(-5), None),
    ]
    assert snapshot.positions[1].ccy == "ETH"  # inverse: settled in the base currency
    *_, only = Client(exchange, credentials, 1.0).subscribe(channel="positions", instType="OPTION")
    assert only["data"] == [] and (only["curPage"], only["lastPage"]) == (1, True)
    assert records(only) == (PositionsSnapshot((), None, "push"),)


def test_balance_and_position_snapshot_and_liquidation_warning_and_greeks() -> None:
    exchange, credentials, account = setup()
    account.set_balance("USDT", "100")
    account.set_position("BTC-USDT-SWAP", "1", "30000")
    client = Client(exchange, credentials)
    *_, snapshot = client.subscribe(channel="balance_and_position")
    (item,) = records(snapshot)
    assert item.event_type == "snapshot"
    assert [(b.ccy, b.cash_bal) for b in item.balances] == [("USDT", D(100))]
    assert [(p.inst_id, p.pos) for p in item.positions] == [("BTC-USDT-SWAP", D(1))]
    client.subscribe(channel="liquidation-warning", instType="SWAP")
    account.warn_liquidation("BTC-USDT-SWAP")
    (warning,) = records(client.pushes()[0])
    assert (warning.inst_id, warning.pos, warning.pos_side) == ("BTC-USDT-SWAP", D(1), "net")
    with pytest.raises(ValueError, match="no net position in 'ETH-USDT-SWAP'"):
        account.warn_liquidation("ETH-USDT-SWAP")
    client.subscribe(channel="account-greeks", ccy="BTC")
    account.set_greeks("ETH", {"deltaBS": "1"})
    assert client.pushes() == []
    account.set_greeks("BTC", {"deltaBS": "0.5", "vegaPA": "-0.1"})
    (greeks,) = records(client.pushes()[0])
    assert (greeks.ccy, greeks.delta_bs, greeks.vega_pa, greeks.theta_bs) == (
        "BTC",
        D("0.5"),
        D("-0.1"),
        D(0),
    )
    with pytest.raises(ValueError, match="unknown greeks"):
        account.set_greeks("BTC", {"rho": "1"})


def test_the_connection_cap_per_private_channel() -> None:
    exchange, credentials, account = setup(conn_cap=2)
    first, second, third = (Client(exchange, credentials, now) for now in (0.0, 1.0, 2.0))
    assert first.subscribe(channel="orders", instType="ANY")[1]["connCount"] == "1"
    # Several args of one channel on one connection count once.
    assert len(first.subscribe(channel="orders", instType="SPOT")) == 1
    assert second.subscribe(channel="orders", instType="ANY")[1]["connCount"] == "2"
    ack, error = third.subscribe(channel="orders", instType="ANY")
    assert ack["event"] == "subscribe"  # the normal ack first, then the end of it
    assert error == {
        "event": "channel-conn-count-error",
        "channel": "orders",
        "connCount": "2",
        "connId": third.protocol.conn_id,
    }
    assert third.protocol.record.subscribed == set()
    account.place_order("BTC-USDT", "buy", "1", "1")
    assert third.pushes() == [] and len(first.pushes()) == 2 and len(second.pushes()) == 1
    # Another channel is counted apart; leaving frees a place.
    assert third.subscribe(channel="account")[1]["connCount"] == "1"
    second.unsubscribe(channel="orders", instType="ANY")
    assert third.subscribe(channel="orders", instType="ANY")[1]["connCount"] == "2"
    first.protocol.connection_lost()
    assert account.channel_connections["orders"] == {third.protocol.record.conn_id}


def test_fills_are_not_capped_and_have_no_count_event() -> None:
    exchange, credentials, _ = setup(conn_cap=1)
    assert [m["event"] for m in Client(exchange, credentials).subscribe(channel="fills")] == [
        "subscribe"
    ]


def test_scripting_errors_are_clear_and_never_show_secrets() -> None:
    exchange, credentials, account = setup()
    assert (
        repr(account) == f"FakeAccount(api_key={credentials.masked_api_key!r}, uid={account.uid!r})"
    )
    with pytest.raises(ValueError, match="side must be 'buy' or 'sell'"):
        account.place_order("BTC-USDT", "long", "1", "1")
    with pytest.raises(ValueError, match="sz must be a finite number > 0"):
        account.place_order("BTC-USDT", "buy", "0", "1")
    with pytest.raises(ValueError, match="a limit order needs a px"):
        account.place_order("BTC-USDT", "buy", "1", ord_type="limit")
    market = account.place_order("BTC-USDT", "buy", "1")
    with pytest.raises(ValueError, match="needs a px"):
        account.fill_order(market)
    with pytest.raises(ValueError, match="more than order"):
        account.fill_order(market, "2", "10")
    with pytest.raises(ValueError, match="exists"):
        exchange.add_account(credentials)
    with pytest.raises(ValueError) as caught:
        exchange.add_account("key2", "se cret", "pass")
    assert "se cret" not in str(caught.value) and "secret_key" in str(caught.value)
    with pytest.raises(TypeError, match="all three"):
        exchange.add_account("key3", "secret")
    with pytest.raises(ValueError, match="conn_cap must be an int >= 1"):
        exchange.add_account(make_credentials(), conn_cap=0)
    assert len(exchange.accounts) == 1


def test_events_reach_only_logged_in_listeners_and_stop_after_the_connection() -> None:
    exchange, credentials, account = setup()
    other = exchange.add_account(make_credentials())
    client = Client(exchange, credentials)
    client.subscribe(channel="orders", instType="ANY")
    other.place_order("BTC-USDT", "buy", "1", "1")
    assert client.pushes() == []
    client.protocol.connection_lost()
    account.place_order("BTC-USDT", "buy", "1", "1")
    assert client.pushes() == []


def test_regular_snapshots_on_demand_per_subscription() -> None:
    exchange, credentials, account = setup(page_size=1)
    account.set_position("BTC-USDT-SWAP", "1", "30000")
    account.set_position("ETH-USDT-SWAP", "2", "2000")
    client = Client(exchange, credentials)
    client.subscribe(channel="positions", instType="ANY")
    client.subscribe(channel="positions", instType="SWAP", instId="ETH-USDT-SWAP")
    client.subscribe(channel="orders", instType="ANY")
    account.push_snapshots("positions")
    pushes = client.pushes()
    assert [(p["arg"].get("instId"), p["curPage"], p["lastPage"]) for p in pushes] == [
        (None, 1, False),
        (None, 2, True),
        ("ETH-USDT-SWAP", 1, True),
    ]
    assert all(p["eventType"] == "snapshot" for p in pushes)
    with pytest.raises(ValueError, match="'orders' has no snapshot"):
        account.push_snapshots("orders")


def test_a_lost_page_is_dropped_by_the_client_assembler() -> None:
    exchange, credentials, account = setup(page_size=1)
    for inst_id in ("BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP"):
        account.set_position(inst_id, "1", "10")
    client = Client(exchange, credentials)
    client.subscribe(channel="positions", instType="ANY")  # whole: the fault is not armed
    account.lose_snapshot_pages(2)
    account.push_snapshots("positions")
    pages = client.pushes()
    assert [p["curPage"] for p in pages] == [1, 3]
    assembler = SnapshotPages()
    assert assembler.feed(pages[0], 0.0).pushes == ()
    out = assembler.feed(pages[1], 0.0)
    assert out.pushes == () and "page 2 is missing" in out.dropped[0].reason
    account.push_snapshots("positions")  # the fault was one-shot
    assert [p["curPage"] for p in client.pushes()] == [1, 2, 3]
    with pytest.raises(ValueError, match="page numbers are ints >= 1"):
        account.lose_snapshot_pages(0)
