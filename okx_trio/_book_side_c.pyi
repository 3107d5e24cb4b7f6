# The optional C merge loop (okx_trio/_book_side_c.c); see okx_trio/_book_side.py.
from collections.abc import Callable, Sequence
from typing import Any

def merge(
    levels: Sequence[Any],
    keys: list[float],
    raws: list[list[Any]],
    index: dict[str, list[Any]],
    token: object,
    negate: bool,
    price_keys: dict[str, float],
    key_of: Callable[[str, str, str], float],
    /,
) -> bool: ...
def quick(levels: object, /) -> bool: ...
