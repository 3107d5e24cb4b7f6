"""Property tests with hypothesis: the codec never raises, the book agrees with a model."""

from __future__ import annotations

import decimal
import json
import random
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from okx_trio._codec import (
    Ack,
    BadMessage,
    ChannelConnCount,
    DataPush,
    ErrorEvent,
    LoginAnswer,
    Notice,
    OtherEvent,
    Pong,
    TickerPush,
    _decode_push_fast,
    _decode_slow,
    decode,
    push_records,
)
from okx_trio._decoders import PushError
from okx_trio._subscriptions import SubscriptionBook

from .conftest import CAPTURES

EVENT_TYPES = (
    TickerPush,
    DataPush,
    Ack,
    ErrorEvent,
    Notice,
    Pong,
    LoginAnswer,
    ChannelConnCount,
    OtherEvent,
    BadMessage,
)


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


def _records_or_error(push: DataPush) -> str:
    try:
        return repr(push_records(push))
    except PushError as exc:
        return f"PushError: {exc}"


def assert_event(message: str | bytes) -> None:
    event = decode(message)
    assert isinstance(event, EVENT_TYPES)
    slow = _decode_slow(message)
    if isinstance(event, DataPush):
        # Other channels' data is decoded on demand: the two paths must agree on the arg
        # and on what its data decodes to (or why it does not).
        assert isinstance(slow, DataPush)
        assert (event.arg_key, event.channel) == (slow.arg_key, slow.channel)
        assert _records_or_error(event) == _records_or_error(slow)
        return
    # The msgspec fast path and the plain path must agree on everything (repr, because a
    # NaN field makes two equal tickers compare unequal).
    assert repr(event) == repr(slow)


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


# -- the msgspec fast path, field by field ------------------------------------------------------

# OKX's keys for the Ticker's Decimal fields, in Ticker's order.
DECIMAL_KEYS = (
    "last",
    "lastSz",
    "bidPx",
    "bidSz",
    "askPx",
    "askSz",
    "open24h",
    "high24h",
    "low24h",
    "vol24h",
    "volCcy24h",
)


def _number_text(mantissa: int, scale: int, form: int) -> str:
    """A finite number as text: OKX's own form, or another one Decimal reads exactly."""
    value = Decimal(mantissa).scaleb(-scale)
    if form == 0:
        return format(value, "f")  # OKX: "30228.7", "0.00000001", "-12"
    if form == 1:
        return str(value)  # "1.5E-9", "0E-12"
    return f"{mantissa}e{-scale}"  # "15e-1"


# (Built from integers: hypothesis's regex and decimal strategies cost milliseconds a draw.)
okx_numbers = st.builds(
    _number_text, st.integers(-(10**15), 10**15), st.integers(-3, 12), st.integers(0, 2)
)
# Text a broken server could put into a number field: OKX's empty book side (NaN), forms
# Decimal reads but the slow path refuses (whitespace, "_", non-ASCII digits, specials)...
ODD_TEXT = (
    *("", "NaN", "nan", "sNaN", "Inf", "-Infinity", "1_0", " 1", "1 ", "\t1", "1\n"),
    *("\u0661", "1\u0662", "\u00a01", "0x1", "1e999999999", "-1e-999999999", ".5", "5."),
    *("+1", "-0", "1e", "--1", "1.2.3", "\\", '"', "1\\u0031"),
)
# ...and other JSON types: msgspec would read a number into a Decimal, the slow path not.
odd_values = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([None, True, False, ["1"], {"a": "1"}]),
    st.text(max_size=6),
)
MISSING = object()
INST_IDS = st.sampled_from(["BTC-USDT", "ETH-USDT-SWAP", "BTC-USD-220527", "1INCH-USDT", "A-B"])


@st.composite
def ticker_items(draw: st.DrawFn, odd: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "instType": draw(st.sampled_from(["SPOT", "SWAP", "FUTURES", ""])),
        "instId": draw(INST_IDS),
    }
    for key in DECIMAL_KEYS:
        item[key] = draw(okx_numbers)
    item["ts"] = str(draw(st.integers(0, 2**53)))
    if draw(st.booleans()):
        item["sodUtc0"] = draw(okx_numbers)  # a key the codec does not read
    if odd:
        keys = [*DECIMAL_KEYS, "ts", "instId", "instType"]
        for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True)):
            value = draw(st.one_of(odd_values, st.just(MISSING)))
            if value is MISSING:
                del item[key]
            else:
                item[key] = value
    return item


def compact_push(items: list[dict[str, Any]], escaped: bool = False) -> str:
    """OKX's compact form; *escaped*: non-ASCII text as ``\\uXXXX`` escapes."""
    message = {"arg": {"channel": "tickers", "instId": items[0].get("instId", "X")}, "data": items}
    return json.dumps(message, separators=(",", ":"), ensure_ascii=escaped)


@settings(max_examples=150)
@given(st.lists(ticker_items(odd=False), min_size=1, max_size=3))
def test_well_formed_pushes_take_the_fast_path_exactly(items: list[dict[str, Any]]) -> None:
    message = compact_push(items)
    fast = _decode_push_fast(message)
    assert fast is not None  # the fast path does take them (the equality is not vacuous)
    assert repr(fast) == repr(_decode_slow(message))
    for ticker, item in zip(fast.tickers, items, strict=True):
        assert ticker.inst_id == item["instId"]
        assert ticker.inst_type == item["instType"]
        assert ticker.ts == int(item["ts"])
        values = (
            ticker.last,
            ticker.last_size,
            ticker.bid,
            ticker.bid_size,
            ticker.ask,
            ticker.ask_size,
            ticker.open_24h,
            ticker.high_24h,
            ticker.low_24h,
            ticker.vol_24h,
            ticker.vol_ccy_24h,
        )
        for value, key in zip(values, DECIMAL_KEYS, strict=True):
            assert type(value) is Decimal
            # Exactly the text's number, digits and exponent: nothing rounded on the way.
            assert value.as_tuple() == Decimal(item[key]).as_tuple()


@settings(max_examples=300)
@given(
    st.lists(st.one_of(ticker_items(odd=True), ticker_items(odd=False)), min_size=1, max_size=3),
    st.booleans(),
)
def test_fast_and_plain_paths_agree_on_odd_field_values(
    items: list[dict[str, Any]], escaped: bool
) -> None:
    assert_event(compact_push(items, escaped))


@settings(max_examples=100)
@given(st.lists(st.one_of(ticker_items(odd=True), ticker_items(odd=False)), min_size=1, max_size=2))
def test_the_paths_agree_when_decimal_does_not_trap_invalid_operations(
    items: list[dict[str, Any]],
) -> None:
    # Under such a context Decimal("") and Decimal("x") give NaN instead of raising; the
    # fast path must still refuse what the slow one refuses.
    with decimal.localcontext() as context:
        context.traps[decimal.InvalidOperation] = False
        assert_event(compact_push(items))


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
