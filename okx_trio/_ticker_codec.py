"""The ``tickers`` data item: OKX's text to a :class:`Ticker`, on a fast and a plain path.

Both paths must give the same Ticker or refuse the same item (``tests/test_fuzz.py`` and
``tests/test_codec.py`` hold them equal): the fast one reads a whole push with msgspec and
builds one ``Decimal`` per field; the plain one checks each value with a reason.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Final

import msgspec

from ._ticker import Ticker

__all__ = ["PUSH_DECODER", "decode_ticker", "ticker_from_raw"]

_DECIMAL_FIELDS: Final = (
    ("last", "last"),
    ("last_size", "lastSz"),
    ("bid", "bidPx"),
    ("bid_size", "bidSz"),
    ("ask", "askPx"),
    ("ask_size", "askSz"),
    ("open_24h", "open24h"),
    ("high_24h", "high24h"),
    ("low_24h", "low24h"),
    ("vol_24h", "vol24h"),
    ("vol_ccy_24h", "volCcy24h"),
)
_NAN: Final = Decimal("NaN")
_DIGITS: Final = re.compile(r"[0-9]+")


class _RawArg(msgspec.Struct, gc=False):
    channel: str
    instId: str = ""


class _RawTicker(msgspec.Struct, gc=False, rename=dict(_DECIMAL_FIELDS)):
    """One data item as OKX sends it, every value still text."""

    instId: str
    last: str
    ts: str
    instType: str = ""
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


class _RawPush(msgspec.Struct, gc=False):
    arg: _RawArg
    data: list[_RawTicker]
    event: str | None = None


PUSH_DECODER: Final = msgspec.json.Decoder(_RawPush)


def ticker_from_raw(
    raw: _RawTicker, _decimal: type[Decimal] = Decimal, _nan: Decimal = _NAN
) -> Ticker:
    """One data item, as :func:`decode_ticker` reads it or raises ValueError/ArithmeticError.

    A field that is ``""`` (OKX's empty book side) or missing (``""`` by default) is NaN,
    except ``last``, which must be there. ``Decimal`` also reads ``NaN``/``Inf``, which OKX
    never sends and the slow path refuses: each value must be finite or be the NaN put
    here for an empty one (the identity test). A context that does not trap
    InvalidOperation makes ``Decimal("x")`` a NaN instead of an error: refused alike.
    """
    ts = raw.ts
    last_text = raw.last
    if not raw.instId or not ts.isdigit() or not last_text:
        raise ValueError("bad instId, ts or last")
    last = _decimal(last_text)
    text = raw.last_size
    last_size = _decimal(text) if text else _nan
    text = raw.bid
    bid = _decimal(text) if text else _nan
    text = raw.bid_size
    bid_size = _decimal(text) if text else _nan
    text = raw.ask
    ask = _decimal(text) if text else _nan
    text = raw.ask_size
    ask_size = _decimal(text) if text else _nan
    text = raw.open_24h
    open_24h = _decimal(text) if text else _nan
    text = raw.high_24h
    high_24h = _decimal(text) if text else _nan
    text = raw.low_24h
    low_24h = _decimal(text) if text else _nan
    text = raw.vol_24h
    vol_24h = _decimal(text) if text else _nan
    text = raw.vol_ccy_24h
    vol_ccy_24h = _decimal(text) if text else _nan
    if not (
        last.is_finite()
        and (last_size.is_finite() or last_size is _nan)
        and (bid.is_finite() or bid is _nan)
        and (bid_size.is_finite() or bid_size is _nan)
        and (ask.is_finite() or ask is _nan)
        and (ask_size.is_finite() or ask_size is _nan)
        and (open_24h.is_finite() or open_24h is _nan)
        and (high_24h.is_finite() or high_24h is _nan)
        and (low_24h.is_finite() or low_24h is _nan)
        and (vol_24h.is_finite() or vol_24h is _nan)
        and (vol_ccy_24h.is_finite() or vol_ccy_24h is _nan)
    ):
        raise ValueError("not a finite number")
    return Ticker(
        raw.instId,
        raw.instType,
        last,
        last_size,
        bid,
        bid_size,
        ask,
        ask_size,
        open_24h,
        high_24h,
        low_24h,
        vol_24h,
        vol_ccy_24h,
        int(ts),
    )


def decode_ticker(item: Any) -> Ticker:
    if not isinstance(item, dict):
        raise TypeError("ticker data item is not an object")
    inst_id = item["instId"]
    if not isinstance(inst_id, str) or not inst_id:
        raise ValueError("instId is not a non-empty string")
    ts = item["ts"]
    if not isinstance(ts, str) or _DIGITS.fullmatch(ts) is None:
        raise ValueError(f"ts {ts!r} is not a millisecond timestamp")
    values: dict[str, Decimal] = {}
    for name, key in _DECIMAL_FIELDS:
        values[name] = _decimal(item.get(key), key, required=(key == "last"))
    inst_type = item.get("instType", "")
    return Ticker(
        inst_id=inst_id,
        inst_type=inst_type if isinstance(inst_type, str) else "",
        ts=int(ts),
        **values,
    )


def _decimal(value: Any, key: str, *, required: bool) -> Decimal:
    # OKX sends "" for an empty side of the book (illiquid instruments); that is NaN to us,
    # not zero, so nobody mistakes a missing bid for a price of 0.
    if value is None or value == "":
        if required:
            raise ValueError(f"{key} is missing")
        return _NAN
    if not isinstance(value, str):
        raise TypeError(f"{key} is not a string")
    # Decimal() alone would also read "1_000", " 1.5" or non-ASCII digits; OKX sends none.
    if not value.isascii() or "_" in value or value[0].isspace() or value[-1].isspace():
        raise ValueError(f"{key} {value[:40]!r} is not a plain number")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{key} {value!r} is not a finite number")
    return number
