"""The fan-out never blocks its publisher and conflates per key for lagging consumers."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from okx_trio._fanout import Fanout


async def test_every_subscriber_gets_every_item_while_there_is_room() -> None:
    async with trio.open_nursery() as nursery:
        fanout: Fanout[int] = Fanout(4, nursery.start_soon)
        a, b = fanout.subscribe(), fanout.subscribe()
        for i in range(4):
            fanout.publish(i)
        assert [a.receive_nowait() for _ in range(4)] == [0, 1, 2, 3]
        assert [b.receive_nowait() for _ in range(4)] == [0, 1, 2, 3]
        assert fanout.dropped == 0


async def test_a_full_subscriber_gets_the_latest_item_per_key_in_order() -> None:
    async with trio.open_nursery() as nursery:
        fanout: Fanout[tuple[str, int]] = Fanout(2, nursery.start_soon, key=lambda item: item[0])
        slow = fanout.subscribe()
        items = [("A", 1), ("B", 1), ("A", 2), ("C", 1), ("A", 3), ("B", 2), ("C", 2)]
        for item in items:
            fanout.publish(item)  # never blocks, although nobody reads
        # Two fit in the buffer; then A, C, B wait in the overflow, each only its latest.
        received = [await slow.receive() for _ in range(5)]
        assert received == [("A", 1), ("B", 1), ("A", 3), ("C", 2), ("B", 2)]
        assert fanout.dropped == 2
        with pytest.raises(trio.WouldBlock):
            slow.receive_nowait()
        # Once drained, items go straight through again.
        fanout.publish(("D", 1))
        assert slow.receive_nowait() == ("D", 1)


async def test_without_a_key_the_overflow_drops_the_oldest() -> None:
    async with trio.open_nursery() as nursery:
        fanout: Fanout[int] = Fanout(2, nursery.start_soon)
        slow = fanout.subscribe()
        for i in range(10):
            fanout.publish(i)
        received = [await slow.receive() for _ in range(4)]
        assert received == [0, 1, 8, 9]
        assert fanout.dropped == 6


async def test_a_closed_consumer_is_forgotten_and_others_go_on() -> None:
    async with trio.open_nursery() as nursery:
        fanout: Fanout[int] = Fanout(1, nursery.start_soon, key=lambda i: i % 2)
        gone, stays = fanout.subscribe(), fanout.subscribe()
        gone.close()
        fanout.publish(1)
        assert fanout.subscriber_count == 1
        assert stays.receive_nowait() == 1
        fanout.publish(2)
        fanout.publish(3)  # overflow for `stays`: a pump is waiting on it
        stays.close()
        await trio.testing.wait_all_tasks_blocked()
        assert fanout.subscriber_count == 0


async def test_close_ends_every_channel_after_what_is_buffered() -> None:
    async with trio.open_nursery() as nursery:
        fanout: Fanout[int] = Fanout(4, nursery.start_soon)
        channel = fanout.subscribe()
        fanout.publish(7)
        fanout.close()
        assert await channel.receive() == 7
        with pytest.raises(trio.EndOfChannel):
            await channel.receive()
        late = fanout.subscribe()
        with pytest.raises(trio.EndOfChannel):
            await late.receive()
