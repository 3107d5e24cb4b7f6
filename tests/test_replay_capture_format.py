"""load_capture on the real OKX capture, and ReplayExchange playing it back in virtual time."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import trio
import trio.testing

from okx_trio.testing import CaptureLine, ReplayExchange, load_capture

from .conftest import CAPTURES

CAPTURE = CAPTURES / "okx-public-2022-05-13.txt"
URL = "wss://ws.okx.com:8443/ws/v5/public"


def is_tickers_push(line: CaptureLine) -> bool:
    obj = json.loads(line.text)
    return "data" in obj and obj.get("arg", {}).get("channel") == "tickers"


def test_load_capture_counts_each_kind() -> None:
    lines = load_capture(CAPTURE)
    kinds = [line.kind for line in lines]
    assert (kinds.count("open"), kinds.count("sent"), kinds.count("received")) == (1, 3, 410)
    assert lines[0] == CaptureLine("open", 1652459224.5300605, URL, "")
    assert all(line.url == URL for line in lines)
    # File order is time order in this capture.
    assert [line.time for line in lines] == sorted(line.time for line in lines)


def test_load_capture_finds_exactly_28_tickers_pushes() -> None:
    received = [line for line in load_capture(CAPTURE) if line.kind == "received"]
    assert sum(is_tickers_push(line) for line in received) == 28
    events = [json.loads(line.text).get("event") for line in received]
    assert events.count("subscribe") == 18  # every argument acked, repeats included


def test_load_capture_keeps_texts_exact() -> None:
    lines = load_capture(CAPTURE)
    raw = CAPTURE.read_text().splitlines()
    sent = [line for line in lines if line.kind == "sent"]
    assert sent[0].time == 1652459225.2987883
    assert sent[0].text == raw[1].split(": ", 1)[1]
    assert lines[-1].text == raw[-1].split(": ", 1)[1]
    assert lines[-1].time == 1652459236.3416445


def test_load_capture_skips_blank_lines_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_bytes(b"ws://x/ws <-> 1\r\n\r\nws://x/ws <- 2.5: ping\r\n3: pong\r\n")
    assert load_capture(path) == [
        CaptureLine("open", 1.0, "ws://x/ws", ""),
        CaptureLine("sent", 2.5, "ws://x/ws", "ping"),
        CaptureLine("received", 3.0, "ws://x/ws", "pong"),
    ]


def test_load_capture_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("ws://x <-> 1\nnot a capture line\n")
    with pytest.raises(ValueError, match=r"c\.txt:2:"):
        load_capture(path)


def test_replay_rejects_bad_speed() -> None:
    for speed in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError):
            ReplayExchange([], speed=speed)


@pytest.mark.parametrize("speed", [1.0, 4.0])
async def test_replay_plays_every_line_in_order_with_recorded_gaps(
    autojump_clock: trio.testing.MockClock, speed: float
) -> None:
    lines = load_capture(CAPTURE)
    received = [line for line in lines if line.kind == "received"]
    first_request = next(line for line in lines if line.kind == "sent")
    replay = ReplayExchange(CAPTURE, speed=speed)
    async with replay.connector(URL) as ws:
        # Nothing is played before the client says something.
        with trio.move_on_after(60):
            await ws.get_message()
            pytest.fail("replay started before the first client message")
        await ws.send_message(first_request.text)
        start = trio.current_time()
        assert start == 60
        for line in received:
            assert await ws.get_message() == line.text
            # Exact: the autojump clock lands on each sleep_until deadline.
            assert trio.current_time() == start + (line.time - first_request.time) / speed
        await replay.wait_finished()
        assert replay.finished.is_set()
        assert trio.current_time() == pytest.approx(start + 11.0428562 / speed, abs=1e-6)
        # Afterwards: open and silent, but answering pings.
        await ws.send_message("ping")
        assert await ws.get_message() == "pong"
        with trio.move_on_after(60):
            await ws.get_message()
            pytest.fail("replay kept talking after the capture ended")
    assert replay.client_messages == [first_request.text, "ping"]


async def test_replay_answers_ping_during_playback_and_takes_lines(
    autojump_clock: trio.testing.MockClock,
) -> None:
    lines = [
        CaptureLine("sent", 10.0, URL, "{}"),
        CaptureLine("received", 10.5, URL, "a"),
        CaptureLine("received", 12.0, URL, "b"),
    ]
    replay = ReplayExchange(lines)
    async with replay.connector(URL) as ws:
        await ws.send_message("ping")  # any first message starts playback; ping is answered
        assert await ws.get_message() == "pong"
        assert trio.current_time() == 0
        assert await ws.get_message() == "a"
        assert trio.current_time() == 0.5
        await ws.send_message("ping")
        assert await ws.get_message() == "pong"
        assert await ws.get_message() == "b"
        assert trio.current_time() == 2.0
    assert replay.client_messages == ["ping", "ping"]


TWO_CONNECTIONS = """\
wss://h:8443/ws/v5/public <-> 100
wss://h:8443/ws/v5/public <- 100.5: {"op":"subscribe","args":[{"channel":"trades","instId":"A-B"}]}
101: p1
wss://h:8443/ws/v5/business <-> 101.5
wss://h:8443/ws/v5/business <- 102: {"op":"subscribe","args":[{"channel":"candle1m"}]}
wss://h:8443/ws/v5/public -> 102.25: p2
103: b1
wss://h:8443/ws/v5/public -> 104:json: "p3\\nmore"
104.5:b64: AAE=
"""
PUBLIC = "wss://h:8443/ws/v5/public"
BUSINESS = "wss://h:8443/ws/v5/business"


def test_load_capture_attributes_frames_of_several_connections(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text(TWO_CONNECTIONS)
    received = [(line.url, line.time, line.text) for line in load_capture(path)]
    assert [r for r in received if r[2] and r[2][0:1] not in ("{", b"{")] == [
        (PUBLIC, 101.0, "p1"),
        (PUBLIC, 102.25, "p2"),
        (BUSINESS, 103.0, "b1"),
        (PUBLIC, 104.0, "p3\nmore"),
        (BUSINESS, 104.5, b"\x00\x01"),
    ]


async def test_replay_routes_connections_by_path(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    path = tmp_path / "c.txt"
    path.write_text(TWO_CONNECTIONS)
    replay = ReplayExchange(path)
    assert replay.paths == ["/ws/v5/public", "/ws/v5/business"]
    got: list[tuple[str, float, str | bytes]] = []

    async def client(url: str) -> None:
        async with replay.connector(url) as ws:
            await ws.send_message("{}")
            start = trio.current_time()
            with trio.move_on_after(10):
                while True:
                    message = await ws.get_message()
                    got.append((url, trio.current_time() - start, message))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(client, "ws://127.0.0.1:1/ws/v5/public")
        await trio.sleep(1)  # the business client comes later: its own anchor
        nursery.start_soon(client, "ws://127.0.0.1:1/ws/v5/business")
    public = "ws://127.0.0.1:1/ws/v5/public"
    business = "ws://127.0.0.1:1/ws/v5/business"
    # Offsets from each path's first request (100.5 public, 102 business).
    assert sorted(got, key=lambda g: (g[0] != public, g[1])) == [
        (public, 0.5, "p1"),
        (public, 1.75, "p2"),
        (public, 3.5, "p3\nmore"),
        (business, 1.0, "b1"),
        (business, 2.5, b"\x00\x01"),
    ]
    assert replay.finished.is_set()
    with pytest.raises(ValueError, match="no recorded connection for 'ws://x/'"):
        await replay.wait_finished("ws://x/")
