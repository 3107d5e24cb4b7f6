"""Per-channel push decoders (placeholder until the records land: nothing decodes yet)."""

from __future__ import annotations

from typing import Any

__all__ = ["PushError", "Record", "decode_data", "decode_push_text"]

Record = Any


class PushError(ValueError):
    """A push whose data does not have the shape its channel needs."""


def decode_data(channel: str, arg: dict[str, Any], push: dict[str, Any]) -> tuple[Record, ...]:
    raise PushError(f"channel {channel!r} is not decoded yet")


def decode_push_text(channel: str, text: str) -> tuple[Record, ...] | None:
    return None
