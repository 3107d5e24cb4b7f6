"""The ``websockets-sansio`` transport over real loopback sockets, in real time.

The client-level tests run ``open_okx_client`` with ``ClientConfig(transport=
"websockets-sansio")`` against the fake exchange's loopback server; the connector-level
ones check the seam's contract on :class:`SansIOConnector` directly, against the fake
exchange and against small hand-made servers for what a real server rarely does on cue
(fragments, pings, a close from the server, frames split across reads, protocol errors,
a peer that hangs up without a close frame, one that never answers).
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import logging
import socket
import ssl
import struct
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, Final

import pytest
import trio
import trio_websocket
import trustme

from okx_trio import ClientConfig, ConnectionClosed, ConnectionState, open_okx_client
from okx_trio._connectors import default_connector
from okx_trio.testing import FakeExchange, open_fake_exchange_server

pytest.importorskip("websockets")

from okx_trio._transport_sansio import SansIOConnector
from okx_trio._transport_sansio_connection import SansIOConnection

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
    assert ClientConfig().transport == "trio-websocket"  # stays the default


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


# -- hand-made servers ---------------------------------------------------------------------------
#
# A server script gets the accepted stream after the handshake (the response is sent with
# whatever bytes the script asks to send first, in one write, so the client finds them in
# the read that ends the handshake) and plays its part; ``Peer`` reads the client's masked
# frames.

_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def ws_frame(payload: bytes | str, opcode: int = _TEXT, *, fin: bool = True) -> bytes:
    """One unmasked server frame."""
    data = payload.encode() if isinstance(payload, str) else payload
    head = bytes([(0x80 if fin else 0) | opcode])
    if len(data) < 126:
        head += bytes([len(data)])
    elif len(data) < 65536:
        head += bytes([126]) + struct.pack("!H", len(data))
    else:
        head += bytes([127]) + struct.pack("!Q", len(data))
    return head + data


def close_frame(code: int, reason: str = "") -> bytes:
    return ws_frame(struct.pack("!H", code) + reason.encode(), _CLOSE)


class Peer:
    """The server's side of one connection: raw writes, and the client's frames parsed."""

    def __init__(self, stream: trio.SocketStream, buffered: bytes, request: bytes) -> None:
        self.stream = stream
        self._buffer = bytearray(buffered)
        #: The client's handshake request, up to the blank line.
        self.request = request

    async def _read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = await self.stream.receive_some(65536)
            if not chunk:
                raise EOFError("the client closed the stream")
            self._buffer += chunk
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    async def frame(self) -> tuple[int, bytes]:
        """The client's next frame: (opcode, unmasked payload). Checks that it is masked."""
        head1, head2 = await self._read(2)
        assert head2 & 0x80, "a client frame must be masked"
        length = head2 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self._read(8))
        mask = await self._read(4)
        data = await self._read(length)
        return head1 & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    async def close_code(self) -> int:
        """Read until the client's close frame; its code."""
        while True:
            opcode, payload = await self.frame()
            if opcode == _CLOSE:
                if not payload:
                    return 1005  # an empty close frame: no status code
                code: int = struct.unpack("!H", payload[:2])[0]
                return code

    async def at_eof(self) -> bool:
        """True once the client has closed the stream (reading what is left)."""
        try:
            while await self.stream.receive_some(65536):
                pass
        except trio.BrokenResourceError:
            pass
        return True


Script = Callable[[Peer], Awaitable[None]]


async def answer_close(peer: Peer) -> None:
    """What a polite server does once its script is done: answer the client's close."""
    try:
        await peer.close_code()
        await peer.stream.send_all(close_frame(1000))
    except (EOFError, trio.BrokenResourceError):
        pass


@asynccontextmanager
async def open_scripted_server(
    first: bytes = b"", script: Script = answer_close, *, response: bytes | None = None
) -> AsyncIterator[str]:
    """A WebSocket server that answers the handshake (with *response*, if given, instead of
    a valid one) and *first* in one write, then runs *script*."""

    async def handle(stream: trio.SocketStream) -> None:
        async with stream:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = await stream.receive_some(4096)
                if not chunk:
                    return
                request += chunk
            head, _, rest = request.partition(b"\r\n\r\n")
            key = next(
                line.split(b":", 1)[1].strip()
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            )
            accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
            if response is None:
                answer = (
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
                )
            else:
                answer = response
            try:
                await stream.send_all(answer + first)
                await script(Peer(stream, rest, head))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass

    async with trio.open_nursery() as nursery:
        (listener,) = await nursery.start(partial(trio.serve_tcp, handle, 0, host="127.0.0.1"))
        port = listener.socket.getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ws/v5/public"
        nursery.cancel_scope.cancel()


def connect(**settings: Any) -> SansIOConnector:
    return SansIOConnector(connect_timeout=2.0, **settings)


async def queued(conn: Any, count: int) -> None:
    """Wait (real time, bounded) until *count* messages are queued in the connection.

    Nobody else reads: this task reads (one ``get_message``) and puts the message back in
    front, so what is queued comes from reads of this task alone, as in the receiver.
    """
    assert isinstance(conn, SansIOConnection)
    with trio.fail_after(5):
        while len(conn._messages) < count:
            message = await conn.get_message()
            conn._messages.appendleft(message)


MESSAGES: Final = [f'{{"arg":{{"channel":"tickers"}},"data":[{{"n":"{i}"}}]}}' for i in range(12)]


async def test_messages_with_the_response_come_out_in_order_without_a_checkpoint() -> None:
    with trio.fail_after(5):
        async with open_scripted_server(b"".join(ws_frame(m) for m in MESSAGES)) as url:
            async with connect()(url) as conn:
                drain = conn.get_messages_nowait  # type: ignore[attr-defined]
                assert not inspect.iscoroutinefunction(drain)
                await queued(conn, len(MESSAGES))
                first = drain(5)
                rest = drain(255)
                assert first == MESSAGES[:5]  # never more than the limit
                assert rest == MESSAGES[5:]
                assert drain(255) == []
                assert all(type(m) is str for m in first + rest)


async def test_nothing_queued_is_an_empty_list() -> None:
    with trio.fail_after(5):
        async with open_scripted_server() as url:
            async with connect()(url) as conn:
                assert conn.get_messages_nowait(255) == []  # type: ignore[attr-defined]
                assert conn.get_messages_nowait(0) == []  # type: ignore[attr-defined]


async def test_binary_messages_come_out_as_bytes() -> None:
    first = ws_frame("a") + ws_frame(b"\x00\xff", _BINARY) + ws_frame("b")
    with trio.fail_after(5):
        async with open_scripted_server(first) as url:
            async with connect()(url) as conn:
                got = [await conn.get_message()]
                got += conn.get_messages_nowait(255)  # type: ignore[attr-defined]
                assert got == ["a", b"\x00\xff", "b"]


async def test_fragmented_messages_are_assembled_once_in_order() -> None:
    first = (
        ws_frame("a")
        + ws_frame("frag", fin=False)
        + ws_frame(b"", _CONTINUATION, fin=False)
        + ws_frame("ment", _CONTINUATION, fin=False)
        + ws_frame("ed", _CONTINUATION)
        + ws_frame(b"\x01", _BINARY, fin=False)
        + ws_frame(b"\x02", _CONTINUATION)
        + ws_frame("€".encode()[:1], fin=False)  # UTF-8 split inside a character
        + ws_frame("€".encode()[1:], _CONTINUATION)
        + ws_frame("c")
    )
    with trio.fail_after(5):
        async with open_scripted_server(first) as url:
            async with connect()(url) as conn:
                await queued(conn, 5)
                got = conn.get_messages_nowait(255)  # type: ignore[attr-defined]
                assert got == ["a", "fragmented", b"\x01\x02", "€", "c"]


async def test_frames_split_across_reads_are_put_together() -> None:
    frames = b"".join(ws_frame(m) for m in MESSAGES) + ws_frame("x" * 70000)

    async def dribble(peer: Peer) -> None:
        for i in range(0, len(frames), 7):  # 7 bytes a write: every header split too
            await peer.stream.send_all(frames[i : i + 7])
            if i % 700 == 0:
                await trio.sleep(0.001)  # let the client read a piece at a time
        await answer_close(peer)

    with trio.fail_after(10):
        async with open_scripted_server(script=dribble) as url:
            async with connect()(url) as conn:
                got = [await conn.get_message() for _ in range(len(MESSAGES) + 1)]
                assert got == [*MESSAGES, "x" * 70000]


async def test_a_server_ping_is_answered_with_its_payload() -> None:
    pong = trio.Event()
    answers: list[tuple[int, bytes]] = []

    async def ping(peer: Peer) -> None:
        await peer.stream.send_all(ws_frame(b"are you there", _PING) + ws_frame("after"))
        answers.append(await peer.frame())
        pong.set()
        await answer_close(peer)

    with trio.fail_after(5):
        async with open_scripted_server(script=ping) as url:
            async with connect()(url) as conn:
                assert await conn.get_message() == "after"  # the ping is not a message
                await pong.wait()
    assert answers == [(_PONG, b"are you there")]


async def test_a_close_from_the_server_comes_after_its_messages_and_is_echoed() -> None:
    echoed: list[int] = []

    async def close_first(peer: Peer) -> None:
        await peer.stream.send_all(
            b"".join(ws_frame(m) for m in MESSAGES[:3]) + close_frame(4004, "bye")
        )
        echoed.append(await peer.close_code())
        await peer.stream.aclose()

    with trio.fail_after(5):
        async with open_scripted_server(script=close_first) as url:
            async with connect(disconnect_timeout=3.0)(url) as conn:
                got = [await conn.get_message()]
                while len(got) < 3:
                    got += conn.get_messages_nowait(255)  # type: ignore[attr-defined]
                    if len(got) < 3:
                        got.append(await conn.get_message())
                assert got == MESSAGES[:3]
                with pytest.raises(ConnectionClosed) as caught:
                    await conn.get_message()
                assert (caught.value.code, caught.value.reason) == (4004, "bye")
                with pytest.raises(ConnectionClosed):
                    await conn.send_message("late")
                start = trio.current_time()
            assert trio.current_time() - start < 1.5  # the handshake is already done
    assert echoed == [4004]


async def test_an_empty_close_frame_is_code_1005() -> None:
    echoed: list[int] = []

    async def close_empty(peer: Peer) -> None:
        echoed.append(await peer.close_code())
        await peer.stream.aclose()

    with trio.fail_after(5):
        async with open_scripted_server(
            ws_frame("a") + ws_frame(b"", _CLOSE), script=close_empty
        ) as url:
            async with connect()(url) as conn:
                assert await conn.get_message() == "a"
                with pytest.raises(ConnectionClosed) as caught:
                    await conn.get_message()
                assert (caught.value.code, caught.value.reason) == (1005, "")
    assert echoed == [1005]  # echoed as it came: empty


async def test_a_peer_that_hangs_up_without_a_close_frame_is_1006_after_its_messages() -> None:
    async def hang_up(peer: Peer) -> None:
        await peer.stream.send_all(ws_frame("a") + ws_frame("b"))
        await peer.stream.aclose()

    with trio.fail_after(5):
        async with open_scripted_server(script=hang_up) as url:
            async with connect()(url) as conn:
                got = [await conn.get_message()]
                got += conn.get_messages_nowait(255)  # type: ignore[attr-defined]
                if len(got) < 2:
                    got.append(await conn.get_message())
                assert got == ["a", "b"]
                with pytest.raises(ConnectionClosed) as caught:
                    await conn.get_message()
                assert (caught.value.code, caught.value.reason) == (1006, "")
                with pytest.raises(ConnectionClosed):
                    await conn.send_message("anyone?")


async def test_a_hang_up_in_the_middle_of_a_frame_is_1006() -> None:
    async def cut(peer: Peer) -> None:
        await peer.stream.send_all(ws_frame("a") + ws_frame("truncated")[:5])
        await peer.stream.aclose()

    with trio.fail_after(5):
        async with open_scripted_server(script=cut) as url:
            async with connect()(url) as conn:
                assert await conn.get_message() == "a"
                with pytest.raises(ConnectionClosed) as caught:
                    await conn.get_message()
                assert caught.value.code == 1006


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        pytest.param(bytes([0x83, 0]), 1002, id="reserved-opcode"),
        pytest.param(bytes([0x81, 0x81, 1, 2, 3, 4, 0x60]), 1002, id="masked-server-frame"),
        pytest.param(ws_frame(b"x", _CONTINUATION), 1002, id="continuation-out-of-nowhere"),
        pytest.param(ws_frame(b"\xff\xfe"), 1007, id="text-not-utf8"),
        pytest.param(ws_frame("a", fin=False) + ws_frame(b"\xc3", _CONTINUATION), 1007, id="frag"),
        pytest.param(ws_frame("y" * 2000), 1009, id="over-max-message-size"),
    ],
)
async def test_a_protocol_error_of_the_peer_fails_the_connection_with_its_code(
    bad: bytes, code: int
) -> None:
    sent: list[int] = []

    async def misbehave(peer: Peer) -> None:
        await peer.stream.send_all(ws_frame("before") + bad + ws_frame("after"))
        sent.append(await peer.close_code())
        await peer.stream.aclose()

    with trio.fail_after(5):
        async with open_scripted_server(script=misbehave) as url:
            async with connect(max_message_size=1000)(url) as conn:
                assert await conn.get_message() == "before"
                with pytest.raises(ConnectionClosed) as caught:
                    while True:
                        assert await conn.get_message() != "after"
                assert caught.value.code == code
                assert caught.value.reason  # what was wrong, in a few words
    assert sent == [code]  # the client told the peer so, in its close frame


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n",
        b"this is not HTTP\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n",
    ],
    ids=["wrong-accept-key", "not-http", "no-upgrade-header"],
)
async def test_a_broken_handshake_raises_handshake_error(response: bytes) -> None:
    with trio.fail_after(5):
        async with open_scripted_server(response=response) as url:
            with pytest.raises(trio_websocket.HandshakeError) as caught:
                async with connect()(url):
                    pytest.fail("connected")  # pragma: no cover
            assert not isinstance(caught.value, trio_websocket.ConnectionRejected)


async def test_a_refusal_keeps_status_headers_and_body() -> None:
    response = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nslow"
    with trio.fail_after(5):
        async with open_scripted_server(response=response) as url:
            with pytest.raises(trio_websocket.ConnectionRejected) as caught:
                async with connect()(url):
                    pytest.fail("connected")  # pragma: no cover
    assert caught.value.status_code == 429
    assert (b"Retry-After", b"1") in (caught.value.headers or ())
    assert caught.value.body == b"slow"


async def test_a_server_that_hangs_up_during_the_handshake_fails_at_once() -> None:
    async def hang_up(stream: trio.SocketStream) -> None:
        async with stream:
            await stream.receive_some(65536)

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            (listener,) = await nursery.start(partial(trio.serve_tcp, hang_up, 0, host="127.0.0.1"))
            port = listener.socket.getsockname()[1]
            start = trio.current_time()
            with pytest.raises(trio_websocket.HandshakeError):
                async with connect()(f"ws://127.0.0.1:{port}/"):
                    pytest.fail("connected")  # pragma: no cover
            assert trio.current_time() - start < 1.0
            nursery.cancel_scope.cancel()


async def test_a_peer_that_never_answers_the_close_is_given_disconnect_timeout() -> None:
    async def deaf(peer: Peer) -> None:
        await peer.close_code()
        await trio.sleep_forever()  # no answer, no hang-up

    with trio.fail_after(5):
        async with open_scripted_server(script=deaf) as url:
            async with connect(disconnect_timeout=0.3)(url):
                start = trio.current_time()
            assert 0.29 <= trio.current_time() - start < 1.0


async def test_the_upgrade_offers_no_compression_and_the_client_sends_no_pings() -> None:
    seen: list[tuple[bytes, tuple[int, bytes]]] = []

    async def watch(peer: Peer) -> None:
        # Nothing but the close when the block is left: no ping frames of the client's own.
        seen.append((peer.request, await peer.frame()))
        await peer.stream.send_all(close_frame(1000))

    with trio.fail_after(5):
        async with open_scripted_server(script=watch) as url:
            async with connect()(url):
                await trio.sleep(0.3)
    ((request, (opcode, payload)),) = seen
    lines = request.decode("latin-1").split("\r\n")
    assert lines[0] == "GET /ws/v5/public HTTP/1.1"
    headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in lines[1:]}
    assert headers["host"] == url.split("/")[2]  # 127.0.0.1:port
    assert "sec-websocket-extensions" not in headers  # no permessage-deflate
    assert (opcode, payload[:2]) == (_CLOSE, struct.pack("!H", 1000))


async def test_frames_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    # websockets' protocol logs every frame at DEBUG; what we send includes a login.
    login = '{"op":"login","args":[{"apiKey":"KEY-1","passphrase":"PASS-1","sign":"SIGN-1"}]}'

    async def echo(peer: Peer) -> None:
        _opcode, payload = await peer.frame()
        await peer.stream.send_all(ws_frame(payload))
        await answer_close(peer)

    caplog.set_level(logging.DEBUG)
    with trio.fail_after(5):
        async with open_scripted_server(script=echo) as url:
            async with connect()(url) as conn:
                await conn.send_message(login)
                assert await conn.get_message() == login
    assert not any(secret in caplog.text for secret in ("KEY-1", "PASS-1", "SIGN-1"))


async def test_senders_in_other_tasks_while_the_receiver_waits() -> None:
    # The receiver is blocked in a read the whole time; three tasks send concurrently, one
    # of them big enough to take several writes. The server gets every frame whole.
    big = "z" * 300_000
    received: list[str] = []

    async def echo(peer: Peer) -> None:
        while len(received) < 31:
            opcode, payload = await peer.frame()
            assert opcode == _TEXT
            received.append(payload.decode())
        await peer.stream.send_all(ws_frame("done"))
        await answer_close(peer)

    with trio.fail_after(10):
        async with open_scripted_server(script=echo) as url:
            async with connect()(url) as conn:
                async with trio.open_nursery() as nursery:

                    async def send(prefix: str) -> None:
                        for i in range(10):
                            await conn.send_message(f"{prefix}{i}")

                    nursery.start_soon(send, "a")
                    nursery.start_soon(send, "b")
                    nursery.start_soon(conn.send_message, big)
                    nursery.start_soon(send, "c")
                    assert await conn.get_message() == "done"
    assert sorted(received) == sorted([f"{p}{i}" for p in "abc" for i in range(10)] + [big])
    for prefix in "abc":  # each sender's own frames in its order
        assert [m for m in received if m[0] == prefix] == [f"{prefix}{i}" for i in range(10)]


async def test_a_cancelled_get_message_loses_nothing() -> None:
    go = trio.Event()

    async def later(peer: Peer) -> None:
        await go.wait()
        await peer.stream.send_all(ws_frame("one") + ws_frame("two"))
        await answer_close(peer)

    with trio.fail_after(5):
        async with open_scripted_server(script=later) as url:
            async with connect()(url) as conn:
                with trio.move_on_after(0.05) as waited:
                    await conn.get_message()
                assert waited.cancelled_caught
                go.set()
                with trio.CancelScope() as scope:  # cancelled at the checkpoint after a read
                    assert await conn.get_message() == "one"
                    scope.cancel()
                    await conn.get_message()
                assert scope.cancelled_caught
                assert await conn.get_message() == "two"


async def test_a_send_cancelled_mid_write_closes_the_connection() -> None:
    # The server never reads, so a big send fills the socket buffers and blocks; cancelling
    # it leaves a frame cut short: the connection must not go on.
    stuck = trio.Event()

    async def deaf(peer: Peer) -> None:
        await stuck.wait()
        assert await peer.at_eof()

    with trio.fail_after(5):
        async with open_scripted_server(script=deaf) as url:
            async with connect(disconnect_timeout=0.3)(url) as conn:
                with trio.move_on_after(0.2) as sending:
                    await conn.send_message("w" * 20_000_000)
                assert sending.cancelled_caught
                stuck.set()
                with pytest.raises(ConnectionClosed) as caught:
                    await conn.get_message()
                assert caught.value.code == 1006
                with pytest.raises(ConnectionClosed):
                    await conn.send_message("more")


async def test_a_send_cancelled_before_it_writes_sends_nothing() -> None:
    # One task's big send holds the stream (the server reads nothing yet); a second send,
    # cancelled while it waits its turn, must not go out later, and the connection goes on.
    big = "b" * 3_000_000
    reading = trio.Event()
    received: list[str] = []

    async def slow_reader(peer: Peer) -> None:
        await reading.wait()
        while len(received) < 2:
            opcode, payload = await peer.frame()
            assert opcode == _TEXT
            received.append(payload.decode())
        await peer.stream.send_all(ws_frame("got them"))
        await answer_close(peer)

    with trio.fail_after(10):
        async with open_scripted_server(script=slow_reader) as url:
            async with connect()(url) as conn:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(conn.send_message, big)
                    await trio.sleep(0.1)  # the big send is stuck on a full socket
                    with trio.move_on_after(0.1) as waited:
                        await conn.send_message("never")
                    assert waited.cancelled_caught
                    reading.set()
                await conn.send_message("after")
                assert await conn.get_message() == "got them"
    assert [len(received[0]), received[1]] == [len(big), "after"]


async def test_a_flush_cancelled_before_its_first_byte_keeps_the_frame_and_the_stream() -> None:
    with trio.fail_after(5):
        async with open_scripted_server() as url:
            async with connect()(url) as conn:
                assert isinstance(conn, SansIOConnection)
                frame = ws_frame("queued")  # any bytes: they are only queued here
                conn._outgoing.append(frame)
                with trio.CancelScope() as scope:
                    scope.cancel()
                    await conn._flush()
                assert scope.cancelled_caught
                assert list(conn._outgoing) == [frame]
                assert not conn._stream_closed
                conn._outgoing.clear()
                await conn.send_message("still open")


async def test_a_backlog_flows_through_in_order_a_batch_per_wakeup() -> None:
    many = [f"m{i}" for i in range(5000)]
    with trio.fail_after(10):
        async with open_scripted_server(b"".join(ws_frame(m) for m in many)) as url:
            async with connect()(url) as conn:
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
                assert len(many) / wakeups > 10


async def test_leaving_the_block_while_the_server_floods_closes_promptly() -> None:
    flood = b"".join(ws_frame(f"m{i}" * 20) for i in range(20000))
    with trio.fail_after(10):
        async with open_scripted_server(flood) as url:
            async with connect()(url) as conn:
                assert await conn.get_message() == "m0" * 20
                await trio.sleep(0.2)  # the socket fills up behind us
                start = trio.current_time()
            assert trio.current_time() - start < 1.5  # disconnect_timeout is 2.0


async def test_no_socket_outlives_a_cancelled_block() -> None:
    closed = trio.Event()

    async def watch(peer: Peer) -> None:
        assert await peer.at_eof()
        closed.set()

    with trio.fail_after(5):
        async with open_scripted_server(ws_frame("a"), script=watch) as url:
            with trio.CancelScope() as scope:
                async with connect(disconnect_timeout=5.0)(url) as conn:
                    assert await conn.get_message() == "a"
                    scope.cancel()
                    await conn.get_message()
            start = trio.current_time()
            await closed.wait()  # the server saw the socket close: it is gone
            assert trio.current_time() - start < 1.0
