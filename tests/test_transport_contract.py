"""The connection contract every built-in connector keeps (``okx_trio._connection``), checked
on each of them over real loopback sockets: our ``ConnectionClosed`` with the peer's code and
reason (1006 without a closing handshake), a normal close when the block is left, however it
is left, ``ConnectionRejected`` for a refused handshake, ``OSError`` and ``TimeoutError`` for
a port that is closed or silent, and a cancelled block that closes its socket at once."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
import trio
import trio_websocket

from okx_trio import ConnectionClosed
from okx_trio._connection import Connector
from okx_trio._transport_sansio import SansIOConnector
from okx_trio._transport_trio_websocket import WebSocketConnector
from okx_trio._transport_websockets import WebsocketsConnector
from okx_trio.testing import FakeExchange, open_fake_exchange_server

from ._ws_peer import open_scripted_server, ws_frame

pytestmark = pytest.mark.realtime

Make = Callable[..., Connector]
CONNECTORS: dict[str, Make] = {
    "trio-websocket": WebSocketConnector,
    "websockets": WebsocketsConnector,
    "websockets-sansio": SansIOConnector,
}


@pytest.fixture(params=list(CONNECTORS))
def make(request: pytest.FixtureRequest) -> Make:
    return CONNECTORS[request.param]


def free_port() -> int:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_get_message_raises_our_connection_closed_with_code_and_reason(make: Make) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            async with make()(url) as conn:
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


async def test_leaving_the_block_sends_a_normal_close(make: Make) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            async with make()(url) as conn:
                await exchange.wait_until(lambda: len(exchange.connections) == 1)
                (record,) = exchange.connections
                await conn.send_message("ping")
                assert await conn.get_message() == "pong"
            await exchange.wait_until(lambda: record.close_code is not None)
            assert record.close_code == 1000


async def test_an_error_in_the_block_still_sends_a_normal_close_and_propagates(make: Make) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            with pytest.raises(KeyError):
                async with make()(url):
                    await exchange.wait_until(lambda: len(exchange.connections) == 1)
                    (record,) = exchange.connections
                    raise KeyError("boom")
            await exchange.wait_until(lambda: record.close_code is not None)
            assert record.close_code == 1000


async def test_an_aborted_connection_is_reported_as_1006(make: Make) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            async with make()(url) as conn:
                await exchange.wait_until(lambda: len(exchange.connections) == 1)
                exchange.drop_connections()
                with pytest.raises(ConnectionClosed) as caught:
                    while True:
                        await conn.get_message()
                assert caught.value.code == 1006


async def test_a_refused_handshake_raises_connection_rejected(make: Make) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    exchange.refuse_connections(1)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            with pytest.raises(trio_websocket.ConnectionRejected) as caught:
                async with make()(url):
                    pytest.fail("connected")  # pragma: no cover
            assert caught.value.status_code == 503


async def test_a_closed_port_raises_oserror(make: Make) -> None:
    with trio.fail_after(5), pytest.raises(OSError):
        async with make()(f"ws://127.0.0.1:{free_port()}/ws"):
            pytest.fail("connected")  # pragma: no cover


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/ws", "127.0.0.1:1", "ws://"])
async def test_a_url_that_is_not_a_websocket_url_is_a_value_error(make: Make, url: str) -> None:
    with pytest.raises(ValueError, match=r"(?i)url"):
        async with make()(url):
            pytest.fail("connected")  # pragma: no cover


async def test_a_server_that_never_answers_times_out(make: Make) -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")  # accepts, never speaks
    port = listeners[0].socket.getsockname()[1]
    try:
        with trio.fail_after(5):
            start = trio.current_time()
            with pytest.raises(TimeoutError):
                async with make(connect_timeout=0.3)(f"ws://127.0.0.1:{port}/"):
                    pytest.fail("connected")  # pragma: no cover
            assert 0.29 <= trio.current_time() - start < 1.0
    finally:
        for listener in listeners:
            await listener.aclose()


async def test_a_cancelled_block_closes_at_once_even_with_a_silent_peer(make: Make) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    connector = make(disconnect_timeout=5.0)
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


async def test_the_closing_handshake_is_bounded_by_disconnect_timeout(make: Make) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    connector = make(disconnect_timeout=0.3)
    with trio.fail_after(5):
        async with open_fake_exchange_server(exchange) as url:
            async with connector(url):
                await exchange.wait_until(lambda: len(exchange.connections) == 1)
                exchange.go_silent()
                start = trio.current_time()
            assert trio.current_time() - start < 1.0


async def test_a_backlog_beyond_the_queue_flows_through_in_order_a_batch_per_wakeup(
    make: Make,
) -> None:
    # More than the libraries buffer (256): trio-websocket's reader waits on the full queue,
    # websockets pauses reading; draining must let them go on (flow control).
    many = [f"m{i}" for i in range(5000)]
    script = b"".join(ws_frame(m) for m in many)
    with trio.fail_after(10):
        async with open_scripted_server(script) as url:
            async with make(connect_timeout=2.0)(url) as conn:
                drain = conn.get_messages_nowait  # type: ignore[attr-defined]
                got: list[str | bytes] = []
                wakeups = 0
                while len(got) < len(many):
                    got.append(await conn.get_message())
                    wakeups += 1
                    batch = drain(255)
                    assert len(batch) <= 255
                    got += batch
                assert got == many
                # A wake-up handles a batch: trio-websocket's reader (as the connector sets
                # it up) parses a whole socket read before it yields, instead of yielding
                # after every message, which left about 1.5 messages a wake-up.
                assert len(many) / wakeups > 10
