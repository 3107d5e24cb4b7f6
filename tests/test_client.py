"""Behaviour of the client against the in-memory fake exchange, in virtual time.

Every test runs under the autojump clock, so the times asserted are exact: the in-memory
exchange answers with zero latency, and the client's own delays are all there is.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio
import trio.testing

from okx_trio import (
    Connection,
    ConnectionState,
    OkxClient,
    StateChange,
    Ticker,
    open_okx_client,
)
from okx_trio.testing import FakeExchange

from .conftest import count_tasks, make_config, recording

S = ConnectionState
PAIRS = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]


def subscribe_requests(exchange: FakeExchange, conn_index: int = -1) -> list[tuple[str, ...]]:
    conn = exchange.connections[conn_index]
    return [r.inst_ids for r in conn.requests if r.op == "subscribe"]


async def ticked(client: OkxClient, pairs: list[str]) -> None:
    await client.wait_until(lambda: all(client.latest(p) is not None for p in pairs))


# -- 1. subscribing --------------------------------------------------------------------------------


async def test_connect_sends_one_subscribe_with_every_desired_pair(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(PAIRS, config=make_config(), connector=exchange.connector) as client:
        ticks = client.ticks()
        seen: set[str] = set()
        async for ticker in ticks:
            assert isinstance(ticker, Ticker)
            seen.add(ticker.inst_id)
            if seen == set(PAIRS):
                break
        assert exchange.requests[0].op == "subscribe"
        assert sorted(exchange.requests[0].inst_ids) == sorted(PAIRS)
        assert exchange.requests[0].id is not None
        assert len([r for r in exchange.requests if r.op == "subscribe"]) == 1
        assert client.subscribed_pairs == set(PAIRS)
        assert client.state is S.CONNECTED and client.is_connected


async def test_every_reconnect_subscribes_the_whole_desired_set_again(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(PAIRS, config=make_config(), connector=exchange.connector) as client:
        await exchange.wait_until(lambda: exchange.subscriptions() == set(PAIRS))
        client.add_pair("DOGE-USDT")
        client.remove_pair("ETH-USDT")
        want = {"BTC-USDT", "SOL-USDT", "DOGE-USDT"}
        await exchange.wait_until(lambda: exchange.subscriptions() == want)
        for connections in range(2, 5):
            exchange.drop_connections()
            await exchange.wait_until(lambda: exchange.accepted_connections == connections)  # noqa: B023
            await exchange.wait_until(lambda: exchange.subscriptions() == want)
            assert subscribe_requests(exchange) == [tuple(sorted(want))]
        assert client.get_stats().reconnect_count == 3
        assert client.pairs == want


async def test_unanswered_subscribe_reconnects_after_connection_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    exchange.ignore_requests()
    config = make_config(connection_timeout=30.0, ping_interval=20.0, initial_delay=1.0)
    async with open_okx_client(PAIRS, config=config, connector=exchange.connector) as client:
        async with recording(client) as rec:
            await rec.wait_until(lambda rec: len(rec.times_of(S.RECONNECTING)) == 1)
            # The ignoring server still answers pings, so only the request timeout can fire.
            assert rec.times_of(S.RECONNECTING) == [30.0]
            assert "unanswered" in rec.messages(S.RECONNECTING)[0]
            exchange.ignore_requests(False)
            await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
            assert rec.times_of(S.CONNECTED) == [0.0, 31.0]


async def test_a_huge_desired_set_is_split_under_the_64kb_request_limit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    pairs = [f"C{i:05d}-USDT" for i in range(3000)]
    exchange = FakeExchange(tick_interval=math.inf, reject_unlisted=False)
    async with open_okx_client(pairs, config=make_config(), connector=exchange.connector) as client:
        await client.wait_until(lambda: len(client.subscribed_pairs) == len(pairs))
        requests = [r for r in exchange.requests if r.op == "subscribe"]
        assert len(requests) == 3
        assert all(len(r.raw.encode()) <= 64_000 for r in requests)
        assert sorted(p for r in requests for p in r.inst_ids) == sorted(pairs)
        assert exchange.accepted_connections == 1


# -- 2. incremental changes ------------------------------------------------------------------------


async def test_adding_five_pairs_sends_one_request_and_does_not_reconnect(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(
        ["BTC-USDT"], config=make_config(), connector=exchange.connector
    ) as client:
        await exchange.wait_until(lambda: exchange.subscriptions() == {"BTC-USDT"})
        new = ["ETH-USDT", "SOL-USDT", "XRP-USDT", "ADA-USDT", "DOGE-USDT"]
        added_at = trio.current_time()
        for pair in new:
            client.add_pair(pair)
        assert client.pairs == {"BTC-USDT", *new}
        await ticked(client, new)
        assert subscribe_requests(exchange) == [("BTC-USDT",), tuple(sorted(new))]
        assert exchange.accepted_connections == 1
        # In memory a round trip takes no time: acknowledged at the very instant of the call.
        await client.wait_until(lambda: client.subscribed_pairs == {"BTC-USDT", *new})
        assert exchange.requests[-1].time == added_at


async def test_changes_made_together_go_out_as_one_subscribe_and_one_unsubscribe(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(PAIRS, config=make_config(), connector=exchange.connector) as client:
        await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
        client.remove_pair("ETH-USDT")
        client.add_pair("ADA-USDT")
        client.remove_pair("SOL-USDT")
        client.add_pair("XRP-USDT")
        client.add_pair("SOL-USDT")  # changed its mind: SOL stays, nothing sent for it
        await exchange.wait_until(
            lambda: exchange.subscriptions() == {"BTC-USDT", "ADA-USDT", "XRP-USDT", "SOL-USDT"}
        )
        later = [(r.op, r.inst_ids) for r in exchange.requests[1:]]
        assert later == [("unsubscribe", ("ETH-USDT",)), ("subscribe", ("ADA-USDT", "XRP-USDT"))]
        assert exchange.accepted_connections == 1


async def test_subscribe_replaces_the_desired_set(autojump_clock: trio.testing.MockClock) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(PAIRS, config=make_config(), connector=exchange.connector) as client:
        await exchange.wait_until(lambda: exchange.subscriptions() == set(PAIRS))
        await ticked(client, PAIRS)
        client.subscribe(["BTC-USDT", "LTC-USDT"])
        await exchange.wait_until(lambda: exchange.subscriptions() == {"BTC-USDT", "LTC-USDT"})
        assert client.latest("ETH-USDT") is None
        assert exchange.accepted_connections == 1


async def test_removed_pair_ticks_stop_reaching_consumers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.5)
    async with open_okx_client(PAIRS, config=make_config(), connector=exchange.connector) as client:
        ticks = client.ticks()
        await ticked(client, PAIRS)
        client.remove_pair("ETH-USDT")
        removed_at = trio.current_time()
        while True:
            ticker = ticks.receive_nowait() if ticks.statistics().current_buffer_used else None
            if ticker is None:
                break
        await trio.sleep(5)
        rest = []
        while ticks.statistics().current_buffer_used:
            rest.append(ticks.receive_nowait())
        assert rest and all(t.inst_id != "ETH-USDT" for t in rest)
        assert trio.current_time() == removed_at + 5


async def test_malformed_instrument_ids_raise_at_the_call_and_change_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(PAIRS, config=make_config(), connector=exchange.connector) as client:
        for bad in ["btc-usdt", "BTC", "BTC-USDT-", "BTC_USDT", "", "BTC-USDT-2205"]:
            with pytest.raises(ValueError, match="invalid instrument id"):
                client.add_pair(bad)
        with pytest.raises(ValueError, match="'nope'"):
            client.subscribe(["ADA-USDT", "nope"])
        with pytest.raises(ValueError):
            client.remove_pair("eth")
        assert client.pairs == set(PAIRS)
    with pytest.raises(ValueError, match="invalid instrument id"):
        async with open_okx_client(["BTC/USDT"], connector=exchange.connector):
            pass  # pragma: no cover


# -- 3. heartbeat ----------------------------------------------------------------------------------


async def test_heartbeat_pings_after_ping_interval_and_reconnects_after_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf)  # a quiet market: only the heartbeat talks
    config = make_config(ping_interval=20.0, connection_timeout=30.0, initial_delay=1.0)
    async with open_okx_client(["BTC-USDT"], config=config, connector=exchange.connector) as client:
        async with recording(client) as rec:
            await exchange.wait_until(lambda: exchange.subscriptions() == {"BTC-USDT"})
            # Quiet but alive: a ping every 20 s of silence, each answered by a pong.
            await trio.sleep(50)
            pings = [r.time for r in exchange.requests if r.op == "ping"]
            assert pings == [20.0, 40.0]
            assert client.is_connected
            exchange.go_silent()  # half-open: no pushes, no pongs
            await rec.wait_until(lambda rec: len(rec.times_of(S.RECONNECTING)) == 1)
            pings = [r.time for r in exchange.requests if r.op == "ping"]
            # The last pong came at 40: ping at 60, give up at 70, retry 1 s later.
            assert pings == [20.0, 40.0, 60.0]
            assert rec.times_of(S.RECONNECTING) == [70.0]
            assert rec.messages(S.RECONNECTING) == ["heartbeat timeout (no message for 30s)"]
            exchange.resume()
            await rec.wait_until(lambda rec: len(rec.times_of(S.CONNECTED)) == 2)
            assert rec.times_of(S.CONNECTED) == [0.0, 71.0]


async def test_is_connected_turns_false_when_messages_stop(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    config = make_config(
        ping_interval=5.0, connection_timeout=10.0, initial_delay=100.0, max_delay=100.0
    )
    async with open_okx_client(PAIRS, config=config, connector=exchange.connector) as client:
        await ticked(client, PAIRS)
        assert client.is_connected
        exchange.go_silent()
        silent_at = trio.current_time()
        await trio.sleep(9.5)
        assert client.state is S.CONNECTED
        await trio.sleep(1)
        assert trio.current_time() == silent_at + 10.5
        assert not client.is_connected


# -- 4. backoff ------------------------------------------------------------------------------------


async def test_refused_attempts_back_off_exponentially(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    exchange.refuse_connections(4)
    config = make_config(initial_delay=1.0, backoff_factor=2.0, max_delay=30.0)
    async with open_okx_client(PAIRS, config=config, connector=exchange.connector) as client:
        async with recording(client) as rec:
            await rec.wait_until(lambda rec: S.CONNECTED in rec.states())
            assert rec.times_of(S.CONNECTING) == [0.0, 1.0, 3.0, 7.0, 15.0]
            assert [c.retry_count for t, c in rec.transitions() if c.state is S.RECONNECTING] == [
                1,
                2,
                3,
                4,
            ]
            assert rec.messages(S.CONNECTING) == [f"connecting (attempt {n})" for n in range(1, 6)]
            assert all(m.startswith("connect failed: ") for m in rec.messages(S.RECONNECTING))
            assert exchange.connection_attempts == 5
            assert client.get_stats().retry_count == 4
            assert "ConnectionRefusedError" in client.get_stats().last_error


async def test_server_that_acks_then_drops_does_not_cause_a_hot_loop(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.1)
    config = make_config(initial_delay=1.0, max_delay=8.0, stable_after=30.0)

    async def flaky_server() -> None:
        while True:
            await exchange.wait_until(lambda: exchange.pushes > 0 and bool(exchange.connections))
            await trio.sleep(0.5)  # subscribed and ticking...
            exchange.drop_connections()  # ...then gone

    async with trio.open_nursery() as nursery:
        nursery.start_soon(flaky_server)
        async with open_okx_client(PAIRS, config=config, connector=exchange.connector) as client:
            async with recording(client) as rec:
                await rec.wait_until(lambda rec: len(rec.times_of(S.RECONNECTING)) == 6)
                starts = rec.times_of(S.CONNECTING)
                gaps = [round(b - a, 6) for a, b in itertools.pairwise(starts)]
                # Each connection lives 0.5 s, then the delay doubles up to the cap.
                assert gaps == [1.5, 2.5, 4.5, 8.5, 8.5]
        nursery.cancel_scope.cancel()


async def test_retry_count_resets_after_a_stable_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    exchange.refuse_connections(3)
    config = make_config(initial_delay=1.0, stable_after=30.0)
    async with open_okx_client(PAIRS, config=config, connector=exchange.connector) as client:
        async with recording(client) as rec:
            await rec.wait_until(lambda rec: S.CONNECTED in rec.states())
            connected_at = trio.current_time()
            assert connected_at == 7.0
            await trio.sleep(29)
            assert client.get_stats().retry_count == 3  # not yet stable
            await trio.sleep(1.5)
            assert client.get_stats().retry_count == 0
            exchange.drop_connections()
            await rec.wait_until(lambda rec: len(rec.times_of(S.CONNECTED)) == 2)
            assert rec.transitions()[-2][1] == StateChange(
                S.CONNECTING, "connecting (attempt 2)", 1
            )
            assert rec.times_of(S.CONNECTED)[-1] == connected_at + 30.5 + 1.0


async def test_max_retries_ends_in_failed_and_reconnect_starts_afresh(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    exchange.refuse_connections(10)
    config = make_config(initial_delay=1.0, max_retries=3)
    async with open_okx_client(PAIRS, config=config, connector=exchange.connector) as client:
        async with recording(client) as rec:
            await rec.wait_until(lambda rec: S.FAILED in rec.states())
            assert rec.times_of(S.FAILED) == [7.0]
            assert rec.messages(S.FAILED)[0].startswith("max retries exceeded")
            assert exchange.connection_attempts == 4
            await trio.sleep(3600)  # FAILED rests
            assert exchange.connection_attempts == 4
            exchange.refuse_connections(0)
            client.reconnect()
            await rec.wait_until(lambda rec: rec.states().count(S.CONNECTED) == 1)
            assert rec.transitions()[-2][1].message == "connecting (attempt 1)"
            assert trio.current_time() == 3607.0


# -- 5. server errors and notices ------------------------------------------------------------------


async def test_rejected_instrument_is_dropped_and_the_rest_go_on(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    exchange.reject_instruments("FAKE-USDT")
    async with open_okx_client(
        ["BTC-USDT", "FAKE-USDT", "ETH-USDT"], config=make_config(), connector=exchange.connector
    ) as client:
        async with recording(client) as rec:
            await ticked(client, ["BTC-USDT", "ETH-USDT"])
            await client.wait_until(lambda: "FAKE-USDT" in client.rejected_pairs)
            assert client.pairs == {"BTC-USDT", "ETH-USDT"}
            stats = client.get_stats()
            assert stats.rejected_pairs == ("FAKE-USDT",)
            assert "FAKE-USDT" in stats.last_error and "60018" in stats.last_error
            notes = [c for c in rec.notices() if "FAKE-USDT" in c.message]
            assert len(notes) == 1 and notes[0].state is S.CONNECTED
            assert any("FAKE-USDT" in r.getMessage() for r in caplog.records)
            # Adding it again retries it (and it is refused again, once).
            client.add_pair("FAKE-USDT")
            await rec.wait_until(
                lambda rec: len([c for c in rec.notices() if "FAKE" in c.message]) == 2
            )
            assert exchange.accepted_connections == 1
            assert client.state is S.CONNECTED


@pytest.mark.parametrize("code", ["60005", "60007", "60009", "60024"])
async def test_auth_errors_fail_without_retrying(
    autojump_clock: trio.testing.MockClock, code: str
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(PAIRS, config=make_config(), connector=exchange.connector) as client:
        async with recording(client) as rec:
            await ticked(client, PAIRS)
            exchange.send_raw(json.dumps({"event": "error", "msg": "Invalid sign", "code": code}))
            await rec.wait_until(lambda rec: S.FAILED in rec.states())
            assert code in rec.messages(S.FAILED)[0]
            assert "not retrying" in rec.messages(S.FAILED)[0]
            await trio.sleep(600)
            assert exchange.connection_attempts == 1


async def test_close_code_4001_fails_without_retrying(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(PAIRS, config=make_config(), connector=exchange.connector) as client:
        await ticked(client, PAIRS)
        exchange.drop_connections(code=4001, reason="Login failed")
        await client.wait_until(lambda: client.state is S.FAILED)
        assert "4001" in client.get_stats().last_error
        await trio.sleep(600)
        assert exchange.connection_attempts == 1


async def test_upgrade_notice_reconnects_at_once_without_make_before_break(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    config = make_config(make_before_break=False)
    async with open_okx_client(PAIRS, config=config, connector=exchange.connector) as client:
        async with recording(client) as rec:
            await ticked(client, PAIRS)
            await trio.sleep(40)  # stable by now
            noticed_at = trio.current_time()
            exchange.send_notice("64008")
            await rec.wait_until(lambda rec: len(rec.times_of(S.CONNECTED)) == 2)
            assert rec.times_of(S.CONNECTED)[-1] == noticed_at
            assert rec.messages(S.RECONNECTING) == ["service upgrade notice (64008)"]
            await exchange.wait_until(lambda: exchange.subscriptions() == set(PAIRS))


# -- 6. slow consumers -----------------------------------------------------------------------------


async def test_slow_consumer_gets_latest_per_instrument_and_never_stalls_the_receiver(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.01)  # 100 pushes/s per pair
    config = make_config(tick_buffer=8, ping_interval=5.0, connection_timeout=10.0)
    async with open_okx_client(PAIRS, config=config, connector=exchange.connector) as client:
        slow = client.ticks()
        fast = client.ticks()
        fast_count = 0

        async def fast_consumer() -> None:
            nonlocal fast_count
            async for _ in fast:
                fast_count += 1

        async with trio.open_nursery() as nursery:
            nursery.start_soon(fast_consumer)
            await trio.sleep(59.995)  # the slow consumer reads nothing for a minute
            exchange.go_silent()  # freeze the market between two pushes
            await trio.sleep(0.1)
            stats = client.get_stats()
            assert stats.reconnect_count == 0 and client.is_connected
            assert stats.ticks_dropped == stats.ticks_received - 8 - 1 - len(PAIRS)
            backlog: list[Ticker] = []
            with trio.move_on_after(1):
                while True:
                    backlog.append(await slow.receive())
            # The full buffer, one more in the pump's hands, then the latest per pair.
            assert len(backlog) == 8 + 1 + len(PAIRS)
            for pair in PAIRS:
                assert [t for t in backlog if t.inst_id == pair][-1] == client.latest(pair)
            assert fast_count == stats.ticks_received
            nursery.cancel_scope.cancel()


# -- 7. bad input ----------------------------------------------------------------------------------


async def test_garbage_from_the_server_is_counted_and_logged_never_fatal(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    garbage: list[str | bytes] = [
        "not json",
        b"\x00\x01binary",
        "[1, 2, 3]",
        '{"event": "whatever"}',
        '{"arg": {"channel": "tickers", "instId": "BTC-USDT"}, "data": [{"instId": "BTC-USDT"}]}',
        '{"arg": {"channel": "tickers", "instId": "BTC-USDT"}, "data": [{"instId": "BTC-USDT",'
        ' "last": "NaN", "ts": "1"}]}',
        '{"arg": {"channel": "candle1m", "instId": "BTC-USDT"}, "data": [["1", "2"]]}',
        '{"event": "subscribe"}',
        '{"data": 5}',
        "{" * 10000,
    ]
    async with open_okx_client(PAIRS, config=make_config(), connector=exchange.connector) as client:
        await ticked(client, PAIRS)
        before = client.get_stats()
        for payload in garbage:
            exchange.send_raw(payload)
        ticks = client.ticks()
        await trio.sleep(3)
        stats = client.get_stats()
        assert stats.bad_messages - before.bad_messages == 8
        assert stats.ignored_messages - before.ignored_messages == 2
        assert stats.reconnect_count == 0 and client.state is S.CONNECTED
        assert ticks.statistics().current_buffer_used >= len(PAIRS)
        assert sum("bad message" in r.getMessage() for r in caplog.records) == 8


# -- 8. logging ------------------------------------------------------------------------------------


async def test_transitions_log_at_info_and_traffic_at_debug(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="okx_trio")
    exchange = FakeExchange(tick_interval=1.0)
    async with open_okx_client(PAIRS, config=make_config(), connector=exchange.connector) as client:
        await ticked(client, PAIRS)
    records = [r for r in caplog.records if r.name == "okx_trio"]
    info = [r.getMessage() for r in records if r.levelno == logging.INFO]
    assert info[:2] == [
        "state connecting: connecting (attempt 1)",
        "state connected: connected to OKX",
    ]
    assert info[-1] == "state disconnected: client closed"
    debug = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    assert any(m.startswith("-> {") and '"op":"subscribe"' in m for m in debug)
    assert any(m.startswith("<- ") and "tickers" in m for m in debug)


# -- lifecycle -------------------------------------------------------------------------------------


async def test_leaving_the_block_closes_the_socket_and_ends_every_channel(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    tasks_before = count_tasks()
    async with open_okx_client(PAIRS, config=make_config(), connector=exchange.connector) as client:
        ticks, changes, stats = client.ticks(), client.state_changes(), client.stats_updates()
        await ticked(client, PAIRS)
        assert len(exchange.connections) == 1
    assert exchange.connections == []
    assert client.state is S.DISCONNECTED
    for channel in (ticks, changes, stats):
        with pytest.raises(trio.EndOfChannel):
            while True:
                await channel.receive()
    assert count_tasks() == tasks_before


async def test_an_error_in_the_block_comes_out_unwrapped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    with pytest.raises(KeyError, match="boom"):
        async with open_okx_client(PAIRS, config=make_config(), connector=exchange.connector):
            await trio.sleep(1)
            raise KeyError("boom")
    assert exchange.connections == []


@pytest.mark.parametrize("phase", [S.CONNECTING, S.CONNECTED, S.RECONNECTING])
async def test_reconnect_works_in_every_phase(
    autojump_clock: trio.testing.MockClock, phase: ConnectionState
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    first_attempt_hangs = phase is S.CONNECTING

    @asynccontextmanager
    async def connector(url: str) -> AsyncIterator[Connection]:
        nonlocal first_attempt_hangs
        if first_attempt_hangs:
            first_attempt_hangs = False
            await trio.sleep_forever()
        async with exchange.connector(url) as conn:
            yield conn

    config = make_config(initial_delay=10.0, connect_timeout=5.0)
    if phase is S.RECONNECTING:
        exchange.refuse_connections(1)
    async with open_okx_client(PAIRS, config=config, connector=connector) as client:
        async with recording(client) as rec:
            await client.wait_until(lambda: client.state is phase)
            await trio.sleep(0.5)
            client.reconnect()
            requested_at = trio.current_time()
            await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
            assert trio.current_time() == requested_at  # no backoff wait, no timeout
            await rec.wait_until(lambda rec: rec.times_of(S.CONNECTED)[-1:] == [requested_at])
            if phase is not S.RECONNECTING:
                assert rec.messages(S.RECONNECTING)[-1] == "reconnect requested"
            # From RECONNECTING the wait is cut short with a fresh count; otherwise the
            # dropped attempt counts as retry 1 (made at once).
            assert client.get_stats().retry_count == (0 if phase is S.RECONNECTING else 1)
            assert rec.states()[-1] is S.CONNECTED


async def test_stats_updates_arrive_every_stats_interval(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    config = make_config(stats_interval=2.0)
    async with open_okx_client(PAIRS, config=config, connector=exchange.connector) as client:
        updates = client.stats_updates()
        times = []
        for _ in range(3):
            stats = await updates.receive()
            times.append(trio.current_time())
        assert times == [2.0, 4.0, 6.0]
        assert stats.state is S.CONNECTED
        assert stats.subscribed_pairs == 3
        assert stats.connection_duration == 6.0
        assert stats.as_dict()["state"] == "connected"
        assert set(stats.as_dict()) == {
            "state",
            "reconnect_count",
            "retry_count",
            "subscribed_pairs",
            "connection_duration",
            "last_message_age",
            "last_error",
        }
