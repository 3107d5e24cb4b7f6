"""The bench's client side: one scenario per process, result as one JSON line on stdout.

``bench/run.py`` starts this module once per measurement, so every figure comes from a fresh
interpreter (no warm caches or leftover memory from another client) running on its own,
while the server runs in another process.

    python bench/clients.py throughput --variant b --url ws://... --seconds 3
    python bench/clients.py cpu --variant b --url ws://... --pairs 500 --hz 10 --seconds 30
    python bench/clients.py subchange --url ws://... [--transport websockets|websockets-sansio]
    python bench/clients.py reconnect --url ws://... --control http://...
    python bench/clients.py memory --url ws://... --pairs 1000 [--soak 600]

Throughput and cpu variants (``--channel`` tickers, trades or books; the clients themselves are
in ``bench/variants.py``): ``raw`` (socket reads only, no WebSocket parsing: what the server
can deliver), ``a`` (bare trio-websocket + ``json.loads`` into a small record), ``a0`` /
``a0-ws`` / ``a0-sansio`` (the receive-only floor of each transport: okx_trio's own
connector, nothing decoded), ``b`` (the ``okx_trio`` client on ``transport="trio-websocket"``,
a ``receive_batch`` consumer of ``stream(channel)``), ``c`` (the same with
``transport="websockets"``), ``e`` (the same with ``transport="websockets-sansio"``, the
default), ``d``
(``python-okx``'s ``WsPublicAsync`` with ``json.loads`` into the same small record in its
callback; it needs ``wss://``), ``cryptofeed`` and ``ccxt`` (the peers, ``bench/peers.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from variants import (
    Counter,
    bench_pairs,
    emit,
    rss_bytes,
    run_bare_trio_websocket,
    run_okx_trio,
    run_python_okx,
    run_raw,
    run_receive_only,
    with_query,
)

#: The receive-only floor variants and the client variants, by the transport they run on.
FLOORS = {"a0": "trio-websocket", "a0-ws": "websockets", "a0-sansio": "websockets-sansio"}
CLIENTS = {"b": "trio-websocket", "c": "websockets", "e": "websockets-sansio"}

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
    if variant in FLOORS:
        transport = FLOORS[variant]
        return await run_receive_only(url, pairs, warmup, seconds, transport, ready, channel)
    if variant not in CLIENTS:
        raise SystemExit(f"unknown variant {variant!r}")
    return await run_okx_trio(url, pairs, warmup, seconds, CLIENTS[variant], ready, channel)


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


async def _warm_server(url: str, pairs: list[str]) -> None:
    """Subscribe *pairs* once on a bare connection, so the bench server has built their
    first pushes before a measured change asks for them (the server makes each pair's
    frames on first use, ~30 µs a pair: OKX answers from pushes it already has)."""
    import trio_websocket

    args = ",".join(f'{{"channel":"tickers","instId":"{p}"}}' for p in pairs)
    async with trio_websocket.open_websocket_url(url) as ws:
        await ws.send_message(f'{{"id":"1","op":"subscribe","args":[{args}]}}')
        for _ in range(2 * len(pairs)):  # an ack and a first push for each
            await ws.get_message()


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
        trial_pairs = [bench_pairs(args.pairs, prefix=f"S{t}X") for t in range(args.trials)]
        await _warm_server(url, [p for pairs in trial_pairs for p in pairs])
        times: list[float] = []
        async with open_okx_client(["BTC-USDT"], config=config) as client:
            with trio.fail_after(30):
                await client.wait_subscribed()
                for new in trial_pairs:
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
