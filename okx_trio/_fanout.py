"""Fan-out to any number of subscribers without ever blocking the publisher.

The receiver task publishes; it must never wait for a slow consumer, because a receiver that
waits stops reading the socket and the heartbeat starves (trio-websocket's backpressure notes
explain the same trap). Each subscriber owns a bounded memory channel. While there is room, an
item goes straight in with ``send_nowait`` (no task switch on the hot path). When it is full,
items wait in a small overflow that keeps only the *latest* item per key (per instrument, for
ticks), and a short-lived pump task moves them on as the consumer makes room. Without a key
(event channels: trades, candles) nothing is conflated: the overflow is a queue that drops
its oldest when full, and the consumer then receives a :class:`Gap` saying how many it lost,
at the point where they went missing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

import trio

__all__ = ["Fanout", "Gap"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Gap:
    """In a stream of an event channel: *missed* records of *channel* were lost here,
    because the consumer fell more than ``tick_buffer`` behind (the oldest went first).

    In a stream of an incremental book channel (``books``, ...) a Gap is about one book,
    ``inst_id``: its deltas stop here, and the next item of that book is a ``"snapshot"``
    to start again from. ``reason`` says why: ``"slow consumer"`` (*missed* deltas were not
    sent; the snapshot follows at once), or the book broke or its connection ended
    (``"gap"``, ``"crossed"``, ``"disconnected"``, ...; *missed* is 0: the snapshot comes
    when the book is valid again).
    """

    channel: str
    missed: int
    inst_id: str | None = None
    reason: str | None = None


class _Subscriber(Generic[T]):
    __slots__ = ("missed", "overflow", "pumping", "send", "unkeyed")

    def __init__(self, send: trio.MemorySendChannel[T], unkeyed_bound: int) -> None:
        self.send = send
        self.overflow: dict[Hashable, T] = {}
        self.unkeyed: deque[T] = deque(maxlen=unkeyed_bound)
        self.pumping = False
        self.missed = 0


class Fanout(Generic[T]):
    """Publish to every subscriber; see the module docstring for the overflow rule.

    ``key`` picks what conflates: items with equal keys replace each other in a full
    subscriber's overflow. With ``key=None`` nothing conflates; the overflow is a queue of
    ``buffer`` items that drops its oldest when full. Every item that a subscriber does not
    get counts in :attr:`dropped`.
    """

    def __init__(
        self,
        buffer: int,
        spawn: Callable[..., object],
        key: Callable[[T], Hashable] | None = None,
        gap: Callable[[int], T] | None = None,
    ) -> None:
        self._buffer = buffer
        self._spawn = spawn
        self._key = key
        #: Without a key: makes the item that tells a subscriber how many it lost.
        self._gap = gap
        self._subscribers: list[_Subscriber[T]] = []
        self._closed = False
        self.dropped = 0

    def subscribe(self) -> trio.MemoryReceiveChannel[T]:
        """A new receive channel that gets every item published from now on.

        After :meth:`close` the channel is returned already at its end.
        """
        send, receive = trio.open_memory_channel[T](self._buffer)
        if self._closed:
            send.close()
        else:
            self._subscribers.append(_Subscriber(send, self._buffer))
        return receive

    def publish(self, item: T) -> None:
        """Hand *item* to every subscriber. Never blocks; never raises on a gone consumer."""
        gone: list[_Subscriber[T]] | None = None
        for subscriber in self._subscribers:
            if not subscriber.pumping:
                try:
                    subscriber.send.send_nowait(item)
                    continue
                except trio.WouldBlock:
                    pass
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    gone = gone or []
                    gone.append(subscriber)
                    continue
                subscriber.pumping = True
                self._spawn(self._pump, subscriber)
            self._hold(subscriber, item)
        if gone:
            for subscriber in gone:
                self._subscribers.remove(subscriber)

    def _hold(self, subscriber: _Subscriber[T], item: T) -> None:
        if self._key is None:
            if len(subscriber.unkeyed) == subscriber.unkeyed.maxlen:
                self.dropped += 1
                subscriber.missed += 1
            subscriber.unkeyed.append(item)
            return
        key = self._key(item)
        if key in subscriber.overflow:
            self.dropped += 1
        subscriber.overflow[key] = item

    async def _pump(self, subscriber: _Subscriber[T]) -> None:
        try:
            while True:
                if subscriber.missed and self._gap is not None:
                    # The lost items were the oldest: the gap comes before what is left.
                    item = self._gap(subscriber.missed)
                    subscriber.missed = 0
                elif subscriber.unkeyed:
                    item = subscriber.unkeyed.popleft()
                elif subscriber.overflow:
                    key = next(iter(subscriber.overflow))
                    item = subscriber.overflow.pop(key)
                else:
                    return
                await subscriber.send.send(item)
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
