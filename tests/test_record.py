"""record_session against an in-memory fake OKX of two endpoints, in virtual time; the
round trip record -> load_capture -> ReplayExchange on both endpoints."""

from __future__ import annotations

import io
import json
import math
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed

from okx_trio._connection import Connection
from okx_trio._okx import AWS_HOST, MAX_REQUEST_BYTES
from okx_trio._subscription import Subscription
from okx_trio.testing import (
    CaptureLine,
    MemoryWebSocket,
    RecordSummary,
    ReplayExchange,
    load_capture,
    parse_capture,
    record_session,
)
from okx_trio.testing._record import PING_AFTER, _requests, resolve_host
from okx_trio.testing._transport import ServerTransport

T0 = 1_700_000_000.0
HOST = "ws://okx.test"
PUBLIC = f"{HOST}/ws/v5/public"
BUSINESS = f"{HOST}/ws/v5/business"
SUBS: list[Subscription | str] = [
    "tickers:BTC-USDT",
    Subscription("candle1m", "BTC-USDT"),
    "trades:BTC-USDT",
    "tickers:BTC-USDT",  # a repeat: subscribed once
]
TICKER = json.dumps(
    {"arg": {"channel": "tickers", "instId": "BTC-USDT"}, "data": [{"last": "1", "ts": "5"}]},
    separators=(",", ":"),
)
TRADE = json.dumps(
    {
        "arg": {"channel": "trades", "instId": "BTC-USDT"},
        "data": [{"tradeId": "7", "px": "1", "sz": "2", "side": "buy", "ts": "6"}],
    },
    separators=(",", ":"),
)
CANDLE = (
    '{"arg":{"channel":"candle1m","instId":"BTC-USDT"},'
    '"data":[["5","1","1","1","1","0","0","0","0"]]}'
)
PRETTY = '{\n  "event": "notice"\n}'  # a frame with line breaks in it
BINARY = b"\x00\x01\xff"


def wall_clock() -> float:
    return T0 + trio.current_time()


@dataclass
class Script:
    """What the fake server does on one path, in seconds after the client's request."""

    ack_delay: float
    pushes: list[tuple[float, str | bytes]] = field(default_factory=list)
    answer_pings: bool = True
    close_at: float | None = None


@dataclass
class FakeOkx:
    """A tiny OKX: acks every arg of the first request, pushes its script, answers ping."""

    scripts: dict[str, Script]
    sent: dict[str, list[tuple[float, str | bytes]]] = field(default_factory=dict)
    got: dict[str, list[str | bytes]] = field(default_factory=dict)
    refuse: set[str] = field(default_factory=set)

    def connector(self, url: str) -> AbstractAsyncContextManager[Connection]:
        return self._connect(url)

    @asynccontextmanager
    async def _connect(self, url: str) -> AsyncIterator[MemoryWebSocket]:
        from okx_trio.testing._memory import open_memory_connection

        path = url.removeprefix(HOST)
        if path in self.refuse:
            raise OSError(f"connection to {url} refused")
        script = self.scripts[path]
        async with open_memory_connection(lambda t: lambda: self._serve(path, script, t)) as ws:
            yield ws

    async def _send(self, path: str, transport: ServerTransport, text: str | bytes) -> None:
        await transport.send(text)
        self.sent.setdefault(path, []).append((trio.current_time(), text))

    async def _serve(self, path: str, script: Script, transport: ServerTransport) -> None:
        got = self.got.setdefault(path, [])
        request = await transport.receive()
        got.append(request)
        t0 = trio.current_time()
        async with trio.open_nursery() as nursery:

            async def play() -> None:
                await trio.sleep_until(t0 + script.ack_delay)
                for arg in json.loads(request)["args"]:
                    ack = {"id": "1", "event": "subscribe", "arg": arg}
                    await self._send(path, transport, json.dumps(ack, separators=(",", ":")))
                for at, text in script.pushes:
                    await trio.sleep_until(t0 + at)
                    await self._send(path, transport, text)
                if script.close_at is not None:
                    await trio.sleep_until(t0 + script.close_at)
                    await transport.close(4004, "No data received in 30s")

            nursery.start_soon(play)
            try:
                while True:
                    message = await transport.receive()
                    got.append(message)
                    if message == "ping" and script.answer_pings:
                        await self._send(path, transport, "pong")
            except ConnectionClosed:
                nursery.cancel_scope.cancel()


def two_endpoints(**public: Any) -> FakeOkx:
    return FakeOkx(
        {
            "/ws/v5/public": Script(0.1, [(0.5, TICKER), (1.5, TRADE)], **public),
            "/ws/v5/business": Script(0.2, [(1.0, CANDLE), (2.0, PRETTY), (2.5, BINARY)]),
        }
    )


def ack(channel: str) -> str:
    return f'{{"id":"1","event":"subscribe","arg":{{"channel":"{channel}","instId":"BTC-USDT"}}}}'


PUBLIC_REQUEST = (
    '{"id":"1","op":"subscribe","args":[{"channel":"tickers","instId":"BTC-USDT"},'
    '{"channel":"trades","instId":"BTC-USDT"}]}'
)
BUSINESS_REQUEST = '{"id":"1","op":"subscribe","args":[{"channel":"candle1m","instId":"BTC-USDT"}]}'
EXPECTED_30S = [
    f"{PUBLIC} <-> 1700000000.000000",
    f"{PUBLIC} <- 1700000000.000000: {PUBLIC_REQUEST}",
    f"{BUSINESS} <-> 1700000000.000000",
    f"{BUSINESS} <- 1700000000.000000: {BUSINESS_REQUEST}",
    # The public connection is not the last opened: its frames name it.
    f"{PUBLIC} -> 1700000000.100000: {ack('tickers')}",
    f"{PUBLIC} -> 1700000000.100000: {ack('trades')}",
    f"1700000000.200000: {ack('candle1m')}",
    f"{PUBLIC} -> 1700000000.500000: {TICKER}",
    f"1700000001.000000: {CANDLE}",
    f"{PUBLIC} -> 1700000001.500000: {TRADE}",
    "1700000002.000000:json: " + json.dumps(PRETTY),
    "1700000002.500000:b64: AAH/",
    # 20 s of silence on each: a ping, logged, and its pong.
    f"{PUBLIC} <- 1700000021.500000: ping",
    f"{PUBLIC} -> 1700000021.500000: pong",
    f"{BUSINESS} <- 1700000022.500000: ping",
    "1700000022.500000: pong",
]


async def test_records_both_endpoints_in_time_order_with_the_injected_clock(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    fake = two_endpoints()
    out = tmp_path / "session.txt"
    summary = await record_session(
        SUBS, out, duration=30, host=HOST, connector=fake.connector, wall_clock=wall_clock
    )
    assert trio.current_time() == 30
    assert out.read_text(encoding="utf-8") == "".join(line + "\n" for line in EXPECTED_30S)
    assert summary == RecordSummary(
        urls=(PUBLIC, BUSINESS),
        received={PUBLIC: 5, BUSINESS: 5},
        sent={PUBLIC: 2, BUSINESS: 2},
        lines=16,
        reason="duration",
    )
    assert summary.total_received == 10
    assert fake.got == {
        "/ws/v5/public": [PUBLIC_REQUEST, "ping"],
        "/ws/v5/business": [BUSINESS_REQUEST, "ping"],
    }
    # The file reads back into exactly what went over each connection, attributed.
    lines = load_capture(out)
    for url, path in ((PUBLIC, "/ws/v5/public"), (BUSINESS, "/ws/v5/business")):
        received = [line for line in lines if line.kind == "received" and line.url == url]
        assert [line.text for line in received] == [text for _, text in fake.sent[path]]
        assert [line.time for line in received] == pytest.approx(
            [T0 + t for t, _ in fake.sent[path]], abs=1e-6
        )
    assert [line.time for line in lines] == sorted(line.time for line in lines)


async def test_round_trip_replays_the_same_frames_per_endpoint(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    fake = two_endpoints()
    out = tmp_path / "session.txt"
    await record_session(
        SUBS, out, duration=30, host=HOST, connector=fake.connector, wall_clock=wall_clock
    )
    replay = ReplayExchange(load_capture(out))
    assert replay.paths == ["/ws/v5/public", "/ws/v5/business"]
    start = trio.current_time()
    # Another host: routing is by path.
    async with (
        replay.connector("wss://elsewhere.test:8443/ws/v5/public") as public,
        replay.connector("wss://elsewhere.test:8443/ws/v5/business") as business,
    ):
        got: dict[str, list[tuple[float, str | bytes]]] = {}

        async def read(ws: MemoryWebSocket, path: str, request: str) -> None:
            await ws.send_message(request)
            frames = got.setdefault(path, [])
            for _ in fake.sent[path]:
                text = await ws.get_message()
                frames.append((trio.current_time() - start, text))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read, public, "/ws/v5/public", PUBLIC_REQUEST)
            nursery.start_soon(read, business, "/ws/v5/business", BUSINESS_REQUEST)
        for path, frames in got.items():
            assert [text for _, text in frames] == [text for _, text in fake.sent[path]]
            # Each at its recorded offset from its own connection's request.
            assert [t for t, _ in frames] == pytest.approx(
                [t for t, _ in fake.sent[path]], abs=1e-6
            )
        await replay.wait_finished(PUBLIC)
        await replay.wait_finished(BUSINESS)
        with pytest.raises(ValueError, match=r"'ws://x/ws/v5/private'.*'/ws/v5/public'"):
            async with replay.connector("ws://x/ws/v5/private"):
                pass  # pragma: no cover - entering raises
    assert sorted(map(str, replay.client_messages)) == [BUSINESS_REQUEST, PUBLIC_REQUEST]


async def test_max_messages_counts_frames_of_all_connections(
    autojump_clock: trio.testing.MockClock,
) -> None:
    out = io.StringIO()
    fake = two_endpoints()
    summary = await record_session(
        SUBS, out, host=HOST, connector=fake.connector, wall_clock=wall_clock, max_messages=3
    )
    assert summary.reason == "max_messages"
    assert summary.total_received == 3
    assert trio.current_time() == pytest.approx(0.2)
    assert out.getvalue().splitlines() == EXPECTED_30S[:7]
    assert not out.closed  # a file of the caller's is left open


async def test_stop_event_ends_the_recording(autojump_clock: trio.testing.MockClock) -> None:
    out = io.StringIO()
    stop = trio.Event()
    summary: RecordSummary | None = None
    async with trio.open_nursery() as nursery:

        async def record() -> None:
            nonlocal summary
            summary = await record_session(
                SUBS, out, host=HOST, connector=two_endpoints().connector,
                wall_clock=wall_clock, stop=stop,
            )  # fmt: skip

        nursery.start_soon(record)
        await trio.sleep(1.2)
        stop.set()
    assert summary is not None and summary.reason == "stopped" and summary.closed is None
    assert trio.current_time() == pytest.approx(1.2)
    assert out.getvalue().splitlines() == EXPECTED_30S[:9]


async def test_cancellation_leaves_a_complete_file(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    out = tmp_path / "session.txt"
    with trio.move_on_after(1.2) as scope:
        await record_session(
            SUBS, out, host=HOST, connector=two_endpoints().connector, wall_clock=wall_clock
        )
    assert scope.cancelled_caught
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert text.splitlines() == EXPECTED_30S[:9]
    assert len(load_capture(out)) == 9


async def test_a_connection_closed_by_the_server_ends_the_recording(
    autojump_clock: trio.testing.MockClock,
) -> None:
    out = io.StringIO()
    fake = two_endpoints(close_at=1.6)
    summary = await record_session(
        SUBS, out, host=HOST, connector=fake.connector, wall_clock=wall_clock, duration=30
    )
    assert trio.current_time() == pytest.approx(1.6)
    assert summary.reason == "closed"
    assert summary.closed == f"{PUBLIC}: connection closed (code 4004, No data received in 30s)"
    assert out.getvalue().splitlines() == EXPECTED_30S[:10]


async def test_a_connection_without_pong_is_dead(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeOkx({"/ws/v5/public": Script(0.1, answer_pings=False)})
    out = io.StringIO()
    summary = await record_session(
        ["tickers:BTC-USDT"], out, host=HOST, connector=fake.connector, wall_clock=wall_clock
    )
    assert trio.current_time() == pytest.approx(0.1 + 2 * PING_AFTER)
    assert summary.reason == "closed"
    assert summary.closed == f"{PUBLIC}: no pong within 20 s of a ping"
    assert out.getvalue().splitlines()[-1] == f"{PUBLIC} <- 1700000020.100000: ping"
    assert fake.got["/ws/v5/public"][-1] == "ping"


async def test_a_connection_that_cannot_open_raises_unwrapped(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    fake = two_endpoints()
    fake.refuse.add("/ws/v5/business")
    out = tmp_path / "session.txt"
    with pytest.raises(OSError, match="refused"):
        await record_session(SUBS, out, host=HOST, connector=fake.connector, wall_clock=wall_clock)
    # What was written before stays, whole.
    assert out.read_text(encoding="utf-8").splitlines() == EXPECTED_30S[:2]


async def test_a_bad_wall_clock_is_named(autojump_clock: trio.testing.MockClock) -> None:
    with pytest.raises(ValueError, match=r"wall_clock\(\) must return seconds.*nan"):
        await record_session(
            SUBS, io.StringIO(), host=HOST, connector=two_endpoints().connector,
            wall_clock=lambda: math.nan,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("subs", "message"),
    [
        (["trades"], r"bad subscription 'trades': channel 'trades' needs inst_id; expected"),
        (["foo:BTC-USDT"], r"bad subscription 'foo:BTC-USDT': unknown channel 'foo'"),
        (["tickers:btc-usdt"], r"bad subscription 'tickers:btc-usdt'.*upper case"),
        (["account"], r"cannot record 'account'.*needs a login"),
        (["books-l2-tbt:BTC-USDT"], r"cannot record 'books-l2-tbt:BTC-USDT'.*login"),
        ([], r"nothing to record"),
        ([42], r"expected a Subscription or text like 'trades:BTC-USDT', got 42"),
    ],
)
async def test_bad_subscriptions_are_named_before_anything_is_opened(
    tmp_path: Path, subs: list[Any], message: str
) -> None:
    out = tmp_path / "never.txt"
    with pytest.raises(ValueError, match=message):
        await record_session(subs, out, connector=two_endpoints().connector)
    assert not out.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"host": "http://okx.test"}, r"bad host 'http://okx.test': expected a ws://"),
        ({"host": "wss://"}, r"bad host 'wss://'"),
        ({"host": "ws://h:99999"}, r"bad host 'ws://h:99999'"),
        ({"host": "ws://h/elsewhere"}, r"the path must be empty or an OKX endpoint path"),
        ({"host": "ws://h/ws/v5/public?x=1"}, r"the path must be empty"),
        ({"duration": 0}, r"duration must be > 0"),
        ({"duration": math.nan}, r"duration must be > 0"),
        ({"max_messages": 0}, r"max_messages must be an int >= 1"),
        ({"max_messages": 1.5}, r"max_messages must be an int >= 1"),
        ({"max_messages": True}, r"max_messages must be an int >= 1"),
    ],
)
async def test_bad_arguments_are_named(
    tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    out = tmp_path / "never.txt"
    with pytest.raises(ValueError, match=message):
        await record_session(SUBS, out, connector=two_endpoints().connector, **kwargs)
    assert not out.exists()


def test_resolve_host_takes_names_hosts_and_endpoint_urls() -> None:
    assert resolve_host("aws") == AWS_HOST
    assert resolve_host("wss://ws.okx.com:8443/") == "wss://ws.okx.com:8443"
    assert resolve_host("ws://127.0.0.1:8765/ws/v5/public") == "ws://127.0.0.1:8765"
    assert resolve_host("ws://[::1]:8765/ws/v5/business") == "ws://[::1]:8765"


def test_requests_split_only_at_okx_size_limit() -> None:
    subs = [Subscription("tickers", f"C{i}-USDT") for i in range(2000)]
    assert len(_requests(subs[:10])) == 1
    requests = _requests(subs)
    assert len(requests) == 2
    decoded = [json.loads(r) for r in requests]
    assert [d["id"] for d in decoded] == ["1", "2"]
    assert all(d["op"] == "subscribe" for d in decoded)
    assert all(len(r.encode()) <= MAX_REQUEST_BYTES for r in requests)
    assert [a for d in decoded for a in d["args"]] == [s.arg for s in subs]


def test_capture_lines_round_trip_through_text() -> None:
    lines = [
        CaptureLine("open", 1.5, PUBLIC, ""),
        CaptureLine("sent", 2.25, PUBLIC, "ping"),
        CaptureLine("received", 3.0, PUBLIC, "pong"),
        CaptureLine("open", 3.5, BUSINESS, ""),
        CaptureLine("received", 4.0, PUBLIC, "a -> 1: b"),
        CaptureLine("received", 4.5, BUSINESS, "x\r\ny\u2028z"),
        CaptureLine("sent", 5.0, BUSINESS, b"\x00bin"),
        CaptureLine("received", 5.5, BUSINESS, ""),
    ]
    last: str | None = None
    text = []
    for line in lines:
        text.append(line.to_line(last_opened=last))
        if line.kind == "open":
            last = line.url
    assert text[2] == "3.000000: pong"
    assert text[4] == f"{PUBLIC} -> 4.000000: a -> 1: b"
    assert text[5] == '4.500000:json: "x\\r\\ny\\u2028z"'
    assert text[6] == f"{BUSINESS} <- 5.000000:b64: AGJpbg=="
    assert "\n".join(text).splitlines() == text  # one frame, one line, for any reader
    assert parse_capture(text) == lines


@pytest.mark.parametrize(
    "line",
    [
        CaptureLine("open", 1.0, "no-scheme", ""),
        CaptureLine("sent", 1.0, "ws://has space/x", "a"),
        CaptureLine("received", -1.0, PUBLIC, "a"),
        CaptureLine("received", math.inf, PUBLIC, "a"),
    ],
)
def test_capture_lines_that_cannot_be_written_are_refused(line: CaptureLine) -> None:
    with pytest.raises(ValueError, match=r"capture (url|time)"):
        line.to_line()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1.0:json: 42", r"<capture>:1: expected a JSON string after ':json:'"),
        ("1.0:json: {", r"<capture>:1: "),
        ("1.0:b64: !!", r"<capture>:1: "),
        ("ws://x -> 1.0 a", r"<capture>:1: not a capture line"),
    ],
)
def test_parse_capture_names_undecodable_lines(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_capture([line])
