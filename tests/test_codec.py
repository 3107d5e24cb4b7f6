"""The OKX codec against real OKX traffic and against everything a broken server could send."""

from __future__ import annotations

import decimal
import json
import re
from decimal import Decimal
from typing import Any

import pytest

from okx_trio._codec import (
    CHANNEL,
    PING,
    Ack,
    BadMessage,
    ChannelConnCount,
    DataPush,
    ErrorEvent,
    Event,
    LoginAnswer,
    Notice,
    OtherEvent,
    Pong,
    TickerPush,
    _decode_ack_fast,
    _decode_push_fast,
    _decode_slow,
    decode,
    encode_request,
    request_size,
)
from okx_trio._ticker import Ticker

from .conftest import CAPTURES

MESSAGES = CAPTURES / "okx-messages.jsonl"
SESSION_2022 = CAPTURES / "okx-public-2022-05-13.txt"

needs_captures = pytest.mark.skipif(
    not MESSAGES.exists() or not SESSION_2022.exists(),
    reason=f"OKX captures not found in {CAPTURES}",
)


def _lines() -> list[str]:
    return MESSAGES.read_text(encoding="utf-8").splitlines()


def _session_server_messages() -> list[str]:
    """Server messages of the 2022 session: lines ``T: JSON`` (client lines carry the URL)."""
    out = []
    for line in SESSION_2022.read_text(encoding="utf-8").splitlines():
        if line.startswith("wss://"):
            continue
        _, _, text = line.partition(": ")
        out.append(text)
    return out


def _ticker(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "instType": "SPOT",
        "instId": "BTC-USDT",
        "last": "30236",
        "lastSz": "0.0002",
        "askPx": "30228.7",
        "askSz": "1.55896972",
        "bidPx": "30228.6",
        "bidSz": "0.23393",
        "open24h": "29700.4",
        "high24h": "31073",
        "low24h": "28020.3",
        "sodUtc0": "29028.8",
        "sodUtc8": "30337.7",
        "volCcy24h": "525802090.62716611",
        "vol24h": "17602.13085371",
        "ts": "1652459224956",
    }
    item.update(overrides)
    return item


def _push(*items: Any, channel: str = "tickers") -> str:
    return json.dumps({"arg": {"channel": channel, "instId": "BTC-USDT"}, "data": list(items)})


def _expected_ticker(raw: dict[str, str]) -> Ticker:
    return Ticker(
        inst_id=raw["instId"],
        inst_type=raw["instType"],
        last=Decimal(raw["last"]),
        last_size=Decimal(raw["lastSz"]),
        bid=Decimal(raw["bidPx"]),
        bid_size=Decimal(raw["bidSz"]),
        ask=Decimal(raw["askPx"]),
        ask_size=Decimal(raw["askSz"]),
        open_24h=Decimal(raw["open24h"]),
        high_24h=Decimal(raw["high24h"]),
        low_24h=Decimal(raw["low24h"]),
        vol_24h=Decimal(raw["vol24h"]),
        vol_ccy_24h=Decimal(raw["volCcy24h"]),
        ts=int(raw["ts"]),
    )


def _assert_same_decimal(actual: Decimal, text: str) -> None:
    # Equal in value *and* in representation: nothing was rounded or normalised on the way.
    assert actual == Decimal(text)
    assert actual.as_tuple() == Decimal(text).as_tuple()
    assert format(actual, "f") == text


# -- the real capture, line by line ----------------------------------------------------------


@needs_captures
def test_capture_has_the_lines_this_file_describes() -> None:
    assert len(_lines()) == 18


@needs_captures
def test_capture_line_1_is_a_client_request_not_a_server_message() -> None:
    # A request has neither "event" nor "data": it is not something a server sends.
    event = decode(_lines()[0])
    assert isinstance(event, BadMessage)
    assert event.reason == "neither an event nor a push"
    assert event.raw == _lines()[0]


@needs_captures
@pytest.mark.parametrize(
    ("line", "inst_id"),
    [(2, "BTC-USD-220527"), (3, "UNI-USD-SWAP"), (4, "BTC-USDT")],
)
def test_capture_subscribe_acks_without_id(line: int, inst_id: str) -> None:
    assert decode(_lines()[line - 1]) == Ack("subscribe", inst_id, None)


@needs_captures
@pytest.mark.parametrize(
    ("line", "inst_id", "inst_type", "ts"),
    [
        (5, "BTC-USD-220527", "FUTURES", 1652459223003),
        (6, "UNI-USD-SWAP", "SWAP", 1652459223143),
        (7, "BTC-USDT", "SPOT", 1652459224956),
        (8, "BTC-USDT", "SPOT", 1652459226124),
        (9, "BTC-USDT", "SPOT", 1652459226240),
        (10, "BTC-USDT-SWAP", "SWAP", 1747141319306),
    ],
)
def test_capture_ticker_pushes(line: int, inst_id: str, inst_type: str, ts: int) -> None:
    text = _lines()[line - 1]
    raw = json.loads(text)["data"][0]
    event = decode(text)
    assert isinstance(event, TickerPush)
    assert len(event.tickers) == 1
    ticker = event.tickers[0]
    assert ticker == _expected_ticker(raw)
    assert ticker.inst_id == inst_id
    assert ticker.inst_type == inst_type
    assert ticker.ts == ts
    assert type(ticker.ts) is int
    for field, key in [
        ("last", "last"),
        ("last_size", "lastSz"),
        ("bid", "bidPx"),
        ("bid_size", "bidSz"),
        ("ask", "askPx"),
        ("ask_size", "askSz"),
        ("open_24h", "open24h"),
        ("high_24h", "high24h"),
        ("low_24h", "low24h"),
        ("vol_24h", "vol24h"),
        ("vol_ccy_24h", "volCcy24h"),
    ]:
        value = getattr(ticker, field)
        assert isinstance(value, Decimal), field
        _assert_same_decimal(value, raw[key])


@needs_captures
def test_every_captured_push_takes_the_fast_path() -> None:
    pushes = [line for line in _lines() if line.startswith('{"arg"') and '"data"' in line]
    assert len(pushes) == 6
    for line in pushes:
        fast = _decode_push_fast(line)
        assert fast is not None, line
        assert fast == _decode_slow(line)


@needs_captures
def test_capture_line_7_exact_values() -> None:
    event = decode(_lines()[6])
    assert event == TickerPush(
        (
            Ticker(
                inst_id="BTC-USDT",
                inst_type="SPOT",
                last=Decimal("30236"),
                last_size=Decimal("0.0002"),
                bid=Decimal("30228.6"),
                bid_size=Decimal("0.23393"),
                ask=Decimal("30228.7"),
                ask_size=Decimal("1.55896972"),
                open_24h=Decimal("29700.4"),
                high_24h=Decimal("31073"),
                low_24h=Decimal("28020.3"),
                vol_24h=Decimal("17602.13085371"),
                vol_ccy_24h=Decimal("525802090.62716611"),
                ts=1652459224956,
            ),
        )
    )


@needs_captures
def test_capture_line_9_keeps_trailing_digits() -> None:
    event = decode(_lines()[8])
    assert isinstance(event, TickerPush)
    _assert_same_decimal(event.tickers[0].last_size, "0.00000062")
    assert event.tickers[0].last_size.as_tuple() == (0, (6, 2), -8)
    _assert_same_decimal(event.tickers[0].vol_ccy_24h, "525802435.42181708")


@needs_captures
def test_capture_notice_64008() -> None:
    assert decode(_lines()[10]) == Notice(
        "64008", "The connection will soon be closed for a service upgrade. Please reconnect."
    )


@needs_captures
def test_capture_login_ack_is_a_login_answer() -> None:
    text = _lines()[11]
    assert decode(text) == LoginAnswer("0", "")


@needs_captures
@pytest.mark.parametrize(
    ("line", "code", "msg", "inst_id"),
    [
        (13, "60011", "Please log in", None),
        (14, "60006", "Timestamp request expired", None),
        (
            15,
            "60012",
            'Illegal request: {"op":"subscribe","args":["spot/ticker:BTC-USDT"]}',
            None,
        ),
        (16, "60018", "channel:ticker,instId:BTC-USDT doesn't exist", "BTC-USDT"),
        (17, "60005", "Invalid OK_ACCESS_KEY", None),
        (
            18,
            "60012",
            'Illegal request: {"id":"17321173472466905","op":"amend-order","args":[{"instId":'
            '"ETH-USDC","ordId":"2000345622407479296","newSz":"0.050857","newPx":"2949.4",'
            '"postOnly":true}],"postOnly":true}',
            "ETH-USDC",
        ),
    ],
)
def test_capture_errors(line: int, code: str, msg: str, inst_id: str | None) -> None:
    assert decode(_lines()[line - 1]) == ErrorEvent(code, msg, None, inst_id)


@needs_captures
def test_every_capture_line_decodes_to_the_expected_type() -> None:
    kinds = [type(decode(line)).__name__ for line in _lines()]
    assert kinds == (
        ["BadMessage"]
        + ["Ack"] * 3
        + ["TickerPush"] * 6
        + ["Notice", "LoginAnswer"]
        + ["ErrorEvent"] * 6
    )


@needs_captures
def test_2022_session_every_server_message_classified() -> None:
    counts: dict[str, int] = {}
    acks: list[Ack] = []
    for text in _session_server_messages():
        event = decode(text)
        key = type(event).__name__
        if isinstance(event, OtherEvent):
            key = f"OtherEvent:{event.event}"
            assert event.raw == text
        if isinstance(event, Ack):
            acks.append(event)
        assert not isinstance(event, BadMessage), text
        counts[key] = counts.get(key, 0) + 1
    # 9 tickers acks (3 requests, cumulative), 6+3 trades and books acks, pushes of three
    # channels: every one is an ack or a push of a channel the client speaks.
    ids = ("BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT")
    tickers_acks = [Ack("subscribe", i, None) for i in ids] * 3
    assert [a for a in acks if a.channel == "tickers"] == tickers_acks
    assert [a for a in acks if a.channel != "tickers"] == (
        [Ack("subscribe", i, None, "trades") for i in ids] * 2
        + [Ack("subscribe", i, None, "books") for i in ids]
    )
    assert "OtherEvent:subscribe" not in counts
    assert counts["DataPush"] > 0
    assert counts["TickerPush"] > 0
    assert sum(counts.values()) == len(_session_server_messages())


@needs_captures
def test_2022_session_tickers_pushes_match_their_text() -> None:
    n = 0
    for text in _session_server_messages():
        obj = json.loads(text)
        if obj.get("arg", {}).get("channel") != "tickers" or "data" not in obj:
            continue
        event = decode(text)
        assert event == TickerPush(tuple(_expected_ticker(item) for item in obj["data"]))
        n += 1
    assert n > 0


@needs_captures
def test_2022_session_trades_and_books_pushes_are_data_pushes_of_their_arg() -> None:
    seen = set()
    for text in _session_server_messages():
        obj = json.loads(text)
        channel = obj.get("arg", {}).get("channel")
        if "data" in obj and channel in ("trades", "books"):
            event = decode(text)
            assert isinstance(event, DataPush)
            assert event.channel == channel
            assert event.arg_key == (channel, None, None, obj["arg"]["instId"], None)
            seen.add(channel)
    assert seen == {"trades", "books"}


# -- pong, ping, other events ----------------------------------------------------------------


def test_pong() -> None:
    assert decode("pong") == Pong()
    assert isinstance(decode("pong"), Pong)


def test_ping_constant_is_the_bare_text() -> None:
    assert PING == "ping"
    assert CHANNEL == "tickers"


@pytest.mark.parametrize("text", ["Pong", "pong\n", " pong", "PONG", '"pong"'])
def test_near_pongs_are_not_pongs(text: str) -> None:
    assert not isinstance(decode(text), Pong)


def test_bytes_pong_is_a_binary_frame() -> None:
    assert decode(b"pong") == BadMessage("binary frame", b"pong")


def test_ack_with_id_and_conn_id() -> None:
    text = (
        '{"id":"7","event":"subscribe","arg":{"channel":"tickers","instId":"ETH-USDT"},'
        '"connId":"a4d3ae55"}'
    )
    assert decode(text) == Ack("subscribe", "ETH-USDT", "7")


def test_unsubscribe_ack() -> None:
    text = '{"id":"12","event":"unsubscribe","arg":{"channel":"tickers","instId":"BTC-USDT"}}'
    assert decode(text) == Ack("unsubscribe", "BTC-USDT", "12")


def test_numeric_id_is_read_as_its_text() -> None:
    text = '{"id":7,"event":"subscribe","arg":{"channel":"tickers","instId":"ETH-USDT"}}'
    assert decode(text) == Ack("subscribe", "ETH-USDT", "7")


def test_ack_for_another_channel_names_its_channel() -> None:
    text = '{"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"}}'
    assert decode(text) == Ack("subscribe", "BTC-USDT", None, "trades")
    assert decode(text).arg_key == ("trades", None, None, "BTC-USDT", None)  # type: ignore[union-attr]


def test_ack_for_a_channel_the_client_does_not_speak_is_other_event() -> None:
    text = '{"event":"subscribe","arg":{"channel":"sprd-tickers","sprdId":"X"}}'
    assert decode(text) == OtherEvent("subscribe", text)


@pytest.mark.parametrize("event", ["channel-conn-count-ok", "something-new"])
def test_unknown_events_are_other_events(event: str) -> None:
    text = json.dumps({"event": event, "channel": "tickers", "connCount": "2", "connId": "x"})
    assert decode(text) == OtherEvent(event, text)


def test_channel_conn_count_events_are_read() -> None:
    text = '{"event":"channel-conn-count","channel":"orders","connCount":"2","connId":"a"}'
    assert decode(text) == ChannelConnCount("orders", "2", False)
    text = text.replace("channel-conn-count", "channel-conn-count-error").replace('"2"', '"30"')
    assert decode(text) == ChannelConnCount("orders", "30", True)
    assert isinstance(decode('{"event":"channel-conn-count","connCount":"2"}'), BadMessage)


def test_a_login_event_is_a_login_answer_with_its_code() -> None:
    assert decode('{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}') == LoginAnswer(
        "0", ""
    )
    assert decode('{"event":"login"}') == LoginAnswer("0", "")  # 2023's acks: bare
    assert decode('{"event":"login","code":"60009","msg":"Login failed."}') == LoginAnswer(
        "60009", "Login failed."
    )


def test_60018_error_with_id_and_modern_wording() -> None:
    text = json.dumps(
        {
            "id": "3",
            "event": "error",
            "code": "60018",
            "msg": "Wrong URL or channel:tickers,instId:FOO-BAR doesn't exist. Please use the "
            "correct URL, channel and parameters referring to API document.",
            "connId": "a4d3ae55",
        }
    )
    event = decode(text)
    assert isinstance(event, ErrorEvent)
    assert (event.code, event.req_id, event.inst_id) == ("60018", "3", "FOO-BAR")


def test_error_arg_inst_id_wins_over_msg() -> None:
    text = json.dumps(
        {
            "event": "error",
            "code": "60018",
            "msg": "channel:tickers,instId:AAA-BBB doesn't exist",
            "arg": {"channel": "tickers", "instId": "CCC-DDD"},
        }
    )
    event = decode(text)
    assert isinstance(event, ErrorEvent)
    assert event.inst_id == "CCC-DDD"


def test_60012_quoting_our_single_arg_request_recovers_inst_id() -> None:
    quoted = encode_request("subscribe", ["SOL-USDT"], "9")
    text = json.dumps({"event": "error", "code": "60012", "msg": f"Illegal request: {quoted}"})
    assert decode(text) == ErrorEvent("60012", f"Illegal request: {quoted}", None, "SOL-USDT")


def test_error_numeric_code_and_missing_msg() -> None:
    assert decode('{"event":"error","code":60018}') == ErrorEvent("60018", "", None, None)


def test_notice_missing_fields_are_empty() -> None:
    assert decode('{"event":"notice"}') == Notice("", "")


# -- bad input: never raise ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not JSON"),
        ("ping", "not JSON"),
        ("{", "not JSON"),
        ("{'event': 'subscribe'}", "not JSON"),
        ("[" * 100_000, "not JSON"),
        ('{"a":' * 100_000, "not JSON"),
        ('{"a":' + "9" * 5000 + "}", "not JSON"),
        ("[]", "not a JSON object"),
        ('[{"event":"subscribe"}]', "not a JSON object"),
        ("1", "not a JSON object"),
        ("1e999", "not a JSON object"),
        ("null", "not a JSON object"),
        ("true", "not a JSON object"),
        ('"text"', "not a JSON object"),
        ("NaN", "not a JSON object"),
        ("{}", "neither an event nor a push"),
        ('{"arg":{"channel":"tickers","instId":"BTC-USDT"}}', "neither an event nor a push"),
        ('{"event":1}', "event is not a string"),
        ('{"event":null,"arg":{}}', "neither an event nor a push"),
        ('{"event":["subscribe"]}', "event is not a string"),
        ('{"event":"subscribe","arg":"tickers"}', "ack without an arg object"),
        ('{"event":"subscribe","arg":["tickers"]}', "ack without an arg object"),
        ('{"event":"subscribe","arg":{"channel":"tickers"}}', "ack without instId"),
        ('{"event":"subscribe","arg":{"channel":"tickers","instId":""}}', "ack without instId"),
        ('{"event":"subscribe","arg":{"channel":"tickers","instId":5}}', "ack without instId"),
        ('{"event":"unsubscribe","arg":{"channel":"tickers","instId":null}}', "ack without instId"),
        ('{"data":[]}', "push without an arg object"),
        ('{"arg":"tickers","data":[]}', "push without an arg object"),
        ('{"arg":{"channel":"tickers"},"data":[]}', "push without data"),
        ('{"arg":{"channel":"tickers"},"data":{}}', "push without data"),
        ('{"arg":{"channel":"tickers"},"data":null}', "push without data"),
        ('{"arg":{"channel":"tickers"},"data":"x"}', "push without data"),
    ],
)
def test_bad_messages_and_their_reasons(text: str, reason: str) -> None:
    event = decode(text)
    assert event == BadMessage(reason, text)


def test_missing_arg_on_ack_is_a_malformed_message() -> None:
    text = '{"event":"subscribe"}'
    event = decode(text)
    assert isinstance(event, BadMessage)
    assert event.reason.startswith("malformed message: KeyError")
    assert event.raw == text


@pytest.mark.parametrize("frame", [b"", b"\x00\xff", b'{"event":"subscribe"}', bytearray(b"pong")])
def test_binary_frames(frame: bytes) -> None:
    assert decode(frame) == BadMessage("binary frame", bytes(frame))


@pytest.mark.parametrize(
    "bad_item",
    [
        _ticker(last=30236),  # a number where OKX sends a string
        _ticker(last=30236.5),
        _ticker(last=None),
        _ticker(last=""),
        _ticker(last=["1"]),
        _ticker(last={"v": "1"}),
        _ticker(last=True),
        _ticker(last="NaN"),
        _ticker(last="nan"),
        _ticker(last="sNaN"),
        _ticker(last="Infinity"),
        _ticker(last="-Infinity"),
        _ticker(last="inf"),
        _ticker(last="abc"),
        _ticker(last="1.2.3"),
        _ticker(last="0x10"),
        _ticker(last="1e99999999999999999999999"),
        _ticker(bidPx="NaN"),
        _ticker(askPx="Infinity"),
        _ticker(askSz=3),
        _ticker(vol24h=[]),
        _ticker(open24h="abc"),
        _ticker(ts=1652459224956),
        _ticker(ts=""),
        _ticker(ts="-1"),
        _ticker(ts="1.5"),
        _ticker(ts="1e12"),
        _ticker(ts=None),
        _ticker(ts="9" * 5000),
        _ticker(instId=""),
        _ticker(instId=5),
        _ticker(instId=None),
        _ticker(instId=["BTC-USDT"]),
        {k: v for k, v in _ticker().items() if k != "instId"},
        {k: v for k, v in _ticker().items() if k != "ts"},
        {k: v for k, v in _ticker().items() if k != "last"},
        "BTC-USDT",
        ["BTC-USDT"],
        None,
        42,
        {"a": {"b": {"c": [[[[]]]]}}},
    ],
)
def test_malformed_ticker_items_are_bad_messages(bad_item: Any) -> None:
    text = _push(bad_item)
    event = decode(text)
    assert isinstance(event, BadMessage), event
    assert event.reason.startswith("malformed message: ")
    assert event.raw == text


def test_one_bad_item_spoils_the_whole_push() -> None:
    text = _push(_ticker(), _ticker(last="abc"))
    assert isinstance(decode(text), BadMessage)


def test_push_with_two_tickers_keeps_order() -> None:
    event = decode(_push(_ticker(instId="BTC-USDT"), _ticker(instId="ETH-USDT", last="2000.5")))
    assert isinstance(event, TickerPush)
    assert [(t.inst_id, t.last) for t in event.tickers] == [
        ("BTC-USDT", Decimal("30236")),
        ("ETH-USDT", Decimal("2000.5")),
    ]


def test_empty_optional_fields_become_nan_not_zero() -> None:
    # Illiquid instruments: OKX sends "" for an empty side of the book.
    event = decode(_push(_ticker(bidPx="", bidSz="", askPx="", askSz="")))
    assert isinstance(event, TickerPush)
    ticker = event.tickers[0]
    for value in (ticker.bid, ticker.bid_size, ticker.ask, ticker.ask_size):
        assert value.is_nan()
    assert ticker.last == Decimal("30236")


def test_missing_optional_fields_become_nan() -> None:
    item = {"instId": "BTC-USDT", "last": "1", "ts": "0"}
    event = decode(_push(item))
    assert isinstance(event, TickerPush)
    ticker = event.tickers[0]
    assert ticker.inst_type == ""
    assert ticker.ts == 0
    assert ticker.last == Decimal("1")
    assert ticker.open_24h.is_nan()
    assert ticker.vol_ccy_24h.is_nan()


def test_non_string_inst_type_becomes_empty() -> None:
    event = decode(_push(_ticker(instType=5)))
    assert isinstance(event, TickerPush)
    assert event.tickers[0].inst_type == ""


@pytest.mark.parametrize(
    "value",
    ["0", "-0", "0.00000001", "123456789012345678901234567890.123456789", "1E+5", "1e-8", "-5.5"],
)
def test_unusual_but_finite_numbers_are_kept_exactly(value: str) -> None:
    event = decode(_push(_ticker(last=value)))
    assert isinstance(event, TickerPush)
    assert event.tickers[0].last == Decimal(value)
    assert event.tickers[0].last.as_tuple() == Decimal(value).as_tuple()


def test_huge_exponent_is_kept() -> None:
    event = decode(_push(_ticker(last="1e999999999999999999")))
    assert isinstance(event, TickerPush)
    assert event.tickers[0].last == Decimal("1e999999999999999999")


def test_huge_timestamp_is_an_int() -> None:
    event = decode(_push(_ticker(ts="9" * 30)))
    assert isinstance(event, TickerPush)
    assert event.tickers[0].ts == int("9" * 30)


def test_unicode_inst_id_and_text_do_not_raise() -> None:
    event = decode(_push(_ticker(instId="ÄÖÜ-€")))
    assert isinstance(event, TickerPush)
    assert event.tickers[0].inst_id == "ÄÖÜ-€"
    assert decode('{"event":"notice","msg":"升级 \\ud800","code":"64008"}') == Notice(
        "64008", "升级 \ud800"
    )
    assert isinstance(decode("\ud800"), BadMessage)
    assert isinstance(decode("\x00"), BadMessage)


def test_ts_with_non_ascii_digits_is_bad() -> None:
    # "١٢" is ARABIC-INDIC ONE TWO: str.isdigit() is True and int() reads it as 12.
    assert isinstance(decode(_push(_ticker(ts="١٢"))), BadMessage)


@pytest.mark.parametrize("value", ["1_000", " 1.5", "1.5 ", "١٢"])
def test_prices_not_in_okx_number_form_are_bad(value: str) -> None:
    assert isinstance(decode(_push(_ticker(last=value))), BadMessage)


# -- the msgspec fast path against the plain one ------------------------------------------------


def _compact(*items: Any, escaped: bool = False) -> str:
    """A push as OKX sends it: no whitespace (the fast path's precondition)."""
    message = {"arg": {"channel": "tickers", "instId": "BTC-USDT"}, "data": list(items)}
    return json.dumps(message, separators=(",", ":"), ensure_ascii=escaped)


def test_a_compact_push_takes_the_fast_path() -> None:
    text = _compact(_ticker(), _ticker(instId="ETH-USDT", last="2000.5"))
    fast = _decode_push_fast(text)
    assert fast is not None
    assert fast == _decode_slow(text)
    assert fast == TickerPush(
        (_expected_ticker(_ticker()), _expected_ticker(_ticker(instId="ETH-USDT", last="2000.5")))
    )


def test_empty_and_missing_fields_take_the_fast_path_too() -> None:
    empty = _compact(_ticker(bidPx="", bidSz="", askPx="", askSz=""))
    item = {"instId": "BTC-USDT", "last": "1", "ts": "0"}
    for text in (empty, _compact(item)):
        fast = _decode_push_fast(text)
        assert fast is not None
        assert repr(fast) == repr(_decode_slow(text))  # repr: NaN != NaN
    fast = _decode_push_fast(empty)
    assert fast is not None
    assert fast.tickers[0].bid.is_nan()
    assert fast.tickers[0].last == Decimal("30236")


def test_newlines_between_tokens_change_nothing() -> None:
    message = {"arg": {"channel": "tickers", "instId": "BTC-USDT"}, "data": [_ticker()]}
    text = json.dumps(message, separators=(",", ":"), indent=0)
    assert "\n" in text
    assert " " not in text
    assert (
        _decode_push_fast(text) == _decode_slow(text) == TickerPush((_expected_ticker(_ticker()),))
    )


# What Decimal() reads but OKX never sends and the plain path refuses, or neither reads.
ODD_NUMBER_TEXT = [
    *("NaN", "nan", "sNaN", "Inf", "-Infinity", "1_000", " 1.5", "1.5 ", "\t1", "1\n", "\u00a01"),
    *("\u0661", "1\u0662", "0x10", "abc", "1e", "--1", "1.2.3", "\\", '"', "1\\u0031", ""),
]


@pytest.mark.parametrize("escaped", [False, True], ids=["raw", "escaped"])
@pytest.mark.parametrize("key", ["last", "bidPx", "volCcy24h", "ts", "instId"])
@pytest.mark.parametrize("value", ODD_NUMBER_TEXT)
def test_the_fast_path_refuses_what_the_plain_path_refuses(
    value: str, key: str, escaped: bool
) -> None:
    text = _compact(_ticker(), _ticker(**{key: value}), escaped=escaped)
    plain = _decode_slow(text)
    assert repr(decode(text)) == repr(plain)
    if isinstance(plain, BadMessage):
        assert _decode_push_fast(text) is None


@pytest.mark.parametrize("value", [30236, 0, -1, 1.5, 1e400, True, None, ["1"], {"v": "1"}])
def test_a_number_that_is_not_a_json_string_is_bad_on_the_fast_path_too(value: Any) -> None:
    # msgspec would read 30236 into a Decimal field; ours are str fields, which refuse it.
    text = _compact(_ticker(last=value)).replace("Infinity", "1e400")
    assert _decode_push_fast(text) is None
    assert isinstance(decode(text), BadMessage)


def test_the_paths_agree_when_decimal_does_not_trap_invalid_operations() -> None:
    # Under such a context Decimal("abc") is NaN instead of an error: still a bad message.
    with decimal.localcontext() as context:
        context.traps[decimal.InvalidOperation] = False
        for value in ("abc", "", "NaN"):
            text = _compact(_ticker(askPx=value))
            assert repr(decode(text)) == repr(_decode_slow(text))
        assert isinstance(decode(_compact(_ticker(askPx="abc"))), BadMessage)


def test_ticker_push_is_frozen_hashable_and_comparable() -> None:
    push = TickerPush((_expected_ticker(_ticker()),))
    with pytest.raises(AttributeError):
        push.tickers = ()  # type: ignore[misc]
    assert push == TickerPush((_expected_ticker(_ticker()),))
    assert hash(push) == hash(TickerPush((_expected_ticker(_ticker()),)))
    assert repr(push).startswith("TickerPush(tickers=(Ticker(inst_id='BTC-USDT', ")


@pytest.mark.parametrize(
    "message",
    [
        '{"event":"error","msg":{"a":1},"code":"60018"}',
        '{"event":"error","msg":"x","code":[1]}',
        '{"event":"error","msg":"x","code":true}',
        '{"event":"subscribe","id":{"x":1},"arg":{"channel":"tickers","instId":"A-B"}}',
        '{"event":"notice","code":{},"msg":"x"}',
    ],
)
def test_wrong_types_in_events_are_malformed(message: str) -> None:
    event = decode(message)
    assert isinstance(event, BadMessage)
    assert event.reason.startswith("malformed message: TypeError")


def test_fuzzed_mutations_of_real_messages_never_raise() -> None:
    import random

    rng = random.Random(20240513)
    if MESSAGES.exists():
        seeds = _lines()
    else:
        seeds = [
            _push(_ticker()),
            '{"event":"subscribe","arg":{"channel":"tickers","instId":"A-B"}}',
        ]
    junk = ['"', "{", "}", "[", "]", ",", ":", "null", "1e400", "\\", "\ud800", "NaN", "-"]
    for _ in range(3000):
        text = rng.choice(seeds)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(text) + 1)
            op = rng.random()
            if op < 0.4:
                text = text[:pos] + text[pos + 1 :]
            elif op < 0.8:
                text = text[:pos] + rng.choice(junk) + text[pos:]
            else:
                text = text[:pos]
        event = decode(text)  # must not raise
        assert isinstance(
            event,
            TickerPush
            | Ack
            | ErrorEvent
            | Notice
            | Pong
            | LoginAnswer
            | ChannelConnCount
            | OtherEvent
            | BadMessage,
        )


# -- encoding --------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["subscribe", "unsubscribe"])
def test_encode_request_is_okx_json(op: str) -> None:
    text = encode_request(op, ["BTC-USDT", "ETH-USDT-SWAP", "BTC-USD-220527"], "42")  # type: ignore[arg-type]
    assert json.loads(text) == {
        "id": "42",
        "op": op,
        "args": [
            {"channel": "tickers", "instId": "BTC-USDT"},
            {"channel": "tickers", "instId": "ETH-USDT-SWAP"},
            {"channel": "tickers", "instId": "BTC-USD-220527"},
        ],
    }
    # Compact, like OKX's own examples: no spaces anywhere.
    assert " " not in text


def test_encode_request_exact_text() -> None:
    assert encode_request("subscribe", ("BTC-USDT",), "1") == (
        '{"id":"1","op":"subscribe","args":[{"channel":"tickers","instId":"BTC-USDT"}]}'
    )


@needs_captures
def test_encode_request_matches_the_captured_request_args() -> None:
    captured = json.loads(_lines()[0])
    ours = json.loads(
        encode_request("subscribe", ["BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT"], "1")
    )
    assert ours["op"] == captured["op"]
    assert ours["args"] == captured["args"]


def test_encode_request_with_no_args() -> None:
    assert json.loads(encode_request("unsubscribe", [], "5")) == {
        "id": "5",
        "op": "unsubscribe",
        "args": [],
    }


def test_encoded_request_round_trips_to_the_same_args() -> None:
    ids = [f"C{i}-USDT" for i in range(50)]
    assert [a["instId"] for a in json.loads(encode_request("subscribe", ids, "99"))["args"]] == ids


@pytest.mark.parametrize("req_id", ["1", "42", "123456789", "x" * 32])
@pytest.mark.parametrize(
    "inst_id", ["BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-220527", "A-B", "X" * 20 + "-" + "Y" * 20]
)
def test_request_size_is_the_growth_per_extra_argument(req_id: str, inst_id: str) -> None:
    base = ["ETH-USDT"]
    for n in range(1, 6):
        before = encode_request("subscribe", base * n, req_id)
        after = encode_request("subscribe", [*(base * n), inst_id], req_id)
        assert len(after.encode()) - len(before.encode()) == request_size(inst_id)


@pytest.mark.parametrize("inst_id", ["BTC-USDT", "BTC-USD-220527"])
def test_request_size_overestimates_the_first_argument_by_its_missing_comma(inst_id: str) -> None:
    empty = encode_request("subscribe", [], "1")
    one = encode_request("subscribe", [inst_id], "1")
    assert len(one) - len(empty) == request_size(inst_id) - 1


def test_request_size_formula() -> None:
    assert request_size("BTC-USDT") == len(',{"channel":"tickers","instId":"BTC-USDT"}')


def test_encoded_length_is_bounded_by_sizes() -> None:
    ids = [f"C{i}-USDT" for i in range(100)]
    text = encode_request("unsubscribe", ids, "1234")
    assert (
        len(text)
        == len(encode_request("unsubscribe", [], "1234")) + sum(request_size(i) for i in ids) - 1
    )


def test_decoded_event_types_are_frozen() -> None:
    event = Ack("subscribe", "A-B", None)
    with pytest.raises(AttributeError):
        event.inst_id = "C-D"  # type: ignore[misc]
    assert re.fullmatch(r"Ack\(.*\)", repr(event))
    union: Event = event
    assert isinstance(union, Ack)


def _documented_acks() -> list[str]:
    acks = []
    for line in (CAPTURES / "okx-docs-samples.jsonl").read_text().splitlines():
        sample = json.loads(line)
        message = sample["message"]
        if isinstance(message, dict) and message.get("event") in ("subscribe", "unsubscribe"):
            acks.append(json.dumps(message, separators=(",", ":")))
    return acks


ODD_ACKS = [
    '{"event":"subscribe","arg":{"channel":"tickers","instId":"BTC-USDT"},"id":"7","connId":"a"}',
    '{"event":"subscribe","arg":{"channel":"tickers","instId":"BTC-USDT"},"id":7}',
    '{"event":"subscribe","arg":{"channel":"tickers"},"connId":"a"}',
    '{"event":"subscribe","arg":{"channel":"tickers","instId":""}}',
    '{"event":"subscribe","arg":{"channel":"tickers","instId":5}}',
    '{"event":"subscribe","arg":{"channel":"nope","instId":"BTC-USDT"}}',
    '{"event":"subscribe","arg":{"instId":"BTC-USDT"}}',
    '{"event":"subscribe","arg":"tickers"}',
    '{"event":"subscribe"}',
    '{"event":"subscribed","arg":{"channel":"tickers","instId":"BTC-USDT"}}',
    '{"event":"unsubscribe","arg":{"channel":"instruments","instType":"SPOT"}}',
    '{"event":"subscribe","arg":{"channel":"instruments","instType":""}}',
    '{"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT","uid":"77"}}',
    '{"event":"subscribe","arg":{"channel":"trades","instId":"BTC\\u002dUSDT"},"id":null}',
    '{"event":"subscribe","arg":{"channel":"tickers","instId":"BTC-USDT"},"id":"1","id":"2"}',
    '{"event":"subscribe","arg":{"channel":"tickers","instId":"BTC-USDT"}',
    '{"id":"9","event":"unsubscribe","arg":{"channel":"books","instId":"BTC-USDT"}}',
    '{"id":"9","event":"error","code":"60012","msg":"Illegal request"}',
    '{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}',
    '{"event":"subscribe","arg":{"channel":"tickers","instId":"\ud800"}}',
]


def test_an_ack_reads_the_same_on_the_fast_path_and_the_plain_one() -> None:
    acks = _documented_acks()
    assert len(acks) >= 2
    for text in acks + ODD_ACKS:
        fast = _decode_ack_fast(text)
        slow = _decode_slow(text)
        assert decode(text) == slow, text
        assert fast is None or fast == slow, text
    # The usual ones do take the fast path.
    assert all(_decode_ack_fast(text) is not None for text in acks)
    assert _decode_ack_fast(ODD_ACKS[0]) == Ack("subscribe", "BTC-USDT", "7", "tickers")
