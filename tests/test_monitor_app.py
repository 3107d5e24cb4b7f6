"""okx_trio.monitor._app and _demo: the Trio program against the in-memory fake exchange."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest
import trio
import trio.testing

import okx_trio.monitor as monitor
from okx_trio import ClientConfig, Subscription, open_okx_client
from okx_trio.monitor._output import Output
from okx_trio.testing import FakeExchange

from ._monitor_helpers import StubBooks, untimed

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
    return code[0], untimed(out.getvalue().splitlines()), err.getvalue()


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
    assert "[error] 'NOPE' is not a pair like BTC-USDT (lower case is fine)" in lines
    assert any(line.startswith("[error] unknown command 'hello'") for line in lines)
    assert "[error] not watching XRP-USDT" in lines
    assert any(line.startswith("[help] +PAIR") for line in lines)
    added_at = lines.index("[cmd] watching SOL-USDT")
    assert any(line.startswith("[tick] SOL-USDT: $") for line in lines[added_at:])
    assert not any(line.startswith("[tick] ETH-USDT") for line in lines[added_at + 3 :])
    # incremental subscribe/unsubscribe on the one connection: no reconnect
    assert exchange.accepted_connections == 1
    assert lines.count("[state] connected: connected to fake.invalid") == 1
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
    assert lines[-2].startswith("[state] failed: max retries exceeded")
    assert lines[-1].startswith("[bye] ran ")
    assert lines[-1].endswith("; the client gave up")
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
    assert "[state] connected: connected to the demo exchange" in after[reconnecting:]
    assert exchange.accepted_connections >= 4
    assert lines[-2].startswith("[tick]") or "connected" in "\n".join(lines[-11:-1])


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
        assert f"[state] connected: [connection {index}] connected to the demo exchange" in lines
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
    rows = [
        line.split()[1:4]
        for line in last_frame.splitlines()
        if "fake.invalid " in line and line.split()[1].isdigit()
    ]
    assert rows == [["0", "connected", "fake.invalid"], ["1", "connected", "fake.invalid"]]


async def test_log_mode_ends_with_a_closing_line_and_ticks_can_be_quieted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.1, seed=2)
    code, lines, _ = await _run_with_commands(
        _memory_options(("BTC-USDT",), duration=5.0, ticks=False), exchange, []
    )
    assert code == 0
    assert not any(line.startswith("[tick]") for line in lines)
    assert "[state] connected: connected to fake.invalid" in lines
    assert lines[-1].startswith("[bye] ran 5.0s: 0 reconnects, ")
    assert lines[-1].endswith("; --duration 5 s over")
    slow = FakeExchange(tick_interval=0.1, seed=2)
    _, lines, _ = await _run_with_commands(
        _memory_options(("BTC-USDT",), duration=5.0, tick_every=2.0), slow, []
    )
    assert 2 <= len([line for line in lines if line.startswith("[tick] BTC-USDT")]) <= 3


async def test_a_removed_rejected_pair_is_no_longer_rejected(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.5, seed=3)
    exchange.reject_instruments("FAKE-USDT")
    code, lines, _ = await _run_with_commands(
        _memory_options(("BTC-USDT",), duration=6.0, stats_every=1.0),
        exchange,
        [(1.0, "+fake-usdt\n"), (2.5, "-fake-usdt\n")],
    )
    assert code == 0
    assert any(line.startswith("[rejected] instrument rejected: FAKE-USDT") for line in lines)
    removed = lines.index("[cmd] stopped watching FAKE-USDT")
    stats = [line for line in lines if line.startswith("[stats] ")]
    assert any(" rejected=FAKE-USDT " in line for line in lines[:removed] if line in stats)
    after = [line for line in lines[removed:] if line.startswith("[stats] ")]
    assert after and all(" rejected=- " in line for line in after), after


async def test_library_warnings_go_to_the_events_not_over_the_table(
    autojump_clock: trio.testing.MockClock, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    exchange = FakeExchange(tick_interval=0.25, seed=3)
    out = io.StringIO()

    async def warn_later() -> None:
        await trio.sleep(1.0)
        logging.getLogger("okx_trio").warning("bad message from server (not JSON): b'x'")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(warn_later)
        code = await monitor.run(
            _memory_options(("BTC-USDT",), table=True, duration=3.0),
            connector=exchange.connector,
            read_stdin=False,
            out=out,
            handle_signals=False,
        )
    assert code == 0
    assert "bad message from server" not in capsys.readouterr().err
    last_frame = out.getvalue().rsplit("OKX tickers", 1)[1]
    assert "[log] bad message from server (not JSON): b'x'" in last_frame
    assert out.getvalue().splitlines()[-1].startswith("[bye] ran 3.0s"), out.getvalue()[-300:]


# --- the other channels' views --------------------------------------------------------------


async def test_channel_commands_subscribe_feed_their_views_and_switch_to_them(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.25, seed=3)
    options = _memory_options(("BTC-USDT",), duration=None)
    out = io.StringIO()
    async with open_okx_client(
        options.pairs, config=options.config, connector=exchange.connector
    ) as client:
        mon = monitor.Monitor(
            options,
            client,
            Output(out),
            exchange=None,
            console_file=io.StringIO(),
            url=options.config.url,
        )
        mon.watch(Subscription.parse("trades:BTC-USDT"))  # as run() does for Options
        channels = mon.model.channels

        def on_screen() -> str:  # read afresh each time (mypy would narrow the attribute)
            return channels.view

        send, receive = trio.open_memory_channel[str](10)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(mon.run, receive, None, False)
            await trio.sleep(2.0)
            assert len(channels.trades["BTC-USDT"]) > 0
            assert on_screen() == "tickers"  # subscribing at start switches nothing
            await send.send(
                "+books:eth-usdt +candle1m:btc-usdt +funding-rate:BTC-USDT-SWAP "
                "+mark-price:btc-usdt-swap +books:ETH-USDT\n"
            )
            await trio.sleep(3.0)
            wanted = {
                Subscription.parse(key)
                for key in (
                    "trades:BTC-USDT",
                    "books:ETH-USDT",
                    "candle1m:BTC-USDT",
                    "funding-rate:BTC-USDT-SWAP",
                    "mark-price:BTC-USDT-SWAP",
                )
            }
            assert wanted <= client.subscriptions
            assert wanted <= client.acknowledged
            assert channels.candles["BTC-USDT"]  # from the business endpoint
            swap = channels.swaps["BTC-USDT-SWAP"]
            assert swap.funding is not None and swap.mark is not None
            # The last add's view is on screen (an add of one already watched too).
            assert on_screen() == "book"
            assert channels.selected("book") == "ETH-USDT"
            # A spot pair has no funding: the exchange refuses it, and the view says so.
            await send.send("+funding-rate:BTC-USDT\n")
            await trio.sleep(2.0)
            refused = Subscription.parse("funding-rate:BTC-USDT")
            assert refused in client.rejected
            assert refused in channels.rejected
            assert channels.refused("funding", None)[0][0] == refused
            await send.send("-trades:BTC-USDT -books:ETH-USDT -books:SOL-USDT trades\n")
            await trio.sleep(1.0)
            assert Subscription.parse("trades:BTC-USDT") not in client.subscriptions
            assert Subscription.parse("books:ETH-USDT") not in client.subscriptions
            assert on_screen() == "trades" and channels.selected() is None
            assert "BTC-USDT" not in channels.trades
            mon.stop(0, "done")
    lines = untimed(out.getvalue().splitlines())
    assert "[cmd] watching books:ETH-USDT" in lines
    assert "[cmd] already watching books:ETH-USDT" in lines
    assert "[cmd] watching mark-price:BTC-USDT-SWAP" in lines
    assert "[cmd] stopped watching trades:BTC-USDT" in lines
    assert "[error] not watching books:SOL-USDT" in lines


def test_the_book_source_is_the_client_once_it_keeps_books() -> None:
    assert monitor.book_source(object()) is None  # a stand-in that keeps no books
    stub = StubBooks()
    assert monitor.book_source(stub) is stub


async def test_the_demo_shows_every_view_and_its_schedule_takes_a_book_gap(
    autojump_clock: trio.testing.MockClock,
) -> None:
    gaps: list[str] = []

    class BookFaults(FakeExchange):
        """The fake exchange, its book gaps recorded."""

        def drop_book_update(self, sub: Any, *, only: Any = None, endpoint: Any = None) -> int:
            gaps.append(str(sub))
            return super().drop_book_update(sub, only=only, endpoint=endpoint)

    exchange = BookFaults(tick_interval=0.25, seed=5)
    options = _memory_options(
        ("BTC-USDT", "ETH-USDT"),
        demo=True,
        seed=5,
        duration=100.0,
        chaos_first_after=0.5,
        chaos_every=2.0,
        subscriptions=monitor.demo_channels(("BTC-USDT", "ETH-USDT")),
    )
    code, lines, err = await _run_with_commands(options, exchange, [])
    assert code == 0, err
    assert (
        "[chaos] the exchange skips an update of books:BTC-USDT and sends the next snapshot "
        "3s late: the book resyncs, then heals"
    ) in lines
    assert gaps and set(gaps) == {"books:BTC-USDT"}
    subscribed = {
        sub.key for r in exchange.requests if r.op == "subscribe" for sub in r.subscriptions
    }
    assert {
        "books:BTC-USDT", "trades:BTC-USDT", "trades:ETH-USDT", "candle1m:BTC-USDT",
        "candle1m:ETH-USDT", "funding-rate:BTC-USDT-SWAP", "mark-price:BTC-USDT-SWAP",
    } <= subscribed  # fmt: skip
