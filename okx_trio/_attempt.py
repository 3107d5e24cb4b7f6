"""One connection attempt of a link: its cancel scope, and why it ended."""

from __future__ import annotations

import trio

__all__ = ["Attempt"]


class Attempt:
    """One connection attempt: its cancel scope and why it ended (the first reason wins)."""

    __slots__ = (
        "done",
        "fatal",
        "handover_to",
        "heartbeat_miss",
        "immediate",
        "promoted",
        "reason",
        "scope",
        "upgrade_announced",
    )

    def __init__(self) -> None:
        self.scope = trio.CancelScope()
        self.done = trio.Event()
        self.reason: str | None = None
        self.fatal = False
        self.immediate = False
        self.heartbeat_miss = False
        #: The successor's attempt that took over from this one, in a handover.
        self.handover_to: Attempt | None = None
        self.promoted = False
        self.upgrade_announced = False

    def end(
        self,
        reason: str,
        *,
        fatal: bool = False,
        immediate: bool = False,
        heartbeat_miss: bool = False,
    ) -> None:
        if self.reason is None:
            self.reason = reason
            self.fatal = fatal
            self.immediate = immediate
            self.heartbeat_miss = heartbeat_miss
        self.scope.cancel()
