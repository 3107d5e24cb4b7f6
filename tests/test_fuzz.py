"""Property tests with hypothesis: the codec never raises, the book agrees with a model."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from okx_trio._codec import (
    Ack,
    BadMessage,
    ErrorEvent,
    Notice,
    OtherEvent,
    Pong,
    TickerPush,
    _decode_slow,
    decode,
)
from okx_trio._subscriptions import SubscriptionBook

from .conftest import CAPTURES

EVENT_TYPES = (TickerPush, Ack, ErrorEvent, Notice, Pong, OtherEvent, BadMessage)


def captured_messages() -> list[str]:
    messages = (CAPTURES / "okx-messages.jsonl").read_text(encoding="utf-8").splitlines()[1:]
    for line in (CAPTURES / "okx-public-2022-05-13.txt").read_text(encoding="utf-8").splitlines():
        if " <- " not in line and " <-> " not in line:
            messages.append(line.split(": ", 1)[1])
    return messages


CAPTURED = captured_messages()
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(["", "NaN", "Infinity", "-1e999", "1e-999", "abc", "0x10", "1_000"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def assert_event(message: str | bytes) -> None:
    event = decode(message)
    assert isinstance(event, EVENT_TYPES)
    # The msgspec fast path and the plain path must agree on everything (repr, because a
    # NaN field makes two equal tickers compare unequal).
    assert repr(event) == repr(_decode_slow(message))


@settings(max_examples=400)
@given(st.text())
def test_decode_never_raises_on_any_text(text: str) -> None:
    assert_event(text)


@settings(max_examples=200)
@given(st.binary())
def test_decode_never_raises_on_any_bytes(data: bytes) -> None:
    assert isinstance(decode(data), BadMessage)


@settings(max_examples=300)
@given(st.integers(0, len(CAPTURED) - 1), st.data())
def test_decode_never_raises_on_mutated_captures(index: int, data: st.DataObject) -> None:
    message = json.loads(CAPTURED[index])
    paths = list(_paths(message))
    path = data.draw(st.sampled_from(paths))
    mutation = data.draw(st.sampled_from(["replace", "delete", "truncate"]))
    if mutation == "truncate":
        text = json.dumps(message, separators=(",", ":"))
        cut = data.draw(st.integers(0, len(text)))
        assert_event(text[:cut])
        return
    mutated = _mutate(message, path, mutation, data.draw(json_values))
    assert_event(json.dumps(mutated, separators=(",", ":")))


@settings(max_examples=300)
@given(
    st.sampled_from([m for m in CAPTURED if '"tickers"' in m and '"data"' in m]),
    st.sampled_from(["last", "askPx", "bidSz", "open24h", "ts", "instId", "instType"]),
    st.one_of(json_values, st.from_regex(r"-?[0-9]{0,6}(\.[0-9]{0,4})?([eE][-+]?[0-9]{1,3})?")),
)
def test_fast_and_plain_paths_agree_on_ticker_fields(push: str, key: str, value: Any) -> None:
    message = json.loads(push)
    message["data"][0][key] = value
    assert_event(json.dumps(message, separators=(",", ":")))


@settings(max_examples=200)
@given(st.integers(0, len(CAPTURED) - 1), st.lists(st.tuples(st.integers(0), st.characters())))
def test_decode_never_raises_on_character_flips(index: int, flips: list[tuple[int, str]]) -> None:
    text = list(CAPTURED[index])
    for position, char in flips:
        text[position % len(text)] = char
    assert_event("".join(text))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Any:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _mutate(message: Any, path: tuple[Any, ...], mutation: str, value: Any) -> Any:
    if not path:
        return value
    parent = message
    for step in path[:-1]:
        parent = parent[step]
    if mutation == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return message


# -- the subscription book against a model ----------------------------------------------------

INSTRUMENTS = [f"{c}-USDT" for c in ("BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "BAD")]


class BookAgainstModel(RuleBasedStateMachine):
    """Drive a SubscriptionBook and a toy OKX server; the book must never confuse either.

    The server holds the real subscription set of the connection and checks the book never
    subscribes a pair twice nor unsubscribes one it does not hold. ``BAD-USDT`` is refused
    with 60018. After the server has answered everything, what the book believes must be
    what the server holds, and that must be the desired set.
    """

    def __init__(self) -> None:
        super().__init__()
        self.book = SubscriptionBook(max_request_bytes=300)
        self.desired: set[str] = set()
        self.server: set[str] | None = None  # None: no connection
        self.inbox: list[tuple[str, str, str]] = []  # (req_id, op, inst_id) unanswered
        self.rng = random.Random(0)

    # what the user does
    @rule(inst=st.sampled_from(INSTRUMENTS))
    def add(self, inst: str) -> None:
        self.book.add(inst)
        self.desired.add(inst)

    @rule(inst=st.sampled_from(INSTRUMENTS))
    def remove(self, inst: str) -> None:
        self.book.remove(inst)
        self.desired.discard(inst)

    @rule(pairs=st.sets(st.sampled_from(INSTRUMENTS)))
    def replace(self, pairs: set[str]) -> None:
        self.book.replace(pairs)
        self.desired = set(pairs)

    # what the connection does
    @precondition(lambda self: self.server is None)
    @rule()
    def connect(self) -> None:
        self.server = set()
        self.inbox.clear()
        self.book.connection_opened()

    @precondition(lambda self: self.server is not None)
    @rule()
    def disconnect(self) -> None:
        self.server = None
        self.inbox.clear()
        self.book.connection_lost()

    @precondition(lambda self: self.server is not None)
    @rule()
    def send(self) -> None:
        for request in self.book.next_requests(0.0):
            assert len(request.text) <= 300
            for inst in request.inst_ids:
                self.inbox.append((request.req_id, request.op, inst))

    @precondition(lambda self: self.server is not None and bool(self.inbox))
    @rule(data=st.data())
    def answer_one(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.inbox) - 1))
        self._answer(self.inbox.pop(index))

    def _answer(self, item: tuple[str, str, str]) -> None:
        assert self.server is not None
        req_id, op, inst = item
        if op == "subscribe":
            if inst == "BAD-USDT":
                msg = f"channel:tickers,instId:{inst} doesn't exist"
                self.book.handle_error(ErrorEvent("60018", msg, req_id, inst))
                self.desired.discard(inst)
                return
            assert inst not in self.server, f"{inst} subscribed twice"
            self.server.add(inst)
            self.book.handle_ack(Ack("subscribe", inst, req_id))
        else:
            assert inst in self.server, f"{inst} unsubscribed but not subscribed"
            self.server.discard(inst)
            self.book.handle_ack(Ack("unsubscribe", inst, req_id))

    @precondition(lambda self: self.server is not None)
    @rule()
    def settle(self) -> None:
        """Send and answer until quiet; then everyone must agree."""
        assert self.server is not None
        for _ in range(20):
            self.send()
            if not self.inbox:
                break
            while self.inbox:
                self._answer(self.inbox.pop(0))
        assert not self.book.has_work()
        assert self.book.desired == self.desired
        assert self.book.acknowledged == self.server == self.desired
        assert self.book.settled

    @invariant()
    def desired_matches(self) -> None:
        assert self.book.desired == self.desired
        assert "BAD-USDT" not in self.book.acknowledged


TestBookAgainstModel = BookAgainstModel.TestCase
TestBookAgainstModel.settings = settings(
    max_examples=150, stateful_step_count=40, suppress_health_check=[HealthCheck.too_slow]
)
