"""The built-in transports pass the same behaviour tests over real loopback sockets.

Each client test runs with ``ClientConfig(transport="trio-websocket")``, ``"websockets"``
(``websockets.trio``) and ``"websockets-sansio"`` (the default), in real
time with short bounds. The connector-level tests check the seam's contract directly on
:class:`WebsocketsConnector`: close codes come out as ``okx_trio.ConnectionClosed``,
refused handshakes as ``trio_websocket.ConnectionRejected``, TLS is verified by default, and
a cancelled block closes its socket at once.
"""

from __future__ import annotations

import contextlib
import inspect
import socket
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager as AsyncContextManager
from typing import Any, Final

import pytest
import trio
import trio_websocket

from okx_trio import ClientConfig, ConnectionClosed, ConnectionState, open_okx_client
from okx_trio._connection import Connector
from okx_trio._connectors import default_connector
from okx_trio._transport_trio_websocket import WebSocketConnector, _TrioWebsocketConnection
from okx_trio.testing import FakeExchange, open_fake_exchange_server

from ._ws_peer import BINARY, CONTINUATION, Peer, answer_close, close_frame, ws_frame
from ._ws_peer import open_scripted_server as open_peer

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


@pytest.fixture(params=[*TRANSPORTS, "websockets-sansio"])
def client_transport(request: pytest.FixtureRequest) -> str:
    """Every built-in transport, for the client-level tests (websockets-sansio's own
    connector tests are in tests/test_transport_sansio*.py)."""
    name: str = request.param
    return name


# -- the client over each transport ---------------------------------------------------------


def test_the_config_selects_the_connector() -> None:
    assert isinstance(default_connector("trio-websocket", connect_timeout=1.0), WebSocketConnector)
    connector = default_connector("websockets", connect_timeout=3.0)
    assert isinstance(connector, WebsocketsConnector)
    assert connector.connect_timeout == 3.0
    assert ClientConfig().transport == "websockets-sansio"  # the default (bench: every row)


async def test_ticks_flow_and_the_client_closes_its_socket(client_transport: str) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, client_transport)) as client:
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


async def test_a_dropped_connection_heals(client_transport: str) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, client_transport)) as client:
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


async def test_a_close_frame_heals_and_names_its_code(client_transport: str) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, client_transport)) as client:
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                exchange.drop_connections(code=4004, reason="No data received in 30s")
                await exchange.wait_until(lambda: exchange.accepted_connections == 2)
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                last_error = client.get_stats().last_error
                assert "code 4004" in last_error
                assert "No data received in 30s" in last_error


async def test_a_silent_connection_is_given_up_after_the_connection_timeout(
    client_transport: str,
) -> None:
    exchange = FakeExchange(tick_interval=0.05)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, client_transport)) as client:
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


async def test_a_closed_port_ends_in_failed_after_max_retries(client_transport: str) -> None:
    url = f"ws://127.0.0.1:{free_port()}/ws/v5/public"
    with trio.fail_after(10):
        async with open_okx_client(
            PAIRS, config=fast_config(url, client_transport, max_retries=2)
        ) as client:
            await client.wait_until(lambda: client.state is S.FAILED)
            stats = client.get_stats()
            assert stats.retry_count == 2
            assert stats.last_error.startswith("connect failed: ")


async def test_a_refused_handshake_is_a_failed_attempt(client_transport: str) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    exchange.refuse_connections(2)  # HTTP 503 in the handshake
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, client_transport)) as client:
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                assert exchange.connection_attempts == 3
                assert "503" in client.get_stats().last_error


async def test_close_code_4001_fails_without_retrying(client_transport: str) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(exchange) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, client_transport)) as client:
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                exchange.drop_connections(code=4001, reason="Login failed")
                await client.wait_until(lambda: client.state is S.FAILED)
                assert "4001" in client.get_stats().last_error
                await trio.sleep(0.5)
                assert exchange.connection_attempts == 1


# -- TLS: tests/test_tls.py, on every transport


# -- the connector's contract: tests/test_transport_contract.py, on every built-in connector


# -- get_messages_nowait: draining what is already buffered ------------------------------------
#
# A hand-rolled server (tests/_ws_peer.py) writes a scripted run of frames in one send right
# after the handshake, so the client's reader task finds them all in one TCP read; the test
# waits until the connection has buffered them, then drains.


async def _hear_close(peer: Peer) -> None:
    """Read the client's close (or its answer to ours) and hang up without answering."""
    with contextlib.suppress(EOFError, trio.BrokenResourceError):
        await peer.close_code()


def open_scripted_server(script: bytes, *, closing: bool = False) -> AsyncContextManager[str]:
    """The peer server: the handshake and *script* in one write, then it answers the client's
    close frame (unless *closing*: the script ended with a close frame of its own)."""
    return open_peer(script, _hear_close if closing else answer_close)


CONNECTORS: Final[dict[str, Callable[[], Connector]]] = {
    "trio-websocket": lambda: WebSocketConnector(connect_timeout=2.0),
    "websockets": lambda: WebsocketsConnector(connect_timeout=2.0),
}


def buffered(conn: Any) -> int:
    """What waits inside the connection, by its library's internals."""
    if isinstance(conn, _TrioWebsocketConnection):  # whole messages in trio-websocket's queue
        count: int = conn.ws._recv_channel.statistics().current_buffer_used
        return count
    return len(conn._buffered)  # frames in websockets' queue


async def drained(conn: Any, count: int) -> None:
    """Wait (real time, bounded) until *count* frames sit in the connection's buffer."""
    with trio.fail_after(5):
        while buffered(conn) < count:  # noqa: ASYNC110  # no event to wait on in there
            await trio.sleep(0.005)


MESSAGES: Final = [f'{{"arg":{{"channel":"tickers"}},"data":[{{"n":"{i}"}}]}}' for i in range(12)]


async def test_buffered_messages_come_out_in_order_without_a_checkpoint(transport: str) -> None:
    script = b"".join(ws_frame(m) for m in MESSAGES)
    with trio.fail_after(10):
        async with open_scripted_server(script) as url:
            async with CONNECTORS[transport]()(url) as conn:
                drain = conn.get_messages_nowait  # type: ignore[attr-defined]
                assert not inspect.iscoroutinefunction(drain)
                await drained(conn, len(MESSAGES))
                # A plain function: it cannot checkpoint, so a batch costs no task switch.
                first = drain(5)
                rest = drain(255)
                after = drain(255)
                assert first == MESSAGES[:5]  # never more than the limit
                assert rest == MESSAGES[5:]
                assert after == []
                assert all(type(m) is str for m in first + rest)


async def test_nothing_buffered_is_an_empty_list(transport: str) -> None:
    with trio.fail_after(10):
        async with open_scripted_server(b"") as url:
            async with CONNECTORS[transport]()(url) as conn:
                await trio.sleep(0.05)
                assert conn.get_messages_nowait(255) == []  # type: ignore[attr-defined]
                assert conn.get_messages_nowait(0) == []  # type: ignore[attr-defined]


async def test_binary_messages_come_out_as_bytes(transport: str) -> None:
    script = ws_frame("a") + ws_frame(b"\x00\xff", BINARY) + ws_frame("b")
    with trio.fail_after(10):
        async with open_scripted_server(script) as url:
            async with CONNECTORS[transport]()(url) as conn:
                await drained(conn, 3)
                assert conn.get_messages_nowait(255) == ["a", b"\x00\xff", "b"]  # type: ignore[attr-defined]


async def test_a_fragmented_message_is_delivered_once_in_order(transport: str) -> None:
    # websockets buffers frames, so it stops at the fragmented message and leaves it to
    # get_message; trio-websocket queues it whole. Either way: every message, once, in order.
    script = (
        ws_frame("a")
        + ws_frame("b")
        + ws_frame("frag", fin=False)
        + ws_frame("ment", CONTINUATION, fin=False)
        + ws_frame("ed", CONTINUATION)
        + ws_frame("c")
    )
    with trio.fail_after(10):
        async with open_scripted_server(script) as url:
            async with CONNECTORS[transport]()(url) as conn:
                await drained(conn, 4 if transport == "trio-websocket" else 6)
                got = conn.get_messages_nowait(255)  # type: ignore[attr-defined]
                assert got == (
                    ["a", "b", "fragmented", "c"] if transport == "trio-websocket" else ["a", "b"]
                )
                while len(got) < 4:
                    got.append(await conn.get_message())
                    got += conn.get_messages_nowait(255)  # type: ignore[attr-defined]
                assert got == ["a", "b", "fragmented", "c"]


async def test_a_close_after_the_messages_is_reported_by_get_message(transport: str) -> None:
    script = b"".join(ws_frame(m) for m in MESSAGES[:3]) + close_frame(4004, "bye")
    with trio.fail_after(10):
        async with open_scripted_server(script, closing=True) as url:
            async with CONNECTORS[transport]()(url) as conn:
                await drained(conn, 3)
                await trio.sleep(0.05)  # the close frame is read too
                assert conn.get_messages_nowait(255) == MESSAGES[:3]  # type: ignore[attr-defined]
                assert conn.get_messages_nowait(255) == []  # type: ignore[attr-defined]
                with pytest.raises(ConnectionClosed) as caught:
                    await conn.get_message()
                assert caught.value.code == 4004


async def test_invalid_utf8_stops_the_batch_and_fails_the_connection(transport: str) -> None:
    script = ws_frame("a") + ws_frame(b"\xff\xfe") + ws_frame("b")
    with trio.fail_after(10):
        async with open_scripted_server(script) as url:
            async with CONNECTORS[transport]()(url) as conn:
                # wsproto refuses the bad frame as it parses it; websockets queues all three
                # frames and finds out in recv() (which fails the connection with 1007).
                await drained(conn, 1 if transport == "trio-websocket" else 3)
                assert conn.get_messages_nowait(255) == ["a"]  # type: ignore[attr-defined]
                with pytest.raises(ConnectionClosed) as caught:
                    while True:
                        await conn.get_message()
                assert caught.value.code in (1007, 1006)


async def test_the_trio_websocket_connection_still_offers_the_rest() -> None:
    # WebSocketConnector yields a thin wrapper now; everything else is trio-websocket's.
    with trio.fail_after(10):
        async with open_scripted_server(ws_frame("a")) as url:
            async with WebSocketConnector(connect_timeout=2.0)(url) as conn:
                assert isinstance(conn.ws, trio_websocket.WebSocketConnection)  # type: ignore[attr-defined]
                assert conn.closed is None  # type: ignore[attr-defined]
                assert conn.is_client  # type: ignore[attr-defined]
                assert await conn.get_message() == "a"


async def test_leaving_the_block_while_the_server_floods_closes_promptly(transport: str) -> None:
    # websockets stops reading once its frame queue passes the high-water mark (256) and
    # only resumes when recv() takes frames; nothing does once the block is left, so the
    # close handshake could not read the server's answer, and websockets' reader task then
    # waited for the resume forever. Leaving the block must end it within the bound.
    flood = b"".join(ws_frame(f"m{i}" * 20) for i in range(20000))
    with trio.fail_after(10):
        async with open_scripted_server(flood) as url:
            async with CONNECTORS[transport]()(url) as conn:
                assert await conn.get_message() == "m0" * 20
                await trio.sleep(0.3)  # the queue fills up behind us
                start = trio.current_time()
            assert trio.current_time() - start < 1.5  # disconnect_timeout is 2.0
