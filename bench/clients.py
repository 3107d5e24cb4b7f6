"""The bench's client side: one scenario per process, result as one JSON line on stdout.

``bench/run.py`` starts this module once per measurement, so every figure comes from a fresh
interpreter (no warm caches or leftover memory from another client) running on its own,
while the server runs in another process.

    python bench/clients.py throughput --variant b --url ws://... --seconds 3
    python bench/clients.py cpu --variant b --url ws://... --pairs 500 --hz 10 --seconds 30
    python bench/clients.py subchange --url ws://... [--transport websockets]
    python bench/clients.py reconnect --url ws://... --control http://...
    python bench/clients.py memory --url ws://... --pairs 1000 [--soak 600]

Throughput variants: ``raw`` (socket reads only, no WebSocket parsing: what the server can
deliver), ``a`` (bare trio-websocket + ``json.loads`` into a small record), ``b`` (the
``okx_trio`` client, default transport, a consumer reading ``ticks()``), ``c`` (the same with
``transport="websockets"``), ``d`` (``python-okx``'s ``WsPublicAsync`` with ``json.loads``
into the same small record in its callback; it needs ``wss://``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import json
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable
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


async def run_bare_trio_websocket(
    url: str, pairs: list[str], warmup: float, seconds: float, ready: Callable[[], None]
) -> dict[str, Any]:
    import trio
    import trio_websocket

    counter = Counter()
    result: dict[str, Any] = {}
    async with trio_websocket.open_websocket_url(url, max_message_size=4 * 1024 * 1024) as ws:
        await ws.send_message(subscribe_text(pairs))

        async def consume() -> None:
            while True:
                message = await ws.get_message()
                if to_record(message) is not None:
                    counter.n += 1

        async with trio.open_nursery() as nursery:
            nursery.start_soon(consume)
            ready()
            result = await _measure_trio(counter, warmup, seconds)
            nursery.cancel_scope.cancel()
    return result


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
    import trio

    from okx_trio._connectors import default_connector

    connector = default_connector(transport, connect_timeout=10.0)
    counter = Counter()
    result: dict[str, Any] = {}
    async with connector(url) as conn:
        await conn.send_message(subscribe_text(pairs, channel=channel))

        async def receive() -> None:
            get_message, get_nowait = conn.get_message, conn.get_messages_nowait
            while True:
                await get_message()
                counter.n += 1 + len(get_nowait(256))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(receive)
            ready()
            result = await _measure_trio(counter, warmup, seconds)
            nursery.cancel_scope.cancel()
    return result


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
    consumer also reads ``client.book(inst_id)`` every *book_every* updates when the client
    has a ``book`` method.
    """
    import trio

    from okx_trio import BookUpdate, ClientConfig, open_okx_client, receive_batch

    config = ClientConfig(url=url, transport=transport)
    counter = Counter()
    books: dict[str, int] = {"read": 0, "none": 0, "gaps": 0}
    # The hasattr check is temporary: the order-book engine is being wired into the client
    # on another branch (client.book(inst_id, channel="books") -> OrderBook | None). Until
    # that merges the client has no book(), and this row measures the decoded-update path
    # alone; after it, the engine runs inside stream("books") and this also reads the book.
    # Remove the check (and call client.book unconditionally) once merged.
    subs = [f"{channel}:{p}" for p in pairs]
    async with open_okx_client(subscriptions=subs, config=config) as client:
        book = getattr(client, "book", None) if hasattr(client, "book") else None
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


# -- scenarios ---------------------------------------------------------------------------------


def _run_profiled(args: argparse.Namespace, main: Callable[[Callable[[], None]], Any]) -> Any:
    """``trio.run(main(ready))``; with ``--profile FILE``, pyinstrument from ``ready()`` on."""
    import trio

    profiler: Any = None

    def ready() -> None:
        if profiler is not None:
            profiler.start()

    if getattr(args, "profile", None):
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005, async_mode="disabled")
    result = trio.run(main, ready)
    if profiler is not None:
        profiler.stop()
        # A path ending in .html gets pyinstrument's page (megabytes), any other its text tree.
        with open(args.profile, "w") as out:
            if args.profile.endswith(".html"):
                out.write(profiler.output_html())
            else:
                out.write(profiler.output_text(unicode=False, color=False, show_all=False))
    return result


async def _trio_variant(
    variant: str,
    url: str,
    pairs: list[str],
    warmup: float,
    seconds: float,
    channel: str,
    ready: Callable[[], None],
) -> dict[str, Any]:
    if variant == "a":
        return await run_bare_trio_websocket(url, pairs, warmup, seconds, ready)
    if variant in ("a0", "a0-ws"):
        transport = "websockets" if variant == "a0-ws" else "trio-websocket"
        return await run_receive_only(url, pairs, warmup, seconds, transport, ready, channel)
    if variant not in ("b", "c"):
        raise SystemExit(f"unknown variant {variant!r}")
    transport = "websockets" if variant == "c" else "trio-websocket"
    return await run_okx_trio(url, pairs, warmup, seconds, transport, ready, channel)


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    pairs = bench_pairs(args.pairs)
    url = with_query(args.url, "mode=flood")
    variant = args.variant
    if variant == "raw":
        return run_raw(url, pairs, args.warmup, args.seconds)
    if variant == "d":
        return run_python_okx(url, pairs, args.warmup, args.seconds)
    if variant in ("cryptofeed", "ccxt"):
        from peers import run_peer

        return run_peer(variant, url, pairs, args.warmup, args.seconds, args.channel)

    async def main(ready: Callable[[], None]) -> dict[str, Any]:
        return await _trio_variant(
            variant, url, pairs, args.warmup, args.seconds, args.channel, ready
        )

    result: dict[str, Any] = _run_profiled(args, main)
    return result


def cpu(args: argparse.Namespace) -> dict[str, Any]:
    """Client CPU at a fixed push rate: pairs x hz messages a second."""
    pairs = bench_pairs(args.pairs)
    url = with_query(args.url, f"mode=rate&hz={args.hz}")

    async def main(ready: Callable[[], None]) -> dict[str, Any]:
        return await _trio_variant(
            args.variant, url, pairs, args.warmup, args.seconds, args.channel, ready
        )

    result: dict[str, Any] = _run_profiled(args, main)
    result["target_rate"] = args.pairs * args.hz
    return result


def _nop() -> None:
    pass


async def _ping_rtt(url: str, n: int = 30) -> float:
    """Median WebSocket round trip (text ping -> pong) on a bare connection, in seconds."""
    import trio_websocket

    samples = []
    async with trio_websocket.open_websocket_url(url) as ws:
        for _ in range(n):
            t = time.perf_counter()
            await ws.send_message("ping")
            while await ws.get_message() != "pong":
                pass
            samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def subchange(args: argparse.Namespace) -> dict[str, Any]:
    """100 pairs added to a live connection: until all acked and each has ticked."""
    import trio

    from okx_trio import ClientConfig, open_okx_client

    url = with_query(args.url, "mode=quiet")

    async def main() -> dict[str, Any]:
        rtt = await _ping_rtt(url)
        config = ClientConfig(url=url, transport=args.transport)
        times: list[float] = []
        async with open_okx_client(["BTC-USDT"], config=config) as client:
            with trio.fail_after(30):
                await client.wait_subscribed()
                for trial in range(args.trials):
                    new = bench_pairs(args.pairs, prefix=f"S{trial}X")
                    t0 = time.perf_counter()
                    for p in new:
                        client.add_pair(p)
                    await client.wait_until(
                        lambda new=new: (
                            all(client.latest(p) is not None for p in new)  # type: ignore[misc]
                            and client.subscribed_pairs.issuperset(new)
                        )
                    )
                    times.append(time.perf_counter() - t0)
                    for p in new:
                        client.remove_pair(p)
                    await client.wait_subscribed()
        return {
            "rtt": rtt,
            "times": times,
            "median": statistics.median(times),
            "best": min(times),
            "target": rtt + 0.010,
        }

    return trio.run(main)


async def _control(control: str, path: str) -> str:
    import trio

    parts = urlsplit(control)
    stream = await trio.open_tcp_stream(parts.hostname or "127.0.0.1", parts.port or 80)
    async with stream:
        await stream.send_all(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        data = b""
        while chunk := await stream.receive_some():
            data += chunk
    return data.decode("latin-1")


def reconnect(args: argparse.Namespace) -> dict[str, Any]:
    """The server drops the connection: until all pairs are subscribed again and ticking."""
    import trio

    from okx_trio import ClientConfig, open_okx_client, receive_batch

    url = with_query(args.url, "mode=quiet")
    pairs = bench_pairs(args.pairs)

    async def main() -> dict[str, Any]:
        config = ClientConfig(url=url, transport=args.transport, initial_delay=0.0, jitter=0.0)
        times: list[float] = []
        pending: set[str] = set()
        done = trio.Event()
        async with open_okx_client(pairs, config=config) as client:
            async with client.ticks() as ticks, trio.open_nursery() as nursery:

                async def consume() -> None:
                    nonlocal done
                    with contextlib.suppress(trio.EndOfChannel):
                        while True:
                            for ticker in await receive_batch(ticks):
                                pending.discard(ticker.inst_id)
                            if not pending:
                                done.set()

                nursery.start_soon(consume)
                with trio.fail_after(60):
                    await client.wait_until(lambda: all(client.latest(p) for p in pairs))
                    await client.wait_subscribed()
                    for _ in range(args.trials):
                        await trio.sleep(0.2)
                        reconnects = client.get_stats().reconnect_count
                        pending.update(pairs)
                        done = trio.Event()
                        t0 = time.perf_counter()
                        await _control(args.control, "/control/drop")
                        await done.wait()
                        await client.wait_until(
                            lambda r=reconnects: (
                                client.get_stats().reconnect_count == r + 1  # type: ignore[misc]
                                and client.subscribed_pairs == frozenset(pairs)
                            )
                        )
                        times.append(time.perf_counter() - t0)
                nursery.cancel_scope.cancel()
        return {
            "times": times,
            "median": statistics.median(times),
            "best": min(times),
            "target": config.initial_delay + 0.050,
        }

    return trio.run(main)


def memory(args: argparse.Namespace) -> dict[str, Any]:
    """RSS after the imports, then with *pairs* subscribed and ticking; growth over a soak."""
    import msgspec  # noqa: F401
    import trio
    import trio_websocket  # noqa: F401

    import okx_trio  # noqa: F401
    from okx_trio import ClientConfig, open_okx_client, receive_batch

    gc.collect()
    rss_imports = rss_bytes()
    subs = (
        mixed_subscriptions(args.pairs)
        if args.mix
        else [f"tickers:{p}" for p in bench_pairs(args.pairs)]
    )
    channels = sorted({s.split(":", 1)[0] for s in subs})
    url = with_query(args.url, f"mode=rate&hz={args.hz}")

    async def main() -> dict[str, Any]:
        config = ClientConfig(url=url, transport=args.transport)
        counter = Counter()
        samples: list[tuple[float, int]] = []
        async with open_okx_client(subscriptions=subs, config=config) as client:
            async with trio.open_nursery() as nursery:

                async def consume(channel: str) -> None:
                    with client.stream(channel) as stream, contextlib.suppress(trio.EndOfChannel):
                        while True:
                            counter.n += len(await receive_batch(stream))

                for channel in channels:
                    nursery.start_soon(consume, channel)
                with trio.fail_after(60):
                    await client.wait_subscribed()
                    await client.wait_until(lambda: all(client.latest(s) for s in subs))
                await trio.sleep(args.settle)
                gc.collect()
                rss_running = rss_bytes()
                start = time.perf_counter()
                while (elapsed := time.perf_counter() - start) < args.soak:
                    samples.append((elapsed, rss_bytes()))
                    await trio.sleep(min(args.sample_every, max(args.soak - elapsed, 0.01)))
                gc.collect()
                samples.append((time.perf_counter() - start, rss_bytes()))
                stats = client.get_stats()
                nursery.cancel_scope.cancel()
        result: dict[str, Any] = {
            "pairs": args.pairs,
            "subscriptions": len(subs),
            "channels": {c: sum(s.startswith(c + ":") for s in subs) for c in channels},
            "rss_imports": rss_imports,
            "rss_running": rss_running,
            "delta": rss_running - rss_imports,
            "ticks": counter.n,
            "reconnects": stats.reconnect_count,
        }
        if args.soak > 0 and len(samples) >= 2:
            first, last = samples[0][1], samples[-1][1]
            # Growth after the first tenth of the window (allocator warm-up), and the slope
            # of a least-squares line over the second half.
            settled = [s for s in samples if s[0] >= args.soak / 10] or samples
            half = [s for s in samples if s[0] >= args.soak / 2] or samples
            slope = _slope(half)
            result.update(
                soak_seconds=args.soak,
                rss_soak_first=first,
                rss_soak_settled=settled[0][1],
                rss_soak_last=last,
                rss_soak_max=max(s[1] for s in samples),
                growth=last - settled[0][1],
                slope_bytes_per_min=slope * 60,
                samples=samples,
            )
        return result

    return trio.run(main)


def mixed_subscriptions(n: int) -> list[str]:
    """*n* subscriptions of mixed channels: 40 % tickers, 30 % trades, 30 % books5."""
    pairs = bench_pairs(n, prefix="M")
    out = []
    for i, p in enumerate(pairs):
        channel = "tickers" if i % 10 < 4 else "trades" if i % 10 < 7 else "books5"
        out.append(f"{channel}:{p}")
    return out


def _slope(samples: list[tuple[float, int]]) -> float:
    if len(samples) < 2:
        return 0.0
    xs = [s[0] for s in samples]
    ys = [float(s[1]) for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="scenario", required=True)
    for name in ("throughput", "cpu", "subchange", "reconnect", "memory"):
        p = sub.add_parser(name)
        p.add_argument("--url", required=True)
        p.add_argument("--transport", default="trio-websocket")
        p.add_argument("--warmup", type=float, default=0.5)
        p.add_argument("--seconds", type=float, default=3.0)
        p.add_argument("--trials", type=int, default=5)
        p.add_argument("--hz", type=float, default=10.0)
    for name in ("throughput", "cpu"):
        sub.choices[name].add_argument("--channel", default="tickers")
        sub.choices[name].add_argument("--profile")
    sub.choices["throughput"].add_argument("--variant", required=True)
    sub.choices["throughput"].add_argument("--pairs", type=int, default=10)
    sub.choices["cpu"].add_argument("--variant", default="b")
    sub.choices["cpu"].add_argument("--pairs", type=int, default=500)
    sub.choices["subchange"].add_argument("--pairs", type=int, default=100)
    sub.choices["reconnect"].add_argument("--pairs", type=int, default=100)
    sub.choices["reconnect"].add_argument("--control", required=True)
    sub.choices["memory"].add_argument("--pairs", type=int, default=100)
    sub.choices["memory"].add_argument("--soak", type=float, default=0.0)
    sub.choices["memory"].add_argument("--mix", action="store_true", help="mixed channels")
    sub.choices["memory"].add_argument("--settle", type=float, default=3.0)
    sub.choices["memory"].add_argument("--sample-every", type=float, default=5.0)
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    scenario = {
        "throughput": throughput,
        "cpu": cpu,
        "subchange": subchange,
        "reconnect": reconnect,
        "memory": memory,
    }[args.scenario]
    emit(scenario(args))


if __name__ == "__main__":
    main()
