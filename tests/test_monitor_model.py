"""okx_trio.monitor._model: pairs, prices, events, tick rates."""

from __future__ import annotations

from decimal import Decimal

import okx_trio.monitor as monitor
from okx_trio import ConnectionState, StateChange

from ._monitor_helpers import make_conn, make_pool, make_stats, make_ticker


def test_model_keeps_a_tick_rate_per_connection() -> None:
    model = monitor.MonitorModel()
    model.on_stats(make_pool(make_conn(0, ticks_received=10), make_conn(1, ticks_received=0)), 1.0)
    assert model.tick_rates == {}
    model.on_stats(make_pool(make_conn(0, ticks_received=30), make_conn(1, ticks_received=5)), 3.0)
    assert model.tick_rates == {("public", 0): 10.0, ("public", 1): 2.5}
    # A counter that went down (an index reused by a new connection) restarts its rate;
    # a connection that is gone loses its rate.
    model.on_stats(make_stats(connections=(make_conn(0, ticks_received=2),)), 4.0)
    assert model.tick_rates == {}
    model.on_stats(make_stats(connections=(make_conn(0, ticks_received=6),)), 6.0)
    assert model.tick_rates == {("public", 0): 2.0}
    model.on_stats(make_stats())  # without a time: the rates stay
    assert model.tick_rates == {("public", 0): 2.0}


# --- model --------------------------------------------------------------------------------


def test_model_tracks_pairs_and_ignores_ticks_of_others() -> None:
    model = monitor.MonitorModel(["BTC-USDT", "ETH-USDT"])
    assert list(model.rows) == ["BTC-USDT", "ETH-USDT"]
    assert not model.add_pair("BTC-USDT")
    assert model.add_pair("SOL-USDT")
    assert model.remove_pair("ETH-USDT")
    assert not model.remove_pair("ETH-USDT")
    assert list(model.rows) == ["BTC-USDT", "SOL-USDT"]
    assert not model.on_ticker(make_ticker("ETH-USDT"), 1.0)  # removed: a late tick
    assert model.on_ticker(make_ticker("BTC-USDT"), 1.0)
    row = model.rows["BTC-USDT"]
    assert row.ticker is not None and row.ticker.last == Decimal("46053")
    assert row.updated_at == 1.0


def test_model_samples_one_price_per_interval_and_bounds_history() -> None:
    model = monitor.MonitorModel(["BTC-USDT"], history_len=3, sample_interval=1.0)
    row = model.rows["BTC-USDT"]
    for now, price in [(0.0, "1"), (0.5, "2"), (1.0, "3"), (1.2, "4")]:
        model.on_ticker(make_ticker(last=price), now)
    assert list(row.history) == [Decimal("2"), Decimal("4")]
    assert row.direction == 1
    for now, price in [(2.0, "5"), (3.0, "6"), (4.0, "1")]:
        model.on_ticker(make_ticker(last=price), now)
    assert list(row.history) == [Decimal("5"), Decimal("6"), Decimal("1")]
    assert row.direction == -1


def test_model_events_from_state_changes_are_bounded() -> None:
    model = monitor.MonitorModel(max_events=3, host="ws.okx.com")
    S = ConnectionState
    model.on_state_change(StateChange(S.CONNECTING, "connecting (attempt 1)", 0), 1.0)
    model.on_state_change(StateChange(S.CONNECTED, "connected to OKX", 0), 2.0)
    event = model.on_state_change(
        StateChange(S.CONNECTED, "instrument rejected: FAKE-USDT (60018 doesn't exist)", 0), 3.0
    )
    assert event.kind == "rejected"
    model.on_state_change(StateChange(S.RECONNECTING, "connection lost: x", 1), 4.0)
    assert model.state is S.RECONNECTING
    assert [(e.kind, e.text) for e in model.events] == [
        ("state", "connected: connected to ws.okx.com"),
        # A notice on the state stream: no "connected:" in front of it.
        ("rejected", "instrument rejected: FAKE-USDT (60018 doesn't exist)"),
        ("state", "reconnecting: connection lost: x (attempt 1)"),
    ]
    model.on_stats(make_stats(state=S.CONNECTED))
    assert _state_of(model) is S.CONNECTED


def _state_of(model: monitor.MonitorModel) -> ConnectionState:
    return model.state  # (a call, so mypy forgets what it narrowed model.state to)


def test_model_remembers_when_the_next_attempt_comes_and_whether_it_ever_connected() -> None:
    S = ConnectionState
    model = monitor.MonitorModel()
    model.on_state_change(StateChange(S.CONNECTING, "connecting (attempt 1)", 0), 0.0)
    assert model.next_attempt_in(0.0) is None
    model.on_state_change(StateChange(S.RECONNECTING, "refused", 1, delay=13.0), 1.0)
    assert model.next_attempt_in(3.0) == 11.0
    assert model.next_attempt_in(20.0) == 0.0
    assert not model.ever_connected
    model.on_state_change(StateChange(S.CONNECTING, "connecting (attempt 2)", 1), 14.0)
    assert model.next_attempt_in(14.0) is None
    model.on_state_change(StateChange(S.CONNECTED, "connected", 1), 15.0)
    assert model.ever_connected


def test_a_business_connection_0_is_not_mistaken_for_public_connection_0() -> None:
    S = ConnectionState
    model = monitor.MonitorModel()
    public = make_conn(0, ticks_received=10)
    business = make_conn(0, ticks_received=0, endpoint="business")
    model.on_stats(make_pool(public, business), 1.0)
    model.on_stats(
        make_pool(
            make_conn(0, ticks_received=30), make_conn(0, ticks_received=0, endpoint="business")
        ),
        3.0,
    )
    pool = make_pool(public, business)
    assert monitor.connection_of(pool, "business", 0) is business
    assert monitor.connection_of(pool, "public", 0) is public
    assert monitor.connection_of(pool, "private", 0) is None
    # Each keeps its own rate (the business one's 0 does not reset the public one's).
    assert model.tick_rates == {("public", 0): 10.0, ("business", 0): 0.0}
    # A business reconnect's next attempt is its own, as is its state.
    model.on_state_change(StateChange(S.CONNECTED, "connected", 0), 3.0)
    model.on_state_change(
        StateChange(S.RECONNECTING, "[business 0] lost", 1, delay=5.0, endpoint="business"), 4.0
    )
    model.on_state_change(
        StateChange(S.CONNECTED, "instrument rejected: X", 0, endpoint="public"), 5.0
    )
    assert model.next_attempt_in(5.0) == 4.0  # the public notice did not cancel it
    event = model.on_state_change(
        StateChange(S.RECONNECTING, "[business 0] still down", 1, endpoint="business"), 6.0
    )
    assert event.text.startswith("[business 0]") and "state" not in event.kind
    # A notice about the whole client is nobody's transition, even the first one.
    whole = model.on_state_change(StateChange(S.CONNECTED, "whole client", 0, endpoint=None), 7.0)
    assert whole.kind == "notice"
    assert model.on_state_change(StateChange(S.CONNECTED, "again", 0), 8.0).kind == "notice"


def test_model_scrolls_the_pairs_within_bounds() -> None:
    model = monitor.MonitorModel([f"P{i}-USDT" for i in range(30)])
    model.visible_rows = 7
    model.scroll_by(-3)
    assert model.scroll == 0
    model.scroll_by(7)
    assert model.scroll == 7
    model.scroll_by(100)
    assert model.scroll == 23  # the last page is full
    assert monitor.pair_window(30, model.scroll, 7) == (23, 30)
    assert monitor.pair_window(5, 3, 7) == (0, 5)
    assert monitor.pair_window(30, 40, 7) == (23, 30)
