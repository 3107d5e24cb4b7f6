"""decode_data and decode_push_text: recorded traffic, malformed pushes, fuzzing, fast == plain."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okx_trio import BookLevel, BookUpdate, Trade
from okx_trio._decoders import (
    RECORD_TYPES,
    PushError,
    Record,
    decode_data,
    decode_push_text,
)

from .conftest import CAPTURES
from .test_records import SAMPLES


def _recorded(channel: str) -> list[tuple[str, dict[str, Any]]]:
    """(text, parsed) of each push of *channel* in the 2022 recording."""
    out = []
    text = (CAPTURES / "okx-public-2022-05-13.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if " <- " in line or " <-> " in line:
            continue
        raw = line.split(": ", 1)[1]
        message = json.loads(raw)
        if "data" in message and message["arg"]["channel"] == channel:
            out.append((raw, message))
    return out


RECORDED_TRADES = _recorded("trades")
RECORDED_BOOKS = _recorded("books")


def compact(message: Any) -> str:
    return json.dumps(message, separators=(",", ":"))


def both(channel: str, message: dict[str, Any]) -> tuple[Record, ...]:
    """decode_data's records, checked equal to the fast path's when it takes the push."""
    records = decode_data(channel, message["arg"], message)
    fast = decode_push_text(channel, compact(message))
    assert fast is None or repr(fast) == repr(records)
    return records


# -- the 2022 recording ----------------------------------------------------------------------


def test_recorded_trades_match_an_independent_parse() -> None:
    assert len(RECORDED_TRADES) == 74
    for raw, message in RECORDED_TRADES:
        expected = tuple(
            Trade(
                inst_id=item["instId"],
                trade_id=item["tradeId"],
                price=Decimal(item["px"]),
                size=Decimal(item["sz"]),
                side=item["side"],
                count=1,  # 2022's trades carried no count, source or seqId
                ts=int(item["ts"]),
                source="",
                seq_id=None,
            )
            for item in message["data"]
        )
        assert decode_data("trades", message["arg"], message) == expected
        assert decode_push_text("trades", raw) == expected  # the fast path takes them all


def test_recorded_books_decode_with_their_actions_and_levels() -> None:
    actions = []
    for raw, message in RECORDED_BOOKS:
        (item,) = message["data"]
        (book,) = decode_data("books", message["arg"], message)
        assert isinstance(book, BookUpdate)
        assert book.inst_id == message["arg"]["instId"]
        assert (book.channel, book.action, book.ts) == ("books", message["action"], int(item["ts"]))
        # 2022 had no sequence ids: a snapshot is still -1, an update cannot say.
        assert book.seq_id is None
        assert book.prev_seq_id == (-1 if message["action"] == "snapshot" else None)
        assert (len(book.bids), len(book.asks)) == (len(item["bids"]), len(item["asks"]))
        assert book.bids[:1] == tuple(
            BookLevel(Decimal(p), Decimal(s), int(n)) for p, s, _, n in item["bids"][:1]
        )
        assert book.checksum == item["checksum"] != 0
        assert decode_push_text("books", raw) == (book,)
        actions.append(book.action)
    assert actions.count("snapshot") == 3 and actions.count("update") == 287


def test_sequence_ids_of_the_docs_example_chain() -> None:
    """The docs' sequence: snapshot (-1, 10), update (10, 15), keep-alive (15, 15),
    reset (15, 3), normal (3, 5): all decode, ids as sent."""
    chain = [
        ("snapshot", -1, 10),
        ("update", 10, 15),
        ("update", 15, 15),
        ("update", 15, 3),
        ("update", 3, 5),
    ]
    for action, prev, seq in chain:
        message = copy.deepcopy(SAMPLES["books"])
        message["action"] = action
        message["data"][0].update(prevSeqId=prev, seqId=seq)
        if prev == seq:
            message["data"][0].update(bids=[], asks=[])
        (book,) = both("books-l2-tbt", message)
        assert isinstance(book, BookUpdate)
        assert (book.channel, book.action, book.prev_seq_id, book.seq_id) == (
            "books-l2-tbt",
            action,
            prev,
            seq,
        )
        assert (book.bids == ()) is (prev == seq)


def test_several_data_items_give_several_records_in_order() -> None:
    message = copy.deepcopy(SAMPLES["trades"])
    second = dict(message["data"][0], tradeId="130639475", px="42220", side="sell")
    message["data"].append(second)
    records = both("trades", message)
    assert [(r.trade_id, r.price, r.side) for r in records] == [  # type: ignore[union-attr]
        ("130639474", Decimal("42219.9"), "buy"),
        ("130639475", Decimal("42220"), "sell"),
    ]
    candles = copy.deepcopy(SAMPLES["candle1D"])
    candles["data"].append([*candles["data"][0][:8], "1"])
    assert [c.confirm for c in both("candle1D", candles)] == [False, True]  # type: ignore[union-attr]


# -- what decode_data refuses ------------------------------------------------------------------

MISSING = object()

# (sample, path into the message, value or MISSING, text the error must contain)
MALFORMED: list[tuple[str, tuple[Any, ...], Any, str]] = [
    ("trades", ("data", 0, "px"), MISSING, "data[0].px: missing"),
    ("trades", ("data", 0, "px"), 42219.9, "px: float 42219.9"),
    ("trades", ("data", 0, "px"), "", "px: ''"),
    ("trades", ("data", 0, "px"), "NaN", "px: 'NaN'"),
    ("trades", ("data", 0, "px"), "Infinity", "px: 'Infinity'"),
    ("trades", ("data", 0, "px"), "1_000", "px: '1_000'"),
    ("trades", ("data", 0, "sz"), "\u0661\u0662", "sz: '\u0661\u0662'"),
    ("trades", ("data", 0, "sz"), " 1", "sz: ' 1'"),
    ("trades", ("data", 0, "sz"), {"a": ["1"]}, "sz: a JSON object"),
    ("trades", ("data", 0, "sz"), ["1"], "sz: a JSON array"),
    ("trades", ("data", 0, "ts"), 1630048897897, "ts: int"),
    ("trades", ("data", 0, "ts"), "\u0661\u0662", "ts: '\u0661\u0662'"),
    ("trades", ("data", 0, "ts"), "", "ts: ''"),
    ("trades", ("data", 0, "side"), "long", "side: 'long'"),
    ("trades", ("data", 0, "count"), "1_0", "count: '1_0'"),
    ("trades", ("data", 0, "count"), 3, "count: int 3"),
    ("trades", ("data", 0, "seqId"), "1234", "seqId: '1234'"),
    ("trades", ("data", 0, "seqId"), True, "seqId: bool"),
    ("trades", ("data", 0, "instId"), "", "instId: ''"),
    ("trades", ("data", 0), "garbage", "data[0]: 'garbage' is not an object"),
    ("trades", ("data",), [], "data: a JSON array is not a non-empty array"),
    ("trades", ("data",), {"px": "1"}, "data: a JSON object"),
    ("trades", ("data",), MISSING, "data: NoneType"),
    ("books", ("action",), MISSING, "action: NoneType"),
    ("books", ("action",), "partial", "action: 'partial'"),
    ("books", ("arg", "instId"), MISSING, "arg.instId"),
    ("books", ("data", 0, "bids", 1), ["8475.55", "101", "0"], "bids[1]: a JSON array"),
    ("books", ("data", 0, "bids", 1), ["8475.55", "101", 0, "1"], "bids[1]"),
    ("books", ("data", 0, "bids", 1, 0), "8.47555e3", "bids[1] price: '8.47555e3'"),
    ("books", ("data", 0, "bids", 1, 0), "08475.55", "bids[1] price: '08475.55'"),
    ("books", ("data", 0, "bids", 1, 0), "1e999999999999", "bids[1] price: '1e999999999999'"),
    ("books", ("data", 0, "bids", 1, 0), "1E+999999999999", "bids[1] price: '1E+999999999999'"),
    ("books", ("data", 0, "bids", 1, 0), "1E-8", "bids[1] price: '1E-8'"),
    ("books", ("data", 0, "bids", 1, 0), "nan", "bids[1] price: 'nan'"),
    ("books", ("data", 0, "bids", 1, 0), "NaN12", "bids[1] price: 'NaN12'"),
    ("books", ("data", 0, "bids", 1, 1), "-Infinity", "bids[1] size: '-Infinity'"),
    ("books", ("data", 0, "bids", 1, 1), ".5", "bids[1] size: '.5'"),
    ("books", ("data", 0, "asks", 2, 1), "+85", "asks[2] size: '+85'"),
    ("books", ("data", 0, "asks", 2, 1), "NaN", "asks[2] size: 'NaN'"),
    ("books", ("data", 0, "asks", 2, 1), "1_0", "asks[2] size: '1_0'"),
    ("books", ("data", 0, "asks", 2, 3), "\u0661", "asks[2] orders: '\u0661'"),
    ("books", ("data", 0, "asks"), {"8476.98": "415"}, "asks: a JSON object"),
    ("books", ("data", 0, "asks"), MISSING, "asks: missing"),
    ("books", ("data", 0, "seqId"), "123456", "seqId: '123456'"),
    ("books", ("data", 0, "prevSeqId"), 1.5, "prevSeqId: float"),
    ("books", ("data", 0, "checksum"), "0", "checksum: '0'"),
    ("bbo-tbt", ("arg",), {"channel": "bbo-tbt"}, "arg.instId"),
    ("bbo-tbt", ("data", 0, "ts"), MISSING, "ts: missing"),
    ("books5", ("data", 0, "seqId"), [1], "seqId: a JSON array"),
    ("candle1D", ("data", 0), ["1597026383085", "1", "1", "1", "1", "1", "1", "1"], "9 strings"),
    ("candle1D", ("data", 0, 8), "2", "confirm: '2'"),
    ("candle1D", ("data", 0, 8), 0, "9 strings"),
    ("candle1D", ("data", 0, 1), "NaN", "open: 'NaN'"),
    ("candle1D", ("data", 0, 0), "x", "ts: 'x'"),
    ("mark-price-candle1D", ("data", 1, 5), "yes", "data[1] confirm: 'yes'"),
    ("index-candle30m", ("data", 0, 4), "", "close: ''"),
    ("mark-price", ("data", 0, "markPx"), MISSING, "markPx: missing"),
    ("index-tickers", ("data", 0, "idxPx"), "0x10", "idxPx: '0x10'"),
    ("funding-rate", ("data", 0, "fundingTime"), "", "fundingTime: ''"),
    ("funding-rate", ("data", 0, "nextFundingTime"), "soon", "nextFundingTime: 'soon'"),
    ("funding-rate", ("data", 0, "fundingRate"), "1.2.3", "fundingRate: '1.2.3'"),
    ("open-interest", ("data", 0, "oi"), None, "oi: NoneType"),
    ("price-limit", ("data", 0, "enabled"), "true", "enabled: 'true'"),
    ("price-limit", ("data", 0, "enabled"), MISSING, "enabled: missing"),
    ("estimated-price", ("data", 0, "settlePx"), "1,5", "settlePx: '1,5'"),
    ("liquidation-orders", ("data", 0, "details"), [], "details: a JSON array"),
    ("liquidation-orders", ("data", 0, "details", 0, "sz"), 13, "details[0].sz: int 13"),
    ("liquidation-orders", ("data", 0, "details", 0), "x", "details[0]: 'x'"),
    ("opt-summary", ("data", 0, "delta"), "1_0", "delta: '1_0'"),
    ("opt-summary", ("data", 0, "ts"), MISSING, "ts: missing"),
    ("instruments", ("data", 0, "instType"), MISSING, "instType: missing"),
    ("instruments", ("data", 0, "instIdCode"), "1000000000", "instIdCode: '1000000000'"),
    ("instruments", ("data", 0, "upcChg"), "tickSz", "upcChg: 'tickSz'"),
    ("instruments", ("data", 0, "upcChg", 0, "effTime"), "later", "upcChg[0].effTime"),
    ("instruments", ("data", 0, "tickSz"), "0.1 ", "tickSz: '0.1 '"),
    ("instruments", ("data", 0, "futureSettlement"), "false", "futureSettlement: 'false'"),
]


def mutate(message: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(message)
    node: Any = out
    for step in path[:-1]:
        node = node[step]
    if value is MISSING:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


@pytest.mark.parametrize(("name", "path", "value", "expected"), MALFORMED)
def test_malformed_push_names_the_field(
    name: str, path: tuple[Any, ...], value: Any, expected: str
) -> None:
    message = mutate(SAMPLES[name], path, value)
    channel = message["arg"]["channel"] if "arg" in message else name
    with pytest.raises(PushError) as caught:
        decode_data(channel, message.get("arg", {}), message)
    assert expected in str(caught.value)
    assert str(caught.value).startswith(channel + ": ")
    assert decode_push_text(channel, compact(message)) is None


@pytest.mark.parametrize("channel", ["tickers", "status", "orders", "books-elp", "candle2m", ""])
def test_channels_it_does_not_decode_are_a_push_error(channel: str) -> None:
    with pytest.raises(PushError, match="not handled"):
        decode_data(channel, {"channel": channel}, {"data": [{}]})
    assert decode_push_text(channel, compact({"arg": {}, "data": [{}]})) is None


def test_arg_and_push_must_be_objects() -> None:
    with pytest.raises(PushError, match="must be JSON objects"):
        decode_data("trades", None, SAMPLES["trades"])  # type: ignore[arg-type]
    with pytest.raises(PushError, match="must be JSON objects"):
        decode_data("books", {"instId": "A-B"}, [])  # type: ignore[arg-type]
    message = dict(SAMPLES["trades"], arg="trades")
    assert decode_push_text("trades", compact(message)) is None


# -- fuzzing: only PushError, and the fast path agrees ------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "NaN", "Infinity", "-1e999", "1e-999", "abc", "0x10", "1_000"])
    | st.sampled_from(["\u0661\u0662", " 1", "1 ", "+1", "01", ".5", "5.", "1E-8", "0", "-0"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
SAMPLE_NAMES = sorted(name for name in SAMPLES if name.split(":")[0] in RECORD_TYPES)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            out += _paths(child, (*prefix, index))
    return out


def check(channel: str, text: str) -> None:
    """decode_push_text never raises; when it gives records, decode_data gives the same."""
    fast = decode_push_text(channel, text)
    try:
        obj = json.loads(text)
    except ValueError:
        assert fast is None
        return
    arg = obj.get("arg") if isinstance(obj, dict) else None
    try:
        plain = decode_data(channel, arg, obj)  # type: ignore[arg-type]
    except PushError:
        assert fast is None, text
        return
    assert fast is None or repr(fast) == repr(plain), text


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(SAMPLE_NAMES), st.data())
def test_mutated_samples_give_records_or_push_error(name: str, data: st.DataObject) -> None:
    message = SAMPLES[name]
    channel = message["arg"]["channel"]
    path = data.draw(st.sampled_from(_paths(message)))
    value = data.draw(st.one_of(json_values, st.just(MISSING)))
    mutated = mutate(message, path, value)
    check(channel, compact(mutated))
    check(channel, json.dumps(mutated, ensure_ascii=True))  # escapes and spaces too


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SAMPLE_NAMES), st.data())
def test_truncated_samples_give_records_or_push_error(name: str, data: st.DataObject) -> None:
    message = SAMPLES[name]
    text = compact(message)
    check(message["arg"]["channel"], text[: data.draw(st.integers(0, len(text)))])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(RECORD_TYPES)), json_values, json_values)
def test_any_json_gives_records_or_push_error(channel: str, arg: Any, data: Any) -> None:
    check(channel, compact({"arg": arg, "data": data, "action": "snapshot"}))
    check(channel, compact(data))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["trades", "books", "bbo-tbt", "candle1m", "mark-price"]), st.text())
def test_any_text_gives_records_or_push_error(channel: str, text: str) -> None:
    check(channel, text)


@pytest.mark.parametrize("channel", ["trades", "books", "bbo-tbt", "candle1m"])
def test_deep_nesting_in_an_ignored_field_defers(channel: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    text = '{"arg":{"instId":"A-B","x":' + deep + '},"data":[],"y":' + deep + "}"
    assert decode_push_text(channel, text) is None


def test_fast_path_defers_on_what_is_not_text() -> None:
    text = compact(SAMPLES["trades"])
    assert decode_push_text("trades", text.encode()) is None  # type: ignore[arg-type]
    assert decode_push_text(None, text) is None  # type: ignore[arg-type]


def test_huge_integer_is_named_not_rendered() -> None:
    message = mutate(SAMPLES["trades"], ("data", 0, "ts"), 10**5000)
    with pytest.raises(PushError, match="ts: int"):
        decode_data("trades", message["arg"], message)


# -- the fast path does take well-formed pushes ---------------------------------------------------


def _number_text(mantissa: int, scale: int) -> str:
    return format(Decimal(mantissa).scaleb(-scale), "f")  # OKX's form: "30228.7", "0.00000001"


okx_numbers = st.builds(_number_text, st.integers(0, 10**12), st.integers(0, 10))
levels = st.lists(
    st.builds(lambda p, s, n: [p, s, "0", str(n)], okx_numbers, okx_numbers, st.integers(0, 99)),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["books", "books-l2-tbt", "books50-l2-tbt"]),
    st.sampled_from(["snapshot", "update"]),
    levels,
    levels,
    st.integers(-1, 2**40),
    st.integers(0, 2**40),
)
def test_well_formed_books_take_the_fast_path(
    channel: str, action: str, bids: Any, asks: Any, prev: int, seq: int
) -> None:
    item = {
        "asks": asks,
        "bids": bids,
        "ts": "1597026383085",
        "checksum": -5,
        "prevSeqId": prev,
        "seqId": seq,
    }
    message: dict[str, Any] = {
        "arg": {"channel": channel, "instId": "BTC-USDT"},
        "action": action,
        "data": [item],
    }
    fast = decode_push_text(channel, compact(message))
    assert fast is not None
    assert repr(fast) == repr(decode_data(channel, message["arg"], message))
    (book,) = fast
    assert isinstance(book, BookUpdate)
    assert [(lv.price_text, lv.size_text, lv.orders) for lv in book.bids] == [
        (p, s, int(n)) for p, s, _, n in bids
    ]
    assert (book.prev_seq_id, book.seq_id, book.checksum) == (prev, seq, -5)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "instId": st.sampled_from(["BTC-USDT", "ETH-USDT-SWAP", "BTC-USD-220527"]),
                "tradeId": st.integers(1, 2**40).map(str),
                "px": okx_numbers,
                "sz": okx_numbers,
                "side": st.sampled_from(["buy", "sell"]),
                "ts": st.integers(0, 2**45).map(str),
            },
            optional={
                "count": st.integers(1, 500).map(str),
                "source": st.sampled_from(["0", "1"]),
                "seqId": st.integers(0, 2**40),
            },
        ),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["trades", "trades-all"]),
)
def test_well_formed_trades_take_the_fast_path(items: list[dict[str, Any]], channel: str) -> None:
    message: dict[str, Any] = {"arg": {"channel": channel, "instId": items[0]["instId"]}}
    message["data"] = items
    fast = decode_push_text(channel, compact(message))
    assert fast is not None
    assert fast == decode_data(channel, message["arg"], message)
    for trade, item in zip(fast, items, strict=True):
        assert isinstance(trade, Trade)
        assert (trade.price, trade.size) == (Decimal(item["px"]), Decimal(item["sz"]))
        assert trade.count == int(item.get("count", "1"))
        assert trade.seq_id == item.get("seqId")


def test_fast_path_takes_every_sample_it_covers() -> None:
    taken = set()
    for name in SAMPLE_NAMES:
        message = SAMPLES[name]
        channel = message["arg"]["channel"]
        fast = decode_push_text(channel, compact(message))
        if fast is not None:
            assert repr(fast) == repr(decode_data(channel, message["arg"], message))
            taken.add(channel)
    assert taken == {
        "books",
        "bbo-tbt",
        "books5",
        "trades",
        "trades-all",
        "candle1D",
        "mark-price-candle1D",
        "index-candle30m",
    }


def test_level_memo_stays_bounded_and_holds_only_valid_texts() -> None:
    from okx_trio._push_values import _LEVEL_TEXTS, _LEVEL_TEXTS_MAX

    rows = [[str(30000 + i), "0", "0", str(i)] for i in range(_LEVEL_TEXTS_MAX + 500)]
    message = {
        "arg": {"channel": "books5", "instId": "A-B"},
        "data": [{"bids": rows, "asks": [], "ts": "1"}],
    }
    (book,) = both("books5", message)
    assert len(book.bids) == len(rows)  # type: ignore[union-attr]
    assert [lv.orders for lv in book.bids[-3:]] == [  # type: ignore[union-attr]
        len(rows) - 3,
        len(rows) - 2,
        len(rows) - 1,
    ]
    assert 0 < len(_LEVEL_TEXTS) <= _LEVEL_TEXTS_MAX
    assert all(format(Decimal(text), "f") == text for text in _LEVEL_TEXTS)
    bad = mutate(message, ("data", 0, "bids", 7, 0), "0x1")
    with pytest.raises(PushError, match=r"bids\[7\] price: '0x1'"):
        decode_data("books5", bad["arg"], bad)
    assert "0x1" not in _LEVEL_TEXTS
    # A remembered "0" is still a zero (a Decimal zero is false: no `or` in the lookup).
    (again,) = both("books5", message)
    assert again == book and again.bids[0].size == 0  # type: ignore[union-attr]


# -- lazy levels: every bad level is still refused when the push is decoded -----------------

BAD_NUMBERS = [
    *["", " 1", "1 ", "1\n", "+1", "01", "00", "-", "-.5", ".5", "5.", "1..2", "1.2.3"],
    *["1e5", "1E-8", "1_0", "0x1", "NaN", "-Infinity", "inf", "1,5"],
    *["\u0661", "1\u0662", "\uff11", "\u22121"],  # Arabic-Indic, fullwidth 1, minus sign
]
BAD_COUNTS = ["", "-1", "1.0", "+1", " 1", "\u0663", "1e2", "9" * 100, "x"]


@pytest.mark.parametrize("channel", ["books", "bbo-tbt"])
@pytest.mark.parametrize(
    ("column", "value"),
    [(0, bad) for bad in BAD_NUMBERS]
    + [(1, bad) for bad in BAD_NUMBERS]
    + [(3, bad) for bad in BAD_COUNTS],
)
def test_every_bad_level_is_refused_at_decode_time(channel: str, column: int, value: str) -> None:
    name = {0: "price", 1: "size", 3: "orders"}[column]
    row = ["8476.97", "256", "0", "12"]
    row[column] = value
    message: dict[str, Any] = {
        "arg": {"channel": channel, "instId": "BTC-USDT"},
        "data": [{"bids": [["1", "1", "0", "1"], row], "asks": [], "ts": "1", "seqId": 1}],
    }
    if channel == "books":
        message["action"] = "snapshot"
    with pytest.raises(PushError) as caught:
        decode_data(channel, message["arg"], message)
    assert f"bids[1] {name}: {value[:40]!r}" in str(caught.value)
    assert decode_push_text(channel, compact(message)) is None
    assert decode_push_text(channel, json.dumps(message, ensure_ascii=True)) is None


def test_an_applied_message_with_a_level_not_in_okx_form_is_refused_by_record() -> None:
    """The engine checks levels with float() (it takes "1e-5"); the record, as before the
    levels were lazy, takes OKX's plain form only, and says so when it is made."""
    from okx_trio._book_push import BookMessage

    good = BookMessage("A-B", "books", "update", 1, 2, 3, [("1", "2", "0", "3")], [], 0)
    assert good.record().bids == (BookLevel(Decimal(1), Decimal(2), 3),)
    bad = good._replace(asks=[("1e-5", "2", "0", "3")])
    with pytest.raises(PushError, match=r"asks\[0\] price: '1e-5'"):
        bad.record()


plain_like = st.text(alphabet="0123456789.-+eE_ \u0661", max_size=12)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(plain_like, st.text(max_size=8), okx_numbers, okx_numbers.map(lambda t: "-" + t)))
def test_the_level_number_check_is_exactly_okx_plain_form(text: str) -> None:
    """The regex the decoder checks a price or size with accepts exactly the texts that
    ``level_number`` (Decimal and a round trip through format(..., "f")) accepts."""
    from okx_trio._push_values import _PLAIN, level_number

    assert (_PLAIN.fullmatch(text) is not None) == (level_number(text) is not None), text


@settings(max_examples=1500, deadline=None)
@given(
    st.one_of(
        plain_like,
        st.text(max_size=8),
        okx_numbers,
        okx_numbers.map(lambda t: "-" + t),
        st.integers(95, 105).map(lambda n: "1" * n),
        st.integers(95, 105).map(lambda n: "1." + "1" * n),
    )
)
def test_a_book_level_takes_okx_plain_form_without_a_sign_and_its_quick_check_agrees(
    text: str,
) -> None:
    """A level's price or size: plain form, >= 0, at most 99 digits each side of the point;
    ``levels_from_texts``' quick size test takes no text the regex refuses, nor refuses one
    it takes."""
    from okx_trio._push_values import _LEVEL, level_number, levels_from_texts

    whole, _, fraction = text.partition(".")
    expected = (
        level_number(text) is not None
        and not text.startswith("-")
        and len(whole) <= 99
        and len(fraction) <= 99
    )
    assert (_LEVEL.fullmatch(text) is not None) == expected, text
    try:
        levels_from_texts([("1", text, "0", "1")], "bids")
        taken = True
    except PushError:
        taken = False
    assert taken == expected, text


def test_fast_path_records_equal_plain_ones_before_and_after_a_read() -> None:
    for text, message in RECORDED_BOOKS[:20]:
        fast = decode_push_text("books", text)
        plain = decode_data("books", message["arg"], message)
        assert fast is not None and fast == plain and hash(fast) == hash(plain)
        for record in fast:
            assert isinstance(record, BookUpdate)
            record.bids  # noqa: B018 - reading it builds and caches the levels
        assert fast == plain and repr(fast) == repr(plain)
