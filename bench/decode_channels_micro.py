"""Per-channel push decoding: the msgspec fast path against the plain path, per push.

    python bench/decode_channels_micro.py [--number N]

Pushes, from the 2022 recording (``okx_trio/testing/captures/okx-public-2022-05-13.txt``, or
``$OKX_TRIO_CAPTURES``) unless noted: its first ``trades`` push, and the OKX docs' ``trades``
sample (with ``count``/``source``/``seqId``); its BTC-USDT ``books`` snapshot (400 bids, 400
asks) and its first ``books`` update of 20 levels in all; the docs' ``candle1D`` row as a
``candle1m`` push. For each:

* ``fast``: ``decode_push_text(channel, text)`` (msgspec Structs, then the shared builders);
* ``plain``: ``json.loads(text)`` then ``decode_data(channel, obj["arg"], obj)``;
* ``json.loads only``: the parse alone, the plain path's floor.

Prices and sizes are memoized (``okx_trio._push_values._LEVEL_TEXTS``), and a push decoded
again and again always hits: each ``books`` push is also timed with the memo emptied
before every decode (the miss path), and the recording's whole ``books`` stream (3
snapshots, 287 updates, three instruments) is decoded in order from an empty memo, its
real hit rate.

Each figure is the best of 7 repeats, in microseconds of this process's CPU time per push.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import timeit
from pathlib import Path
from typing import Any

from okx_trio._decoders import decode_data, decode_push_text
from okx_trio._push_values import _LEVEL_TEXTS

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
    args = parser.parse_args()
    print(f"{'push':<34}{'fast µs':>10}{'plain µs':>10}{'json.loads':>12}{'plain/fast':>12}")
    for name, (channel, text) in pushes().items():
        fast = decode_push_text(channel, text)
        obj = json.loads(text)
        plain = decode_data(channel, obj["arg"], obj)
        assert fast is not None and repr(fast) == repr(plain), name
        # Big books: fewer rounds, same best-of-5.
        number = max(args.number // 50, 20) if "400" in name else args.number

        def fast_path(c: str = channel, t: str = text, cold: bool = False) -> None:
            if cold:
                _LEVEL_TEXTS.clear()
            decode_push_text(c, t)

        def plain_path(c: str = channel, t: str = text, cold: bool = False) -> None:
            if cold:
                _LEVEL_TEXTS.clear()
            o = json.loads(t)
            decode_data(c, o["arg"], o)

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

    # The recording's whole books stream in order, from an empty memo: its real hit rate.
    stream = [text for channel, text in _stream()]

    def run_fast() -> None:
        _LEVEL_TEXTS.clear()
        for text in stream:
            decode_push_text("books", text)

    def run_plain() -> None:
        _LEVEL_TEXTS.clear()
        for text in stream:
            o = json.loads(text)
            decode_data("books", o["arg"], o)

    per = len(stream)
    _row(
        f"2022 books stream, {per} pushes",
        _best(run_fast, 3) / per,
        _best(run_plain, 3) / per,
        _best(lambda: [json.loads(t) for t in stream], 3) / per,
    )


def _stream() -> list[tuple[str, str]]:
    return [("books", _compact(o)) for o in _recorded() if o["arg"]["channel"] == "books"]


if __name__ == "__main__":
    main()
