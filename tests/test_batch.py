"""receive_batch: one wait, then what is buffered, never more than asked."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from okx_trio import receive_batch


async def test_takes_what_is_buffered_up_to_the_limit() -> None:
    send, receive = trio.open_memory_channel[int](10)
    for i in range(5):
        send.send_nowait(i)
    assert await receive_batch(receive, 3) == [0, 1, 2]
    assert await receive_batch(receive) == [3, 4]


async def test_waits_for_the_first_item(autojump_clock: trio.testing.MockClock) -> None:
    send, receive = trio.open_memory_channel[int](10)

    async def later() -> None:
        await trio.sleep(2)
        send.send_nowait(7)
        send.send_nowait(8)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(later)
        assert await receive_batch(receive) == [7, 8]
        assert trio.current_time() == 2.0


async def test_a_closed_channel_ends_after_its_last_items() -> None:
    send, receive = trio.open_memory_channel[int](10)
    send.send_nowait(1)
    send.close()
    assert await receive_batch(receive) == [1]
    with pytest.raises(trio.EndOfChannel):
        await receive_batch(receive)


async def test_cancelled_while_waiting_takes_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    send, receive = trio.open_memory_channel[int](10)
    with trio.move_on_after(1):
        await receive_batch(receive)
    send.send_nowait(3)
    assert receive.receive_nowait() == 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
async def test_bad_limit_names_the_value(bad: object) -> None:
    _, receive = trio.open_memory_channel[int](1)
    with pytest.raises(ValueError, match=f"max_items must be an int >= 1, got {bad!r}"):
        await receive_batch(receive, bad)  # type: ignore[arg-type]
