"""Decoding one real OKX ticker push into the ``Ticker`` shape: stdlib json vs msgspec.

    python bench/decode_micro.py [--capture PATH] [--number N]

The push is the first ``tickers`` data message of the recorded OKX session
(``/work/shared/okx-captures/okx-messages.jsonl`` or ``$OKX_TRIO_CAPTURES``). Variants:

* ``codec.decode`` - the library's current ``okx_trio._codec.decode`` (json + checks);
* ``json.loads only`` - the parse alone, the floor for any json-based decoder;
* ``json + Ticker`` - ``json.loads`` then ``Ticker(...)`` with ``Decimal`` fields, no checks;
* ``msgspec raw`` - ``msgspec.json.decode`` into typed Structs with ``str`` fields (renamed
  from OKX's keys), then ``Ticker`` with ``Decimal(str)`` per field;
* ``msgspec Decimal`` - typed Structs whose price fields are ``Decimal`` (msgspec parses the
  strings itself), then ``Ticker``;
* ``msgspec -> Ticker`` - one ``msgspec.json.decode(type=Push)`` whose ``data`` items are a
  Struct with exactly ``Ticker``'s fields, renamed to OKX's keys: no copy at all.

``""`` (OKX's empty book side) is not a valid ``Decimal`` for msgspec; a decoder built on the
typed variants must fall back (e.g. to the json path) on ``msgspec.ValidationError``, which
is rare on real traffic. Each figure is the best of 5 repeats, in microseconds per message.
"""

from __future__ import annotations

import argparse
import json
import os
import timeit
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from okx_trio import Ticker
from okx_trio._codec import TickerPush, decode

DEFAULT_CAPTURE = Path(
    os.environ.get("OKX_TRIO_CAPTURES", Path(__file__).resolve().parents[2] / "shared/okx-captures")
)

RENAME = {
    "inst_id": "instId",
    "inst_type": "instType",
    "last_size": "lastSz",
    "bid": "bidPx",
    "bid_size": "bidSz",
    "ask": "askPx",
    "ask_size": "askSz",
    "open_24h": "open24h",
    "high_24h": "high24h",
    "low_24h": "low24h",
    "vol_24h": "vol24h",
    "vol_ccy_24h": "volCcy24h",
}


class Arg(msgspec.Struct, gc=False):
    channel: str
    instId: str = ""


class RawTicker(msgspec.Struct, gc=False, rename=RENAME):
    inst_id: str
    last: str
    ts: str
    inst_type: str = ""
    last_size: str = ""
    bid: str = ""
    bid_size: str = ""
    ask: str = ""
    ask_size: str = ""
    open_24h: str = ""
    high_24h: str = ""
    low_24h: str = ""
    vol_24h: str = ""
    vol_ccy_24h: str = ""


class RawPush(msgspec.Struct, gc=False):
    arg: Arg
    data: list[RawTicker]


class DecTicker(msgspec.Struct, gc=False, rename=RENAME):
    inst_id: str
    last: Decimal
    ts: str
    inst_type: str = ""
    last_size: Decimal = Decimal("NaN")
    bid: Decimal = Decimal("NaN")
    bid_size: Decimal = Decimal("NaN")
    ask: Decimal = Decimal("NaN")
    ask_size: Decimal = Decimal("NaN")
    open_24h: Decimal = Decimal("NaN")
    high_24h: Decimal = Decimal("NaN")
    low_24h: Decimal = Decimal("NaN")
    vol_24h: Decimal = Decimal("NaN")
    vol_ccy_24h: Decimal = Decimal("NaN")


class DecPush(msgspec.Struct, gc=False):
    arg: Arg
    data: list[DecTicker]


class WireTicker(Ticker, rename=RENAME):  # type: ignore[call-arg]
    """``Ticker`` itself, with OKX's key names: decoded in one step (ts as a str -> int)."""


class WirePush(msgspec.Struct, gc=False):
    arg: Arg
    data: list[WireTicker]


def load_push(capture: Path) -> str:
    with open(capture / "okx-messages.jsonl") as lines:
        for line in lines:
            line = line.strip()
            if line.startswith('{"arg"') and '"data"' in line:
                return line
    raise SystemExit(f"no ticker push in {capture}")


_D = Decimal
_NAN = Decimal("NaN")


def _dec(value: str) -> Decimal:
    return _D(value) if value else _NAN


def via_json(message: str) -> Ticker:
    d = json.loads(message)["data"][0]
    return Ticker(
        inst_id=d["instId"],
        inst_type=d.get("instType", ""),
        last=_dec(d["last"]),
        last_size=_dec(d.get("lastSz", "")),
        bid=_dec(d.get("bidPx", "")),
        bid_size=_dec(d.get("bidSz", "")),
        ask=_dec(d.get("askPx", "")),
        ask_size=_dec(d.get("askSz", "")),
        open_24h=_dec(d.get("open24h", "")),
        high_24h=_dec(d.get("high24h", "")),
        low_24h=_dec(d.get("low24h", "")),
        vol_24h=_dec(d.get("vol24h", "")),
        vol_ccy_24h=_dec(d.get("volCcy24h", "")),
        ts=int(d["ts"]),
    )


_raw_decoder = msgspec.json.Decoder(RawPush)
_dec_decoder = msgspec.json.Decoder(DecPush)
_wire_decoder = msgspec.json.Decoder(WirePush)


def via_msgspec_raw(message: str) -> Ticker:
    t = _raw_decoder.decode(message).data[0]
    return Ticker(
        inst_id=t.inst_id,
        inst_type=t.inst_type,
        last=_D(t.last),
        last_size=_dec(t.last_size),
        bid=_dec(t.bid),
        bid_size=_dec(t.bid_size),
        ask=_dec(t.ask),
        ask_size=_dec(t.ask_size),
        open_24h=_dec(t.open_24h),
        high_24h=_dec(t.high_24h),
        low_24h=_dec(t.low_24h),
        vol_24h=_dec(t.vol_24h),
        vol_ccy_24h=_dec(t.vol_ccy_24h),
        ts=int(t.ts),
    )


def via_msgspec_decimal(message: str) -> Ticker:
    t = _dec_decoder.decode(message).data[0]
    return Ticker(
        inst_id=t.inst_id,
        inst_type=t.inst_type,
        last=t.last,
        last_size=t.last_size,
        bid=t.bid,
        bid_size=t.bid_size,
        ask=t.ask,
        ask_size=t.ask_size,
        open_24h=t.open_24h,
        high_24h=t.high_24h,
        low_24h=t.low_24h,
        vol_24h=t.vol_24h,
        vol_ccy_24h=t.vol_ccy_24h,
        ts=int(t.ts),
    )


def via_msgspec_wire(message: str) -> Any:
    return _wire_decoder.decode(message).data[0]


def via_codec(message: str) -> Ticker:
    event = decode(message)
    assert type(event) is TickerPush
    return event.tickers[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--capture", type=Path, default=DEFAULT_CAPTURE)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    message = load_push(args.capture)
    expected = via_codec(message)
    variants: list[tuple[str, Any]] = [
        ("codec.decode (current)", via_codec),
        ("json.loads only", json.loads),
        ("json + Ticker", via_json),
        ("msgspec raw + Decimal()", via_msgspec_raw),
        ("msgspec Decimal fields", via_msgspec_decimal),
    ]
    try:
        wire = via_msgspec_wire(message)
    except msgspec.ValidationError as exc:  # ts is a string on the wire; Ticker says int
        print(f"(msgspec -> Ticker in one step not possible as is: {exc})")
    else:
        variants.append(("msgspec -> Ticker", via_msgspec_wire))
        del wire
    print(f"message: {len(message)} bytes, {expected.inst_id}")
    base = None
    for name, fn in variants:
        if fn is not json.loads and fn is not via_msgspec_wire:
            assert fn(message) == expected, name
        best = min(timeit.repeat(lambda fn=fn: fn(message), number=args.number, repeat=5))
        us = best / args.number * 1e6
        base = base or us
        print(f"{name:28} {us:7.2f} µs/msg   {base / us:5.1f}x vs current")


if __name__ == "__main__":
    main()
