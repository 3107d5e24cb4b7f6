"""Tests of examples/monitor.py without a terminal: formatting, commands, log lines, the model,
the rich table, the command line, and the Trio wiring against the in-memory fake exchange."""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import pathlib
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest
import trio
from rich.console import Console

from okx_trio import ClientConfig, ConnectionState, ConnectionStats, StateChange, Ticker
from okx_trio.testing import FakeExchange

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "monitor.py"


def _load_example() -> ModuleType:
    """Import examples/monitor.py (not a package) as the module ``monitor``."""
    if "monitor" in sys.modules:
        return sys.modules["monitor"]
    spec = importlib.util.spec_from_file_location("monitor", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["monitor"] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    import monitor
else:
    monitor = _load_example()


def make_ticker(
    inst_id: str = "BTC-USDT",
    last: str = "46053",
    open_24h: str = "45000",
    *,
    bid: str | None = None,
    ask: str | None = None,
    vol: str = "17602.14225433",
    vol_ccy: str = "525802435.42181708",
    inst_type: str = "SPOT",
) -> Ticker:
    price = Decimal(last)
    return Ticker(
        inst_id=inst_id,
        inst_type=inst_type,
        last=price,
        last_size=Decimal("0.1"),
        bid=Decimal(bid) if bid is not None else price,
        bid_size=Decimal("1"),
        ask=Decimal(ask) if ask is not None else price,
        ask_size=Decimal("1"),
        open_24h=Decimal(open_24h),
        high_24h=price,
        low_24h=price,
        vol_24h=Decimal(vol),
        vol_ccy_24h=Decimal(vol_ccy),
        ts=1_700_000_000_000,
    )


def make_stats(**overrides: object) -> ConnectionStats:
    values: dict[str, object] = {
        "state": ConnectionState.CONNECTED,
        "reconnect_count": 1,
        "retry_count": 0,
        "subscribed_pairs": 3,
        "connection_duration": 12.34,
        "last_message_age": 0.12,
        "last_error": "",
        "url": "wss://ws.okx.com:8443/ws/v5/public",
        "desired_pairs": 3,
        "ticks_received": 1234,
        "ticks_dropped": 0,
    }
    values.update(overrides)
    return ConnectionStats(**values)  # type: ignore[arg-type]


# --- formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("45000"), "45000.00"),
        (Decimal("30243.5"), "30243.50"),
        (Decimal("1234567.891"), "1234567.89"),
        (Decimal("1"), "1.00"),
        (Decimal("0.38127"), "0.3813"),
        (Decimal("0.5"), "0.5000"),
        (Decimal("0.0000123456"), "0.00001235"),
        (Decimal("-0.05"), "-0.05000"),
        (Decimal("0"), "0.00"),
        (45000, "45000.00"),
        (0.1, "0.1000"),
        (Decimal("NaN"), "n/a"),
        (float("inf"), "n/a"),
    ],
)
def test_format_price(value: Decimal | float, expected: str) -> None:
    assert monitor.format_price(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2.3449"), "+2.34%"),
        (Decimal("-0.5"), "-0.50%"),
        (Decimal("0"), "+0.00%"),
        (Decimal("-0.001"), "+0.00%"),
        (12.0, "+12.00%"),
        (None, "n/a"),
        (Decimal("NaN"), "n/a"),
    ],
)
def test_format_percent(value: Decimal | float | None, expected: str) -> None:
    assert monitor.format_percent(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("999"), "999.00"),
        (Decimal("0.5"), "0.50"),
        (Decimal("17602.14225433"), "17.60k"),
        (Decimal("525802435.42"), "525.80M"),
        (2.5e9, "2.50B"),
        (3e12, "3.00T"),
        (Decimal("999999.999"), "1.00M"),
        (Decimal("NaN"), "n/a"),
    ],
)
def test_format_volume(value: Decimal | float, expected: str) -> None:
    assert monitor.format_volume(value) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.0, "0.0s"),
        (12.34, "12.3s"),
        (59.99, "1m00s"),
        (245.0, "4m05s"),
        (7380.0, "2h03m"),
        (5 * 86400 + 3600.0, "5d01h"),
        (-3.0, "0.0s"),
        (float("inf"), "-"),
        (float("nan"), "-"),
    ],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert monitor.format_duration(seconds) == expected


def test_format_age() -> None:
    assert monitor.format_age(None) == "-"
    assert monitor.format_age(0.123) == "0.1s"
    assert monitor.format_age(90.0) == "1m30s"


def test_sparkline() -> None:
    assert monitor.sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert monitor.sparkline([Decimal("2"), Decimal("1"), Decimal("2")]) == "█▁█"
    assert monitor.sparkline([5, 5, 5]) == "▄▄▄"
    assert monitor.sparkline([]) == ""
    assert monitor.sparkline([1, 2, 3], width=0) == ""
    assert monitor.sparkline(range(100), width=10) == "▁▂▃▃▄▅▆▆▇█"
    assert monitor.sparkline([1.0, float("nan"), 2.0]) == "▁█"


def test_base_volume_is_base_currency_for_spot_and_derivatives() -> None:
    spot = make_ticker(vol="17", vol_ccy="500000")
    swap = make_ticker("BTC-USDT-SWAP", vol="1700", vol_ccy="17", inst_type="SWAP")
    assert monitor.base_volume(spot) == Decimal("17")
    assert monitor.base_volume(swap) == Decimal("17")


# --- commands -----------------------------------------------------------------------------


def test_parse_commands_add_and_remove_several_per_line() -> None:
    Command = monitor.Command
    assert monitor.parse_commands("+sol-usdt -ETH-USDT") == [
        Command("add", "SOL-USDT"),
        Command("remove", "ETH-USDT"),
    ]
    assert monitor.parse_commands("  +BTC-USDT-SWAP,-btc-usd-250627\n") == [
        Command("add", "BTC-USDT-SWAP"),
        Command("remove", "BTC-USD-250627"),
    ]
    assert monitor.parse_commands("+ sol-usdt - xrp-usdt") == [
        Command("add", "SOL-USDT"),
        Command("remove", "XRP-USDT"),
    ]


@pytest.mark.parametrize("word", ["q", "Q", "quit", "exit"])
def test_parse_commands_quit(word: str) -> None:
    assert monitor.parse_commands(word) == [monitor.Command("quit")]


@pytest.mark.parametrize("word", ["?", "help", "h", "HELP"])
def test_parse_commands_help(word: str) -> None:
    assert monitor.parse_commands(word) == [monitor.Command("help")]


def test_parse_commands_invalid_ids_are_errors_not_exceptions() -> None:
    result = monitor.parse_commands("+foo +SOL-USDT -")
    assert len(result) == 3
    bad, good, bare = result
    assert isinstance(bad, monitor.CommandError)
    assert bad.token == "+foo"
    assert "invalid instrument id 'FOO'" in bad.reason
    assert good == monitor.Command("add", "SOL-USDT")
    assert isinstance(bare, monitor.CommandError)
    assert "needs a pair" in str(bare)


def test_parse_commands_unknown_word() -> None:
    [error] = monitor.parse_commands("BTC-USDT")
    assert isinstance(error, monitor.CommandError)
    assert "unknown command 'BTC-USDT'" in error.reason
    assert "+PAIR" in error.reason


@pytest.mark.parametrize(
    "line", ["", "   ", "\n", "++--", "+\x00", "+ÄÖ-USDT", "-" * 500, "+a-b-c-d", "+-", "?!", "+ +"]
)
def test_parse_commands_never_raises(line: str) -> None:
    for item in monitor.parse_commands(line):
        assert isinstance(item, monitor.Command | monitor.CommandError)


# --- log lines ----------------------------------------------------------------------------


def test_state_lines() -> None:
    S = ConnectionState
    assert (
        monitor.format_state_line(StateChange(S.CONNECTING, "connecting (attempt 1)", 0))
        == "[state] connecting: connecting (attempt 1)"
    )
    assert (
        monitor.format_state_line(
            StateChange(S.RECONNECTING, "connection lost: heartbeat timeout", 1)
        )
        == "[state] reconnecting: connection lost: heartbeat timeout (attempt 1)"
    )
    assert (
        monitor.format_state_line(StateChange(S.RECONNECTING, "lost (attempt 3 of 5)", 3))
        == "[state] reconnecting: lost (attempt 3 of 5)"
    )
    assert (
        monitor.format_state_line(StateChange(S.CONNECTED, "connected to OKX", 0))
        == "[state] connected: connected to OKX"
    )
    assert (
        monitor.format_state_line(StateChange(S.FAILED, "max retries exceeded", 3))
        == "[state] failed: max retries exceeded"
    )


def test_tick_lines() -> None:
    assert monitor.format_tick_line(make_ticker()) == "[tick] BTC-USDT: $46053.00 (+2.34%)"
    assert (
        monitor.format_tick_line(make_ticker("DOGE-USDT", "0.38127", "0.4"))
        == "[tick] DOGE-USDT: $0.3813 (-4.68%)"
    )
    assert (
        monitor.format_tick_line(make_ticker("NEW-USDT", "1.5", "0"))
        == "[tick] NEW-USDT: $1.50 (n/a)"
    )


def test_stats_line() -> None:
    assert monitor.format_stats_line(make_stats()) == (
        "[stats] state=connected reconnects=1 retry=0 subscribed=3/3 duration=12.3s "
        "last_msg=0.1s ticks=1234 dropped=0 bad=0 rejected=- quality=100 latency=- last_error=-"
    )
    line = monitor.format_stats_line(
        make_stats(
            state=ConnectionState.RECONNECTING,
            retry_count=2,
            subscribed_pairs=0,
            desired_pairs=4,
            connection_duration=0.0,
            last_message_age=None,
            last_error="connection lost:\nheartbeat timeout",
            rejected_pairs=("FAKE-USDT", "FOO-BAR"),
            quality=42,
            latency_median=0.123,
            latency_p99=0.5,
        )
    )
    assert line == (
        "[stats] state=reconnecting reconnects=1 retry=2 subscribed=0/4 duration=0.0s "
        "last_msg=- ticks=1234 dropped=0 bad=0 rejected=FAKE-USDT,FOO-BAR "
        "quality=42 latency=0.12s/p99 0.50s "
        "last_error=connection lost: heartbeat timeout"
    )


OKX = "wss://ws.okx.com:8443/ws/v5/public"
AWS = "wss://wsaws.okx.com:8443/ws/v5/public"


def make_conn(index: int, **overrides: object) -> ConnectionStats:
    """One connection's snapshot, as in ``stats.connections``."""
    values: dict[str, object] = {
        "index": index,
        "subscribed_pairs": 2,
        "desired_pairs": 2,
        "ticks_received": 100 * (index + 1),
        "url_failures": ((OKX, 0), (AWS, 0)),
        "url": OKX,
    }
    values.update(overrides)
    return make_stats(**values)


def make_pool(*conns: ConnectionStats, **overrides: object) -> ConnectionStats:
    """Pool totals over *conns*, as ``OkxClient.get_stats`` gives them."""
    values: dict[str, object] = {
        "subscribed_pairs": sum(c.subscribed_pairs for c in conns),
        "desired_pairs": sum(c.desired_pairs for c in conns),
        "ticks_received": sum(c.ticks_received for c in conns),
        "quality": min(c.quality for c in conns),
        "url_failures": ((OKX, 0), (AWS, 0)),
        "connections": conns,
    }
    values.update(overrides)
    return make_stats(**values)


def test_stats_line_of_a_pool_has_one_part_per_connection() -> None:
    pool = make_pool(
        make_conn(0, subscribed_pairs=500, desired_pairs=500),
        make_conn(
            1,
            state=ConnectionState.RECONNECTING,
            subscribed_pairs=0,
            desired_pairs=500,
            quality=62,
        ),
        state=ConnectionState.RECONNECTING,
    )
    assert monitor.is_pooled(pool)
    assert monitor.format_pool_part(pool) == (
        "conn0 connected 500/500 q100; conn1 reconnecting 0/500 q62"
    )
    line = monitor.format_stats_line(pool)
    assert line == (
        "[stats] state=reconnecting reconnects=1 retry=0 subscribed=500/1000 duration=12.3s "
        "last_msg=0.1s ticks=300 dropped=0 bad=0 rejected=- quality=62 latency=- "
        "pool=[conn0 connected 500/500 q100; conn1 reconnecting 0/500 q62] last_error=-"
    )


def test_one_connection_is_not_a_pool() -> None:
    single = make_stats(connections=(make_conn(0),))
    assert not monitor.is_pooled(single)
    assert not monitor.is_pooled(make_stats())
    assert monitor.format_pool_part(single) == ""
    assert "pool=" not in monitor.format_stats_line(single)


def test_stats_line_shows_failover_handovers_stale_and_rate_limits_when_not_zero() -> None:
    quiet = make_stats(url_failures=((OKX, 0), (AWS, 0)), request_budget=470)
    assert monitor.format_stats_line(quiet) == monitor.format_stats_line(make_stats())
    assert monitor.notable_figures(quiet) == []
    busy = make_stats(
        url=AWS,
        url_failures=((OKX, 3), (AWS, 0)),
        handovers=2,
        stale_resubscribes=5,
        connects_delayed=4,
        requests_delayed=1,
        request_budget=0,
        last_error="connect failed",
    )
    assert monitor.failover_url(busy) == AWS
    assert monitor.url_failure_count(busy) == 3
    line = monitor.format_stats_line(busy)
    assert line.endswith(
        f"latency=- url={AWS} handovers=2 stale_resubscribes=5 connects_delayed=4 "
        "requests_delayed=1 request_budget=0 left last_error=connect failed"
    ), line
    # The budget shows once it is low, or once a request had to wait for it.
    low = make_stats(request_budget=monitor.LOW_REQUEST_BUDGET)
    assert "request_budget=48 left" in monitor.format_stats_line(low)
    waited = make_stats(request_budget=300, requests_delayed=1)
    assert "request_budget=300 left" in monitor.format_stats_line(waited)
    assert monitor.notable_figures(make_stats(request_budget=None, requests_delayed=0)) == []


def test_failover_is_judged_against_the_first_configured_url() -> None:
    assert monitor.failover_url(make_stats(url=OKX, url_failures=((OKX, 2), (AWS, 0)))) is None
    assert monitor.failover_url(make_stats(url=AWS)) is None  # no url list: nothing to judge
    assert monitor.preferred_url(make_stats(url_failures=((AWS, 0),))) == AWS
    assert monitor.url_host(AWS) == "wsaws.okx.com"
    assert monitor.url_host("ws://127.0.0.1:4000/ws") == "127.0.0.1"
    moved = make_conn(1, url=AWS, url_failures=((OKX, 1), (AWS, 0)))
    assert monitor.format_connection_part(moved) == "conn1 connected 2/2 q100 @wsaws.okx.com"


def test_model_keeps_a_tick_rate_per_connection() -> None:
    model = monitor.MonitorModel()
    model.on_stats(make_pool(make_conn(0, ticks_received=10), make_conn(1, ticks_received=0)), 1.0)
    assert model.tick_rates == {}
    model.on_stats(make_pool(make_conn(0, ticks_received=30), make_conn(1, ticks_received=5)), 3.0)
    assert model.tick_rates == {0: 10.0, 1: 2.5}
    # A counter that went down (an index reused by a new connection) restarts its rate;
    # a connection that is gone loses its rate.
    model.on_stats(make_stats(connections=(make_conn(0, ticks_received=2),)), 4.0)
    assert model.tick_rates == {}
    model.on_stats(make_stats(connections=(make_conn(0, ticks_received=6),)), 6.0)
    assert model.tick_rates == {0: 2.0}
    model.on_stats(make_stats())  # without a time: the rates stay
    assert model.tick_rates == {0: 2.0}


def test_tick_log_limiter_allows_one_line_per_pair_per_second() -> None:
    limiter = monitor.TickLogLimiter(1.0)
    assert limiter.should_log("BTC-USDT", 10.0)
    assert not limiter.should_log("BTC-USDT", 10.5)
    assert limiter.should_log("ETH-USDT", 10.5)
    assert not limiter.should_log("BTC-USDT", 10.999)
    assert limiter.should_log("BTC-USDT", 11.0)
    assert not limiter.should_log("BTC-USDT", 11.2)
    limiter.forget("BTC-USDT")
    assert limiter.should_log("BTC-USDT", 11.3)


def test_rate_limiter() -> None:
    limiter = monitor.RateLimiter(5.0, start=100.0)
    assert not limiter.ready(101.0)
    assert limiter.ready(105.0)
    assert not limiter.ready(106.0)
    assert limiter.ready(110.0)
    assert limiter.ready(130.0)  # after a long pause: once, not a burst
    assert not limiter.ready(131.0)
    assert limiter.ready(135.0)


def test_chaos_schedule_starts_with_a_drop_then_cycles_through_every_fault() -> None:
    import random

    schedule = monitor.ChaosSchedule(random.Random(7))
    first = schedule.next_delay()
    assert 5.0 <= first <= 8.0
    assert schedule.next_fault() == "drop"
    for _ in range(3):
        kinds = set()
        for _ in range(4):
            assert 10.0 <= schedule.next_delay() <= 20.0
            kinds.add(schedule.next_fault())
        assert kinds == {"drop", "silence", "notice", "reject"}
    fixed = monitor.ChaosSchedule(random.Random(1), first_after=1.5, every=3.0)
    assert fixed.next_delay() == 1.5
    assert 2.0 <= fixed.next_delay() <= 4.0
    a, b = monitor.ChaosSchedule(random.Random(3)), monitor.ChaosSchedule(random.Random(3))
    assert [(a.next_delay(), a.next_fault()) for _ in range(9)] == [
        (b.next_delay(), b.next_fault()) for _ in range(9)
    ]


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
    model = monitor.MonitorModel(max_events=3)
    S = ConnectionState
    model.on_state_change(StateChange(S.CONNECTING, "connecting (attempt 1)", 0), 1.0)
    model.on_state_change(StateChange(S.CONNECTED, "connected to OKX", 0), 2.0)
    event = model.on_state_change(
        StateChange(S.CONNECTED, "instrument rejected: FAKE-USDT (60018 doesn't exist)", 0), 3.0
    )
    assert event.kind == "rejected"
    model.on_state_change(StateChange(S.RECONNECTING, "connection lost: x", 1), 4.0)
    assert model.state is S.RECONNECTING
    assert [e.text for e in model.events] == [
        "connected: connected to OKX",
        "connected: instrument rejected: FAKE-USDT (60018 doesn't exist)",
        "reconnecting: connection lost: x (attempt 1)",
    ]
    model.on_stats(make_stats(state=S.CONNECTED))
    assert _state_of(model) is S.CONNECTED


def _state_of(model: monitor.MonitorModel) -> ConnectionState:
    return model.state  # (a call, so mypy forgets what it narrowed model.state to)


# --- the live table -----------------------------------------------------------------------


def _record(renderable: object, *, styles: bool = False, width: int = 120) -> str:
    console = Console(record=True, width=width, file=io.StringIO(), force_terminal=True)
    console.print(renderable)
    return console.export_text(styles=styles)


def test_render_rows_and_status_panel() -> None:
    model = monitor.MonitorModel(["BTC-USDT", "DOGE-USDT", "NEW-USDT", "FAKE-USDT"])
    for now, price in [(0.0, "45000"), (1.0, "45500"), (2.0, "46053")]:
        model.on_ticker(make_ticker(last=price, bid="46053.1", ask="46053.2"), now)
    model.on_ticker(make_ticker("DOGE-USDT", "0.38127", "0.4", vol="1234567890"), 1.5)
    model.on_state_change(
        StateChange(ConnectionState.RECONNECTING, "connection lost: heartbeat timeout", 2), 1.0
    )
    model.add_event("cmd", "watching NEW-USDT", 2.0)
    stats = make_stats(
        reconnect_count=2,
        retry_count=1,
        subscribed_pairs=3,
        desired_pairs=4,
        connection_duration=65.0,
        last_message_age=0.25,
        last_error="connection lost: heartbeat timeout (no message for 5s)",
        rejected_pairs=("FAKE-USDT",),
        url="ws://127.0.0.1:9999/ws/v5/public",
    )
    text = _record(monitor.render(model, stats, now=9.5))
    lines = text.splitlines()

    def line_of(needle: str) -> str:
        return next(line for line in lines if needle in line)

    btc = line_of("BTC-USDT")
    for cell in ("46053.00", "+2.34%", "46053.10", "46053.20", "17.60k", "7.5s", "▁▄█"):
        assert cell in btc
    doge = line_of("DOGE-USDT")
    for cell in ("0.3813", "-4.68%", "1.23B", "8.0s"):
        assert cell in doge
    assert "waiting…" in line_of("NEW-USDT")
    assert "rejected" in line_of("FAKE-USDT")
    assert "connected" in line_of("State")
    assert "ws://127.0.0.1:9999/ws/v5/public" in line_of("URL")
    assert "1" in line_of("Retry count").split("Retry count")[1]
    assert "2" in line_of("Reconnects").split("Reconnects")[1]
    assert "1m05s" in line_of("Connected for")
    assert "0.2s" in line_of("Last message")
    assert "3/4" in line_of("Subscribed")
    assert "heartbeat timeout (no message for 5s)" in line_of("Last error")
    assert "FAKE-USDT" in line_of("Rejected")
    assert "100/100" in line_of("Quality")
    assert "-" in line_of("Latency").split("Latency")[1]
    assert "[state] reconnecting: connection lost: heartbeat timeout (attempt 2)" in text
    assert "00:00:02 [cmd] watching NEW-USDT" in text
    assert "q quit" in text


def test_render_colours_change_and_state() -> None:
    model = monitor.MonitorModel(["BTC-USDT", "ETH-USDT"])
    model.on_ticker(make_ticker(last="46053", open_24h="45000"), 0.0)
    model.on_ticker(make_ticker("ETH-USDT", last="3000", open_24h="3100"), 0.0)
    styled = _record(monitor.render(model, make_stats(), now=1.0), styles=True)
    assert "\x1b[32m+2.34%" in styled  # green
    assert "\x1b[31m-3.23%" in styled  # red
    assert "\x1b[1;32mconnected" in styled  # bold green state
    failed = _record(
        monitor.render(model, make_stats(state=ConnectionState.FAILED), now=1.0), styles=True
    )
    assert "\x1b[1;31mfailed" in failed


def test_render_without_stats_or_pairs() -> None:
    text = _record(monitor.render(monitor.MonitorModel(), None, now=0.0))
    assert "no pairs" in text
    assert "disconnected" in text
    assert "no events yet" in text


def test_render_a_pool_shows_one_row_per_connection() -> None:
    model = monitor.MonitorModel(["BTC-USDT", "ETH-USDT", "SOL-USDT"])
    conns = (
        make_conn(0, ticks_received=120, last_message_age=0.3, request_budget=470),
        make_conn(
            1,
            state=ConnectionState.RECONNECTING,
            subscribed_pairs=0,
            desired_pairs=1,
            reconnect_count=4,
            quality=62,
            last_message_age=None,
            url=AWS,
            url_failures=((OKX, 2), (AWS, 0)),
            request_budget=None,
        ),
        make_conn(2, quality=40, request_budget=7),
    )
    model.on_stats(make_pool(*conns), 1.0)
    model.on_stats(make_pool(*(dataclasses.replace(c, ticks_received=c.ticks_received + 20)
                               for c in conns)), 3.0)  # fmt: skip
    stats = make_pool(
        *conns,
        state=ConnectionState.RECONNECTING,
        handovers=1,
        stale_resubscribes=3,
        requests_delayed=2,
        request_budget=7,
    )
    for width in (120, 80):  # it fits a classic terminal too
        text = _record(monitor.render(model, stats, now=3.0), width=width)
        lines = text.splitlines()
        assert "connections (3)" in text
        assert "pool totals" in text
        header = next(line for line in lines if "Host" in line and "Quality" in line)
        assert header.split()[1:] == [
            "#", "State", "Host", "Pairs", "Ticks/s", "Last", "msg", "Reconn", "Quality",
            "Budget", "│",
        ]  # fmt: skip
        rows = [line for line in lines if "okx.com " in line]
        assert [row.split()[1:-1] for row in rows] == [
            ["0", "connected", "ws.okx.com", "2/2", "10.0", "0.3s", "1", "100", "470"],
            ["1", "reconnecting", "wsaws.okx.com", "0/1", "10.0", "-", "4", "62", "-"],
            ["2", "connected", "ws.okx.com", "2/2", "10.0", "0.1s", "1", "40", "7"],
        ], text
    # the totals panel: the pool and the figures that are not zero
    assert "3 (2 connected)" in text
    for label, value in (
        ("Handovers", "1"),
        ("Stale resubs", "3"),
        ("Requests delayed", "2"),
        ("Request budget", "7 left"),
    ):
        line = next(line for line in lines if label in line)
        assert value in line.split(label)[1], line
    assert "Connects delayed" not in text  # zero: not shown


def test_render_single_connection_has_no_pool_panel_and_shows_a_failover() -> None:
    model = monitor.MonitorModel(["BTC-USDT"])
    stats = make_stats(
        url=AWS, url_failures=((OKX, 3), (AWS, 0)), connections=(make_conn(0, url=AWS),)
    )
    text = _record(monitor.render(model, stats, now=1.0))
    assert "connections (" not in text
    assert "pool totals" not in text
    assert "Connections" not in text and "Handovers" not in text
    url_line = next(line for line in text.splitlines() if "URL" in line)
    assert AWS in url_line
    assert "failed over from ws.okx.com; 3 failed attempts" in url_line
    preferred = make_stats(url=OKX, url_failures=((OKX, 1), (AWS, 0)))
    assert "failed over" not in _record(monitor.render(model, preferred, now=1.0))


# --- command line -------------------------------------------------------------------------


def _options(argv: list[str]) -> monitor.Options:
    parser = monitor.build_parser()
    return monitor.options_from_args(parser, parser.parse_args(argv))


def test_default_pairs_and_url() -> None:
    options = _options([])
    assert options.pairs == monitor.DEFAULT_PAIRS
    assert options.config == ClientConfig()
    assert not options.demo


def test_pairs_are_upper_cased_and_deduplicated() -> None:
    assert _options(["btc-usdt", "ETH-USDT", "BTC-USDT"]).pairs == ("BTC-USDT", "ETH-USDT")


def test_url_and_tunables_go_into_the_client_config() -> None:
    options = _options(
        [
            "--url", "wss://wsaws.okx.com:8443/ws/v5/public",
            "--ping-interval", "10", "--connection-timeout", "15", "--initial-delay", "0.2",
            "--max-delay", "4", "--max-retries", "3", "--duration", "2.5",
        ]
    )  # fmt: skip
    config = options.config
    assert config.url == "wss://wsaws.okx.com:8443/ws/v5/public"
    assert (config.ping_interval, config.connection_timeout) == (10.0, 15.0)
    assert (config.initial_delay, config.max_delay, config.max_retries) == (0.2, 4.0, 3)
    assert options.duration == 2.5


def test_demo_uses_short_timings_unless_overridden() -> None:
    demo = _options(["--demo", "--seed", "4"])
    assert demo.demo and demo.chaos and demo.seed == 4
    config = demo.config
    assert (config.ping_interval, config.connection_timeout, config.initial_delay) == (3, 5, 0.5)
    overridden = _options(["--demo", "--connection-timeout", "2", "--initial-delay", "9"])
    assert overridden.config.connection_timeout == 2
    assert overridden.config.ping_interval == 1.0  # kept below the timeout
    assert overridden.config.max_delay == 9.0  # kept above the initial delay
    quiet = _options(["--demo", "--no-chaos", "--chaos-first-after", "1", "--chaos-every", "3"])
    assert not quiet.chaos
    assert (quiet.chaos_first_after, quiet.chaos_every) == (1.0, 3.0)


def test_max_pairs_per_connection_flag() -> None:
    assert _options([]).config.max_pairs_per_connection is None
    assert _options(["--max-pairs-per-connection", "300"]).config.max_pairs_per_connection == 300
    demo = _options(["--demo", "--max-pairs-per-connection", "2"])
    assert demo.config.max_pairs_per_connection == 2
    assert demo.config.ping_interval == 3  # the demo's other settings stay


def test_config_file_then_flags(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "client.toml"
    path.write_text("ping_interval = 7\nmax_retries = 5\ntransport = 'websockets'\n")
    config = _options(["--config", str(path)]).config
    assert (config.ping_interval, config.max_retries, config.transport) == (7, 5, "websockets")
    config = _options(
        ["--config", str(path), "--max-retries", "2", "--transport", "trio-websocket"]
    ).config
    assert (config.ping_interval, config.max_retries, config.transport) == (7, 2, "trio-websocket")
    path.write_text("connection_timeout = 8\n")
    demo = _options(["--demo", "--config", str(path)]).config
    assert (demo.ping_interval, demo.connection_timeout) == (3, 8)  # the file over the demo's
    path.write_text(f"max_pairs_per_connection = 50\nurls = ['{OKX}', '{AWS}']\n")
    assert _options(["--config", str(path)]).config.max_pairs_per_connection == 50
    flagged = _options(
        ["--config", str(path), "--max-pairs-per-connection", "7", "--url", "ws://127.0.0.1:1"]
    ).config
    assert flagged.max_pairs_per_connection == 7
    assert flagged.urls == ("ws://127.0.0.1:1",)  # --url replaces the file's list


def test_a_bad_config_file_exits_2_naming_file_and_key(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "client.toml"
    path.write_text("ping_intervall = 7\n")
    assert monitor.main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: unknown key ping_intervall" in err
    assert monitor.main(["--config", str(tmp_path / "missing.toml")]) == 2
    assert "--config: cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["btc"], "invalid instrument id 'BTC'"),
        (["BTC-USDT", "foo_bar"], "invalid instrument id 'FOO_BAR'"),
        (["--ping-interval", "-1"], "ClientConfig.ping_interval must be"),
        (["--ping-interval", "40"], "ping_interval must be < connection_timeout"),
        (["--connection-timeout", "nan"], "ClientConfig.connection_timeout"),
        (["--max-retries", "-1"], "max_retries"),
        (["--max-retries", "two"], "invalid int value"),
        (["--url", "http://example.com"], "ClientConfig.url"),
        (["--demo", "--url", "ws://127.0.0.1:1"], "not allowed with argument"),
        (["--no-chaos"], "--no-chaos only applies with --demo"),
        (["--seed", "3"], "--seed only applies with --demo"),
        (["--duration", "0"], "must be a finite number > 0"),
        (["--duration", "soon"], "not a number"),
        (["--bogus"], "unrecognized arguments"),
        (["--max-pairs-per-connection", "0"], "--max-pairs-per-connection: must be an int >= 1"),
        (["--max-pairs-per-connection", "-2"], "--max-pairs-per-connection: must be an int >= 1"),
        (["--max-pairs-per-connection", "1.5"], "--max-pairs-per-connection: must be an int >= 1"),
        (["--max-pairs-per-connection", "many"], "--max-pairs-per-connection: must be an int"),
        (["--max-pairs-per-connection"], "--max-pairs-per-connection: expected one argument"),
    ],
)
def test_bad_arguments_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert monitor.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_without_rich_a_terminal_gets_a_hint_and_log_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr(monitor, "rich_available", lambda: False)
    code = monitor.main(["--demo", "--no-chaos", "--duration", "1", "BTC-USDT"])
    assert code == 0
    assert capsys.readouterr().err == monitor.INSTALL_HINT + "\n"
    assert "pip install okx-trio[monitor]" in monitor.INSTALL_HINT
    lines = terminal.getvalue().splitlines()
    assert "[state] connected: connected to OKX" in lines
    assert any(line.startswith("[tick] BTC-USDT: $") for line in lines)


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert monitor.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--demo" in out and "--max-retries" in out and "+PAIR" in out
    assert "--max-pairs-per-connection N" in out


# --- the Trio program against the in-memory fake exchange -----------------------------------


def _memory_options(pairs: tuple[str, ...], **overrides: object) -> monitor.Options:
    config = ClientConfig(
        url="ws://fake.invalid/ws/v5/public",
        ping_interval=3.0,
        connection_timeout=5.0,
        initial_delay=0.5,
        max_delay=2.0,
        stable_after=5.0,
    )
    values: dict[str, object] = {"pairs": pairs, "config": config, "duration": 10.0}
    values.update(overrides)
    return monitor.Options(**values)  # type: ignore[arg-type]


async def _run_with_commands(
    options: monitor.Options,
    exchange: FakeExchange,
    script: list[tuple[float, str]],
) -> tuple[int, list[str], str]:
    """Run the monitor in log mode, typing each (at, line) of *script*; returns
    (exit code, stdout lines, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    send, receive = trio.open_memory_channel[str](10)
    code: list[int] = []

    async def typist() -> None:
        async with send:
            for at, line in script:
                await trio.sleep_until(at)
                await send.send(line)
            await trio.sleep_forever()

    async def monitor_task() -> None:
        code.append(
            await monitor.run(
                options,
                connector=exchange.connector,
                exchange=exchange if options.demo else None,
                commands=receive,
                out=out,
                err=err,
                handle_signals=False,
            )
        )
        nursery.cancel_scope.cancel()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(typist)
        nursery.start_soon(monitor_task)
    return code[0], out.getvalue().splitlines(), err.getvalue()


async def test_typed_commands_change_pairs_on_the_live_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.25, seed=1)
    code, lines, err = await _run_with_commands(
        _memory_options(("BTC-USDT", "ETH-USDT")),
        exchange,
        [(2.0, "+sol-usdt -ETH-USDT\n"), (3.0, "+nope\n"), (3.5, "hello -xrp-usdt ?\n")],
    )
    assert code == 0
    assert err == ""
    assert trio.current_time() == pytest.approx(10.0, abs=0.01)
    assert "[cmd] watching SOL-USDT" in lines
    assert "[cmd] stopped watching ETH-USDT" in lines
    assert any(line.startswith("[error] invalid instrument id 'NOPE'") for line in lines), lines
    assert any(line.startswith("[error] unknown command 'hello'") for line in lines)
    assert "[error] not watching XRP-USDT" in lines
    assert any(line.startswith("[help] +PAIR") for line in lines)
    added_at = lines.index("[cmd] watching SOL-USDT")
    assert any(line.startswith("[tick] SOL-USDT: $") for line in lines[added_at:])
    assert not any(line.startswith("[tick] ETH-USDT") for line in lines[added_at + 3 :])
    # incremental subscribe/unsubscribe on the one connection: no reconnect
    assert exchange.accepted_connections == 1
    assert lines.count("[state] connected: connected to OKX") == 1
    ops = [(r.op, r.inst_ids) for r in exchange.requests if r.op != "ping"]
    assert ("subscribe", ("SOL-USDT",)) in ops
    assert ("unsubscribe", ("ETH-USDT",)) in ops


async def test_tick_lines_are_rate_limited_per_pair(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange(tick_interval=0.1, seed=2)
    code, lines, _ = await _run_with_commands(
        _memory_options(("BTC-USDT", "DOGE-USDT"), duration=5.0, stats_every=2.0), exchange, []
    )
    assert code == 0
    assert exchange.pushes >= 80
    for pair in ("BTC-USDT", "DOGE-USDT"):
        ticks = [line for line in lines if line.startswith(f"[tick] {pair}: $")]
        assert 4 <= len(ticks) <= 6, ticks
    assert any(line.startswith("[stats] state=connected") for line in lines)


async def test_q_quits_with_0(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange(tick_interval=0.5)
    code, lines, _ = await _run_with_commands(
        _memory_options(("BTC-USDT",), duration=100.0), exchange, [(1.5, "q\n")]
    )
    assert code == 0
    assert trio.current_time() == pytest.approx(1.5, abs=0.01)
    assert "[cmd] quitting" in lines


async def test_failed_client_exits_1_with_a_one_line_reason(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange()
    exchange.refuse_connections(100)
    options = _memory_options(("BTC-USDT",), duration=100.0)
    options = monitor.Options(
        pairs=options.pairs,
        config=ClientConfig(url=options.config.url, initial_delay=0.05, max_retries=1),
        duration=100.0,
    )
    code, lines, err = await _run_with_commands(options, exchange, [])
    assert code == 1
    assert lines[-1].startswith("[state] failed: max retries exceeded")
    assert err.count("\n") == 1
    assert err.startswith("monitor: connection failed: max retries exceeded")


async def test_demo_chaos_injects_every_fault_and_the_client_heals(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.5, seed=5)
    options = _memory_options(
        ("BTC-USDT", "ETH-USDT"),
        demo=True,
        seed=5,
        chaos_first_after=2.0,
        chaos_every=6.0,
        duration=60.0,
    )
    code, lines, _ = await _run_with_commands(options, exchange, [])
    assert code == 0
    chaos = [line for line in lines if line.startswith("[chaos]")]
    assert chaos[0] == "[chaos] the exchange drops the connection"
    text = "\n".join(lines)
    assert "[chaos] the exchange goes silent for 7s" in text
    assert "[chaos] the exchange announces a service upgrade (64008)" in text
    assert "[chaos] adding FAKE-USDT, which the exchange rejects" in text
    assert "instrument rejected: FAKE-USDT" in text
    assert "heartbeat timeout" in text  # the silence tripped the watchdog
    # after the first drop: reconnecting, then connected again
    drop = lines.index(chaos[0])
    after = lines[drop:]
    reconnecting = next(i for i, line in enumerate(after) if line.startswith("[state] reconn"))
    assert "[state] connected: connected to OKX" in after[reconnecting:]
    assert exchange.accepted_connections >= 4
    assert lines[-1].startswith("[tick]") or "connected" in "\n".join(lines[-10:])


async def test_table_mode_draws_the_table(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange(tick_interval=0.25, seed=3)
    out = io.StringIO()
    code = await monitor.run(
        _memory_options(("BTC-USDT", "ETH-USDT"), table=True, duration=3.0),
        connector=exchange.connector,
        read_stdin=False,
        out=out,
        handle_signals=False,
    )
    assert code == 0
    text = out.getvalue()
    assert "OKX tickers" in text
    assert "BTC-USDT" in text and "ETH-USDT" in text
    assert "[tick]" not in text


async def test_demo_chaos_with_a_pool_hits_one_connection_and_logs_each(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.5, seed=6)
    options = _memory_options(
        ("BTC-USDT", "ETH-USDT", "SOL-USDT"),
        demo=True,
        seed=6,
        chaos_first_after=2.0,
        chaos_every=6.0,
        duration=40.0,
        stats_every=1.0,
    )
    options = dataclasses.replace(
        options, config=options.config.replace(max_pairs_per_connection=1)
    )
    code, lines, err = await _run_with_commands(options, exchange, [])
    assert code == 0, err
    text = "\n".join(lines)
    chaos = [line for line in lines if line.startswith("[chaos]")]
    assert chaos[0] == "[chaos] the exchange drops 1 of its 3 connections"
    assert "[chaos] the exchange goes silent on 1 of its 3 connections for 7s" in text
    assert "[chaos] the exchange announces a service upgrade (64008)" in text
    assert "[chaos] adding FAKE-USDT, which the exchange rejects" in text
    for index in range(3):
        assert f"[state] connected: [connection {index}] connected to OKX" in lines
    # The drop took down one connection only: one reconnect, then the next fault.
    drop, next_fault = [i for i, line in enumerate(lines) if line.startswith("[chaos]")][:2]
    reconnecting = [
        line for line in lines[drop:next_fault] if line.startswith("[state] reconnecting:")
    ]
    assert len(reconnecting) == 1, lines[drop:next_fault]
    stats = [line for line in lines if line.startswith("[stats] ")]
    healthy = "pool=[conn0 connected 1/1 q{}; conn1 connected 1/1 q{}; conn2 connected 1/1 q{}]"
    assert _pool_matches(stats[0], healthy), stats[0]
    assert any(" reconnects=1 " in line for line in stats)
    assert any(" handovers=3 " in line for line in stats), "one handover per connection"
    assert _pool_matches(stats[-1], healthy), stats[-1]  # healed


def _pool_matches(line: str, pattern: str) -> bool:
    """Whether *line*'s ``pool=[...]`` part is *pattern* with any numbers for the ``{}``."""
    import re

    regex = re.escape(pattern).replace(r"\{\}", r"\d+")
    return re.search(regex, line) is not None


async def test_table_mode_with_a_pool_draws_a_row_per_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.25, seed=3)
    options = _memory_options(("BTC-USDT", "ETH-USDT"), table=True, duration=3.0)
    options = dataclasses.replace(
        options, config=options.config.replace(max_pairs_per_connection=1)
    )
    out = io.StringIO()
    code = await monitor.run(
        options, connector=exchange.connector, read_stdin=False, out=out, handle_signals=False
    )
    assert code == 0
    last_frame = out.getvalue().rsplit("OKX tickers", 1)[1]
    assert "connections (2)" in last_frame
    assert "pool totals" in last_frame
    rows = [line.split()[1:4] for line in last_frame.splitlines() if "fake.invalid " in line]
    assert rows == [["0", "connected", "fake.invalid"], ["1", "connected", "fake.invalid"]]
