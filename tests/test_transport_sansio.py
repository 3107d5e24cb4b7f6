"""The ``websockets-sansio`` transport over real loopback sockets, in real time.

The client-level tests run ``open_okx_client`` with ``ClientConfig(transport=
"websockets-sansio")`` against the fake exchange's loopback server; the connector-level
ones check the seam's contract on :class:`SansIOConnector` directly against it. What a real
server rarely does on cue (fragments, pings, a close from the server, frames split across
reads, protocol errors, a peer that hangs up or never answers, cancelled sends) is in
``test_transport_sansio_receive.py`` and ``test_transport_sansio_send.py``, against the
hand-made servers of ``tests/_ws_peer.py``.
"""

from __future__ import annotations

import socket
import ssl
import sys
from typing import Final

import pytest
import trio
import trio_websocket
import trustme

from okx_trio import ClientConfig, ConnectionClosed, ConnectionState, open_okx_client
from okx_trio._connectors import default_connector
from okx_trio.testing import FakeExchange, open_fake_exchange_server

pytest.importorskip("websockets")

from okx_trio._transport_sansio import SansIOConnector

pytestmark = pytest.mark.realtime

S = ConnectionState
PAIRS: Final = ["BTC-USDT", "ETH-USDT"]
TRANSPORT: Final = "websockets-sansio"


def fast_config(url: str, **overrides: object) -> ClientConfig:
    values: dict[str, object] = {
        "url": url,
        "transport": TRANSPORT,
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


# -- choosing it ------------------------------------------------------------------------------


def test_the_config_selects_the_connector() -> None:
    connector = default_connector(TRANSPORT, connect_timeout=3.0)
    assert isinstance(connector, SansIOConnector)
    assert connector.connect_timeout == 3.0
    assert ClientConfig(transport=TRANSPORT).transport == TRANSPORT
    assert ClientConfig().transport == TRANSPORT  # the default


def test_without_websockets_the_transport_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "okx_trio._transport_sansio", None)
    with pytest.raises(ValueError, match=r"'websockets-sansio' needs the websockets package"):
        default_connector(TRANSPORT, connect_timeout=1.0)


# -- the client on it -------------------------------------------------------------------------


async def test_ticks_flow_and_the_client_closes_its_socket() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url)) as client:
                async with client.ticks() as ticks:
                    got = {(await ticks.receive()).inst_id for _ in range(20)}
                assert got == set(PAIRS)
                assert client.state is S.CONNECTED
                (conn,) = exchange.connections
                client.add_pair("SOL-USDT")  # a change sent while the receiver waits
                await client.wait_until(lambda: client.latest("SOL-USDT") is not None)
                assert exchange.accepted_connections == 1
            await exchange.wait_until(lambda: not exchange.connections)
            assert conn.closed_at is not None


async def test_a_dropped_connection_heals() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url)) as client:
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


async def test_a_close_frame_heals_and_names_its_code() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url)) as client:
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                exchange.drop_connections(code=4004, reason="No data received in 30s")
                await exchange.wait_until(lambda: exchange.accepted_connections == 2)
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                last_error = client.get_stats().last_error
                assert "code 4004" in last_error
                assert "No data received in 30s" in last_error


async def test_a_silent_connection_is_given_up_after_the_connection_timeout() -> None:
    # The heartbeat's ping goes out from the watchdog while the receiver waits in a read.
    exchange = FakeExchange(tick_interval=0.05)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url)) as client:
                changes = client.state_changes()
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                exchange.go_silent()
                silent_at = trio.current_time()
                while (await changes.receive()).state is not S.RECONNECTING:
                    pass
                assert 1.9 <= trio.current_time() - silent_at <= 3.0  # connection_timeout
                assert client.get_stats().pings_sent >= 1
                exchange.resume()
                await exchange.wait_until(lambda: exchange.accepted_connections == 2)
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))


async def test_a_closed_port_ends_in_failed_after_max_retries() -> None:
    url = f"ws://127.0.0.1:{free_port()}/ws/v5/public"
    with trio.fail_after(10):
        async with open_okx_client(PAIRS, config=fast_config(url, max_retries=2)) as client:
            await client.wait_until(lambda: client.state is S.FAILED)
            stats = client.get_stats()
            assert stats.retry_count == 2
            assert stats.last_error.startswith("connect failed: ")


async def test_a_refused_handshake_is_a_failed_attempt() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    exchange.refuse_connections(2)  # HTTP 503 in the handshake
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url)) as client:
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                assert exchange.connection_attempts == 3
                assert "503" in client.get_stats().last_error


async def test_close_code_4001_fails_without_retrying() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url)) as client:
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                exchange.drop_connections(code=4001, reason="Login failed")
                await client.wait_until(lambda: client.state is S.FAILED)
                assert "4001" in client.get_stats().last_error
                await trio.sleep(0.3)
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


async def test_wss_with_a_trusted_ca_connects_and_heals(ca: trustme.CA) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    connector = SansIOConnector(ssl_context=trusting(ca), connect_timeout=2.0)
    with trio.fail_after(10):
        async with open_fake_exchange_server(
            exchange, ssl_context=server_context(ca, "127.0.0.1")
        ) as url:
            assert url.startswith("wss://")
            config = fast_config(url)
            async with open_okx_client(PAIRS, config=config, connector=connector) as client:
                await client.wait_until(lambda: all(client.latest(p) for p in PAIRS))
                exchange.drop_connections()
                await exchange.wait_until(lambda: exchange.accepted_connections == 2)
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))


async def test_wss_is_verified_by_default(ca: trustme.CA) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(
            exchange, ssl_context=server_context(ca, "127.0.0.1")
        ) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, max_retries=1)) as client:
                await client.wait_until(lambda: client.state is S.FAILED)
                assert "CERTIFICATE_VERIFY_FAILED" in client.get_stats().last_error
            assert exchange.accepted_connections == 0


async def test_wss_checks_the_host_name(ca: trustme.CA) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    connector = SansIOConnector(ssl_context=trusting(ca), connect_timeout=2.0)
    with trio.fail_after(10):
        async with open_fake_exchange_server(
            exchange, ssl_context=server_context(ca, "okx.example")
        ) as url:
            with pytest.raises(trio.BrokenResourceError) as caught:
                async with connector(url):
                    pytest.fail("connected")  # pragma: no cover
            assert "CERTIFICATE_VERIFY_FAILED" in repr(caught.value.__cause__)
            assert exchange.accepted_connections == 0


# -- the connector against the fake exchange ---------------------------------------------------


async def test_get_message_raises_our_connection_closed_with_code_and_reason() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            async with SansIOConnector()(url) as conn:
                await exchange.wait_until(lambda: len(exchange.connections) == 1)
                await conn.send_message("ping")
                assert await conn.get_message() == "pong"
                exchange.drop_connections(code=4001, reason="Login failed")
                with pytest.raises(ConnectionClosed) as caught:
                    while True:
                        await conn.get_message()
                assert (caught.value.code, caught.value.reason) == (4001, "Login failed")
                with pytest.raises(ConnectionClosed) as again:
                    await conn.get_message()  # and again: the connection stays closed
                assert again.value.code == 4001
                with pytest.raises(ConnectionClosed):
                    await conn.send_message("ping")


async def test_leaving_the_block_sends_a_normal_close() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            async with SansIOConnector()(url) as conn:
                await exchange.wait_until(lambda: len(exchange.connections) == 1)
                (record,) = exchange.connections
                await conn.send_message("ping")
                assert await conn.get_message() == "pong"
            await exchange.wait_until(lambda: record.close_code is not None)
            assert record.close_code == 1000


async def test_an_error_in_the_block_still_sends_a_normal_close_and_propagates() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            with pytest.raises(KeyError):
                async with SansIOConnector()(url):
                    await exchange.wait_until(lambda: len(exchange.connections) == 1)
                    (record,) = exchange.connections
                    raise KeyError("boom")
            await exchange.wait_until(lambda: record.close_code is not None)
            assert record.close_code == 1000


async def test_an_aborted_connection_is_reported_as_1006() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            async with SansIOConnector()(url) as conn:
                await exchange.wait_until(lambda: len(exchange.connections) == 1)
                exchange.drop_connections()
                with pytest.raises(ConnectionClosed) as caught:
                    while True:
                        await conn.get_message()
                assert caught.value.code == 1006


async def test_a_refused_handshake_raises_connection_rejected() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    exchange.refuse_connections(1)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            with pytest.raises(trio_websocket.ConnectionRejected) as caught:
                async with SansIOConnector()(url):
                    pytest.fail("connected")  # pragma: no cover
            assert caught.value.status_code == 503


async def test_a_closed_port_raises_oserror() -> None:
    with trio.fail_after(5), pytest.raises(OSError):
        async with SansIOConnector()(f"ws://127.0.0.1:{free_port()}/ws"):
            pytest.fail("connected")  # pragma: no cover


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/ws", "127.0.0.1:1", "ws://"])
async def test_a_url_that_is_not_a_websocket_url_is_a_value_error(url: str) -> None:
    with pytest.raises(ValueError, match="not a ws:// or wss:// url"):
        async with SansIOConnector()(url):
            pytest.fail("connected")  # pragma: no cover


async def test_a_server_that_never_answers_times_out() -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")  # accepts, never speaks
    port = listeners[0].socket.getsockname()[1]
    try:
        with trio.fail_after(5):
            start = trio.current_time()
            with pytest.raises(TimeoutError, match=r"timed out after 0\.3s"):
                async with SansIOConnector(connect_timeout=0.3)(f"ws://127.0.0.1:{port}/"):
                    pytest.fail("connected")  # pragma: no cover
            assert 0.29 <= trio.current_time() - start < 1.0
    finally:
        for listener in listeners:
            await listener.aclose()


async def test_a_cancelled_block_closes_at_once_even_with_a_silent_peer() -> None:
    exchange = FakeExchange(tick_interval=0.02)
    connector = SansIOConnector(disconnect_timeout=5.0)
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
    connector = SansIOConnector(disconnect_timeout=0.3)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            async with connector(url):
                await exchange.wait_until(lambda: len(exchange.connections) == 1)
                exchange.go_silent()
                start = trio.current_time()
            assert trio.current_time() - start < 1.0
