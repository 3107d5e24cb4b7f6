"""Fan-out of an incremental book channel: every delta, or a ``Gap`` and the whole book.

A consumer of ``stream("books")`` who keeps its own book must see every validated delta in
order, or be told where it cannot and be handed the whole book to start again from: a conflated
book delta would be a wrong book. So while a consumer's channel has room, every item goes
straight in (``send_nowait``, no task switch); once it is full, nothing more of any book is
queued for it. A short-lived pump then sends, per book that moved meanwhile, one
:class:`~okx_trio._fanout.Gap` (``reason="slow consumer"``; ``missed``: the deltas dropped by
the time it was made, at least 1) and a ``"snapshot"``
:class:`~okx_trio._book_records.BookUpdate` of the current book, taken once the Gap is in, so
it covers every delta dropped until then. The receiver publishes a whole batch without a
checkpoint, so whenever the pump runs the current book is exactly the sum of the deltas
published so far, and a consumer that applies its stream holds the client's book. A book that
moved again while the pump waited for room is served again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import trio

from ._book_records import BookUpdate
from ._fanout import Gap

__all__ = ["BookFanout"]

#: The whole current book of an instrument as a snapshot update, or None if not valid.
CurrentBook = Callable[[str], BookUpdate | None]


class _Subscriber:
    __slots__ = ("behind", "pumping", "send")

    def __init__(self, send: trio.MemorySendChannel[Any]) -> None:
        self.send = send
        #: Per instrument, deltas not sent since the channel filled (insertion order).
        self.behind: dict[str, int] = {}
        self.pumping = False


class BookFanout:
    """Publish a book channel's items to every subscriber; never blocks (module docstring).

    *current* gives an instrument's whole book as a snapshot update (or None while it is
    not valid: its next snapshot comes on the stream anyway). :attr:`dropped` counts the
    deltas subscribers did not get one by one.
    """

    def __init__(
        self, channel: str, buffer: int, spawn: Callable[..., object], current: CurrentBook
    ) -> None:
        self._channel = channel
        self._buffer = buffer
        self._spawn = spawn
        self._current = current
        self._subscribers: list[_Subscriber] = []
        self._closed = False
        self.dropped = 0

    def subscribe(self) -> trio.MemoryReceiveChannel[Any]:
        """A new channel of every item from now on (already ended after :meth:`close`)."""
        send, receive = trio.open_memory_channel[Any](self._buffer)
        if self._closed:
            send.close()
        else:
            self._subscribers.append(_Subscriber(send))
        return receive

    def publish(self, item: Any) -> None:
        """Hand *item* (a :class:`BookUpdate` or a :class:`Gap` of one book) to every
        subscriber. Never blocks; never raises on a gone consumer."""
        inst_id = item.inst_id or ""
        is_delta = type(item) is BookUpdate
        gone: list[_Subscriber] = []
        for subscriber in self._subscribers:
            if not subscriber.pumping:
                try:
                    subscriber.send.send_nowait(item)
                    continue
                except trio.WouldBlock:
                    subscriber.pumping = True
                    self._spawn(self._pump, subscriber)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    gone.append(subscriber)
                    continue
            behind = subscriber.behind
            if is_delta:
                self.dropped += 1
                behind[inst_id] = behind.get(inst_id, 0) + 1
            else:  # a resync's Gap: the snapshot the pump sends (or the next) covers it
                behind.setdefault(inst_id, 0)
        for subscriber in gone:
            self._subscribers.remove(subscriber)

    async def _pump(self, subscriber: _Subscriber) -> None:
        try:
            while subscriber.behind:
                inst_id = next(iter(subscriber.behind))
                missed = subscriber.behind.pop(inst_id)
                await subscriber.send.send(
                    Gap(self._channel, missed, inst_id=inst_id, reason="slow consumer")
                )
                # Taken now, after the wait: it holds every delta published until now.
                snapshot = self._current(inst_id)
                if snapshot is not None:
                    subscriber.behind.pop(inst_id, None)
                    await subscriber.send.send(snapshot)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)
        finally:
            subscriber.pumping = False

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def close(self) -> None:
        """End every subscriber's channel (they see ``EndOfChannel`` once drained)."""
        self._closed = True
        for subscriber in self._subscribers:
            subscriber.send.close()
        self._subscribers.clear()
