"""Paginated private snapshots are joined into one before delivery (sans-IO)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from okx_trio._decoders import PushError, decode_private_data
from okx_trio._private_records import PositionsSnapshot
from okx_trio._snapshot_pages import Assembled, PagesDropped, SnapshotPages

ARG = {"channel": "positions", "instType": "ANY", "uid": "77"}
SHOWN = {"channel": "positions", "instType": "ANY"}


def page(number: int, last: bool, *pos_ids: str, arg: dict[str, str] = ARG) -> dict[str, Any]:
    data = [
        {"instType": "SWAP", "instId": "BTC-USDT-SWAP", "posId": p, "pos": "1", "pTime": "5"}
        for p in pos_ids
    ]
    return {
        "arg": arg,
        "eventType": "snapshot",
        "curPage": number,
        "lastPage": last,
        "data": data,
    }


def update(pos_id: str) -> dict[str, Any]:
    item = {"instType": "SWAP", "instId": "BTC-USDT-SWAP", "posId": pos_id, "pos": "2"}
    return {"arg": ARG, "eventType": "event_update", "data": [item]}


def ids(push: dict[str, Any]) -> list[str]:
    return [item["posId"] for item in push["data"]]


def test_pages_are_joined_in_order_and_decode_to_one_snapshot() -> None:
    pages = SnapshotPages()
    assert pages.feed(page(1, False, "a", "b"), 0.0) == Assembled()
    assert pages.pending == 1
    assert pages.feed(page(2, False, "c"), 0.1) == Assembled()
    out = pages.feed(page(3, True, "d"), 0.2)
    (joined,) = out.pushes
    assert out.dropped == ()
    assert ids(joined) == ["a", "b", "c", "d"]
    assert (joined["curPage"], joined["lastPage"], joined["arg"]) == (1, True, ARG)
    (snapshot,) = decode_private_data("positions", joined["arg"], joined)
    assert type(snapshot) is PositionsSnapshot
    assert [p.pos_id for p in snapshot.positions] == ["a", "b", "c", "d"]
    assert pages.pending == 0 and pages.next_deadline() == math.inf


def test_a_single_page_and_other_pushes_pass_straight_through() -> None:
    pages = SnapshotPages()
    single = page(1, True, "a")
    assert pages.feed(single, 0.0).pushes == (single,)
    assert pages.feed(update("a"), 0.0).pushes == (update("a"),)
    orders = {"arg": {"channel": "orders", "instType": "ANY"}, "data": [], "curPage": "x"}
    assert pages.feed(orders, 0.0).pushes == (orders,)  # not a paginated channel


def test_updates_during_assembly_follow_the_snapshot() -> None:
    pages = SnapshotPages()
    pages.feed(page(1, False, "a"), 0.0)
    assert pages.feed(update("a"), 0.0) == Assembled()
    other = page(1, True, "z", arg={"channel": "positions", "instType": "SWAP"})
    assert pages.feed(other, 0.0).pushes == (other,)  # another subscription: not held
    out = pages.feed(page(2, True, "b"), 0.0)
    assert [ids(p) for p in out.pushes] == [["a", "b"], ["a"]]
    assert out.pushes[1]["eventType"] == "event_update"


def test_a_missing_page_drops_the_partial_snapshot_and_says_so() -> None:
    pages = SnapshotPages()
    pages.feed(page(1, False, "a"), 0.0)
    pages.feed(update("a"), 0.0)
    out = pages.feed(page(3, True, "c"), 0.1)
    assert out.pushes == (update("a"),)  # held updates are not lost
    assert out.dropped == (
        PagesDropped("positions", SHOWN, 2, "page 3 arrived after page 1: page 2 is missing"),
    )
    assert pages.pending == 0
    # The next snapshot starts afresh.
    pages.feed(page(1, False, "x"), 1.0)
    (joined,) = pages.feed(page(2, True, "y"), 1.0).pushes
    assert ids(joined) == ["x", "y"]


def test_a_repeated_page_drops_too() -> None:
    pages = SnapshotPages()
    pages.feed(page(1, False, "a"), 0.0)
    pages.feed(page(2, False, "b"), 0.0)
    out = pages.feed(page(2, False, "b"), 0.0)
    assert out.dropped[0].reason == "page 2 arrived again after page 2"
    assert out.dropped[0].pages == 3


def test_a_new_page_one_restarts() -> None:
    pages = SnapshotPages()
    pages.feed(page(1, False, "old"), 0.0)
    pages.feed(update("old"), 0.0)
    out = pages.feed(page(1, False, "new"), 0.5)
    assert out.pushes == (update("old"),)
    assert out.dropped == (PagesDropped("positions", SHOWN, 1, "restarted by a new page 1"),)
    (joined,) = pages.feed(page(2, True, "new2"), 0.6).pushes
    assert ids(joined) == ["new", "new2"]
    # A restart by a single-page snapshot hands over the held updates, then the snapshot.
    pages.feed(page(1, False, "p"), 1.0)
    pages.feed(update("p"), 1.0)
    single = page(1, True, "q")
    out = pages.feed(single, 1.0)
    assert out.pushes == (update("p"), single) and len(out.dropped) == 1


def test_a_later_page_without_page_one_is_dropped() -> None:
    out = SnapshotPages().feed(page(2, True, "b"), 0.0)
    assert out == Assembled((), (PagesDropped("positions", SHOWN, 1, "page 2 without page 1"),))


def test_an_overdue_page_expires_the_partial_snapshot() -> None:
    pages = SnapshotPages(max_wait=2.0)
    pages.feed(page(1, False, "a"), 10.0)
    pages.feed(page(2, False, "b"), 11.0)
    pages.feed(update("a"), 11.5)
    assert pages.next_deadline() == 13.0
    assert pages.expire(12.9) == Assembled()
    out = pages.expire(13.0)
    assert out.pushes == (update("a"),)
    assert out.dropped == (PagesDropped("positions", SHOWN, 2, "no page 3 within 2 s"),)
    assert pages.next_deadline() == math.inf


def test_reset_drops_everything() -> None:
    pages = SnapshotPages()
    pages.feed(page(1, False, "a"), 0.0)
    assert pages.reset() == (PagesDropped("positions", SHOWN, 1, "connection lost"),)
    assert pages.pending == 0 and pages.reset() == ()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"curPage": 0}, "positions: curPage: int 0 is not a page number"),
        ({"curPage": "1"}, "positions: curPage: '1' is not a page number"),
        ({"curPage": True}, "positions: curPage: bool True is not a page number"),
        ({"lastPage": "true"}, "positions: lastPage: 'true' is not a JSON boolean"),
        ({"lastPage": None}, "positions: lastPage: NoneType None is not a JSON boolean"),
        ({"data": None}, "positions: data: NoneType None is not an array"),
        ({"arg": "x"}, "arg: 'x' is not an object naming a channel"),
    ],
)
def test_bad_page_fields_are_push_errors_and_change_nothing(
    changes: dict[str, Any], expected: str
) -> None:
    pages = SnapshotPages()
    pages.feed(page(1, False, "a"), 0.0)
    with pytest.raises(PushError) as caught:
        pages.feed({**page(2, True, "b"), **changes}, 0.0)
    assert str(caught.value).startswith(expected)
    assert pages.pending == 1
    (joined,) = pages.feed(page(2, True, "b"), 0.0).pushes
    assert ids(joined) == ["a", "b"]


@pytest.mark.parametrize("max_wait", [0, -1, math.inf, math.nan, "5"])
def test_max_wait_must_be_positive(max_wait: Any) -> None:
    with pytest.raises(ValueError, match="max_wait must be a positive number"):
        SnapshotPages(max_wait)
