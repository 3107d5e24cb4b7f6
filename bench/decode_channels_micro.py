"""Per-channel push decoding: the msgspec fast path against the plain path, per push.

    python bench/decode_channels_micro.py [--number N]

Pushes: the first real ``trades`` push of the 2022 recording
(``okx_trio/testing/captures/okx-public-2022-05-13.txt``, or ``$OKX_TRIO_CAPTURES``) and the
OKX docs' ``trades`` sample (with ``count``/``source``/``seqId``); a 400-level ``books``
snapshot (400 bids and 400 asks, built in the recording's form from its first BTC-USDT
snapshot's levels, prices stepped so all 400 differ) and a 20-level update (10 bids,
10 asks); a ``candle1m`` push. For each:

* ``fast``: ``decode_push_text(channel, text)`` (msgspec Structs, then the shared builders);
* ``plain``: ``json.loads(text)`` then ``decode_data(channel, obj["arg"], obj)``;
* ``json.loads only``: the parse alone, the plain path's floor.

Each figure is the best of 5 repeats, in microseconds per push.
"""

from __future__ import annotations

import argparse
import json
import os
import timeit
from decimal import Decimal
from pathlib import Path
from typing import Any

from okx_trio._decoders import decode_data, decode_push_text

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


def _side(levels: list[list[str]], count: int, step: Decimal) -> list[list[str]]:
    """*count* levels in OKX's form, from *levels*' sizes, prices *step* apart."""
    start = Decimal(levels[0][0])
    return [
        [format(start + step * i, "f"), levels[i % len(levels)][1], "0", str(1 + i % 7)]
        for i in range(count)
    ]


def pushes() -> dict[str, tuple[str, str]]:
    recorded = _recorded()
    trade = next(o for o in recorded if o["arg"]["channel"] == "trades")
    snapshot = next(
        o for o in recorded if o["arg"]["channel"] == "books" and o["arg"]["instId"] == "BTC-USDT"
    )
    data = snapshot["data"][0]
    tick = Decimal("0.1")
    big = dict(snapshot, data=[dict(data, bids=_side(data["bids"], 400, -tick))])
    big["data"][0]["asks"] = _side(data["asks"], 400, tick)
    update = dict(
        snapshot,
        action="update",
        data=[dict(data, bids=_side(data["bids"], 10, -tick), asks=_side(data["asks"], 10, tick))],
    )
    candle = {
        "arg": {"channel": "candle1m", "instId": "BTC-USDT"},
        "data": [
            [
                "1597026383085",
                "8533.02",
                "8553.74",
                "8527.17",
                "8548.26",
                "45247",
                "529.5858061",
                "5529.5858061",
                "0",
            ]
        ],
    }
    return {
        "trades (2022 capture)": ("trades", _compact(trade)),
        "trades (docs sample)": ("trades", _compact(_docs("trades"))),
        "books snapshot 400+400": ("books", _compact(big)),
        "books update 10+10": ("books", _compact(update)),
        "candle1m": ("candle1m", _compact(candle)),
    }


def _best(stmt: Any, number: int) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=5)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="pushes per repeat")
    args = parser.parse_args()
    print(f"{'push':<26}{'fast µs':>10}{'plain µs':>10}{'json.loads':>12}{'plain/fast':>12}")
    for name, (channel, text) in pushes().items():
        fast = decode_push_text(channel, text)
        obj = json.loads(text)
        plain = decode_data(channel, obj["arg"], obj)
        assert fast is not None and repr(fast) == repr(plain), name
        # Big books: fewer rounds, same best-of-5.
        number = max(args.number // 50, 20) if "400" in name else args.number
        t_fast = _best(lambda c=channel, t=text: decode_push_text(c, t), number)

        def plain_path(c: str = channel, t: str = text) -> None:
            o = json.loads(t)
            decode_data(c, o["arg"], o)

        t_plain = _best(plain_path, number)
        t_json = _best(lambda t=text: json.loads(t), number)
        print(f"{name:<26}{t_fast:>10.2f}{t_plain:>10.2f}{t_json:>12.2f}{t_plain / t_fast:>12.2f}")


if __name__ == "__main__":
    main()
