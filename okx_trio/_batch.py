"""Taking a burst of items off a channel in one scheduler round."""

from __future__ import annotations

from typing import TypeVar

import trio

__all__ = ["receive_batch"]

T = TypeVar("T")


async def receive_batch(channel: trio.MemoryReceiveChannel[T], max_items: int = 1024) -> list[T]:
    """Wait for one item, then take the ones already buffered behind it: up to *max_items*.

    ``async for ticker in client.ticks()`` costs a scheduler round per ticker; at tens of
    thousands of ticks a second that round is most of the cost, and a consumer that falls
    ``tick_buffer`` behind is conflated. This returns a whole burst for one round::

        ticks = client.ticks()
        while True:
            for ticker in await receive_batch(ticks):
                ...

    Raises:
        trio.EndOfChannel: once the channel is closed and empty (the client ended).
        trio.ClosedResourceError: if this end was closed.
        ValueError: if *max_items* is not an int >= 1.

    Cancellation before the first item arrives takes nothing off the channel.
    """
    if not isinstance(max_items, int) or isinstance(max_items, bool) or max_items < 1:
        raise ValueError(f"max_items must be an int >= 1, got {max_items!r}")
    batch = [await channel.receive()]
    # No checkpoint from here on: the batch is what was buffered at this moment.
    while len(batch) < max_items:
        try:
            batch.append(channel.receive_nowait())
        except (trio.WouldBlock, trio.EndOfChannel):
            break
    return batch
