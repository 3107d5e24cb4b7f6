"""The books path of one connection's sans-IO protocol, per update: decode, engine, record.

    python bench/book_protocol_micro.py [--repeats R]

``OkxProtocol.receive`` of every push of the book micro bench's streams (``bench/
book_stream.py``: the generated one and the recorded BTC-USDT one, as push texts), after a
subscribe ack: what the client's receiver task spends on a books update before delivery,
without the transport or the scheduler. Figures in µs of this thread's CPU time per update,
best of the repeats. To compare with another revision, run it with that revision's tree
first on ``PYTHONPATH`` (a ``git worktree``), turn about.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from book_micro import as_tuples, push_texts
from book_stream import make_stream, recorded_stream

import okx_trio
from okx_trio import ClientConfig, Subscription
from okx_trio._protocol import OkxProtocol

BOOK = Subscription("books", "BTC-USDT")


def per_update(texts: list[str]) -> float:
    config = ClientConfig(max_requests_per_hour=None, stale_after=None, jitter=0.0)
    protocol = OkxProtocol([BOOK], config, 0.0)
    protocol.requests(0.0)
    protocol.receive(json.dumps({"event": "subscribe", "arg": BOOK.arg, "connId": "0"}), 0.0)
    start = time.thread_time()
    for i, text in enumerate(texts):
        protocol.receive(text, i * 0.1)
    elapsed = time.thread_time() - start
    assert protocol.order_book(BOOK) is not None, "the book broke: the figures mean nothing"
    return elapsed / (len(texts) - 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()
    streams = {
        "generated": push_texts(*as_tuples(*make_stream(500, 1))),
        "recorded": push_texts(*as_tuples(*recorded_stream())),
    }
    print(f"okx_trio from {Path(okx_trio.__file__).parent}")
    for name, texts in streams.items():
        best = min(per_update(texts) for _ in range(args.repeats))
        print(f"{name:<10} {best:8.1f} µs/update")


if __name__ == "__main__":
    main()
