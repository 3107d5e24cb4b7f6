"""The monitor's line output: stdout in log mode, and the closing line after the table."""

from __future__ import annotations

import contextlib
import os
from typing import TextIO

__all__ = ["Output"]


class Output:
    """Line output that flushes per line and survives a closed pipe (``monitor | head``)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.broken = False

    def line(self, text: str) -> None:
        if self.broken:
            return
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self.broken = True
            # Python would complain again when flushing stdout at exit.
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.stream.fileno())
