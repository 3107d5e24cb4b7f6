"""One connection's private pushes, sans-IO: pages joined, then decoded into records.

OKX splits big ``account``/``positions`` snapshots into pages (:mod:`okx_trio._snapshot_pages`
joins them, holding back the updates that come meanwhile); what comes out is decoded by
:func:`~okx_trio._private_decoders.decode_private_data`. A partial snapshot that had to be
dropped (a page missing, none in time, the connection lost) is reported as a sentence: the
consumer then has no snapshot until OKX's next regular one.
"""

from __future__ import annotations

import json
from typing import Any

from ._codec import DataPush
from ._decoders import PushError
from ._private_decoders import decode_private_data
from ._snapshot_pages import Assembled, PagesDropped, SnapshotPages
from ._subscription import ArgKeyTuple, arg_key_of

__all__ = ["PrivateFeed", "PrivateOutput"]

#: Per push handed over: the subscription's arg key and its records.
PrivateOutput = list[tuple[ArgKeyTuple, tuple[Any, ...]]]


def _describe(dropped: PagesDropped) -> str:
    what = ", ".join(f"{k}={v}" for k, v in dropped.arg.items() if k != "channel")
    where = f"{dropped.channel}" + (f" ({what})" if what else "")
    return (
        f"incomplete {where} snapshot dropped after {dropped.pages} page(s): {dropped.reason}"
    )


class PrivateFeed:
    """Pages and decoding for one connection's private channels."""

    def __init__(self, max_wait: float = 10.0) -> None:
        self.pages = SnapshotPages(max_wait)

    def receive(self, push: DataPush, now: float) -> tuple[PrivateOutput, list[str]]:
        """The records of *push* (and of any held-back pushes it releases), and the partial
        snapshots it made drop.

        Raises:
            PushError: for a push that is not JSON, or does not fit its channel.
        """
        obj = push.obj
        if obj is None:
            assert push.text is not None
            try:
                obj = json.loads(push.text)
            except (ValueError, RecursionError) as exc:
                raise PushError(f"not JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise PushError("not a JSON object")
        return self._decoded(self.pages.feed(obj, now))

    def expire(self, now: float) -> tuple[PrivateOutput, list[str]]:
        """What *now* releases: partial snapshots overdue (dropped) and what they held."""
        return self._decoded(self.pages.expire(now))

    def next_deadline(self) -> float:
        return self.pages.next_deadline()

    def reset(self) -> list[str]:
        """The connection is gone: every partial snapshot is dropped."""
        return [_describe(dropped) for dropped in self.pages.reset()]

    @staticmethod
    def _decoded(assembled: Assembled) -> tuple[PrivateOutput, list[str]]:
        out: PrivateOutput = []
        for push in assembled.pushes:
            arg = push.get("arg")
            key = arg_key_of(arg) if isinstance(arg, dict) else None
            if key is None or not isinstance(arg, dict):
                raise PushError("a private push without a valid arg")
            out.append((key, decode_private_data(str(arg.get("channel")), arg, push)))
        return out, [_describe(dropped) for dropped in assembled.dropped]
