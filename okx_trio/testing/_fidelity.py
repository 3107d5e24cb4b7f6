"""The fake exchange's fidelity switches: how closely it behaves like OKX. No Trio, no I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

__all__ = ["IDLE_CLOSE_REASON", "NOTICE_CLOSE_CODE", "NOTICE_CLOSE_REASON", "Fidelity"]

IDLE_CLOSE_REASON: Final = "No data received in 30s."
#: OKX closes a connection it announced with 64008 like a server going away.
NOTICE_CLOSE_CODE: Final = 1001
NOTICE_CLOSE_REASON: Final = "Service upgrade"


@dataclass(frozen=True, slots=True)
class Fidelity:
    """Each way the fake can be OKX's equal, on by default; a test turns one off to differ.

    Attributes:
        reject_unlisted: Answer a subscription of an instrument the market does not list
            with 60018, as OKX does (off: every well-formed instrument id is priced).
        idle_timeout: Close a connection that has no subscription and sent nothing for this
            many seconds with code 4004, as OKX does after 30 s (``None``: never).
        notice_close_after: Close a connection this many seconds after a 64008 notice, as
            OKX does about 60 s later (``None``: the notice alone, the connection stays).
        msg_before_code: Error events carry ``msg`` before ``code``, as OKX writes them (off:
            ``code`` first).
        conn_id: Acks, errors and notices carry ``connId`` (off: none, as OKX in 2022).
        stagger_ms: Pushes of different instruments are stamped up to this many ms apart
            (a stable offset per instrument, never later than the push); 0 stamps all pushes
            of one instant alike.
        data_before_ack: The first push of a subscription goes out before its ack, as seen
            in recorded traffic now and then (off by default: OKX usually acks first).
        book_checksums: ``books`` pushes carry OKX's checksum of the book after them (a
            signed CRC32 of the top 25 levels), as before June 2026 (off by default: OKX
            sends ``checksum: 0`` since then).
        book_snapshots: A ``books`` subscription starts with a snapshot (``prevSeqId -1``),
            as OKX does (off: only updates come after the ack, as OKX once planned, and a
            client must seed the book from REST ``GET /api/v5/market/books``).
    """

    reject_unlisted: bool = True
    idle_timeout: float | None = 30.0
    notice_close_after: float | None = 60.0
    msg_before_code: bool = True
    conn_id: bool = True
    stagger_ms: int = 5
    data_before_ack: bool = False
    book_checksums: bool = False
    book_snapshots: bool = True

    def __post_init__(self) -> None:
        for name in ("idle_timeout", "notice_close_after"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int | float) and value > 0):
                raise ValueError(f"{name} must be a number > 0 or None, got {value!r}")
            if value is not None and math.isnan(value):
                raise ValueError(f"{name} must be a number > 0 or None, got {value!r}")
        if not isinstance(self.stagger_ms, int) or self.stagger_ms < 0:
            raise ValueError(f"stagger_ms must be an int >= 0, got {self.stagger_ms!r}")
        for name in ("book_checksums", "book_snapshots"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
