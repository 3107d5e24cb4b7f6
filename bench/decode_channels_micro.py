r"""Per-channel push decoding: the msgspec fast path against the plain path, per push.

    python bench/decode_channels_micro.py [--number N] [--against REV]

Pushes, from the 2022 recording (``okx_trio/testing/captures/okx-public-2022-05-13.txt``, or
``$OKX_TRIO_CAPTURES``) unless noted: its first ``trades`` push, and the OKX docs' ``trades``
sample (with ``count``/``source``/``seqId``); its BTC-USDT ``books`` snapshot (400 bids, 400
asks) and its first ``books`` update of 20 levels in all; the docs' ``candle1D`` row as a
``candle1m`` push. For each:

* ``fast``: ``decode_push_text(channel, text)`` (msgspec Structs, then the shared builders);
* ``plain``: ``json.loads(text)`` then ``decode_data(channel, obj["arg"], obj)``;
* ``json.loads only``: the parse alone, the plain path's floor.

Book records build their levels (``Decimal``\ s, ``BookLevel``\ s) on first read, so each
books push is also timed as ``+ read``: the fast path and then both sides read, what a
consumer that looks at every level pays.

Prices and sizes are memoized (``okx_trio._push_values._LEVEL_TEXTS``: the texts already
checked; the Decimals built on read have a memo of their own), and a push decoded again and
again always hits: each ``books`` push is also timed with the memo emptied
before every decode (the miss path), and the recording's whole ``books`` stream (3
snapshots, 287 updates, three instruments) is decoded in order from an empty memo, its
real hit rate.

With ``--against REV`` it then times the fast path of this checkout against the whole
``okx_trio`` package as it was at git revision REV (extracted to a temporary directory and
imported under another name), in one process with the two interleaved repeat by repeat, so
a shared machine's load falls on both alike: ``before``/``after`` per push, with and without
reading both sides, warm memo and emptied; then the client's own books path,
``OkxProtocol.receive`` (msgspec, the book engine, the record) over ``bench/book_stream.py``'s
OKX-shaped stream (a 400-level snapshot, then updates of 43 levels on average), every update
applied and delivered, with and without the consumer reading both sides of each record.

Each figure is the best of 7 repeats, in microseconds of this process's CPU time per push.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from okx_trio import _book_records
from okx_trio._decoders import decode_data, decode_push_text
from okx_trio._push_values import _LEVEL_TEXTS

# The memo of Decimals built on read (none before the levels were lazy: --against-style runs
# of this file over an older checkout).
_DECIMALS: dict[str, Any] = getattr(_book_records, "_DECIMALS", {})


def _forget() -> None:
    _LEVEL_TEXTS.clear()
    _DECIMALS.clear()


def _read(records: Any) -> None:
    for record in records:
        record.bids  # noqa: B018 - the read builds the levels
        record.asks  # noqa: B018


CAPTURES = Path(
    os.environ.get(
        "OKX_TRIO_CAPTURES", Path(__file__).resolve().parents[1] / "okx_trio/testing/captures"
    )
)


def _recorded() -> list[dict[str, Any]]:
    out = []
    text = (CAPTURES / "okx-public-2022-05-13.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if " <- " not in line and " <-> " not in line:
            obj = json.loads(line.split(": ", 1)[1])
            if "data" in obj:
                out.append(obj)
    return out


def _docs(channel: str) -> dict[str, Any]:
    for line in (CAPTURES / "okx-docs-samples.jsonl").read_text(encoding="utf-8").splitlines():
        sample = json.loads(line)
        if sample["kind"] == "push" and sample["channel"] == channel:
            message: dict[str, Any] = sample["message"]
            return message
    raise LookupError(channel)


def _compact(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


def pushes() -> dict[str, tuple[str, str]]:
    recorded = _recorded()
    trade = next(o for o in recorded if o["arg"]["channel"] == "trades")
    books = [o for o in recorded if o["arg"]["channel"] == "books"]
    snapshot = next(o for o in books if len(o["data"][0]["bids"]) == 400)
    update = next(
        o
        for o in books
        if o["action"] == "update" and len(o["data"][0]["bids"]) + len(o["data"][0]["asks"]) == 20
    )
    candle = {
        "arg": {"channel": "candle1m", "instId": "BTC-USDT"},
        "data": [
            [
                *("1597026383085", "8533.02", "8553.74", "8527.17", "8548.26"),
                *("45247", "529.5858061", "5529.5858061", "0"),
            ]
        ],
    }
    return {
        "trades (2022 capture)": ("trades", _compact(trade)),
        "trades (docs sample)": ("trades", _compact(_docs("trades"))),
        "books snapshot 400+400": ("books", _compact(snapshot)),
        "books update, 20 levels": ("books", _compact(update)),
        "candle1m": ("candle1m", _compact(candle)),
    }


def _best(stmt: Any, number: int) -> float:
    # CPU time of this process, not wall time: on a shared machine the wall clock also
    # counts the time other processes held the core.
    timer = time.process_time
    return min(timeit.repeat(stmt, number=number, repeat=7, timer=timer)) / number * 1e6


def _row(name: str, fast: float, plain: float, floor: float) -> None:
    print(f"{name:<34}{fast:>10.2f}{plain:>10.2f}{floor:>12.2f}{plain / fast:>12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="pushes per repeat")
    parser.add_argument("--against", metavar="REV", help="also time the fast path at git REV")
    args = parser.parse_args()
    if args.against:
        against(args.against, args.number)
        return
    print(f"{'push':<34}{'fast µs':>10}{'plain µs':>10}{'json.loads':>12}{'plain/fast':>12}")
    for name, (channel, text) in pushes().items():
        fast = decode_push_text(channel, text)
        obj = json.loads(text)
        plain = decode_data(channel, obj["arg"], obj)
        assert fast is not None and repr(fast) == repr(plain), name
        # Big books: fewer rounds, same best-of-5.
        number = max(args.number // 50, 20) if "400" in name else args.number

        def fast_path(
            c: str = channel, t: str = text, cold: bool = False, read: bool = False
        ) -> None:
            if cold:
                _forget()
            records = decode_push_text(c, t)
            if read:
                _read(records)

        def plain_path(
            c: str = channel, t: str = text, cold: bool = False, read: bool = False
        ) -> None:
            if cold:
                _forget()
            o = json.loads(t)
            records = decode_data(c, o["arg"], o)
            if read:
                _read(records)

        t_json = _best(lambda t=text: json.loads(t), number)
        _row(name, _best(fast_path, number), _best(plain_path, number), t_json)
        if channel == "books":
            cold_fast = _best(lambda: fast_path(cold=True), number)
            _row(
                "  the same, memo emptied first",
                cold_fast,
                _best(lambda: plain_path(cold=True), number),
                t_json,
            )
            _row(
                "  + read",
                _best(lambda: fast_path(read=True), number),
                _best(lambda: plain_path(read=True), number),
                t_json,
            )
            _row(
                "  + read, memo emptied first",
                _best(lambda: fast_path(cold=True, read=True), number),
                _best(lambda: plain_path(cold=True, read=True), number),
                t_json,
            )

    # The recording's whole books stream in order, from an empty memo: its real hit rate.
    stream = [text for channel, text in _stream()]

    def run_fast(read: bool = False) -> None:
        _forget()
        for text in stream:
            records = decode_push_text("books", text)
            if read:
                _read(records)

    def run_plain(read: bool = False) -> None:
        _forget()
        for text in stream:
            o = json.loads(text)
            records = decode_data("books", o["arg"], o)
            if read:
                _read(records)

    per = len(stream)
    t_json = _best(lambda: [json.loads(t) for t in stream], 3) / per
    _row(
        f"2022 books stream, {per} pushes",
        _best(run_fast, 3) / per,
        _best(run_plain, 3) / per,
        t_json,
    )
    _row(
        "  + read",
        _best(lambda: run_fast(read=True), 3) / per,
        _best(lambda: run_plain(read=True), 3) / per,
        t_json,
    )


class _Version:
    """One ``okx_trio``'s fast path and memos: this checkout's, or an older one's."""

    def __init__(self, package: str) -> None:
        self.decode: Callable[[str, str], Any] = importlib.import_module(
            package + "._decoders"
        ).decode_push_text
        self.memos: list[Any] = [importlib.import_module(package + "._push_values")._LEVEL_TEXTS]
        self.memos.append(
            getattr(importlib.import_module(package + "._book_records"), "_DECIMALS", {})
        )

        package_root = importlib.import_module(package)
        self.protocol: Any = importlib.import_module(package + "._protocol").OkxProtocol
        self.book = package_root.Subscription("books", "BTC-USDT")
        self.config = package_root.ClientConfig(
            max_requests_per_hour=None, stale_after=None, jitter=0.0
        )

    def receive(self, texts: list[str], read: bool) -> None:
        """A fresh protocol, subscribed to one ``books`` book, fed *texts* in order."""
        protocol = self.protocol([self.book], self.config, 0.0)
        protocol.requests(0.0)
        ack = {"event": "subscribe", "arg": self.book.arg, "connId": "c0ffee01"}
        protocol.receive(json.dumps(ack), 0.0)
        delivered = 0
        for text in texts:
            for event in protocol.receive(text, 1.0):
                records = getattr(event, "records", ())
                delivered += len(records)
                if read:
                    _read(records)
        assert delivered == len(texts), delivered  # every update applied and delivered

    def run(self, texts: list[str], cold: bool, read: bool) -> None:
        decode = self.decode
        for text in texts:
            if cold:
                for memo in self.memos:
                    memo.clear()
            records = decode("books", text)
            if read:
                _read(records)


def _package_at(rev: str) -> str:
    """Import ``okx_trio`` as it was at *rev* under another name; return that name."""
    root = Path(__file__).resolve().parents[1]
    archive = subprocess.run(
        ["git", "archive", rev, "okx_trio"], cwd=root, capture_output=True, check=True
    ).stdout
    where = Path(tempfile.mkdtemp(prefix="okx-trio-at-"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    name = "okx_trio_at_" + re.sub(r"\W", "_", rev)
    (where / "okx_trio").rename(where / name)  # its imports are all relative
    sys.path.insert(0, str(where))
    return name


def against(rev: str, number: int) -> None:
    """Before (*rev*) and after (this checkout), interleaved repeat by repeat."""
    before, after = _Version(_package_at(rev)), _Version("okx_trio")
    books = {name: text for name, (channel, text) in pushes().items() if channel == "books"}
    stream = [text for channel, text in _stream()]
    timer = time.process_time
    print(f"fast path, books: {rev} against this checkout, µs of CPU per push (best of 7)")
    print(f"{'push':<44}{'before':>10}{'after':>10}{'after/before':>14}")
    cases: list[tuple[str, list[str], int]] = [
        (name, [text], max(number // 50, 20) if "400" in name else number)
        for name, text in books.items()
    ]
    cases.append((f"2022 books stream, {len(stream)} pushes", stream, 3))
    for name, texts, rounds in cases:
        for cold, read, label in (
            (False, False, ""),
            (False, True, ", + read"),
            (True, False, ", memo emptied"),
            (True, True, ", memo emptied, + read"),
        ):
            if len(texts) > 1 and not cold:
                continue  # the stream runs from an empty memo: its real hit rate
            best = [float("inf"), float("inf")]
            for _ in range(7):
                for i, version in enumerate((before, after)):
                    taken = timeit.timeit(
                        partial(version.run, texts, cold, read),
                        number=rounds,
                        timer=timer,
                    )
                    best[i] = min(best[i], taken / rounds / len(texts) * 1e6)
            print(f"{name + label:<44}{best[0]:>10.2f}{best[1]:>10.2f}{best[1] / best[0]:>14.2f}")
    # The client's own books path: OkxProtocol.receive (msgspec, the engine, the record).
    from book_stream import PushText, make_stream

    snapshot, updates = make_stream(2000, seed=1)
    push = PushText("BTC-USDT")
    texts = [push.push("snapshot", push.body(*snapshot), 1, -1, 1).decode()]
    for seq, (bids, asks) in enumerate(updates, start=1):
        texts.append(push.push("update", push.body(bids, asks), 1, seq, seq + 1).decode())
    print(
        f"OkxProtocol.receive, bench/book_stream.py's stream ({len(updates)} updates of "
        "43 levels on average), µs of CPU per push: best and median of 7"
    )
    for read, label in ((False, "receive"), (True, "receive, + read")):
        per_push: list[list[float]] = [[], []]
        for r in range(7):
            order = (0, 1) if r % 2 == 0 else (1, 0)
            for i in order:
                version = (before, after)[i]
                start = timer()
                version.receive(texts, read)
                per_push[i].append((timer() - start) / len(texts) * 1e6)
        lo, mid = [min(t) for t in per_push], [statistics.median(t) for t in per_push]
        print(
            f"{label:<44}{lo[0]:>10.2f}{lo[1]:>10.2f}{lo[1] / lo[0]:>14.2f}   "
            f"median {mid[0]:.2f} / {mid[1]:.2f} = {mid[1] / mid[0]:.2f}"
        )


def _stream() -> list[tuple[str, str]]:
    return [("books", _compact(o)) for o in _recorded() if o["arg"]["channel"] == "books"]


if __name__ == "__main__":
    main()
