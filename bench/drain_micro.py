"""Receiving one message per wake-up vs draining the transport's buffer per wake-up.

    python bench/drain_micro.py [--seconds 2] [--rounds 3] [--pairs 10] [--work none|decode]

Against the bench server (``bench/server.py``, flood mode, its own process), over each
built-in connection (trio-websocket, websockets, websockets-sansio; and trio-websocket with
its stock reader: 4 KiB socket reads, a checkpoint per queued message, which okx_trio's
connector changes), one consumer task receives as fast as it can, either

* ``per-message``: ``await conn.get_message()`` for every message (a checkpoint and, under
  load, a task switch each), or
* ``batch``: ``await conn.get_message()``, then ``conn.get_messages_nowait(255)``: every
  message already buffered, without a checkpoint (the receiver's planned shape).

``--work decode`` also runs ``okx_trio._codec.decode`` on every message (the client's own
per-message work, without the rest of the client); ``none`` measures the transport alone.
Each figure is the best of ``--rounds`` windows: messages a second, and CPU microseconds per
message of this process (the server runs in another). ``batch`` also reports the mean number
of messages one wake-up handled. This is a transport-level experiment, not the client: the
client's figures come from ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from run import bench_server
from variants import bench_pairs, subscribe_text, with_query

from okx_trio import _transport_trio_websocket as _transport
from okx_trio._codec import decode
from okx_trio._connection import Connector
from okx_trio._transport_sansio import SansIOConnector
from okx_trio._transport_trio_websocket import WebSocketConnector
from okx_trio._transport_websockets import WebsocketsConnector

BATCH = 255
# name: (connector, trio-websocket's reader as okx_trio sets it up, or as it comes)
TRANSPORTS: dict[
    str, tuple[type[WebSocketConnector] | type[WebsocketsConnector] | type[SansIOConnector], bool]
] = {
    "trio-websocket": (WebSocketConnector, True),
    "trio-websocket (stock reader)": (WebSocketConnector, False),
    "websockets": (WebsocketsConnector, True),
    "websockets-sansio": (SansIOConnector, True),
}


async def measure(
    connector: Connector, url: str, pairs: list[str], batch: bool, work: bool, seconds: float
) -> dict[str, float]:
    received = 0
    wakeups = 0
    async with connector(with_query(url, "mode=flood")) as conn:
        await conn.send_message(subscribe_text(pairs))
        drain: Any = getattr(conn, "get_messages_nowait", None) if batch else None
        if batch and drain is None:
            raise SystemExit("this connection has no get_messages_nowait")

        async def consume() -> None:
            nonlocal received, wakeups
            while True:
                message = await conn.get_message()
                wakeups += 1
                if work:
                    decode(message)
                received += 1
                if drain is not None:
                    messages = drain(BATCH)
                    if work:
                        for message in messages:
                            decode(message)
                    received += len(messages)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(consume)
            await trio.sleep(0.5)  # subscribed, flooding, warm
            t0, cpu0, n0, w0 = time.perf_counter(), time.process_time(), received, wakeups
            await trio.sleep(seconds)
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            n, w = received - n0, wakeups - w0
            nursery.cancel_scope.cancel()
    return {"rate": n / wall, "us_per_msg": 1e6 * cpu / n, "per_wakeup": n / w}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--work", choices=("none", "decode"), default="none")
    args = parser.parse_args()
    pairs = bench_pairs(args.pairs)
    best: dict[tuple[str, str], dict[str, float]] = {}
    with bench_server() as urls:
        for _ in range(args.rounds):  # interleaved, so drift hits every variant alike
            for transport, (make, tuned) in TRANSPORTS.items():
                # The stock reader: trio-websocket's 4 KiB reads and a checkpoint per message.
                _transport._EAGER_READER = tuned
                _transport._RECEIVE_BUFFER_SIZE = 64 * 1024 if tuned else 4 * 1024
                for mode in ("per-message", "batch"):
                    result = trio.run(
                        measure,
                        make(),
                        urls["ws"],
                        pairs,
                        mode == "batch",
                        args.work == "decode",
                        args.seconds,
                    )
                    key = (transport, mode)
                    if key not in best or result["rate"] > best[key]["rate"]:
                        best[key] = result
    print(f"work per message: {args.work}; best of {args.rounds} x {args.seconds:g} s")
    print(f"{'transport':30} {'mode':12} {'msgs/s':>10} {'CPU us/msg':>11} {'msgs/wake-up':>13}")
    for (transport, mode), r in best.items():
        print(
            f"{transport:30} {mode:12} {r['rate']:10,.0f} {r['us_per_msg']:11.2f} "
            f"{r['per_wakeup']:13.1f}"
        )


if __name__ == "__main__":
    main()
