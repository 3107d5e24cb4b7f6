"""The fake exchange's finer faults: frozen instruments, OKX's rate limits, per-connection faults.

Raw OKX protocol under the autojump clock, asserting exact virtual times, like
``test_fake_exchange.py`` (whose helpers these tests share).
"""

from __future__ import annotations

import math

import pytest
import trio
import trio.testing

from okx_trio._connection import ConnectionClosed
from okx_trio.testing import FakeConnection, FakeExchange, MemoryWebSocket

from .test_fake_exchange import (
    EPOCH,
    URL,
    ack,
    assert_quiet,
    recv_json,
    recv_text,
    request,
    subscribed,
)


def too_frequent(conn_id: str, req_id: str | None = None) -> str:
    """OKX's 60014, byte for byte as seen on the wire (``msg`` before ``code``)."""
    prefix = "" if req_id is None else f'"id":"{req_id}",'
    return (
        f'{{{prefix}"event":"error","msg":"Requests too frequent","code":"60014",'
        f'"connId":"{conn_id}"}}'
    )


async def pushes_until(ws: MemoryWebSocket, deadline: float) -> list[tuple[float, str]]:
    """``(time, instId)`` of every push received until the virtual *deadline*."""
    seen: list[tuple[float, str]] = []
    with trio.move_on_at(deadline):
        while True:
            push = await recv_json(ws)
            seen.append((trio.current_time(), push["arg"]["instId"]))
    return seen


async def resubscribe(ws: MemoryWebSocket, conn: FakeConnection, inst_id: str) -> None:
    """Unsubscribe then subscribe *inst_id* again, acks consumed."""
    await ws.send_message(request("unsubscribe", inst_id))
    assert await recv_text(ws) == ack("unsubscribe", inst_id, conn.conn_id)
    await ws.send_message(request("subscribe", inst_id))
    assert await recv_text(ws) == ack("subscribe", inst_id, conn.conn_id)


async def try_connect(exchange: FakeExchange) -> bool:
    """Whether a connection attempt now is accepted (the connection is closed at once)."""
    try:
        async with exchange.connector(URL):
            return True
    except ConnectionRefusedError:
        return False


# -- frozen instruments --------------------------------------------------------------------


async def test_frozen_instrument_stays_subscribed_but_silent_until_thawed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.5)
    async with subscribed(exchange, "BTC-USDT", "ETH-USDT") as (ws, conn):
        assert await pushes_until(ws, 0.1) == [(0.0, "BTC-USDT"), (0.0, "ETH-USDT")]
        exchange.freeze_instruments("BTC-USDT")
        assert exchange.frozen_instruments == {"BTC-USDT"}
        assert conn.frozen == {"BTC-USDT"}
        exchange.push_ticker("BTC-USDT")  # explicit pushes are withheld too
        assert await pushes_until(ws, 2.2) == [
            (0.5, "ETH-USDT"),
            (1.0, "ETH-USDT"),
            (1.5, "ETH-USDT"),
            (2.0, "ETH-USDT"),
        ]
        # Still acked, still subscribed; a repeated subscribe (no unsubscribe) cures nothing.
        await ws.send_message(request("subscribe", "BTC-USDT", req_id="2"))
        assert await recv_text(ws) == ack("subscribe", "BTC-USDT", conn.conn_id, "2")
        assert conn.subscriptions == {"BTC-USDT", "ETH-USDT"}
        assert exchange.subscriptions() == {"BTC-USDT", "ETH-USDT"}
        assert conn.frozen == {"BTC-USDT"}
        assert conn.last_push_at == {"BTC-USDT": 0.0, "ETH-USDT": 2.0}
        exchange.thaw_instruments()
        assert exchange.frozen_instruments == frozenset()
        assert conn.frozen == set()
        # Back on the original 0.5 s grid, in subscription order.
        assert await pushes_until(ws, 3.1) == [
            (2.5, "BTC-USDT"),
            (2.5, "ETH-USDT"),
            (3.0, "BTC-USDT"),
            (3.0, "ETH-USDT"),
        ]
        assert conn.pushes == exchange.pushes == 2 + 4 + 4


async def test_resubscribing_cures_a_freeze_on_that_connection_only(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with (
        subscribed(exchange, "BTC-USDT") as (ws1, conn1),
        subscribed(exchange, "BTC-USDT") as (ws2, conn2),
    ):
        for ws in (ws1, ws2):
            assert (await recv_json(ws))["arg"]["instId"] == "BTC-USDT"
        exchange.freeze_instruments("BTC-USDT")
        assert (conn1.frozen, conn2.frozen) == ({"BTC-USDT"}, {"BTC-USDT"})
        await assert_quiet(ws1, 2.5)
        await resubscribe(ws1, conn1, "BTC-USDT")
        assert (conn1.frozen, conn2.frozen) == (set(), {"BTC-USDT"})
        # The new subscription pushes at once and then on its own grid.
        assert await pushes_until(ws1, 3.6) == [(2.5, "BTC-USDT"), (3.5, "BTC-USDT")]
        assert (conn1.pushes, conn2.pushes) == (3, 1)
        assert exchange.frozen_instruments == {"BTC-USDT"}  # connection 2 is still stuck
        # A subscription made after the freeze, on a new connection, is not frozen either.
        async with subscribed(exchange, "BTC-USDT") as (ws3, conn3):
            assert await pushes_until(ws3, 3.7) == [(3.6, "BTC-USDT")]
            assert conn3.frozen == set()
        assert conn2.pushes == 1
        exchange.thaw_instruments("BTC-USDT")
        assert await pushes_until(ws2, 4.1) == [(4.0, "BTC-USDT")]


async def test_a_freeze_not_cured_by_resubscribe_holds_for_new_subscriptions(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    exchange.freeze_instruments("BTC-USDT", cured_by_resubscribe=False)
    exchange.freeze_instruments("SOL-USDT")  # no subscription yet: nothing to freeze
    assert exchange.frozen_instruments == {"BTC-USDT", "SOL-USDT"}
    async with subscribed(exchange, "BTC-USDT", "ETH-USDT", "SOL-USDT") as (ws, conn):
        assert conn.frozen == {"BTC-USDT"}
        assert await pushes_until(ws, 0.5) == [(0.0, "ETH-USDT"), (0.0, "SOL-USDT")]
        await resubscribe(ws, conn, "BTC-USDT")
        assert conn.frozen == {"BTC-USDT"}
        assert await pushes_until(ws, 1.2) == [(1.0, "ETH-USDT"), (1.0, "SOL-USDT")]
        exchange.thaw_instruments("BTC-USDT", "SOL-USDT")
        assert exchange.frozen_instruments == frozenset()
        # BTC-USDT was resubscribed at 0.5, so it ticks at 1.5, 2.5, ...
        assert await pushes_until(ws, 2.6) == [
            (1.5, "BTC-USDT"),
            (2.0, "ETH-USDT"),
            (2.0, "SOL-USDT"),
            (2.5, "BTC-USDT"),
        ]


async def test_freeze_needs_an_instrument() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FakeExchange().freeze_instruments()


async def test_ts_never_goes_back_per_instrument_and_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=0.1, epoch_ms=EPOCH)
    seen: dict[int, list[int]] = {1: [], 2: []}

    async def collect(ws: MemoryWebSocket, out: list[int]) -> None:
        while True:
            out.append(int((await recv_json(ws))["data"][0]["ts"]))

    async with (
        subscribed(exchange, "BTC-USDT") as (ws1, conn1),
        subscribed(exchange, "BTC-USDT") as (ws2, _),
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(collect, ws1, seen[1])
        nursery.start_soon(collect, ws2, seen[2])
        await trio.sleep(0.45)
        exchange.latency = 0.3  # would stamp 150 ms: the last ticker (400 ms) repeats
        exchange.push_ticker("BTC-USDT")
        await trio.sleep(0.5)
        exchange.latency = 0.0
        exchange.push_ticker("BTC-USDT")
        await trio.sleep(0.5)
        nursery.cancel_scope.cancel()
    for ts in seen.values():
        assert len(ts) == 17  # 15 on the grid 0..1.4, 2 explicit
        assert ts == sorted(ts)
        assert ts[:6] == [EPOCH + ms for ms in (0, 100, 200, 300, 400, 400)]
        assert ts[-1] == EPOCH + 1400
    assert conn1.pushes == 17
    assert conn1.last_push_at["BTC-USDT"] == pytest.approx(1.4)


# -- connection rate limit -----------------------------------------------------------------


async def test_connects_beyond_the_limit_in_any_second_are_refused(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(max_connects_per_second=3)
    results: list[tuple[float, bool]] = []
    for at in (0.0, 0.0, 0.25, 0.5, 0.9, 1.0, 1.0, 1.1, 1.25):
        await trio.sleep_until(at)
        results.append((trio.current_time(), await try_connect(exchange)))
    assert results == [
        (0.0, True),
        (0.0, True),
        (0.25, True),
        (0.5, False),
        (0.9, False),
        (1.0, True),  # both attempts at 0.0 leave the window at 1.0 exactly
        (1.0, True),
        (1.1, False),  # refusals did not count, yet 0.25, 1.0 and 1.0 fill the window
        (1.25, True),
    ]
    assert exchange.connect_times == [t for t, _ in results]
    assert exchange.connects_refused_by_limit == 3
    assert (exchange.connection_attempts, exchange.accepted_connections) == (9, 6)
    opened = [t for t, ok in results if ok]
    assert all(sum(t <= u < t + 1 for u in opened) <= 3 for t in opened)


async def test_connect_limit_comes_before_refuse_connections_and_can_be_set_later(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange()
    assert exchange.max_connects_per_second is None
    for _ in range(3):
        assert await try_connect(exchange)  # no limit: all admitted, and counted
    exchange.max_connects_per_second = 3
    await trio.sleep(0.5)
    assert not await try_connect(exchange)
    assert exchange.connects_refused_by_limit == 1
    await trio.sleep(0.5)
    exchange.max_connects_per_second = 1
    exchange.refuse_connections(1)
    assert not await try_connect(exchange)  # refused by refuse_connections, counted
    assert not await try_connect(exchange)  # refused by the limit, which keeps the count
    assert exchange.connects_refused_by_limit == 2
    await trio.sleep(1)
    assert await try_connect(exchange)
    assert exchange.connect_times == [0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 2.0]
    exchange.max_connects_per_second = None
    assert [await try_connect(exchange) for _ in range(5)] == [True] * 5


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "3"])
def test_limits_must_be_positive_ints_or_none(value: object) -> None:
    with pytest.raises(ValueError, match="max_connects_per_second"):
        FakeExchange(max_connects_per_second=value)  # type: ignore[arg-type]
    exchange = FakeExchange()
    with pytest.raises(ValueError, match="max_requests_per_hour"):
        exchange.max_requests_per_hour = value  # type: ignore[assignment]
    assert exchange.max_requests_per_hour is None


# -- request rate limit --------------------------------------------------------------------


async def test_requests_beyond_the_hourly_limit_get_60014_and_are_not_applied(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf, max_requests_per_hour=3, idle_timeout=None)
    async with exchange.connector(URL) as ws:
        [conn] = exchange.connections
        cid = conn.conn_id
        await ws.send_message(request("subscribe", "BTC-USDT", req_id="1"))
        assert await recv_text(ws) == ack("subscribe", "BTC-USDT", cid, "1")
        for frame in ("ping", "garbage"):  # neither counts
            await ws.send_message(frame)
            await ws.get_message()
        await trio.sleep_until(100)
        await ws.send_message(request("unsubscribe", "BTC-USDT", req_id="2"))
        assert await recv_text(ws) == ack("unsubscribe", "BTC-USDT", cid, "2")
        await trio.sleep_until(200)
        await ws.send_message(request("subscribe", "ETH-USDT", "SOL-USDT", req_id="3"))
        assert await recv_text(ws) == ack("subscribe", "ETH-USDT", cid, "3")
        assert await recv_text(ws) == ack("subscribe", "SOL-USDT", cid, "3")
        # Over the limit: one error per request, whatever its arguments, and no change.
        await trio.sleep_until(300)
        await ws.send_message(request("subscribe", "BTC-USDT", "XRP-USDT", req_id="4"))
        assert await recv_text(ws) == too_frequent(cid, "4")
        await ws.send_message(request("unsubscribe", "ETH-USDT"))
        assert await recv_text(ws) == too_frequent(cid)
        assert conn.subscriptions == {"ETH-USDT", "SOL-USDT"}
        assert exchange.requests_refused_by_limit == 2
        # Refused requests are still recorded.
        ops = [(r.op, r.id) for r in exchange.requests]
        assert ops == [
            ("subscribe", "1"),
            ("ping", None),
            ("invalid", None),
            ("unsubscribe", "2"),
            ("subscribe", "3"),
            ("subscribe", "4"),
            ("unsubscribe", None),
        ]
        # The request at 0 leaves the window at 3600 exactly; refusals never entered it.
        await trio.sleep_until(3600)
        await ws.send_message(request("subscribe", "BTC-USDT", req_id="5"))
        assert await recv_text(ws) == ack("subscribe", "BTC-USDT", cid, "5")
        await ws.send_message(request("subscribe", "ADA-USDT", req_id="6"))
        assert await recv_text(ws) == too_frequent(cid, "6")
        # The quota is per connection.
        async with subscribed(exchange, "ADA-USDT") as (_, conn2):
            assert conn2.subscriptions == {"ADA-USDT"}
        assert exchange.requests_refused_by_limit == 3
        assert trio.current_time() == 3600


async def test_unanswered_requests_do_not_count_against_the_limit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf, max_requests_per_hour=1)
    async with exchange.connector(URL) as ws:
        cid = exchange.connections[0].conn_id
        exchange.ignore_requests()
        await ws.send_message(request("subscribe", "BTC-USDT"))
        await assert_quiet(ws, 1)
        exchange.ignore_requests(False)
        exchange.go_silent()
        await ws.send_message(request("subscribe", "BTC-USDT"))
        await assert_quiet(ws, 1)
        exchange.resume()
        await ws.send_message(request("subscribe", "BTC-USDT", req_id="1"))
        assert await recv_text(ws) == ack("subscribe", "BTC-USDT", cid, "1")
        await ws.send_message(request("subscribe", "ETH-USDT", req_id="2"))
        assert await recv_text(ws) == too_frequent(cid, "2")
        assert exchange.requests_refused_by_limit == 1


# -- per-connection faults -----------------------------------------------------------------


async def test_notice_drop_and_push_reach_only_the_chosen_connections(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    async with (
        subscribed(exchange, "BTC-USDT") as (ws1, conn1),
        subscribed(exchange, "ETH-USDT", "BTC-USDT") as (ws2, conn2),
        subscribed(exchange, "SOL-USDT") as (ws3, conn3),
    ):
        # "Which connection holds BTC-USDT?"
        holders = [c for c in exchange.connections if "BTC-USDT" in c.subscriptions]
        assert holders == [conn1, conn2]
        exchange.send_notice("64008", "bye", only=[1])
        exchange.push_ticker("BTC-USDT", only=[conn2, conn3])  # conn3 is not subscribed
        exchange.send_raw("raw", only=(conn3,))
        notice = await recv_json(ws2)
        assert (notice["event"], notice["msg"], notice["connId"]) == (
            "notice",
            "bye",
            conn2.conn_id,
        )
        assert (await recv_json(ws2))["arg"]["instId"] == "BTC-USDT"
        assert await ws3.get_message() == "raw"
        assert (conn1.pushes, conn2.pushes, conn3.pushes) == (0, 1, 0)
        await trio.sleep(1)
        # Connection 1 named twice (as a record and as index 0) is dropped once.
        assert exchange.drop_connections(4000, "bye", only=[conn1, -1, 0]) == 2
        assert exchange.connections == [conn2]
        for ws, conn in ((ws1, conn1), (ws3, conn3)):
            with pytest.raises(ConnectionClosed) as info:
                await ws.get_message()
            assert info.value.code == 4000
            assert (conn.closed_at, conn.close_code) == (1.0, 4000)
        # A closed record is skipped; index 0 is now connection 2.
        assert exchange.drop_connections(only=[conn1]) == 0
        await assert_quiet(ws2, 1)
        assert exchange.drop_connections(only=[0]) == 1
        assert conn2.close_code == 1006


async def test_one_connection_goes_silent_while_the_other_keeps_ticking(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=1.0)
    async with (
        subscribed(exchange, "BTC-USDT") as (ws1, conn1),
        subscribed(exchange, "BTC-USDT") as (ws2, conn2),
    ):
        assert await pushes_until(ws1, 0.5) == [(0.0, "BTC-USDT")]
        exchange.go_silent(only=[conn1])
        assert (conn1.silent, conn2.silent, exchange.silent) == (True, False, False)
        await ws1.send_message("ping")
        await ws1.send_message(request("subscribe", "ETH-USDT"))
        await ws2.send_message("ping")
        await assert_quiet(ws1, 2.1)
        # Connection 2 still answers and keeps ticking.
        assert (conn1.pushes, conn2.pushes) == (1, 3)
        assert conn2.last_push_at == {"BTC-USDT": 2.0}
        kinds = []
        for _ in range(4):
            message = await recv_text(ws2)
            kinds.append(message if message == "pong" else "push")
        assert kinds == ["push", "pong", "push", "push"]
        assert conn1.subscriptions == {"BTC-USDT"}  # the subscribe was not acted on
        assert [r.op for r in conn1.requests] == ["subscribe", "ping", "subscribe"]
        exchange.resume(only=[conn1])
        assert not conn1.silent
        await ws1.send_message("ping")
        assert await ws1.get_message() == "pong"
        assert await pushes_until(ws1, 3.1) == [(3.0, "BTC-USDT")]
        # A per-connection resume leaves an exchange-wide silence; resume() lifts them all.
        exchange.go_silent()
        exchange.go_silent(only=[1])
        exchange.resume(only=[conn1])
        assert exchange.silent
        exchange.resume()
        assert (exchange.silent, conn1.silent, conn2.silent) == (False, False, False)


async def test_a_bad_only_is_refused_before_anything_happens(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = FakeExchange(tick_interval=math.inf)
    other = FakeExchange()
    async with exchange.connector(URL), other.connector(URL):
        [conn] = exchange.connections
        with pytest.raises(TypeError, match="iterable"):
            exchange.drop_connections(only=conn)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="iterable"):
            exchange.go_silent(only=0)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="str"):
            exchange.send_notice(only=["0"])  # type: ignore[list-item]
        with pytest.raises(TypeError, match="bool"):
            exchange.send_raw("x", only=[True])
        with pytest.raises(IndexError, match="1 open"):
            exchange.drop_connections(only=[0, 1])
        with pytest.raises(ValueError, match="not a connection of this exchange"):
            exchange.drop_connections(only=[conn, other.connections[0]])
        assert exchange.connections == [conn]
        assert not conn.silent
