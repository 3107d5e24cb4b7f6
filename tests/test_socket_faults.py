"""Network faults on real loopback sockets, in real time: each one must end in a reconnect
within the bound the configuration promises.

- a server process killed with SIGKILL mid-stream, then started again on the same port;
- a closed port (connection refused), opened later;
- a server that accepts TCP but never finishes the handshake (``connect_timeout``);
- a half-open connection: a proxy that stops forwarding without closing (heartbeat);
- many reconnect cycles leak no file descriptors.

Times are measured with ``trio.current_time()`` (real time here) and asserted against the
configured bound plus :data:`SLACK`, which covers scheduling and loopback latency only.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import os
from typing import Final

import pytest
import trio

from okx_trio import (
    ClientConfig,
    ConnectionState,
    OkxClient,
    WebSocketConnector,
    open_okx_client,
)
from okx_trio.testing import FakeExchange, open_fake_exchange_server

from ._netfaults import (
    LOOPBACK,
    PATH,
    count_fds,
    open_black_hole,
    open_tcp_proxy,
    run_server_process,
    unused_port,
)
from .conftest import count_tasks, recording

pytestmark = pytest.mark.realtime

S = ConnectionState
PAIRS: Final = ["BTC-USDT", "ETH-USDT"]
SLACK: Final = 0.5
#: A fault the kernel reports (RST, FIN, refused) must be noticed about this fast.
PROMPT: Final = 0.5


def fast_config(url: str, **overrides: float) -> ClientConfig:
    values: dict[str, float] = {
        "ping_interval": 1.0,
        "connection_timeout": 2.0,
        "connect_timeout": 1.0,
        "initial_delay": 0.05,
        "max_delay": 0.2,
        "jitter": 0.25,
    }
    values.update(overrides)
    return ClientConfig(url=url, **values)  # type: ignore[arg-type]


def longest_backoff(config: ClientConfig) -> float:
    return config.max_delay * (1 + config.jitter)


def resubscribed(client: OkxClient, connections: int) -> bool:
    """Connection number *connections* is open and has every pair acknowledged."""
    stats = client.get_stats()
    return stats.connections_opened == connections and client.subscribed_pairs == set(PAIRS)


async def ticks_after(client: OkxClient, n: int) -> None:
    """Wait for *n* more ticks than the client has counted so far."""
    target = client.get_stats().ticks_received + n
    await client.wait_until(lambda: client.get_stats().ticks_received >= target)


# -- the server process is SIGKILLed -------------------------------------------------------------


async def test_a_server_killed_with_sigkill_mid_stream_is_reconnected_once_it_is_back() -> None:
    with trio.fail_after(20):
        async with run_server_process(tick_interval=0.05) as first:
            config = fast_config(first.url)
            async with open_okx_client(PAIRS, config=config) as client:
                async with recording(client) as recorder:
                    await ticks_after(client, 10)  # mid-stream

                    await first.kill()
                    killed_at = trio.current_time()
                    await client.wait_until(lambda: client.state is not S.CONNECTED)
                    detected = trio.current_time() - killed_at
                    assert detected < PROMPT  # the kernel's FIN/RST, no heartbeat needed

                    # While it is down, attempts are refused and back off; none hangs.
                    await recorder.wait_until(lambda r: len(r.times_of(S.RECONNECTING)) >= 3)
                    assert client.get_stats().last_error.startswith("connect failed: ")

                    async with run_server_process(first.port, tick_interval=0.05) as second:
                        assert second.url == first.url
                        listening_at = trio.current_time()
                        await client.wait_until(lambda: resubscribed(client, 2))
                        back = trio.current_time() - listening_at
                        await ticks_after(client, 10)
                        assert back <= longest_backoff(config) + SLACK
                        stats = client.get_stats()
                        assert stats.reconnect_count == 1
                        assert client.pairs == set(PAIRS)
    print(f"SIGKILL detected after {detected:.3f}s; resubscribed {back:.3f}s after restart")


# -- connection refused ------------------------------------------------------------------------


async def test_a_closed_port_is_retried_with_backoff_and_joined_once_it_opens() -> None:
    port = unused_port()
    config = fast_config(f"ws://{LOOPBACK}:{port}{PATH}", jitter=0.0)
    exchange = FakeExchange(tick_interval=0.05)
    with trio.fail_after(10):
        async with open_okx_client(PAIRS, config=config) as client:
            async with recording(client) as recorder:
                await recorder.wait_until(lambda r: len(r.times_of(S.CONNECTING)) >= 4)
                connecting = recorder.times_of(S.CONNECTING)
                reconnecting = recorder.times_of(S.RECONNECTING)
                # Refused is immediate; the gaps are the backoff (0.05, 0.1, 0.2 s), no more.
                for attempt, delay in enumerate([0.05, 0.1, 0.2]):
                    assert reconnecting[attempt] - connecting[attempt] < PROMPT
                    gap = connecting[attempt + 1] - reconnecting[attempt]
                    assert delay - 0.01 <= gap <= delay + SLACK
                assert client.get_stats().last_error.startswith("connect failed: ")
                assert S.CONNECTED not in recorder.states()

                async with open_fake_exchange_server(exchange, port=port):
                    listening_at = trio.current_time()
                    await client.wait_until(lambda: resubscribed(client, 1))
                    joined = trio.current_time() - listening_at
                    assert joined <= config.max_delay + SLACK
                    await ticks_after(client, 4)
    print(f"closed port: joined {joined:.3f}s after it opened")


# -- the handshake never finishes --------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["ws", "wss"])
@pytest.mark.parametrize(
    "connector",
    [
        pytest.param(None, id="default-connector"),
        # A connector's own, longer deadline must not stretch the client's connect_timeout.
        pytest.param(WebSocketConnector(connect_timeout=60.0), id="slow-connector"),
    ],
)
async def test_a_server_that_never_finishes_the_handshake_is_given_up_at_connect_timeout(
    scheme: str, connector: WebSocketConnector | None
) -> None:
    with trio.fail_after(10):
        async with open_black_hole() as hole:
            config = fast_config(f"{scheme}://{LOOPBACK}:{hole.port}{PATH}", connect_timeout=0.5)
            async with open_okx_client(PAIRS, config=config, connector=connector) as client:
                async with recording(client) as recorder:
                    await recorder.wait_until(lambda r: len(r.times_of(S.RECONNECTING)) >= 2)
                    connecting = recorder.times_of(S.CONNECTING)
                    reconnecting = recorder.times_of(S.RECONNECTING)
                    # The recorder stamps a change when its task gets to it, which can be
                    # tens of ms late (building a default SSL context blocks for ~40 ms).
                    for attempt in range(2):
                        took = reconnecting[attempt] - connecting[attempt]
                        assert config.connect_timeout - 0.1 <= took <= config.connect_timeout + 0.2
                    assert client.get_stats().last_error == "connect timed out after 0.5s"
                    assert S.CONNECTED not in recorder.states()
            assert hole.accepted >= 2
            assert hole.received > 0  # the client's request (or ClientHello) did arrive


@pytest.mark.parametrize("transport", ["trio-websocket", "websockets", "websockets-sansio"])
async def test_a_server_that_closes_during_the_handshake_fails_the_attempt_promptly(
    transport: str,
) -> None:
    if transport != "trio-websocket":
        pytest.importorskip("websockets")

    async def close_after_request(stream: trio.SocketStream) -> None:
        async with stream:
            await stream.receive_some(65536)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(trio.serve_tcp, close_after_request, 0)
            port = listeners[0].socket.getsockname()[1]
            config = dataclasses.replace(
                fast_config(f"ws://{LOOPBACK}:{port}{PATH}", connect_timeout=2.0),
                transport=transport,
            )
            async with open_okx_client(PAIRS, config=config) as client:
                started = trio.current_time()
                await client.wait_state(S.RECONNECTING)
                failed_after = trio.current_time() - started
                last_error = client.get_stats().last_error
                assert failed_after < PROMPT, f"{failed_after:.2f}s: {last_error}"
                assert "timed out" not in last_error
            nursery.cancel_scope.cancel()


# -- a half-open connection --------------------------------------------------------------------


async def test_a_half_open_connection_is_given_up_at_connection_timeout_and_replaced() -> None:
    exchange = FakeExchange(tick_interval=0.05)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as upstream_url:
            upstream_port = int(upstream_url.rsplit(":", 1)[1].split("/", 1)[0])
            async with open_tcp_proxy(upstream_port) as proxy:
                config = fast_config(f"ws://{LOOPBACK}:{proxy.port}{PATH}")
                async with open_okx_client(PAIRS, config=config) as client:
                    await client.wait_until(lambda: resubscribed(client, 1))
                    await ticks_after(client, 4)

                    assert proxy.freeze() == 1
                    frozen_at = trio.current_time()
                    await client.wait_state(S.RECONNECTING)
                    detected = trio.current_time() - frozen_at
                    timeout = config.connection_timeout
                    # The last tick came < tick_interval before the freeze.
                    assert timeout - exchange.tick_interval - 0.01 <= detected <= timeout + SLACK
                    assert client.get_stats().last_error == "heartbeat timeout (no message for 2s)"
                    assert client.get_stats().pings_sent >= 1  # it asked before giving up

                    await client.wait_until(lambda: resubscribed(client, 2))
                    replaced = trio.current_time() - frozen_at
                    assert replaced <= timeout + longest_backoff(config) + SLACK
                    await ticks_after(client, 4)
                    # Really half-open: neither end of the frozen link was told anything.
                    assert proxy.open_links == 2
                    assert len(exchange.connections) == 2
    print(f"half-open: detected after {detected:.3f}s, resubscribed after {replaced:.3f}s")


# -- file descriptors over many reconnects -----------------------------------------------------


async def reconnect_cycles(cycles: int) -> None:
    """*cycles* reconnects over real loopback sockets; fd and task counts must not grow.

    Odd cycles are server drops (code 1006: the TCP connection is aborted), even ones
    :meth:`OkxClient.reconnect` (the client closes with a closing handshake), so both close
    paths are counted.
    """
    exchange = FakeExchange(tick_interval=math.inf)  # no pushes: pure connect/close churn
    with trio.fail_after(100):
        async with open_fake_exchange_server(exchange) as url:
            # No connection-rate limit: a thousand cycles at OKX's 3 per second would
            # take five minutes, and the limit is not what this test is about.
            config = fast_config(
                url, initial_delay=0.0, ping_interval=20.0, connection_timeout=30.0
            ).replace(max_connects_per_second=None)
            async with open_okx_client(PAIRS, config=config) as client:
                await client.wait_until(lambda: resubscribed(client, 1))
                # Sockets of earlier tests still waiting for the garbage collector (kept
                # alive by tracebacks, say) would otherwise vanish from the count mid-loop.
                gc.collect()
                fds_before, tasks_before = count_fds(), count_tasks()
                started = trio.current_time()
                for cycle in range(1, cycles + 1):
                    if cycle % 2:
                        assert exchange.drop_connections() == 1
                    else:
                        client.reconnect()
                    await client.wait_until(lambda: resubscribed(client, cycle + 1))  # noqa: B023
                    await exchange.wait_until(lambda: len(exchange.connections) == 1)
                elapsed = trio.current_time() - started
                # The server-side handler of the last closed connection may still be tearing
                # down; wait for it rather than allowing slack. (Polling: nothing signals
                # an fd count.)
                with trio.move_on_after(2):
                    while count_fds() > fds_before or count_tasks() > tasks_before:  # noqa: ASYNC110
                        await trio.sleep(0.01)
                gc.collect()
                fds_after, tasks_after = count_fds(), count_tasks()
                assert client.get_stats().reconnect_count == cycles
                assert exchange.accepted_connections == cycles + 1
                assert (fds_after, tasks_after) == (fds_before, tasks_before)
    print(
        f"{cycles} reconnect cycles in {elapsed:.2f}s ({cycles / elapsed:.0f}/s); "
        f"fds {fds_before} -> {fds_after}, tasks {tasks_before} -> {tasks_after}"
    )


needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")


@needs_proc
async def test_reconnect_cycles_leak_no_file_descriptors() -> None:
    await reconnect_cycles(1000)
