"""Instrument ids: what OKX accepts for the ``tickers`` channel, checked before anything is sent."""

from __future__ import annotations

import re

__all__ = ["validate_inst_id"]

# SPOT "BTC-USDT", SWAP "BTC-USDT-SWAP", FUTURES "BTC-USD-220527" (YYMMDD). OKX uses
# upper-case alphanumerics for currencies; option ids and lower-case are not tickers we serve.
_INST_ID = re.compile(r"[A-Z0-9]{1,20}-[A-Z0-9]{1,20}(?:-(?:SWAP|[0-9]{6}))?")


def validate_inst_id(inst_id: object) -> str:
    """Return *inst_id* unchanged if it is a well-formed OKX instrument id.

    Raises:
        ValueError: naming the value and the expected shape, if it is not a string like
            ``BTC-USDT``, ``BTC-USDT-SWAP`` or ``BTC-USD-220527``.
    """
    if not isinstance(inst_id, str) or _INST_ID.fullmatch(inst_id) is None:
        raise ValueError(
            f"invalid instrument id {inst_id!r}: expected like BTC-USDT, BTC-USDT-SWAP "
            "or BTC-USD-220527 (upper case)"
        )
    return inst_id
