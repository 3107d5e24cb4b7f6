"""One value of a private channel's push, checked and converted (sans-IO).

The rules of :mod:`._private_decoders` (and of the REST answers it also reads): a
required field must be there and be right; an optional one may be absent, null or
``""`` (None for numbers and times, ``""`` for text); a wrong kind of value is a
:class:`~._push_values.PushError` naming the field. Built on :mod:`._push_values`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from . import _push_values as v
from ._push_values import PushError

__all__ = [
    "data",
    "each",
    "event_type_of",
    "nested",
    "num",
    "objects",
    "req_num",
    "req_text",
    "req_time",
    "text",
    "time",
    "truth",
]

Item = dict[str, Any]
_T = TypeVar("_T")


def num(item: Item, key: str) -> Decimal | None:
    """An optional number: absent, null or ``""`` is None."""
    value = item.get(key)
    if value is None or (type(value) is str and value == ""):
        return None
    return v.number(value, key)


def req_num(item: Item, key: str) -> Decimal:
    return v.number(v.get(item, key), key)


def time(item: Item, key: str) -> int | None:
    """An optional time in ms: absent, null or ``""`` is None."""
    value = item.get(key)
    return None if value is None else v.opt_time(value, key)


def req_time(item: Item, key: str) -> int:
    return v.digits(v.get(item, key), key)


def text(item: Item, key: str) -> str:
    """Optional text: absent or null is ``""``."""
    value = item.get(key)
    return "" if value is None else v.opt_text(value, key)


def req_text(item: Item, key: str) -> str:
    return v.text(v.get(item, key), key)


def truth(item: Item, key: str) -> bool:
    """OKX's ``"true"``/``"false"`` text (or a JSON boolean); absent or ``""`` is False."""
    value = item.get(key)
    if value is None or value == "" or value is False or value == "false":
        return False
    if value is True or value == "true":
        return True
    v.fail(key, value, '"true" or "false"')


def objects(value: Any, key: str) -> list[Item]:
    if value is None:
        return []
    if type(value) is not list or not all(type(x) is dict for x in value):
        v.fail(key, value, "an array of objects")
    return value


def event_type_of(channel: str, push: dict[str, Any]) -> str:
    """The push's top-level ``eventType`` (``""`` if absent)."""
    try:
        return text(push, "eventType")
    except PushError as exc:
        raise PushError(f"{channel}: {exc}") from None


def data(channel: str, push: dict[str, Any], *, may_be_empty: bool) -> list[Any]:
    data = push.get("data")
    if type(data) is not list or (not data and not may_be_empty):
        what = "an array" if may_be_empty else "a non-empty array"
        raise PushError(f"{channel}: data: {v.show(data)} is not {what}")
    return data


def each(
    channel: str, push: dict[str, Any], build: Callable[[Item], _T], *, may_be_empty: bool = False
) -> list[_T]:
    out: list[_T] = []
    for index, item in enumerate(data(channel, push, may_be_empty=may_be_empty)):
        if type(item) is not dict:
            raise PushError(f"{channel}: data[{index}]: {v.show(item)} is not an object")
        try:
            out.append(build(item))
        except PushError as exc:
            raise PushError(f"{channel}: data[{index}].{exc}") from None
    return out


def nested(key: str, items: list[Item], build: Callable[[Item], _T]) -> tuple[_T, ...]:
    out: list[_T] = []
    for index, item in enumerate(items):
        try:
            out.append(build(item))
        except PushError as exc:
            raise PushError(f"{key}[{index}].{exc}") from None
    return tuple(out)
