"""The clients the bench measures, one function per throughput variant (see ``clients.py``).

Each runs until its measuring window is over and returns the window's figures
(:func:`window_result`): messages or records, rate, CPU seconds, CPU per message, RSS.

* :func:`run_raw` - socket reads only, no WebSocket parsing: what the server can deliver;
* :func:`run_bare_trio_websocket` - (a) trio-websocket + ``json.loads`` into a small record;
* :func:`run_receive_only` - (a0)/(a0-ws)/(a0-sansio) a transport's floor: okx_trio's
  connector, messages received and dropped;
* :func:`run_okx_trio` - (b)/(c)/(e) the client, ``stream(channel)`` to a ``receive_batch``
  consumer;
* :func:`run_python_okx` - (d) python-okx's ``WsPublicAsync`` (``wss://`` only).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple
from urllib.parse import urlsplit


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def bench_pairs(n: int, prefix: str = "B") -> list[str]:
    return [f"{prefix}{i:04d}-USDT" for i in range(n)]


def with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


class Record(NamedTuple):
    """The 'small record' of the bare clients (a) and (d)."""

    inst_id: str
    last: float
    bid: float
    ask: float
    ts: int


def to_record(message: str | bytes) -> Record | None:
    obj = json.loads(message)
    data = obj.get("data")
    if not data:
        return None
    d = data[0]
    return Record(d["instId"], float(d["last"]), float(d["bidPx"]), float(d["askPx"]), int(d["ts"]))


def subscribe_text(pairs: list[str], req_id: str = "1", channel: str = "tickers") -> str:
    args = [{"channel": channel, "instId": p} for p in pairs]
    return json.dumps({"id": req_id, "op": "subscribe", "args": args})


class Counter:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


def window_result(
    counter: Counter, t0: float, c0: int, cpu0: float, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    n = counter.n - c0
    result: dict[str, Any] = {
        "msgs": n,
        "seconds": wall,
        "rate": n / wall,
        "cpu_seconds": cpu,
        "cpu_pct": 100.0 * cpu / wall,
        "us_per_msg": 1e6 * cpu / n if n else None,
        "rss": rss_bytes(),
    }
    if extra:
        result.update(extra)
    return result


# -- trio clients ------------------------------------------------------------------------------


async def _measure_trio(counter: Counter, warmup: float, seconds: float) -> dict[str, Any]:
    import trio

    await trio.sleep(warmup)
    t0, c0, cpu0 = time.perf_counter(), counter.n, time.process_time()
    await trio.sleep(seconds)
    return window_result(counter, t0, c0, cpu0)


async def _measure_while(
    task: Callable[[], Awaitable[None]],
    counter: Counter,
    ready: Callable[[], None],
    warmup: float,
    seconds: float,
) -> dict[str, Any]:
    """Run *task* (which counts into *counter*), say ready, measure, and stop it."""
    import trio

    async with trio.open_nursery() as nursery:
        nursery.start_soon(task)
        ready()
        result = await _measure_trio(counter, warmup, seconds)
        nursery.cancel_scope.cancel()
    return result


async def run_bare_trio_websocket(
    url: str, pairs: list[str], warmup: float, seconds: float, ready: Callable[[], None]
) -> dict[str, Any]:
    import trio_websocket

    counter = Counter()
    async with trio_websocket.open_websocket_url(url, max_message_size=4 * 1024 * 1024) as ws:
        await ws.send_message(subscribe_text(pairs))

        async def consume() -> None:
            while True:
                message = await ws.get_message()
                if to_record(message) is not None:
                    counter.n += 1

        return await _measure_while(consume, counter, ready, warmup, seconds)


async def run_receive_only(
    url: str,
    pairs: list[str],
    warmup: float,
    seconds: float,
    transport: str,
    ready: Callable[[], None],
    channel: str = "tickers",
) -> dict[str, Any]:
    """The floor of a transport: receive messages on okx_trio's own connector, nothing else.

    No decoding, no records, no consumer task: one ``get_message`` per wake-up plus what
    ``get_messages_nowait`` finds buffered behind it (the client's own receiver does the
    same), so no client on this transport can receive faster.
    """

    from okx_trio._connectors import default_connector

    connector = default_connector(transport, connect_timeout=10.0)
    counter = Counter()
    async with connector(url) as conn:
        await conn.send_message(subscribe_text(pairs, channel=channel))

        async def receive() -> None:
            get_message, get_nowait = conn.get_message, conn.get_messages_nowait
            while True:
                await get_message()
                counter.n += 1 + len(get_nowait(256))

        return await _measure_while(receive, counter, ready, warmup, seconds)


async def run_okx_trio(
    url: str,
    pairs: list[str],
    warmup: float,
    seconds: float,
    transport: str,
    ready: Callable[[], None],
    channel: str = "tickers",
    book_every: int = 100,
) -> dict[str, Any]:
    """Records/s of ``client.stream(channel)`` to a consumer taking bursts (``receive_batch``).

    For ``books`` only :class:`~okx_trio.BookUpdate` records count (not a ``Gap``), and the
    consumer also reads ``client.book(inst_id)`` every *book_every* updates.
    """
    import trio

    from okx_trio import BookUpdate, ClientConfig, open_okx_client, receive_batch

    config = ClientConfig(url=url, transport=transport)
    counter = Counter()
    books: dict[str, int] = {"read": 0, "none": 0, "gaps": 0}
    # The client keeps every books subscription's book (its engine checks each update
    # before stream("books") gets it); the consumer also reads the book now and then, as
    # a user would.
    subs = [f"{channel}:{p}" for p in pairs]
    async with open_okx_client(subscriptions=subs, config=config) as client:
        book = client.book if channel == "books" else None
        async with client.stream(channel) as stream:

            async def consume() -> None:
                # A whole burst per scheduler round, as a high-rate consumer should take them.
                with contextlib.suppress(trio.EndOfChannel):
                    while True:
                        batch = await receive_batch(stream)
                        if channel != "books":
                            counter.n += len(batch)
                            continue
                        for item in batch:
                            if type(item) is not BookUpdate:
                                books["gaps"] += 1
                                continue
                            counter.n += 1
                            if book is not None and counter.n % book_every == 0:
                                books["read"] += 1
                                if book(item.inst_id, channel=channel) is None:
                                    books["none"] += 1

            async with trio.open_nursery() as nursery:
                nursery.start_soon(consume)
                with trio.fail_after(60):
                    await client.wait_subscribed()
                ready()
                s0 = client.get_stats()
                result = await _measure_trio(counter, warmup, seconds)
                s1 = client.get_stats()
                nursery.cancel_scope.cancel()
    wall = result["seconds"]
    result["client_msgs_rate"] = (s1.messages_received - s0.messages_received) / (wall + warmup)
    result["ticks_dropped"] = s1.ticks_dropped
    result["reconnects"] = s1.reconnect_count
    result["channel"] = channel
    if channel == "books":
        result["book_method"] = book is not None
        result["book_reads"] = books["read"]
        result["book_reads_none"] = books["none"]
        result["gaps"] = books["gaps"]
    return result


# -- python-okx (asyncio) ----------------------------------------------------------------------


def run_python_okx(url: str, pairs: list[str], warmup: float, seconds: float) -> dict[str, Any]:
    import asyncio
    import logging

    logging.disable(logging.INFO)

    async def main() -> dict[str, Any]:
        from okx.websocket.WsPublicAsync import WsPublicAsync  # type: ignore[import-untyped]

        counter = Counter()

        def callback(message: str) -> None:
            if to_record(message) is not None:
                counter.n += 1

        ws = WsPublicAsync(url=url)
        await ws.start()
        await ws.subscribe([{"channel": "tickers", "instId": p} for p in pairs], callback)
        await asyncio.sleep(warmup)
        t0, c0, cpu0 = time.perf_counter(), counter.n, time.process_time()
        await asyncio.sleep(seconds)
        result = window_result(counter, t0, c0, cpu0)
        await ws.stop()
        return result

    return asyncio.run(main())


# -- raw socket: the server's delivery rate ----------------------------------------------------


def run_raw(url: str, pairs: list[str], warmup: float, seconds: float) -> dict[str, Any]:
    """Read the flood with plain ``recv_into``; messages are counted by frame length."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    key = base64.b64encode(os.urandom(16)).decode()
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    sock.sendall(
        (
            f"GET {target} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    payload = subscribe_text(pairs).encode()
    mask = b"\0\0\0\0"  # a zero mask leaves the payload as is
    n = len(payload)
    header = (
        bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big") if n >= 126 else bytes([0x81, 0x80 | n])
    )
    sock.sendall(header + mask + payload)
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    # Frame lengths: the first read holds acks and the first frames; count bytes after.
    total = 0
    deadline_warm = time.perf_counter() + warmup
    while time.perf_counter() < deadline_warm:
        sock.recv_into(view)
    t0, cpu0 = time.perf_counter(), time.process_time()
    end = t0 + seconds
    while (now := time.perf_counter()) < end:
        total += sock.recv_into(view)
    sock.close()
    wall = now - t0
    from server import FRAMES  # same seed, same frames: the mean frame length

    frames = [f for p in pairs for f in FRAMES.for_pair(p)]
    mean = statistics.fmean(len(f) for f in frames)
    msgs = total / mean
    return {
        "msgs": msgs,
        "seconds": wall,
        "rate": msgs / wall,
        "bytes_per_s": total / wall,
        "cpu_pct": 100 * (time.process_time() - cpu0) / wall,
        "rss": rss_bytes(),
    }
