"""Where records go: one fan-out per channel, the latest record per subscription, latency.

The per-record path of the whole client ends here (:meth:`Streams.deliver`), so it is kept
to a few dict lookups and one ``send_nowait`` per consumer. How a lagging consumer is served
comes from the channel table: *state* channels conflate to the latest record per instrument,
*event* channels never conflate and tell the consumer what it lost with a :class:`Gap`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

import trio

from ._book_fanout import BookFanout, CurrentBook
from ._book_keeper import BOOK_DEPTHS
from ._decoders import Record
from ._fanout import Fanout, Gap
from ._okx import channel_spec
from ._quality import LatencyWindow
from ._subscription import Subscription

__all__ = ["Streams"]

#: Channels whose ``ts`` is when OKX made the record (latency means something there).
_LATENCY_CHANNELS: Final = frozenset({"tickers", "trades", "trades-all", "bbo-tbt", "books5"})


class Streams:
    """The client's delivery side (see the module docstring).

    *note* reports a latency warning (and its all-clear) on the client's state stream;
    *books* gives, per incremental book channel, an instrument's whole current book (for a
    book consumer that fell behind).
    """

    def __init__(
        self,
        buffer: int,
        spawn: Callable[..., object],
        *,
        wall_clock: Callable[[], float],
        latency_warning: float,
        note: Callable[[str, int], None],
        books: Callable[[str], CurrentBook],
    ) -> None:
        self._buffer = buffer
        self._spawn = spawn
        self._wall_clock = wall_clock
        self._latency_warning = latency_warning
        self._note = note
        self._books = books
        self._latency_high = False
        self._closed = False
        self.latency = LatencyWindow()
        self.fans: dict[str, Fanout[Any] | BookFanout] = {}
        self._last: dict[Subscription, Record] = {}

    def subscribe(self, channel: str) -> trio.MemoryReceiveChannel[Any]:
        """A new consumer channel of *channel*'s records. Raises ValueError if unknown."""
        spec = channel_spec(channel)
        fan = self.fans.get(channel)
        if fan is None:
            if channel in BOOK_DEPTHS:
                fan = BookFanout(channel, self._buffer, self._spawn, self._books(channel))
            elif spec.delivery == "state":
                fan = Fanout(self._buffer, self._spawn, key=_inst_key)
            else:
                fan = Fanout(self._buffer, self._spawn, gap=_gap_maker(channel))
            if self._closed:
                fan.close()
            self.fans[channel] = fan
        return fan.subscribe()

    def latest(self, sub: Subscription) -> Record | None:
        return self._last.get(sub)

    def book_gap(self, sub: Subscription, reason: str) -> None:
        """Tell *sub*'s book consumers that its deltas stop here (the book broke, or its
        connection ended); its next item is a snapshot."""
        fan = self.fans.get(sub.channel)
        if fan is not None:
            fan.publish(Gap(sub.channel, 0, inst_id=sub.inst_id, reason=reason))

    def forget(self, sub: Subscription) -> None:
        self._last.pop(sub, None)

    def deliver(self, sub: Subscription, records: tuple[Record, ...]) -> None:
        """Hand *records* of *sub* to every consumer of its channel; never blocks."""
        channel = sub[0]  # sub.channel, without the property call on the per-record path
        self._last[sub] = records[-1]
        fan = self.fans.get(channel)
        if fan is not None:
            publish = fan.publish
            for record in records:
                publish(record)
        if channel in _LATENCY_CHANNELS:
            ts = getattr(records[-1], "ts", None)
            if type(ts) is int:
                self._measure(ts)

    def _measure(self, ts: int) -> None:
        seconds = self._wall_clock() - ts / 1000.0
        self.latency.add(seconds)
        threshold = self._latency_warning
        # Hysteresis, so a latency hovering at the threshold does not flood the stream.
        if not self._latency_high and seconds > threshold:
            self._latency_high = True
            self._note(
                f"high latency: {seconds:.1f}s (warning above {threshold:g}s)", logging.WARNING
            )
        elif self._latency_high and seconds < 0.8 * threshold:
            self._latency_high = False
            self._note(f"latency back to normal: {seconds:.1f}s", logging.INFO)

    def close(self) -> None:
        self._closed = True
        for fan in self.fans.values():
            fan.close()


def _gap_maker(channel: str) -> Callable[[int], Gap]:
    def gap(missed: int) -> Gap:
        return Gap(channel, missed)

    return gap


def _inst_key(record: Any) -> Any:
    return getattr(record, "inst_id", None)
