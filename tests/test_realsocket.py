"""The client over real loopback WebSockets, in real time with short bounds."""

from __future__ import annotations

import socket

import trio

from okx_trio import ClientConfig, ConnectionState, open_okx_client
from okx_trio.testing import FakeExchange, open_fake_exchange_server

PAIRS = ["BTC-USDT", "ETH-USDT"]


def fast_config(url: str, **overrides: object) -> ClientConfig:
    values: dict[str, object] = {
        "url": url,
        "ping_interval": 1.0,
        "connection_timeout": 2.0,
        "connect_timeout": 2.0,
        "initial_delay": 0.05,
        "max_delay": 0.2,
    }
    values.update(overrides)
    return ClientConfig(**values)  # type: ignore[arg-type]


async def test_ticks_flow_and_a_dropped_socket_heals() -> None:
    exchange = FakeExchange(tick_interval=0.05)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            assert url.startswith("ws://127.0.0.1:")
            async with open_okx_client(PAIRS, config=fast_config(url)) as client:
                await client.wait_until(lambda: all(client.latest(p) for p in PAIRS))
                exchange.drop_connections()
                await exchange.wait_until(lambda: exchange.accepted_connections == 2)
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                ticks = client.ticks()
                got = {(await ticks.receive()).inst_id for _ in range(10)}
                assert got == set(PAIRS)
                assert client.get_stats().reconnect_count == 1
            await exchange.wait_until(lambda: not exchange.connections)


async def test_a_closed_port_ends_in_failed_after_max_retries() -> None:
    with socket.socket() as sock:  # find a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = fast_config(f"ws://127.0.0.1:{port}/ws/v5/public", max_retries=2)
    with trio.fail_after(10):
        async with open_okx_client(PAIRS, config=config) as client:
            await client.wait_until(lambda: client.state is ConnectionState.FAILED)
            stats = client.get_stats()
            assert stats.retry_count == 2
            assert stats.last_error.startswith("connect failed: ")
