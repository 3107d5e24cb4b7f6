"""okx_trio.monitor._render and _panels: the screen, at any width and height."""

from __future__ import annotations

import dataclasses
import io
import itertools
import re

from rich.console import Console

import okx_trio.monitor as monitor
from okx_trio import ConnectionState, StateChange

from ._monitor_helpers import AWS, OKX, make_conn, make_pool, make_stats, make_ticker

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
    # Connected: no retry count beside the reconnects (it only matters while down).
    assert "Retry count" not in text and "retry" not in text
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


def test_status_while_down_says_when_the_next_attempt_comes() -> None:
    model = monitor.MonitorModel(["BTC-USDT"], host="ws.okx.com")
    model.on_state_change(
        StateChange(ConnectionState.RECONNECTING, "connect failed: refused", 2, delay=13.0), 1.0
    )
    stats = make_stats(
        state=ConnectionState.RECONNECTING,
        retry_count=2,
        connection_duration=0.0,
        last_error="connect failed: refused",
        latency_median=0.12,
        latency_p99=0.31,
    )
    text = _record(monitor.render(model, stats, now=2.0))
    line = next(line for line in text.splitlines() if "Next attempt" in line)
    assert "in 12 s (retry 2)" in line
    assert "Connected for" not in text  # it is not connected: no "0.0s" up time
    assert "median 0.12s · p99 0.31s" in text  # not a ratio
    never = monitor.MonitorModel(["BTC-USDT"])
    waiting = make_stats(state=ConnectionState.CONNECTING, connection_duration=0.0)
    assert "0.0s" not in _record(monitor.render(never, waiting, now=0.0)).split("Last")[0]


def test_a_refused_upgrade_is_one_short_line_and_a_dns_failure_gets_a_hint() -> None:
    model = monitor.MonitorModel(["BTC-USDT"])
    refused = "server refused the WebSocket upgrade: HTTP 404 Not Found"
    stats = make_stats(state=ConnectionState.RECONNECTING, last_error=refused)
    text = _record(monitor.render(model, stats, now=0.0), width=80)
    [line] = [line for line in text.splitlines() if "Last error" in line]
    assert refused in line
    # Even a library that still hands over the whole HTTP response keeps it to one line.
    raw = "refused: HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n\r\n<html>" + "x" * 300
    text = _record(monitor.render(model, make_stats(last_error=raw), now=0.0), width=80)
    assert len([line for line in text.splitlines() if "Content-Type" in line]) == 1
    assert "<html>" not in text.split("events")[1]
    dns = make_stats(
        state=ConnectionState.RECONNECTING,
        last_error="connect failed (gaierror: [Errno -2] Name or service not known)",
    )
    hint = _record(monitor.render(model, dns, now=0.0), width=80)
    assert "try --demo" in next(line for line in hint.splitlines() if "Hint" in line)


PAIRS_30 = tuple(f"C{i:02d}X-USDT" for i in range(30))


def _screen(model: monitor.MonitorModel, stats: object, width: int, height: int) -> list[str]:
    console = Console(
        record=True, width=width, height=height, file=io.StringIO(), force_terminal=True
    )
    console.print(monitor.render(model, stats, now=5.0, height=height))  # type: ignore[arg-type]
    return console.export_text().splitlines()


def _full_model(pairs: tuple[str, ...]) -> monitor.MonitorModel:
    model = monitor.MonitorModel(pairs)
    for i, pair in enumerate(pairs):
        for t in range(25):
            price = f"{97287.55 + i * 1000 + t:.2f}"
            model.on_ticker(make_ticker(pair, price, "95000", bid=price, ask=price), float(t))
    for i in range(12):
        model.add_event("cmd", f"event number {i}", float(i))
    return model


def test_at_80x24_columns_go_before_prices_are_cut() -> None:
    model = _full_model(("BTC-USDT", "DOGE-USDT-SWAP", "ETH-USDT"))
    lines = _screen(model, make_stats(), 80, 24)
    assert len(lines) <= 24
    assert all(len(line) <= 80 for line in lines)
    header = next(line for line in lines if "Pair" in line and "Last" in line)
    for pair, offset in (("BTC-USDT", 0), ("DOGE-USDT-SWAP", 1000), ("ETH-USDT", 2000)):
        row = next(line for line in lines if line.startswith(pair))
        assert f"{97287.55 + offset + 24:.2f}" in row, row  # the whole price
    table = "\n".join(lines[: lines.index(header) + 5])
    assert "…" not in table
    wide = _screen(model, make_stats(), 160, 50)
    wide_header = next(line for line in wide if "Pair" in line and "Last" in line)
    assert wide_header.split() == " ".join(monitor.COLUMNS).split()  # all of them
    assert "Trend" not in header  # at 80 columns the sparkline went first


def test_the_least_useful_columns_go_first() -> None:
    model = _full_model(("BTC-USDT",))
    seen: list[set[str]] = []
    for width in range(160, 30, -2):
        lines = _screen(model, make_stats(), width, 40)
        header = next(line for line in lines if "Pair" in line and "Last" in line)
        names = header.replace("24h %", "24h%").replace("24h Vol", "24hVol").split()
        seen.append({name.replace("24h%", "24h %").replace("24hVol", "24h Vol") for name in names})
    assert seen[0] == set(monitor.COLUMNS)
    assert all(wider >= narrower for wider, narrower in itertools.pairwise(seen))
    drops = [wider - narrower for wider, narrower in itertools.pairwise(seen) if wider != narrower]
    order = [set(group) for group in monitor.DROP_ORDER]
    assert drops == order[: len(drops)], drops  # sparkline, volume, bid/ask, age, change
    assert len(drops) >= 3
    assert {"Pair", "Last"} <= seen[-1]  # never dropped


def test_30_pairs_at_80x24_scroll_and_keep_the_state_and_events() -> None:
    model = _full_model(PAIRS_30)
    lines = _screen(model, make_stats(desired_pairs=30, subscribed_pairs=30), 80, 24)
    text = "\n".join(lines)
    assert len(lines) <= 24
    assert "State" in text and "connected" in text  # the status panel
    assert "events" in text and "event number 11" in text  # the latest events
    assert lines[-1].startswith("> ")  # the input line
    marker = next(line for line in lines if line.startswith("pairs "))
    shown = [line.split()[0] for line in lines if line.startswith("C") and "-USDT" in line]
    assert marker.startswith(f"pairs 1-{len(shown)} of 30")
    assert shown == list(PAIRS_30[: len(shown)])
    model.scroll_by(model.visible_rows)
    later = _screen(model, make_stats(), 80, 24)
    assert any(line.startswith(PAIRS_30[len(shown)]) for line in later)
    assert next(line for line in later if line.startswith("pairs ")).startswith(
        f"pairs {len(shown) + 1}-"
    )


def test_the_input_line_shows_what_is_being_typed() -> None:
    model = monitor.MonitorModel(["BTC-USDT"])
    assert "q quit" in _screen(model, None, 80, 24)[-1]
    model.input_text = "+sol-us"
    assert _screen(model, None, 80, 24)[-1].startswith("> +sol-us")


def test_a_wide_terminal_shows_the_pairs_side_by_side_before_scrolling() -> None:
    model = _full_model(PAIRS_30)
    assert len(_screen(model, make_stats(), 80, 40)) <= 40  # 30 rows do not fit in 40 lines
    lines = _screen(model, make_stats(desired_pairs=30, subscribed_pairs=30), 160, 40)
    text = "\n".join(lines)
    for pair in PAIRS_30:
        assert re.search(rf"(^|\s){pair}\s+\d", text), pair  # every pair, with its price
    assert not any(line.startswith("pairs ") for line in lines)  # nothing to scroll
    header = next(line for line in lines if line.startswith("Pair"))
    left, right = header.split("Pair")[1:]
    assert left.split() == right.split()  # both halves show the same columns
    assert "State" in text and lines[-1].startswith("> ")
