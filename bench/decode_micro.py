r"""Decoding one real OKX ticker push into the ``Ticker`` shape: the codec and its floors.

    python bench/decode_micro.py [--capture PATH] [--number N] [--against REV]

The push is the first ``tickers`` data message of the recorded OKX session
(``okx_trio/testing/captures/okx-messages.jsonl`` or ``$OKX_TRIO_CAPTURES``). Variants:

* ``codec.decode`` - the library's ``okx_trio._codec.decode`` (msgspec ``str`` fields, then
  ``Decimal(text)`` per field, with every check that keeps it equal to the plain path);
* ``codec.decode, empty bid/ask`` - the same push with OKX's ``""`` for an empty book side
  (those fields are NaN; the codec takes its careful per-field route for them);
* ``codec.decode @REV`` - with ``--against REV``: the codec as it was at git revision REV,
  loaded beside the current one, so before/after come from one process;
* ``json.loads only`` - the parse alone, the floor for any json-based decoder;
* ``json + Ticker`` - ``json.loads`` then ``Ticker(...)`` with ``Decimal`` fields, no checks;
* ``msgspec raw + Decimal()`` - ``msgspec.json.decode`` into typed Structs with ``str``
  fields (renamed from OKX's keys), then ``Ticker`` with ``Decimal(str)`` per field, no
  checks: the floor of the codec's approach;
* ``texts kept, no check (lazy floor)`` - the same Structs, and a ``Ticker`` holding OKX's
  texts where its ``Decimal``\ s go: the decode a lazy Ticker (``Decimal`` built on first
  read) could not beat;
* ``texts kept, float() check (lazy)`` - the same with the check such a Ticker needs at
  decode time to refuse what the codec refuses without building a ``Decimal`` (a finite
  ``float()``, no exponent); ``... + Decimal(last) on read`` adds the read of one field;
* ``msgspec Decimal fields`` - typed Structs whose price fields are ``Decimal`` (msgspec
  parses the strings itself), then ``Ticker``, no checks;
* ``... + no-number scan`` - the same plus the message-wide scan such a decoder needs: a
  ``Decimal`` field also reads a JSON *number* (``"last":30236``), which the codec's plain
  path refuses, so a decoder built on it must first make sure no value is one.

``""`` is not a valid ``Decimal`` for msgspec either; the ``Decimal``-field variants would
need a fallback for it. Each figure is the best of 5 repeats, in microseconds per message.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import timeit
import types
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from okx_trio import Ticker
from okx_trio._codec import TickerPush, decode

DEFAULT_CAPTURE = Path(
    os.environ.get(
        "OKX_TRIO_CAPTURES", Path(__file__).resolve().parents[1] / "okx_trio/testing/captures"
    )
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
_NUMBER_VALUE = re.compile(r'":[-0-9]')


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


_INF = math.inf


def _checked(value: str) -> str:
    """What a lazy Ticker would check at decode time instead of building a ``Decimal``: a
    finite ``float()`` and no exponent (``Decimal("1e-999999999999999999999")`` raises where
    ``float()`` gives 0.0: without the guard the read could fail)."""
    if value and ("e" in value or "E" in value or not -_INF < float(value) < _INF):
        raise ValueError(value)
    return value


def _texts(t: Any, check: Callable[[str], str]) -> Ticker:
    # The texts go where the Decimals would (msgspec does not check types on __init__): the
    # record a lazy Ticker would build, with the same construction cost.
    return Ticker(
        inst_id=t.inst_id,
        inst_type=t.inst_type,
        last=check(t.last),  # type: ignore[arg-type]
        last_size=check(t.last_size),  # type: ignore[arg-type]
        bid=check(t.bid),  # type: ignore[arg-type]
        bid_size=check(t.bid_size),  # type: ignore[arg-type]
        ask=check(t.ask),  # type: ignore[arg-type]
        ask_size=check(t.ask_size),  # type: ignore[arg-type]
        open_24h=check(t.open_24h),  # type: ignore[arg-type]
        high_24h=check(t.high_24h),  # type: ignore[arg-type]
        low_24h=check(t.low_24h),  # type: ignore[arg-type]
        vol_24h=check(t.vol_24h),  # type: ignore[arg-type]
        vol_ccy_24h=check(t.vol_ccy_24h),  # type: ignore[arg-type]
        ts=int(t.ts),
    )


def via_lazy_unchecked(message: str) -> Ticker:
    return _texts(_raw_decoder.decode(message).data[0], str)


def via_lazy(message: str) -> Ticker:
    return _texts(_raw_decoder.decode(message).data[0], _checked)


def via_lazy_read_last(message: str) -> Decimal:
    return _D(via_lazy(message).last)


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


def via_msgspec_decimal_scanned(message: str) -> Ticker | None:
    if _NUMBER_VALUE.search(message) is not None:
        return None
    return via_msgspec_decimal(message)


def via_codec(message: str) -> Ticker:
    event = decode(message)
    assert type(event) is TickerPush
    return event.tickers[0]


def codec_at(rev: str) -> Callable[[str], Any]:
    """``decode`` of ``okx_trio/_codec.py`` as it was at git revision *rev*."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "show", f"{rev}:okx_trio/_codec.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"okx_trio._codec_at_{rev}")
    module.__package__ = "okx_trio"  # its relative imports resolve against the current package
    sys.modules[module.__name__] = module
    exec(compile(source, f"{rev}:okx_trio/_codec.py", "exec"), module.__dict__)
    decode_at: Callable[[str], Any] = module.decode

    def via(message: str) -> Ticker:
        ticker: Ticker = decode_at(message).tickers[0]
        return ticker

    return via


def empty_book_side(message: str) -> str:
    obj = json.loads(message)
    for key in ("bidPx", "bidSz", "askPx", "askSz"):
        obj["data"][0][key] = ""
    return json.dumps(obj, separators=(",", ":"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--capture", type=Path, default=DEFAULT_CAPTURE)
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--against", metavar="REV", help="also time the codec at git REV")
    args = parser.parse_args()
    message = load_push(args.capture)
    empty = empty_book_side(message)
    expected = via_codec(message)
    # (name, function, message, checked against the codec's result)
    variants: list[tuple[str, Callable[[str], Any], str, bool]] = [
        ("codec.decode", via_codec, message, True),
        ("codec.decode, empty bid/ask", via_codec, empty, False),
    ]
    if args.against:
        old = codec_at(args.against)
        variants += [
            (f"codec.decode @{args.against}", old, message, True),
            (f"codec.decode @{args.against}, empty", old, empty, False),
        ]
    variants += [
        ("json.loads only", json.loads, message, False),
        ("json + Ticker", via_json, message, True),
        ("msgspec raw + Decimal()", via_msgspec_raw, message, True),
        ("texts kept, no check (lazy floor)", via_lazy_unchecked, message, False),
        ("texts kept, float() check (lazy)", via_lazy, message, False),
        ("  ... + Decimal(last) on read", via_lazy_read_last, message, False),
        ("msgspec Decimal fields", via_msgspec_decimal, message, True),
        ("  ... + no-number scan", via_msgspec_decimal_scanned, message, True),
    ]
    print(f"message: {len(message)} bytes, {expected.inst_id}")
    base = None
    for name, fn, text, checked in variants:
        if checked:
            assert fn(text) == expected, name
        timer = timeit.Timer(lambda fn=fn, text=text: fn(text))  # type: ignore[misc]
        best = min(timer.repeat(number=args.number, repeat=5))
        us = best / args.number * 1e6
        base = base or us
        print(f"{name:34} {us:7.2f} µs/msg   {base / us:5.2f}x codec.decode")


if __name__ == "__main__":
    main()
