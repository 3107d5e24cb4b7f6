"""One value of an OKX push, checked and converted: the rules every decoder shares.

Sans-IO. Each function takes a JSON value (as ``json.loads`` or msgspec gives it) and the
field's name, and returns the typed value or raises :class:`PushError` naming the field and
showing the value. Both decoding paths (:mod:`._plain_decoders` over parsed JSON and
:mod:`._fast_decoders` over msgspec Structs) call these, which keeps them equal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final, NoReturn

from ._book_levels import LEVEL_NUMBER, ORDER_COUNT, ORDER_COUNTS, PLAIN_FORM
from ._book_records import BookLevel, pending_levels

__all__ = [
    "NAN",
    "PushError",
    "boolean",
    "digits",
    "fail",
    "flag",
    "get",
    "int_or_none",
    "level_number",
    "levels",
    "levels_from_texts",
    "number",
    "opt_number",
    "opt_text",
    "opt_time",
    "seq_id",
    "show",
    "side",
    "text",
]

NAN: Final = Decimal("NaN")


class PushError(ValueError):
    """A push that does not hold what its channel's records need; the message says which
    field and what value was wrong."""


def show(value: Any) -> str:
    """A short, safe rendering of a bad value for an error message."""
    if isinstance(value, str):
        return repr(value[:40]) + ("..." if len(value) > 40 else "")
    if isinstance(value, dict | list):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    try:
        shown = str(value)[:40]
    except ValueError:  # an int of more digits than str() renders
        shown = "(too long to show)"
    return f"{type(value).__name__} {shown}"


def fail(key: str, value: Any, expected: str) -> NoReturn:
    raise PushError(f"{key}: {show(value)} is not {expected}")


def get(item: dict[str, Any], key: str) -> Any:
    """``item[key]``, or PushError naming the missing key."""
    try:
        return item[key]
    except KeyError:
        raise PushError(f"{key}: missing") from None


def text(value: Any, key: str) -> str:
    """A required, non-empty string."""
    if type(value) is not str or not value:
        fail(key, value, "a non-empty string")
    return value


def opt_text(value: Any, key: str) -> str:
    """A string, possibly ``""``."""
    if type(value) is not str:
        fail(key, value, "a string")
    return value


def number(value: Any, key: str) -> Decimal:
    """A required number sent as text: finite, ASCII, no ``_``, no surrounding whitespace
    (``Decimal()`` alone would read ``"1_000"``, ``" 1"``, Arabic-Indic digits, ``"NaN"``).
    The rules of the ``tickers`` codec: an exponent form (``"1e-8"``) is read too."""
    if type(value) is not str or not value:
        fail(key, value, "a number as a non-empty string")
    if not value.isascii() or "_" in value or value[0].isspace() or value[-1].isspace():
        fail(key, value, "a plain decimal number")
    try:
        result = Decimal(value)
        if result.is_finite():
            return result
    except (ArithmeticError, ValueError):
        pass
    fail(key, value, "a finite decimal number")


def opt_number(value: Any, key: str) -> Decimal:
    """Like :func:`number`, but OKX's ``""`` (no value) is NaN."""
    if value == "" and type(value) is str:
        return NAN
    return number(value, key)


def level_number(value: str) -> Decimal | None:
    """A book level's price or size, or None: also in OKX's plain form, so that
    ``format(result, "f") == value`` (the checksum needs the text back; see
    :mod:`._book_records`). Tries ``str()`` first: it is five times cheaper and agrees
    with ``format(..., "f")`` whenever the text has no exponent. (The round trip also
    rules out whitespace, ``_`` and non-ASCII digits.) The rule's definition; the
    decoders check a level with :data:`_PLAIN`, which accepts exactly the same texts and
    builds no ``Decimal``."""
    try:
        result = Decimal(value)
        # No exponent before format(): "1e999999999" would be a billion-digit string.
        if (
            "E" not in value
            and "e" not in value
            and result.is_finite()
            and (str(result) == value or _plain(result, value))
        ):
            return result
    except (ArithmeticError, ValueError):
        pass
    return None


def _plain(number: Decimal, text: str) -> bool:
    """Whether *text* is *number* in fixed-point form; *text* has no exponent, so the
    rendering is no longer than *text*'s digits."""
    return format(number, "f") == text


def digits(value: Any, key: str) -> int:
    """A non-negative integer sent as ASCII digits (times, counts)."""
    if type(value) is not str or not value.isascii() or not value.isdigit():
        fail(key, value, "an integer as a string of digits")
    if len(value) > 100:  # int() refuses more than sys.get_int_max_str_digits()
        fail(key, value, "an integer of sensible length")
    return int(value)


def opt_time(value: Any, key: str) -> int | None:
    """A time in ms as digits, or ``None`` for ``""``."""
    if value == "" and type(value) is str:
        return None
    return digits(value, key)


def seq_id(value: Any, key: str) -> int:
    """A sequence id or checksum: a JSON integer (not a boolean, not a string)."""
    if type(value) is not int:
        fail(key, value, "a JSON integer")
    return value


def int_or_none(value: Any, key: str) -> int | None:
    """A JSON integer, or ``None`` for JSON null or an absent field."""
    return None if value is None else seq_id(value, key)


def boolean(value: Any, key: str) -> bool:
    """A JSON boolean."""
    if type(value) is not bool:
        fail(key, value, "a JSON boolean")
    return value


def side(value: Any, key: str = "side") -> str:
    """A taker's or order's side: ``"buy"`` or ``"sell"``."""
    if value == "buy" or value == "sell":
        return str(value)
    fail(key, value, '"buy" or "sell"')


def flag(value: Any, key: str) -> bool:
    """OKX's ``"0"``/``"1"`` text flag (a candle's ``confirm``)."""
    if value == "1" and type(value) is str:
        return True
    if value == "0" and type(value) is str:
        return False
    fail(key, value, '"0" or "1"')


def levels(value: Any, key: str) -> tuple[BookLevel, ...]:
    """A side of the book as parsed JSON: a list of ``[price, size, "0", orders]``.

    The levels are checked now and built lazily (:mod:`._book_records`); the rows are
    copied into tuples, so a later change to the parsed JSON cannot reach the record."""
    if type(value) is not list:
        fail(key, value, "an array of levels")
    rows: list[tuple[str, str, str, str]] = []
    for index, level in enumerate(value):
        if type(level) is list and len(level) == 4:
            price, size, deprecated, orders = level
            if (
                type(price) is str
                and type(size) is str
                and type(deprecated) is str
                and type(orders) is str
            ):
                rows.append((price, size, deprecated, orders))
                continue
        fail(f"{key}[{index}]", level, "a level of four strings [price, size, '0', orders]")
    return levels_from_texts(rows, key)


#: OKX's plain decimal form, exactly the texts :func:`level_number` accepts (``tests/
#: test_decoders.py`` holds the two equal): ``format(Decimal(text), "f") == text`` means an
#: optional ``-``, no leading zero but a lone one, a point only between ASCII digits, no
#: exponent, no ``+``, no space, ``_`` or other digits; Decimal never renders NaN or Infinity
#: that way. (``[0-9]``, not ``\d``, which matches every Unicode digit.)
_PLAIN: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
# A book level's price and size, and its order count (the engine's rule too).
_LEVEL: Final = LEVEL_NUMBER
_COUNT: Final = ORDER_COUNT

# Prices recur from push to push (a book's levels), and so do most sizes in OKX's traffic
# (60 % of the non-zero sizes of the recorded BTC-USDT books updates had been sent before):
# memos of texts already checked turn the check into one set lookup. Sizes have their own,
# so that a run of new sizes cannot push the prices out. Each holds only valid texts and is
# emptied when full, so they stay small (a few MB at most).
_LEVEL_TEXTS: Final[set[str]] = set()
_LEVEL_TEXTS_MAX: Final = 20_000
_SIZE_TEXTS: Final[set[str]] = {"0"}
_SIZE_TEXTS_MAX: Final = 4_096
_ORDER_COUNTS: Final = ORDER_COUNTS
_LEVEL_FORM: Final = PLAIN_FORM


def levels_from_texts(
    rows: Sequence[Sequence[str]],
    key: str,
    _known: set[str] = _LEVEL_TEXTS,
    _sizes: set[str] = _SIZE_TEXTS,
    _counts: frozenset[str] = _ORDER_COUNTS,
    _plain: Any = _LEVEL.fullmatch,
    _count: Any = _COUNT.fullmatch,
    _pending: Any = pending_levels,
) -> tuple[BookLevel, ...]:
    """Levels from rows already known to be four strings each (both paths end here),
    checked now (price and size :data:`_LEVEL`, orders :data:`_COUNT`: the form the book
    engine requires too, :func:`okx_trio._book_levels.level_error`), built on first read
    (:func:`~._book_records.pending_levels`).

    The rows are kept as they are (tuples: the fast path's msgspec rows, the plain path's
    copies). The hot loop of a 400-level book, per level: a set look-up each for the price,
    the size and the orders seen before; a regex match for a new price; for a new size, a
    few string tests that accept only texts :data:`_LEVEL` takes (measured cheaper than the
    regex), the regex for anything else. :func:`_bad_level` finds and names the culprit
    only on failure.

    Raises:
        PushError: naming the first bad level's price, size or orders.
    """
    for price, size, _, orders in rows:
        if price not in _known:
            if _plain(price) is None:
                _bad_level(rows, key)
            if len(_known) >= _LEVEL_TEXTS_MAX:
                _known.clear()
            _known.add(price)
        if size not in _sizes:
            if not (
                (  # the quick test _book_side.quick_ok makes too (tests hold both to the regex)
                    size.isascii()
                    and size.replace(".", "", 1).isdigit()  # digits, at most one point
                    # 1-9 first, or "0.": no leading point, no leading zero ("." < "0")
                    and (size[0] > "0" or size[1:2] == ".")
                    and size[-1] != "."
                    and len(size) <= 99
                )
                or _plain(size) is not None
            ):
                _bad_level(rows, key)
            if len(_sizes) >= _SIZE_TEXTS_MAX:
                _sizes.clear()
            _sizes.add(size)
        if orders not in _counts and _count(orders) is None:
            _bad_level(rows, key)
    result: tuple[BookLevel, ...] = _pending(rows)
    return result


def _bad_level(rows: Sequence[Sequence[str]], key: str) -> NoReturn:
    """Raise for the first bad level of *rows* (the slow way: only on failure)."""
    for index, (price, size, _, orders) in enumerate(rows):
        if _LEVEL.fullmatch(price) is None:
            fail(f"{key}[{index}] price", price, _LEVEL_FORM)
        if _LEVEL.fullmatch(size) is None:
            fail(f"{key}[{index}] size", size, _LEVEL_FORM)
        if _COUNT.fullmatch(orders) is None:
            fail(f"{key}[{index}] orders", orders, "an order count as a string of digits")
    raise AssertionError("unreachable: no bad level found")
