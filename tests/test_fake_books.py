"""The fake exchange's order books, checked with the client's own ``BookEngine``.

Realistic depth (400 levels, not one tick apart), irregular seqIds that are the same on every
connection, keep-alives after quiet periods, sequence resets, checksums on or off, and every
per-book fault breaking a book in exactly its intended way, with the book valid again after a
resubscribe. Autojump clock, in memory, exact virtual times.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import trio
import trio.testing

from okx_trio._book import ApplyOutcome, BookEngine, InvalidReason, splice_index
from okx_trio._book_levels import checksum_of
from okx_trio._subscription import Subscription
from okx_trio.testing import FakeExchange, Fidelity, MarketSimulator, MemoryWebSocket
from okx_trio.testing._book_stream import BookStream
from okx_trio.testing._books import BOOK_DEPTH, STEPS_KEPT, BookModel, okx_checksum

PUBLIC = "wss://ws.okx.com:8443/ws/v5/public"
EPOCH = 1_700_000_000_000
BOOKS = Subscription("books", "BTC-USDT")


def calm(**kwargs: Any) -> FakeExchange:
    """An exchange whose market moves a few ticks a step, as BTC-USDT does in 100 ms (the
    default market is a demo's, hundreds of ticks a step)."""
    kwargs.setdefault("tick_interval", 0.1)
    kwargs.setdefault("epoch_ms", EPOCH)
    return FakeExchange(market=MarketSimulator(0, volatility=0.00003), **kwargs)


def _request(op: str, *subs: Subscription) -> str:
    return json.dumps({"op": op, "args": [sub.arg for sub in subs]})


@dataclass
class BookReader:
    """Feeds every ``books`` push of one connection to a ``BookEngine``, remembering what
    it saw: ``(time, action, prevSeqId, seqId, outcome)`` per push, and every other event."""

    ws: MemoryWebSocket
    engine: BookEngine = field(default_factory=lambda: BookEngine("BTC-USDT", "books"))
    pushes: list[tuple[float, str, int, int, ApplyOutcome]] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[InvalidReason | None] = field(default_factory=list)
    #: Books of other instruments on the same connection, one engine each.
    others: dict[str, BookEngine] = field(default_factory=dict)

    async def run(self) -> None:
        while True:
            message = json.loads(await self.ws.get_message())
            if "event" in message:
                self.events.append(message)
                continue
            arg = message["arg"]
            if arg["channel"] != "books":
                continue
            [data] = message["data"]
            if arg["instId"] != self.engine.inst_id:
                other = self.others.setdefault(arg["instId"], BookEngine(arg["instId"], "books"))
                other.apply(
                    message["action"],
                    data["prevSeqId"],
                    data["seqId"],
                    int(data["ts"]),
                    data["bids"],
                    data["asks"],
                )
                continue
            self.raw.append(data)
            result = self.engine.apply(
                message["action"],
                data["prevSeqId"],
                data["seqId"],
                int(data["ts"]),
                data["bids"],
                data["asks"],
                data["checksum"],
            )
            self.pushes.append(
                (
                    trio.current_time(),
                    message["action"],
                    data["prevSeqId"],
                    data["seqId"],
                    result.outcome,
                )
            )
            self.reasons.append(result.reason)

    async def resubscribe(self, sub: Subscription = BOOKS) -> None:
        await self.ws.send_message(_request("unsubscribe", sub))
        await self.ws.send_message(_request("subscribe", sub))

    def links(self) -> list[tuple[int, int]]:
        return [(prev, seq) for _, action, prev, seq, _ in self.pushes if action == "update"]


@asynccontextmanager
async def reading(
    exchange: FakeExchange, *subs: Subscription, engine: BookEngine | None = None
) -> AsyncIterator[BookReader]:
    async with exchange.connector(PUBLIC) as ws, trio.open_nursery() as nursery:
        reader = BookReader(ws) if engine is None else BookReader(ws, engine)
        await ws.send_message(_request("subscribe", *(subs or (BOOKS,))))
        nursery.start_soon(reader.run)
        yield reader
        nursery.cancel_scope.cancel()


def _decimal_rows(levels: Any) -> list[tuple[Decimal, Decimal]]:
    return [(level.price, level.size) for level in levels]


# -- the book itself -----------------------------------------------------------------------


async def test_a_book_has_400_realistic_levels_and_irregular_seq_ids(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm()
    async with reading(exchange) as reader:
        await trio.sleep(150.05)  # 1500 pushes, the last one read
        fake = exchange.order_book("BTC-USDT")
        assert fake is not None
        fake_bids, fake_asks, fake_seq = fake["bids"], fake["asks"], fake["seqId"]
    engine = reader.engine
    assert len(reader.pushes) > 1400
    assert all(outcome is ApplyOutcome.APPLIED for *_, outcome in reader.pushes)
    book = engine.book()
    assert book is not None and len(book.bids) == len(book.asks) == 400
    tick = Decimal("0.1")
    for side in (book.bids, book.asks):
        gaps = {abs(a.price - b.price) / tick for a, b in itertools.pairwise(side)}
        assert len(gaps) >= 4 and max(gaps) > 1  # levels are not all one tick apart
        assert len({level.size for level in side}) > 100  # sizes vary
        assert len({level.orders for level in side}) > 5
    steps = [seq - prev for prev, seq in reader.links()]
    assert min(steps) >= 1 and len(set(steps)) > 20  # irregular, never +1 alone
    # The client's book is the fake's book, level for level.
    assert [[lv.price_text, lv.size_text] for lv in book.bids] == [r[:2] for r in fake_bids]
    assert [[lv.price_text, lv.size_text] for lv in book.asks] == [r[:2] for r in fake_asks]
    assert book.seq_id == fake_seq


async def test_every_connection_sees_the_same_seq_ids_and_books_splice(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm()
    async with reading(exchange) as first:
        await trio.sleep(1.03)  # the second connection pushes at another phase
        async with reading(exchange) as second:
            await trio.sleep(5.0)
    a, b = first.links(), second.links()
    assert len(b) > 40
    start = a.index(b[0])
    assert a[start : start + len(b)] == b  # the same steps, none missing, none extra
    # A book held on the first connection continues on the second by seqId.
    seq_at_switch = second.pushes[0][3]  # the second connection's snapshot seqId
    assert splice_index(seq_at_switch, b) == 0
    assert first.engine.valid and second.engine.valid


async def test_a_quiet_book_sends_keep_alives_every_60_s(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm(stagger_ms=0)
    async with reading(exchange) as reader:
        await trio.sleep(1.05)  # between two pushes: the last change was at 1.0
        exchange.hold_books("BTC-USDT")
        held_at = len(reader.pushes)
        last_ts = int(reader.raw[-1]["ts"])
        await trio.sleep(130.0)
        exchange.release_books("BTC-USDT")
        await trio.sleep(1.0)
    quiet = reader.pushes[held_at:]
    keep_alives = [p for p in quiet if p[2] == p[3]]
    assert [round(t, 9) for t, *_ in keep_alives] == [61.0, 121.0]
    assert [int(reader.raw[held_at + i]["ts"]) for i in range(2)] == [
        last_ts + 60_000,
        last_ts + 120_000,
    ]
    assert all(not reader.raw[held_at + i]["bids"] for i in range(2))
    assert all(p[4] is ApplyOutcome.APPLIED for p in reader.pushes)
    assert len(quiet) > 2 and reader.engine.valid  # updates resume after the release


async def test_a_sequence_reset_makes_seq_id_smaller_and_still_links(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm()
    async with reading(exchange) as reader:
        await trio.sleep(1.05)  # between two pushes
        before = len(reader.pushes)
        exchange.reset_book_sequence("books:BTC-USDT")
        await trio.sleep(1.0)
    _, _, prev, seq, outcome = reader.pushes[before]
    assert seq < prev and prev == reader.pushes[before - 1][3]
    assert outcome is ApplyOutcome.APPLIED and reader.engine.valid
    assert all(p[4] is ApplyOutcome.APPLIED for p in reader.pushes)


async def test_login_books_are_refused_with_please_log_in(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm()
    tbt, tbt50 = (
        Subscription("books-l2-tbt", "BTC-USDT"),
        Subscription("books50-l2-tbt", "BTC-USDT"),
    )
    async with reading(exchange, tbt, tbt50) as reader:
        await trio.sleep(1.0)
    assert [(e["event"], e["code"]) for e in reader.events] == [("error", "60011")] * 2
    assert "Please log in" in reader.events[0]["msg"]
    assert not reader.pushes


# -- checksums and snapshots ---------------------------------------------------------------


def test_the_fakes_checksum_matches_okx_docs_and_the_client() -> None:
    bids = [("3366.1", "7", "0", "3"), ("3366", "6", "3", "4")]
    asks = [("3366.8", "9", "10", "3"), ("3368", "8", "3", "4")]
    assert okx_checksum(bids, asks) == -1881014294 == checksum_of(bids, asks)
    asks2 = [("3366.8", "9", "10", "3"), ("3368", "8", "3", "4"), ("3372", "8", "3", "4")]
    assert okx_checksum(bids[:1], asks2) == 831078360 == checksum_of(bids[:1], asks2)


async def test_checksums_are_zero_by_default_and_correct_when_on(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with reading(calm()) as off:
        await trio.sleep(5.0)
    assert {data["checksum"] for data in off.raw} == {0}
    on_exchange = calm(book_checksums=True)
    async with reading(on_exchange) as on:
        await trio.sleep(100.0)
    # The engine verifies every non-zero checksum: valid throughout means every one matched.
    assert all(data["checksum"] != 0 for data in on.raw)
    assert len(on.pushes) > 900
    assert all(p[4] is ApplyOutcome.APPLIED for p in on.pushes) and on.engine.valid
    book = on.engine.book()
    assert book is not None and book.checksum() == on.raw[-1]["checksum"]


async def test_without_snapshots_only_updates_come_and_rest_seeds_the_book(
    autojump_clock: trio.testing.MockClock,
) -> None:
    import httpx

    exchange = calm(book_snapshots=False)
    engine = BookEngine("BTC-USDT", "books")
    engine.begin_rest_seed()
    transport = exchange.http_transport()
    async with (
        httpx.AsyncClient(transport=transport, base_url="https://www.okx.com") as http,
        reading(exchange, engine=engine) as reader,
    ):
        await trio.sleep(0.55)  # five updates buffered
        assert engine.buffered == 5
        answer = (await http.get("/api/v5/market/books?instId=BTC-USDT&sz=400")).json()
        [rest] = answer["data"]
        seeded = engine.apply_rest_snapshot(
            rest["seqId"], int(rest["ts"]), rest["bids"], rest["asks"]
        )
        assert seeded.value == "ok" and engine.valid
        await trio.sleep(20.0)
    assert {action for _, action, *_ in reader.pushes} == {"update"}
    assert reader.pushes[0][0] == 0.1  # nothing at the subscribe, the first update a tick later
    outcomes = [p[4] for p in reader.pushes]
    assert outcomes[:5] == [ApplyOutcome.BUFFERED] * 5
    # The REST read at 0.55 saw the book's newest step; the WebSocket sends that step at
    # 0.6 (skipped: the REST book holds it) and continues from it.
    skipped = [p for p in reader.pushes if p[4] is ApplyOutcome.SKIPPED]
    assert [(round(t, 9), seq) for t, _, _, seq, _ in skipped] == [(0.6, rest["seqId"])]
    assert set(outcomes[6:]) == {ApplyOutcome.APPLIED} and engine.valid
    fake = exchange.order_book("BTC-USDT")
    book = engine.book()
    assert book is not None and fake is not None and book.seq_id == fake["seqId"]
    assert [lv.price_text for lv in book.bids] == [row[0] for row in fake["bids"]]
    assert exchange.order_book("ETH-USDT") is None  # nothing has read that book
    with pytest.raises(ValueError, match=r"depth must be an int in 1\.\.400, got 0"):
        exchange.order_book("BTC-USDT", 0)


def test_the_book_switches_are_checked() -> None:
    assert Fidelity().book_checksums is False and Fidelity().book_snapshots is True
    with pytest.raises(ValueError, match="book_checksums must be a bool, got 1"):
        Fidelity(book_checksums=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="book_snapshots must be a bool"):
        FakeExchange(book_snapshots=None)  # type: ignore[arg-type]


# -- faults --------------------------------------------------------------------------------

FAULTS = [
    ("drop_book_update", InvalidReason.GAP),
    ("repeat_book_update", InvalidReason.DUPLICATE),
    ("reorder_book_updates", InvalidReason.GAP),
    ("cross_book", InvalidReason.CROSSED),
    ("corrupt_book_checksum", InvalidReason.CHECKSUM),
]


@pytest.mark.parametrize("checksums", [False, True], ids=["checksum-0", "checksums-on"])
@pytest.mark.parametrize(("fault", "reason"), FAULTS, ids=[name for name, _ in FAULTS])
async def test_each_fault_breaks_one_book_its_way_and_a_resubscribe_heals_it(
    autojump_clock: trio.testing.MockClock, fault: str, reason: InvalidReason, checksums: bool
) -> None:
    exchange = calm(book_checksums=checksums)
    async with reading(exchange) as hit, reading(exchange) as spared:
        await trio.sleep(1.0)
        reached = getattr(exchange, fault)("books:BTC-USDT", only=[0])
        assert reached == 1
        await trio.sleep(0.5)
        assert not hit.engine.valid and hit.engine.invalid_reason is reason
        broken = [r for r in hit.reasons if r is not None]
        assert broken == [reason]  # broken once, in exactly that way
        await hit.resubscribe()
        await trio.sleep(30.0)  # hundreds of updates more
    assert spared.engine.valid and all(r is None for r in spared.reasons)
    assert hit.engine.valid and hit.engine.book() is not None
    healed = [i for i, p in enumerate(hit.pushes) if p[1] == "snapshot"]
    assert len(healed) == 2
    assert all(p[4] is ApplyOutcome.APPLIED for p in hit.pushes[healed[1] :])
    assert len(hit.pushes) - healed[1] > 250


async def test_a_fault_waits_for_the_next_subscribe_and_hits_only_its_book(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm()
    eth = Subscription("books", "ETH-USDT")
    async with exchange.connector(PUBLIC) as ws:
        exchange.drop_book_update(BOOKS)
        exchange.drop_book_update(BOOKS)
        async with trio.open_nursery() as nursery:
            reader = BookReader(ws)
            await ws.send_message(_request("subscribe", BOOKS, eth))
            nursery.start_soon(reader.run)
            await trio.sleep(1.0)
            nursery.cancel_scope.cancel()
    # One drop breaks the book; the second waits in the (now ignored) stream. ETH is untouched.
    assert [r for r in reader.reasons if r is not None] == [InvalidReason.GAP]
    eth_book = reader.others["ETH-USDT"]
    assert eth_book.valid and eth_book.invalidations == 0 and eth_book.applied > 5


async def test_a_delayed_snapshot_comes_that_much_later_with_nothing_before_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    exchange = calm()
    async with reading(exchange) as reader:
        await trio.sleep(1.0)
        assert exchange.delay_book_snapshot(BOOKS, 3.0) == 1
        await trio.sleep(1.0)
        assert reader.engine.valid  # the delay waits for the next snapshot
        exchange.drop_book_update(BOOKS)
        await trio.sleep(0.3)
        assert reader.engine.invalid_reason is InvalidReason.GAP
        resubscribed_at = trio.current_time()
        count = len(reader.pushes)
        await reader.resubscribe()
        await trio.sleep(5.0)
    after = reader.pushes[count:]
    assert after[0][1] == "snapshot"
    assert math.isclose(after[0][0], resubscribed_at + 3.0, abs_tol=1e-9)
    assert all(p[0] > after[0][0] for p in after[1:])  # no update before the snapshot
    assert reader.engine.valid and all(p[4] is ApplyOutcome.APPLIED for p in after)


def test_book_faults_reject_what_they_cannot_do() -> None:
    exchange = FakeExchange()
    with pytest.raises(ValueError, match="book faults apply to books subscriptions, not 'books5:"):
        exchange.drop_book_update("books5:BTC-USDT")
    with pytest.raises(ValueError):
        exchange.cross_book("not a subscription")
    with pytest.raises(ValueError, match="seconds must be a finite number >= 0, got -1"):
        exchange.delay_book_snapshot(BOOKS, -1)
    with pytest.raises(ValueError, match="seconds must be a finite number >= 0, got nan"):
        exchange.delay_book_snapshot(BOOKS, math.nan)
    with pytest.raises(TypeError, match="only must be an iterable"):
        exchange.repeat_book_update(BOOKS, only=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        exchange.hold_books("btc usdt")
    assert exchange.drop_book_update(BOOKS) == 0  # no connection open: none reached


# -- the model, without a connection -------------------------------------------------------


def _model() -> BookModel:
    model = BookModel(Decimal("0.1"), Decimal("0.0001"), random.Random(7))
    model.start(950_000, 950_003, Decimal("0.5"), Decimal("0.25"), EPOCH)
    return model


def test_the_model_keeps_400_uncrossed_levels_through_wild_moves() -> None:
    model = _model()
    rng = random.Random(1)
    bid = 950_000
    for i in range(300):
        bid += rng.randint(-700, 700)  # the demo market's jumps: hundreds of ticks a step
        model.move(bid, bid + rng.randint(1, 20), Decimal("1"), Decimal("2"), EPOCH + i * 100)
        assert len(model.bids) == len(model.asks) == BOOK_DEPTH
        assert max(model.bids) == bid and max(model.bids) < min(model.asks)
    assert model.n == 300 and len({s.seq_id - s.prev_seq_id for s in model.steps}) > 20
    rows = model.rows(True) + model.rows(False)
    assert all(Decimal(row[1]) > 0 and row[2] == "0" and int(row[3]) >= 1 for row in rows)


def test_a_stream_further_behind_than_the_log_starts_again_from_a_snapshot() -> None:
    model = _model()
    stream = BookStream()
    sub = BOOKS
    [first] = stream.render(sub, model, EPOCH, checksums=False, snapshots=True)
    assert json.loads(first)["action"] == "snapshot"
    for i in range(1, STEPS_KEPT + 2):
        model.move(950_000 + i % 7, 950_010, Decimal("1"), Decimal("2"), EPOCH + i * 100)
    assert model.steps_after(0) is None
    [again] = stream.render(sub, model, EPOCH + 200_000, checksums=False, snapshots=True)
    assert json.loads(again)["action"] == "snapshot"
    assert json.loads(again)["data"][0]["seqId"] == model.seq_id
    assert stream.render(sub, model, EPOCH + 200_000, checksums=False, snapshots=True) == []
