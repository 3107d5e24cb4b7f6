"""The OKX v5 WebSocket codec: text in, typed events out; requests in, text out.

Sans-IO: no sockets, no Trio, no clock. :func:`decode` never raises on anything a server can
send; what it cannot make sense of comes back as :class:`BadMessage` with the reason, so the
caller can log and count it and carry on.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from decimal import InvalidOperation
from typing import Any, Final

import msgspec

from ._codec_events import (
    CHANNEL,
    Ack,
    BadMessage,
    ChannelConnCount,
    ErrorEvent,
    LoginAnswer,
    Notice,
    Op,
    OtherEvent,
    Pong,
)
from ._decoders import PushError, Record, decode_data, decode_push_text
from ._okx import CHANNELS, PING, PONG
from ._subscription import ArgKeyTuple, Subscription, arg_key_of
from ._ticker import Ticker
from ._ticker_codec import PUSH_DECODER, decode_ticker, ticker_from_raw

__all__ = [
    "CHANNEL",
    "PING",
    "Ack",
    "BadMessage",
    "ChannelConnCount",
    "DataPush",
    "ErrorEvent",
    "Event",
    "LoginAnswer",
    "Notice",
    "Op",
    "OtherEvent",
    "Pong",
    "TickerPush",
    "decode",
    "encode_request",
    "push_records",
    "request_size",
]

_PONG: Final = PONG


class TickerPush(msgspec.Struct, frozen=True, gc=False):
    """A ``tickers`` push; OKX sends one ticker per push, but ``data`` is a list.

    A msgspec Struct, not a dataclass like the other events: one is built per message, and
    a frozen dataclass's ``__init__`` costs five times more. It holds only ``Ticker``s, so
    it can take no part in a reference cycle (``gc=False``).
    """

    tickers: tuple[Ticker, ...]


class DataPush(msgspec.Struct, frozen=True):
    """A push of any channel but ``tickers``, its data not decoded yet.

    ``arg_key`` is :attr:`Subscription.arg_key`'s shape, so the protocol finds the
    subscription with one dict lookup, and decodes the records (:func:`push_records`) only
    for a push it wants: another channel's push costs no decoding. ``text`` is the message
    when it came the fast way, ``obj`` its parsed JSON when it came the slow way.
    """

    arg_key: ArgKeyTuple
    channel: str
    text: str | None = None
    obj: dict[str, Any] | None = None


def push_records(push: DataPush) -> tuple[Record, ...]:
    """The records of *push*, in order.

    Raises:
        PushError: naming what is wrong, for data that does not fit its channel.
    """
    channel = push.channel
    obj = push.obj
    if obj is None:
        assert push.text is not None
        records = decode_push_text(channel, push.text)
        if records is not None:
            return records
        try:
            obj = json.loads(push.text)
        except (ValueError, RecursionError) as exc:
            raise PushError(f"not JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise PushError("not a JSON object")
    arg = obj.get("arg")
    if not isinstance(arg, dict):
        raise PushError("push without an arg object")
    return decode_data(channel, arg, obj)


Event = (
    TickerPush
    | DataPush
    | Ack
    | ErrorEvent
    | Notice
    | Pong
    | LoginAnswer
    | ChannelConnCount
    | OtherEvent
    | BadMessage
)

_PONG_EVENT: Final = Pong()
# OKX names the argument in the text of 60018 and friends: "channel:tickers,instId:FOO-BAR doesn't
# exist", or quotes the whole request in 60012 ("Illegal request: {...\"instId\":\"X\"...}").
_ERROR_INST_ID = re.compile(r"instId[\"\\]*\s*[:=]\s*[\"\\]*([A-Za-z0-9][A-Za-z0-9.-]*)")
_ERROR_CHANNEL = re.compile(r"channel[\"\\]*\s*[:=]\s*[\"\\]*([A-Za-z0-9][A-Za-z0-9-]*)")


def _arg_text(item: str | Subscription) -> str:
    # A bare string is the tickers shorthand: an instrument id.
    if isinstance(item, str):
        return f'{{"channel":"{CHANNEL}","instId":"{item}"}}'
    return _subscription_text(item)


# A subscription's JSON is made twice per request (its size, then the request) and again at
# every resubscribe; json.dumps costs microseconds, and a burst of 100 new pairs paid it 200
# times. Subscriptions are immutable values, so their text can be kept.
@functools.lru_cache(maxsize=4096)
def _subscription_text(sub: Subscription) -> str:
    return str(sub)


def encode_request(op: Op, items: Iterable[str | Subscription], req_id: str) -> str:
    """The text of one subscribe/unsubscribe request.

    *items* are subscriptions, or instrument ids for the ``tickers`` channel.
    """
    args = ",".join(map(_arg_text, items))
    return f'{{"id":"{req_id}","op":"{op}","args":[{args}]}}'


def request_size(item: str | Subscription) -> int:
    """Bytes one argument adds to a request made by :func:`encode_request` (with its comma)."""
    return len(_arg_text(item)) + 1


def decode(message: str | bytes) -> Event:
    """Turn one WebSocket message into an event. Never raises."""
    if type(message) is str and message.startswith('{"arg":'):
        push: TickerPush | DataPush | None
        if message.startswith(_TICKERS_PREFIX):
            push = _decode_push_fast(message)
        else:
            push = _decode_data_fast(message)
        if push is not None:
            return push
    elif type(message) is str and message.startswith(_ACK_PREFIXES):
        ack = _decode_ack_fast(message)
        if ack is not None:
            return ack
    return _decode_slow(message)


# OKX writes an ack's event first, or its id first when the request had one.
_ACK_PREFIXES: Final = ('{"event":"', '{"id":"')


class _AckMessage(msgspec.Struct, gc=False):
    event: str
    arg: dict[str, str]
    id: str | None = None


_ACK_DECODER: Final = msgspec.json.Decoder(_AckMessage)


def _decode_ack_fast(message: str) -> Ack | None:
    """A subscribe/unsubscribe ack as :func:`_decode_slow` reads it, or None to let that
    decide (any other event, and anything unusual in an ack: a numeric id, a non-string
    value, an empty or missing one).
    A burst of 100 new subscriptions brings 100 of them."""
    try:
        ack = _ACK_DECODER.decode(message)
    except (msgspec.MsgspecError, ValueError):  # ValueError: a lone surrogate, say
        return None
    if ack.event != "subscribe" and ack.event != "unsubscribe":
        return None
    arg = ack.arg
    channel = arg.get("channel")
    if channel is None or channel not in CHANNELS:
        return None
    inst_id = arg.get("instId")
    inst_type = arg.get("instType")
    inst_family = arg.get("instFamily")
    ccy = arg.get("ccy")
    if "" in (inst_id, inst_type, inst_family, ccy) or (channel == CHANNEL and inst_id is None):
        return None
    op: Op = "subscribe" if ack.event == "subscribe" else "unsubscribe"
    return Ack(op, inst_id, ack.id, channel, inst_type, inst_family, ccy)


_TICKERS_PREFIX: Final = '{"arg":{"channel":"tickers"'


def _decode_data_fast(message: str) -> DataPush | None:
    """Other channels' hot path: the decoders' typed fast path, or None for the slow one."""
    channel = _channel_of(message)
    if channel is None or channel == CHANNEL or channel not in CHANNELS:
        return None
    try:
        obj = _ARG_DECODER.decode(message)
    except msgspec.MsgspecError:
        return None
    if obj.event is not None:
        return None
    key = arg_key_of(obj.arg)
    if key is None or key[0] != channel:
        return None
    return DataPush(key, channel, text=message)


_CHANNEL_AT: Final = len('{"arg":{"channel":"')


def _channel_of(message: str) -> str | None:
    # Compact pushes start with {"arg":{"channel":"NAME" (OKX's key order).
    if not message.startswith('{"arg":{"channel":"'):
        return None
    end = message.find('"', _CHANNEL_AT)
    return message[_CHANNEL_AT:end] if end > 0 else None


class _ArgOnly(msgspec.Struct, gc=False):
    arg: dict[str, str]
    data: msgspec.Raw  # a push has data; it is decoded later, and only if wanted
    event: str | None = None


_ARG_DECODER: Final = msgspec.json.Decoder(_ArgOnly)


def _decode_push_fast(message: str) -> TickerPush | None:
    """The hot path: a compact ``tickers`` push, decoded by msgspec into typed records.

    It returns exactly what :func:`_decode_slow` would, or None to let that decide: the
    message-wide checks below make every value meet the slow path's per-value rules
    (ASCII, no underscore, no surrounding whitespace; the backslash of a JSON escape could
    smuggle either in), msgspec's ``str`` fields refuse what is not a JSON string (a
    ``Decimal`` field would read the number ``30236``, which the slow path refuses), and
    anything msgspec or Decimal rejects goes the slow way too. ``tests/test_fuzz.py`` and
    ``tests/test_codec.py`` hold the two paths equal.
    """
    # Whitespace between tokens changes no value, and msgspec refuses raw control characters
    # (tabs, newlines) inside strings, as JSON demands; what is left is a space inside one.
    if not message.isascii() or "_" in message or " " in message or "\\" in message:
        return None
    try:
        push = PUSH_DECODER.decode(message)
    except msgspec.MsgspecError:
        return None
    if push.event is not None or push.arg.channel != CHANNEL or not push.data:
        return None
    try:
        return TickerPush(tuple(map(ticker_from_raw, push.data)))
    except (ValueError, ArithmeticError):
        return None


def _decode_slow(message: str | bytes) -> Event:
    """Every message, with a reason for whatever is wrong. Never raises."""
    if isinstance(message, bytes | bytearray):
        # OKX's public endpoint sends text only; a binary frame is a broken or foreign server.
        return BadMessage("binary frame", bytes(message))
    if message == _PONG:
        return _PONG_EVENT
    try:
        obj = json.loads(message)
    except (ValueError, RecursionError):
        return BadMessage("not JSON", message)
    if not isinstance(obj, dict):
        return BadMessage("not a JSON object", message)
    try:
        return _decode_object(obj, message)
    except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as exc:
        return BadMessage(f"malformed message: {type(exc).__name__}: {exc}", message)


def _decode_object(obj: dict[str, Any], raw: str) -> Event:
    event = obj.get("event")
    if event is None:
        if "data" in obj:
            return _decode_push(obj, raw)
        return BadMessage("neither an event nor a push", raw)
    if not isinstance(event, str):
        return BadMessage("event is not a string", raw)
    req_id = _optional_str(obj.get("id"))
    if event == "subscribe" or event == "unsubscribe":
        arg = obj["arg"]
        if not isinstance(arg, dict):
            return BadMessage("ack without an arg object", raw)
        channel = arg.get("channel")
        if not isinstance(channel, str) or channel not in CHANNELS:
            return OtherEvent(event, raw)
        values = {k: arg.get(k) for k in ("instId", "instType", "instFamily", "ccy")}
        for key, value in values.items():
            if value is not None and (not isinstance(value, str) or not value):
                what = "without instId" if key == "instId" else f"with a bad {key}"
                return BadMessage(f"ack {what}", raw)
        if channel == CHANNEL and values["instId"] is None:
            return BadMessage("ack without instId", raw)
        op: Op = "subscribe" if event == "subscribe" else "unsubscribe"
        return Ack(
            op,
            values["instId"],
            req_id,
            channel,
            values["instType"],
            values["instFamily"],
            values["ccy"],
        )
    if event == "error":
        return _decode_error(obj, raw, req_id)
    if event == "notice":
        return Notice(_optional_str(obj.get("code")) or "", _optional_str(obj.get("msg")) or "")
    if event == "channel-conn-count" or event == "channel-conn-count-error":
        channel = obj.get("channel")
        if not isinstance(channel, str):
            return BadMessage(f"{event} without a channel", raw)
        count = _optional_str(obj.get("connCount")) or ""
        return ChannelConnCount(channel, count, event.endswith("error"))
    if event == "login":
        code = obj.get("code", "0")  # 2023's acks lacked more than connId: absent means "0"
        return LoginAnswer(str(code), _optional_str(obj.get("msg")) or "")
    return OtherEvent(event, raw)


def _decode_error(obj: dict[str, Any], raw: str, req_id: str | None) -> ErrorEvent:
    msg = _optional_str(obj.get("msg")) or ""
    arg = obj.get("arg")
    arg_key = arg_key_of(arg) if isinstance(arg, dict) else None
    inst_id = arg.get("instId") if isinstance(arg, dict) else None
    if not isinstance(inst_id, str):
        # Only a message naming exactly one instrument blames it; a 60012 quoting a
        # whole multi-argument request names them all, and blames none of them.
        named = set(_ERROR_INST_ID.findall(msg))
        inst_id = named.pop() if len(named) == 1 else None
    if arg_key is None and inst_id is not None:
        # "Wrong URL or channel:trades,instId:FOO-BAR doesn't exist": both are named.
        channels = set(_ERROR_CHANNEL.findall(msg))
        if len(channels) == 1:
            arg_key = (channels.pop(), None, None, inst_id, None)
    return ErrorEvent(_optional_str(obj.get("code")) or "", msg, req_id, inst_id, arg_key)


def _decode_push(obj: dict[str, Any], raw: str) -> Event:
    arg = obj.get("arg")
    if not isinstance(arg, dict):
        return BadMessage("push without an arg object", raw)
    channel = arg.get("channel")
    if channel != CHANNEL:
        if not isinstance(channel, str) or channel not in CHANNELS:
            # Well-formed, just not a channel we speak (a replay, a newer OKX channel).
            return OtherEvent(f"push:{channel}", raw)
        key = arg_key_of(arg)
        if key is None or not all(v is None or isinstance(v, str) for v in key):
            return BadMessage("push with a malformed arg", raw)
        return DataPush(key, channel, obj=obj)
    data = obj["data"]
    if not isinstance(data, list) or not data:
        return BadMessage("push without data", raw)
    return TickerPush(tuple(decode_ticker(item) for item in data))


def _optional_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected a string, got {type(value).__name__}")
