"""Both built-in transports pass the same behaviour tests over real loopback sockets.

Each client test runs once with ``ClientConfig(transport="trio-websocket")`` (the default)
and once with ``transport="websockets"`` (``websockets.trio``, the ``fast`` extra), in real
time with short bounds. The connector-level tests check the seam's contract directly on
:class:`WebsocketsConnector`: close codes come out as ``trio_websocket.ConnectionClosed``,
refused handshakes as ``trio_websocket.ConnectionRejected``, TLS is verified by default, and
a cancelled block closes its socket at once.
"""

from __future__ import annotations

import socket
import ssl
from typing import Final

import pytest
import trio
import trio_websocket
import trustme

from okx_trio import ClientConfig, ConnectionState, open_okx_client
from okx_trio._transport import WebSocketConnector, default_connector
from okx_trio.testing import FakeExchange, open_fake_exchange_server

pytest.importorskip("websockets")

from okx_trio._transport_websockets import WebsocketsConnector

pytestmark = pytest.mark.realtime

S = ConnectionState
PAIRS: Final = ["BTC-USDT", "ETH-USDT"]
TRANSPORTS: Final = ["trio-websocket", "websockets"]


def fast_config(url: str, transport: str, **overrides: object) -> ClientConfig:
    values: dict[str, object] = {
        "url": url,
        "transport": transport,
        "ping_interval": 1.0,
        "connection_timeout": 2.0,
        "connect_timeout": 2.0,
        "initial_delay": 0.05,
        "max_delay": 0.2,
    }
    values.update(overrides)
    return ClientConfig(**values)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


# -- the client over each transport ---------------------------------------------------------


def test_the_config_selects_the_connector() -> None:
    assert isinstance(default_connector("trio-websocket", connect_timeout=1.0), WebSocketConnector)
    connector = default_connector("websockets", connect_timeout=3.0)
    assert isinstance(connector, WebsocketsConnector)
    assert connector.connect_timeout == 3.0
    assert ClientConfig().transport == "trio-websocket"  # stays the default


async def test_ticks_flow_and_the_client_closes_its_socket(transport: str) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, transport)) as client:
                async with client.ticks() as ticks:
                    got = {(await ticks.receive()).inst_id for _ in range(20)}
                assert got == set(PAIRS)
                assert client.subscribed_pairs == set(PAIRS)
                assert client.state is S.CONNECTED
                (conn,) = exchange.connections
                client.add_pair("SOL-USDT")  # a change on the live connection
                await client.wait_until(lambda: client.latest("SOL-USDT") is not None)
                assert exchange.accepted_connections == 1
            # Leaving the block cancels the client: the socket is closed, nothing lingers.
            await exchange.wait_until(lambda: not exchange.connections)
            assert conn.closed_at is not None


async def test_a_dropped_connection_heals(transport: str) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, transport)) as client:
                await client.wait_until(lambda: all(client.latest(p) for p in PAIRS))
                exchange.drop_connections()  # 1006: TCP aborted, no closing handshake
                await exchange.wait_until(lambda: exchange.accepted_connections == 2)
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                async with client.ticks() as ticks:
                    got = {(await ticks.receive()).inst_id for _ in range(10)}
                assert got == set(PAIRS)
                stats = client.get_stats()
                assert stats.reconnect_count == 1
                assert "1006" in stats.last_error


async def test_a_close_frame_heals_and_names_its_code(transport: str) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, transport)) as client:
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                exchange.drop_connections(code=4004, reason="No data received in 30s")
                await exchange.wait_until(lambda: exchange.accepted_connections == 2)
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                last_error = client.get_stats().last_error
                assert "code 4004" in last_error
                assert "No data received in 30s" in last_error


async def test_a_silent_connection_is_given_up_after_the_connection_timeout(
    transport: str,
) -> None:
    exchange = FakeExchange(tick_interval=0.05)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, transport)) as client:
                changes = client.state_changes()
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                exchange.go_silent()
                silent_at = trio.current_time()
                while (await changes.receive()).state is not S.RECONNECTING:
                    pass
                waited = trio.current_time() - silent_at
                assert 1.9 <= waited <= 3.0  # connection_timeout = 2
                exchange.resume()
                await exchange.wait_until(lambda: exchange.accepted_connections == 2)
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))


async def test_a_closed_port_ends_in_failed_after_max_retries(transport: str) -> None:
    url = f"ws://127.0.0.1:{free_port()}/ws/v5/public"
    with trio.fail_after(10):
        async with open_okx_client(
            PAIRS, config=fast_config(url, transport, max_retries=2)
        ) as client:
            await client.wait_until(lambda: client.state is S.FAILED)
            stats = client.get_stats()
            assert stats.retry_count == 2
            assert stats.last_error.startswith("connect failed: ")


async def test_a_refused_handshake_is_a_failed_attempt(transport: str) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    exchange.refuse_connections(2)  # HTTP 503 in the handshake
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, transport)) as client:
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                assert exchange.connection_attempts == 3
                assert "503" in client.get_stats().last_error


async def test_close_code_4001_fails_without_retrying(transport: str) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, transport)) as client:
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                exchange.drop_connections(code=4001, reason="Login failed")
                await client.wait_until(lambda: client.state is S.FAILED)
                assert "4001" in client.get_stats().last_error
                await trio.sleep(0.5)
                assert exchange.connection_attempts == 1


# -- TLS --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_wss_with_a_trusted_ca_connects(ca: trustme.CA) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    connector = WebsocketsConnector(ssl_context=trusting(ca), connect_timeout=2.0)
    with trio.fail_after(10):
        async with open_fake_exchange_server(
            exchange, ssl_context=server_context(ca, "127.0.0.1")
        ) as url:
            assert url.startswith("wss://")
            async with open_okx_client(
                PAIRS, config=fast_config(url, "websockets"), connector=connector
            ) as client:
                await client.wait_until(lambda: all(client.latest(p) for p in PAIRS))


async def test_wss_is_verified_by_default(ca: trustme.CA) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(
            exchange, ssl_context=server_context(ca, "127.0.0.1")
        ) as url:
            config = fast_config(url, "websockets", max_retries=1)
            async with open_okx_client(PAIRS, config=config) as client:
                await client.wait_until(lambda: client.state is S.FAILED)
                assert "CERTIFICATE_VERIFY_FAILED" in client.get_stats().last_error
            assert exchange.accepted_connections == 0


async def test_wss_checks_the_host_name(ca: trustme.CA) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    connector = WebsocketsConnector(ssl_context=trusting(ca), connect_timeout=2.0)
    with trio.fail_after(10):
        async with open_fake_exchange_server(
            exchange, ssl_context=server_context(ca, "okx.example")
        ) as url:
            config = fast_config(url, "websockets", max_retries=1)
            async with open_okx_client(PAIRS, config=config, connector=connector) as client:
                await client.wait_until(lambda: client.state is S.FAILED)
            assert exchange.accepted_connections == 0


# -- the connector's contract -----------------------------------------------------------------


async def test_get_message_raises_trio_websockets_connection_closed() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            async with WebsocketsConnector()(url) as conn:
                await exchange.wait_until(lambda: len(exchange.connections) == 1)
                await conn.send_message("ping")
                assert await conn.get_message() == "pong"
                exchange.drop_connections(code=4001, reason="Login failed")
                with pytest.raises(trio_websocket.ConnectionClosed) as caught:
                    while True:
                        await conn.get_message()
                assert caught.value.reason is not None
                assert caught.value.reason.code == 4001
                assert caught.value.reason.reason == "Login failed"
                with pytest.raises(trio_websocket.ConnectionClosed):
                    await conn.send_message("ping")


async def test_leaving_the_block_sends_a_normal_close() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            async with WebsocketsConnector()(url) as conn:
                await exchange.wait_until(lambda: len(exchange.connections) == 1)
                (record,) = exchange.connections
                await conn.send_message("ping")
                assert await conn.get_message() == "pong"
            await exchange.wait_until(lambda: record.close_code is not None)
            assert record.close_code == 1000


async def test_an_aborted_connection_is_reported_as_1006() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            async with WebsocketsConnector()(url) as conn:
                await exchange.wait_until(lambda: len(exchange.connections) == 1)
                exchange.drop_connections()
                with pytest.raises(trio_websocket.ConnectionClosed) as caught:
                    while True:
                        await conn.get_message()
                assert caught.value.reason is not None
                assert caught.value.reason.code == 1006


async def test_a_refused_handshake_raises_connection_rejected() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    exchange.refuse_connections(1)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            with pytest.raises(trio_websocket.ConnectionRejected) as caught:
                async with WebsocketsConnector()(url):
                    pytest.fail("connected")  # pragma: no cover
            assert caught.value.status_code == 503


async def test_a_closed_port_raises_oserror() -> None:
    with trio.fail_after(5), pytest.raises(OSError):
        async with WebsocketsConnector()(f"ws://127.0.0.1:{free_port()}/ws"):
            pytest.fail("connected")  # pragma: no cover


async def test_a_server_that_never_answers_times_out() -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")  # accepts, never speaks
    port = listeners[0].socket.getsockname()[1]
    try:
        with trio.fail_after(5):
            start = trio.current_time()
            with pytest.raises(TimeoutError):
                async with WebsocketsConnector(connect_timeout=0.3)(f"ws://127.0.0.1:{port}/"):
                    pytest.fail("connected")  # pragma: no cover
            assert trio.current_time() - start < 2.0
    finally:
        for listener in listeners:
            await listener.aclose()


async def test_a_cancelled_block_closes_at_once_even_with_a_silent_peer() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    connector = WebsocketsConnector(disconnect_timeout=5.0)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            with trio.CancelScope() as scope:
                async with connector(url) as conn:
                    await exchange.wait_until(lambda: len(exchange.connections) == 1)
                    (record,) = exchange.connections
                    exchange.go_silent()  # would not answer a closing handshake
                    await conn.send_message("ping")
                    start = trio.current_time()
                    scope.cancel()
                    await trio.sleep_forever()
            assert scope.cancelled_caught
            assert trio.current_time() - start < 1.0
            await exchange.wait_until(lambda: record.closed_at is not None)


async def test_the_closing_handshake_is_bounded_by_disconnect_timeout() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    connector = WebsocketsConnector(disconnect_timeout=0.3)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            async with connector(url):
                await exchange.wait_until(lambda: len(exchange.connections) == 1)
                exchange.go_silent()
                start = trio.current_time()
            assert trio.current_time() - start < 1.5
