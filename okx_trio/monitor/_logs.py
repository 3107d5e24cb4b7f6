"""Log records while the monitor runs: into the events panel (table) or as ``[log]`` lines,
never printed straight over the live table by Python's last-resort handler."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Final

from ._format import one_line

__all__ = ["MIRRORED_FUNCTIONS", "EventLogHandler", "capture_logs"]

#: okx_trio functions whose records repeat what its state stream carries (notes and
#: transitions): the monitor shows those from the stream, so the records are not repeated.
MIRRORED_FUNCTIONS: Final = frozenset({"note", "_note", "_set_state"})


class EventLogHandler(logging.Handler):
    """Hands each record to *sink* as ``(levelname, one-line text)``.

    A record of ``okx_trio`` that only mirrors a state change or a notice (see
    :data:`MIRRORED_FUNCTIONS`) is dropped; a record with a traceback keeps only the
    exception's last line. The sink must not raise; if it does, logging's own error
    handling reports it.
    """

    def __init__(self, sink: Callable[[str, str], None], level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.name.startswith("okx_trio") and record.funcName in MIRRORED_FUNCTIONS:
                return
            text = record.getMessage()
            if record.exc_info is not None and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                text += f": {type(exc).__name__}: {exc}"
            prefix = "" if record.name.startswith("okx_trio") else f"{record.name}: "
            self._sink(record.levelname.lower(), prefix + one_line(text))
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def capture_logs(sink: Callable[[str, str], None]) -> Iterator[EventLogHandler]:
    """Route WARNING and above of every logger to *sink* for the block.

    The handler sits on the root logger, so Python's last-resort handler (which writes to
    stderr, over the table) is not used; it is removed on the way out.
    """
    handler = EventLogHandler(sink)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
