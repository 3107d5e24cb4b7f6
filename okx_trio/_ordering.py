"""Where a record stands in its subscription's stream, for splicing two connections.

During a make-before-break handover the old and the new connection both receive the same
stream for a while. The switch hands on only what the old connection had not delivered:
per subscription, records *after* the last one delivered. "After" is by exchange time, with
the trade id breaking ties among trades of one millisecond; a candle may be revised within
its bar, so a candle of the same bar counts as after (a repeat of a revision is harmless,
a lost revision is not).
"""

from __future__ import annotations

from typing import Any

__all__ = ["is_after", "position"]


def position(record: Any) -> tuple[int, ...]:
    """The record's place in its stream: ``(ts,)``, or ``(ts, trade id)`` for trades."""
    ts = getattr(record, "ts", None)
    if not isinstance(ts, int):
        return ()
    trade_id = getattr(record, "trade_id", None)
    if isinstance(trade_id, str) and trade_id.isdigit():
        return (ts, int(trade_id))
    return (ts,)


def is_after(record: Any, last: tuple[int, ...]) -> bool:
    """Whether *record* comes after the position *last* (see the module docstring).

    A record without a timestamp, or an empty *last*, always counts as after.
    """
    here = position(record)
    if not here or not last:
        return True
    if hasattr(record, "confirm"):  # a candle: its bar may be revised
        return here >= last
    return here > last
