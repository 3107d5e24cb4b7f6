"""The account view: its model (snapshots replace, events change), its rendering, the
credentials from the environment, and the demo's own account subscribed in memory."""

from __future__ import annotations

import io
from typing import Any

import pytest
import trio
import trio.testing
from rich.console import Console

import okx_trio.monitor as monitor
from okx_trio import ClientConfig, Credentials, OrdersSnapshot, PositionsSnapshot
from okx_trio._private_decoders import decode_balance, decode_order, decode_position
from okx_trio.monitor._account import AccountModel
from okx_trio.monitor._account_view import NO_CREDENTIALS, render_account
from okx_trio.monitor._cli import credentials_from_env
from okx_trio.monitor._demo_account import DEMO_BALANCES, DemoAccount
from okx_trio.testing import FakeExchange

ENV = {"OKX_API_KEY": "k-123", "OKX_SECRET_KEY": "s3cr3t-value", "OKX_PASSPHRASE": "Pass-phr4se"}


def order(ord_id: str, state: str = "live", **fields: str) -> Any:
    item = {
        "instType": "SPOT", "instId": "BTC-USDT", "ordId": ord_id, "clOrdId": "", "tag": "",
        "px": "95000.5", "sz": "0.01", "ordType": "limit", "side": "buy", "posSide": "net",
        "tdMode": "cash", "state": state, "accFillSz": "0", "cTime": "1", "uTime": "1",
    }  # fmt: skip
    item.update(fields)
    return decode_order(item)


def position(pos_id: str, pos: str = "2", **fields: str) -> Any:
    item = {
        "instType": "SWAP", "instId": "BTC-USDT-SWAP", "posId": pos_id, "pos": pos,
        "avgPx": "94000", "upl": "12.5", "posSide": "net", "mgnMode": "cross",
    }  # fmt: skip
    item.update(fields)
    return decode_position(item, "event_update")


def balance(event_type: str, total: str, *ccys: tuple[str, str]) -> Any:
    details = [{"ccy": c, "eq": cash, "cashBal": cash, "availBal": cash} for c, cash in ccys]
    return decode_balance({"uTime": "1", "totalEq": total, "details": details}, event_type)


def _text(renderable: object, width: int = 80) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


# --- the model --------------------------------------------------------------------------------


def test_an_orders_snapshot_replaces_and_events_update_or_remove() -> None:
    model = AccountModel(enabled=True)
    assert model.on_record(OrdersSnapshot(orders=(order("1"), order("2")), ts=1))
    assert list(model.orders) == ["1", "2"]
    model.on_record(order("3"))
    model.on_record(order("1", "partially_filled", accFillSz="0.004"))
    assert model.orders["1"].state == "partially_filled"
    model.on_record(order("2", "canceled"))
    model.on_record(order("1", "filled", accFillSz="0.01"))
    assert list(model.orders) == ["3"]  # final states remove
    model.on_record(order("9", "filled"))  # never seen open: nothing to remove, no error
    # After a relogin the snapshot is the truth: what filled meanwhile is gone.
    model.on_record(OrdersSnapshot(orders=(order("4"),), ts=2))
    assert list(model.orders) == ["4"]


def test_positions_snapshot_replaces_and_a_zero_position_is_closed() -> None:
    model = AccountModel(enabled=True)
    model.on_record(PositionsSnapshot(positions=(position("a"), position("b", "0")), ts=1))
    assert list(model.positions) == ["a"]  # a zero one is not open
    model.on_record(position("c", "-1"))
    model.on_record(position("a", "3"))
    assert model.positions["a"].pos == 3
    model.on_record(position("c", "0"))
    assert list(model.positions) == ["a"]
    model.on_record(PositionsSnapshot(positions=(), ts=2))
    assert model.positions == {}


def test_a_balance_snapshot_replaces_and_an_update_changes_its_currencies() -> None:
    model = AccountModel(enabled=True)
    model.on_record(balance("snapshot", "1000", ("USDT", "900"), ("BTC", "0.1")))
    model.on_record(balance("event_update", "1010", ("USDT", "910")))
    assert {c: str(d.cash_bal) for c, d in model.balances.items()} == {"USDT": "910", "BTC": "0.1"}
    assert str(model.total_eq) == "1010"
    model.on_record(balance("snapshot", "5", ("ETH", "5")))
    assert list(model.balances) == ["ETH"]


def test_other_records_are_ignored() -> None:
    model = AccountModel(enabled=True)
    assert not model.on_record(object())
    assert not model.on_record(None)
    assert not model.seen


# --- the rendering ----------------------------------------------------------------------------


def test_without_credentials_the_view_says_which_variables_to_set() -> None:
    text = _text(render_account(AccountModel(), lines=20))
    assert text.strip() == f"account  {NO_CREDENTIALS}"
    for name in ("OKX_API_KEY", "OKX_SECRET_KEY", "OKX_PASSPHRASE"):
        assert name in text
    assert "waiting for the account" in _text(render_account(AccountModel(enabled=True), lines=9))


def test_the_view_shows_equity_balances_orders_and_positions() -> None:
    model = AccountModel(enabled=True)
    model.on_record(balance("snapshot", "25000", ("USDT", "20000"), ("BTC", "0.5")))
    model.on_record(order("1", "partially_filled", accFillSz="0.004", side="sell"))
    model.on_record(position("p"))
    lines = _text(render_account(model, lines=20)).splitlines()
    assert lines[0] == "account  total equity 25000 USD"
    assert lines[1] == "balances  2"
    assert lines[2].split() == ["Ccy", "Equity", "Cash", "Available"]
    assert lines[3].split() == ["USDT", "20000", "20000", "20000"]
    assert lines[4].split() == ["BTC", "0.5", "0.5", "0.5"]
    assert lines[5] == "open orders  1"
    assert lines[6].split() == ["Inst", "Side", "Px", "Sz", "Filled", "State"]
    assert lines[7].split() == ["BTC-USDT", "sell", "95000.5", "0.01", "0.004", "partially_filled"]
    assert lines[8] == "positions  1"
    assert lines[9].split() == ["Inst", "Side", "Pos", "Avg", "px", "UPL"]
    assert lines[10].split() == ["BTC-USDT-SWAP", "net", "2", "94000", "12.5"]
    assert len(lines) == 11


def test_a_short_view_cuts_each_table_and_says_how_many_it_shows() -> None:
    model = AccountModel(enabled=True)
    model.on_record(balance("snapshot", "1", *((f"C{i}", str(i)) for i in range(6))))
    model.on_record(OrdersSnapshot(orders=tuple(order(str(i)) for i in range(5)), ts=1))
    model.on_record(order("m", px=""))  # a market order has no price
    for lines in (1, 4, 9, 12):
        text = _text(render_account(model, lines=lines))
        assert len(text.splitlines()) <= lines, (lines, text)
    text = _text(render_account(model, lines=12))
    assert "balances  6 (" in text and " shown)" in text
    assert "open orders  6 (" in text and "positions  none" in text
    full = _text(render_account(model, lines=40))
    assert "market" in full and " shown)" not in full


# --- credentials from the environment ---------------------------------------------------------


def test_credentials_come_from_the_environment_when_set() -> None:
    assert credentials_from_env({}) is None
    assert credentials_from_env(ENV) == Credentials("k-123", "s3cr3t-value", "Pass-phr4se")


def test_a_missing_variable_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        credentials_from_env({"OKX_API_KEY": "k-123", "OKX_SECRET_KEY": "s3cr3t-value"})
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("monitor: ") and "OKX_PASSPHRASE is not set" in err
    assert err.count("\n") == 1 and "s3cr3t" not in err and "Traceback" not in err


def test_the_cli_puts_the_environments_credentials_in_the_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    parser = monitor.build_parser()
    options = monitor.options_from_args(parser, parser.parse_args(["BTC-USDT"]))
    assert options.config.credentials == Credentials(*ENV.values())
    assert "s3cr3t" not in repr(options)
    demo = monitor.options_from_args(parser, parser.parse_args(["--demo", "BTC-USDT"]))
    assert demo.config.credentials is None  # the demo makes its own account


# --- the demo's account, in memory ------------------------------------------------------------


async def test_the_demo_subscribes_the_private_channels_and_fills_the_view(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.25, seed=3)
    config = ClientConfig(
        url="ws://fake.invalid/ws/v5/public", ping_interval=3.0, connection_timeout=5.0
    )
    options = monitor.Options(
        pairs=("BTC-USDT", "ETH-USDT"), config=config, table=True, demo=True, chaos=False,
        duration=30.0, seed=3,
    )  # fmt: skip
    out = io.StringIO()
    code = await monitor.run(
        options, connector=exchange.connector, exchange=exchange, read_stdin=False, out=out,
        handle_signals=False,
    )  # fmt: skip
    assert code == 0
    subscribed = {
        (sub.channel, sub.inst_type)
        for r in exchange.requests
        if r.op == "subscribe"
        for sub in r.subscriptions
    }
    assert {("account", None), ("orders", "ANY"), ("positions", "ANY")} <= subscribed
    assert [r for r in exchange.requests if r.op == "login"]
    text = out.getvalue()
    assert "OKX tickers (demo exchange)" in text
    assert "demo-" not in text  # the demo account's api key is never shown


async def test_the_demo_script_places_fills_cancels_and_sets_a_position(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.25, seed=3)
    demo = DemoAccount(exchange, Credentials(*ENV.values()), ("BTC-USDT",), seed=1)
    assert {c: str(demo.account.cash(c)) for c in DEMO_BALANCES} == DEMO_BALANCES

    class NoTickers:
        def latest(self, sub: object) -> None:
            return None

    steps = [demo.step(NoTickers()) for _ in range(40)]  # type: ignore[arg-type]
    assert {"place", "fill", "cancel", "position"} <= set(steps)
    assert 0 < len(demo.account.open_orders()) <= 3
