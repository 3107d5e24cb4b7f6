"""The ``websockets-sansio`` transport's receiving side against hand-made servers.

What a real server rarely does on cue: messages in the read that ends the handshake,
fragments, frames split across reads, pings, a close from the server (empty too), a peer
that hangs up without a close frame or in the middle of one, protocol errors, broken and
refused handshakes. Real loopback sockets, real time, short bounds.
"""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any, Final

import pytest
import trio
import trio_websocket

from okx_trio import ConnectionClosed

from ._ws_peer import (
    BINARY,
    CLOSE,
    CONTINUATION,
    PING,
    PONG,
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
    first = ws_frame("a") + ws_frame(b"\x00\xff", BINARY) + ws_frame("b")
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
        + ws_frame(b"", CONTINUATION, fin=False)
        + ws_frame("ment", CONTINUATION, fin=False)
        + ws_frame("ed", CONTINUATION)
        + ws_frame(b"\x01", BINARY, fin=False)
        + ws_frame(b"\x02", CONTINUATION)
        + ws_frame("€".encode()[:1], fin=False)  # UTF-8 split inside a character
        + ws_frame("€".encode()[1:], CONTINUATION)
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
        await peer.stream.send_all(ws_frame(b"are you there", PING) + ws_frame("after"))
        answers.append(await peer.frame())
        pong.set()
        await answer_close(peer)

    with trio.fail_after(5):
        async with open_scripted_server(script=ping) as url:
            async with connect()(url) as conn:
                assert await conn.get_message() == "after"  # the ping is not a message
                await pong.wait()
    assert answers == [(PONG, b"are you there")]


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
            ws_frame("a") + ws_frame(b"", CLOSE), script=close_empty
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
        pytest.param(ws_frame(b"x", CONTINUATION), 1002, id="continuation-out-of-nowhere"),
        pytest.param(ws_frame(b"\xff\xfe"), 1007, id="text-not-utf8"),
        pytest.param(ws_frame("a", fin=False) + ws_frame(b"\xc3", CONTINUATION), 1007, id="frag"),
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
