"""The ``websockets-sansio`` transport's sending, cancelling and closing, against
hand-made servers.

No compression offered, no pings of its own, no frame in the log; senders in other tasks
while the receiver waits in a read; cancellation before and in the middle of a write, and
of a read; the closing handshake's bound, a flood while leaving, a cancelled block's socket.
Real loopback sockets, real time, short bounds.
"""

from __future__ import annotations

import logging
import struct
from typing import Any

import pytest
import trio

from okx_trio import ConnectionClosed

from ._ws_peer import (
    CLOSE,
    TEXT,
    Peer,
    answer_close,
    close_frame,
    open_scripted_server,
    ws_frame,
)

pytest.importorskip("websockets")

from okx_trio._transport_sansio import SansIOConnector
from okx_trio._transport_sansio_connection import SansIOConnection

pytestmark = pytest.mark.realtime


def connect(**settings: Any) -> SansIOConnector:
    return SansIOConnector(connect_timeout=2.0, **settings)


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
    assert (opcode, payload[:2]) == (CLOSE, struct.pack("!H", 1000))


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
            assert opcode == TEXT
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
            assert opcode == TEXT
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
