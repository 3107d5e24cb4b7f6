"""okx_trio.monitor._logs: log records into the events, not over the table."""

from __future__ import annotations

import logging

from okx_trio.monitor._logs import EventLogHandler, capture_logs


def note(logger: logging.Logger, text: str) -> None:
    """Stands in for okx_trio's ``_Link.note``: its records mirror the state stream."""
    logger.warning("%s", text)


def test_records_reach_the_sink_as_one_line_and_mirrored_ones_are_dropped() -> None:
    seen: list[tuple[str, str]] = []
    library = logging.getLogger("okx_trio.test-logs")
    with capture_logs(lambda level, text: seen.append((level, text))) as handler:
        assert isinstance(handler, EventLogHandler)
        library.warning("bad message from server (%s):\n%r", "not JSON", b"x")
        note(library, "instrument rejected: FAKE-USDT")  # on the state stream already
        logging.getLogger("trio-websocket").error("boom")
        library.info("below WARNING")
        try:
            raise ValueError("broken")
        except ValueError:
            library.warning("unexpected error in a connection attempt", exc_info=True)
    library.warning("after the block")
    assert seen == [
        ("warning", "bad message from server (not JSON): b'x'"),
        ("error", "trio-websocket: boom"),
        ("warning", "unexpected error in a connection attempt: ValueError: broken"),
    ]
    assert handler not in logging.getLogger().handlers
