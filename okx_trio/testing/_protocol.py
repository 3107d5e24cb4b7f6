"""The server side of OKX's v5 WebSocket wire format, without I/O.

Parses what a client sends into typed requests and renders what the exchange says back, byte
for byte in OKX's shape (compact JSON, OKX's key order). Nothing here touches Trio or a clock.

This is deliberately an independent implementation of the wire format: it does not import the
client's codec (``okx_trio._codec``), so a bug there shows up as a disagreement with the fake.
It reads the channel table (``okx_trio._okx``) only to tell a known channel from an unknown one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from .._okx import CHANNELS
from .._subscription import Subscription

__all__ = [
    "ILLEGAL_CODE",
    "LOGIN_CODE",
    "NOTICE_UPGRADE_CODE",
    "NOTICE_UPGRADE_MSG",
    "NOT_FOUND_CODE",
    "PING",
    "PONG",
    "TOO_FREQUENT_CODE",
    "TOO_FREQUENT_MSG",
    "UNDERLYING_CODE",
    "Arg",
    "IllegalRequest",
    "Ping",
    "Request",
    "describe_arg",
    "encode_ack",
    "encode_error",
    "encode_notice",
    "encode_push",
    "message_text",
    "parse_request",
]

PING: Final = "ping"
PONG: Final = "pong"

# OKX: "A combination of case-sensitive alphanumerics, all numbers, or all letters of up to 32
# characters." Anything else is an illegal request, which catches clients sending ints.
_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9]{1,32}")

ILLEGAL_CODE: Final = "60012"
NOT_FOUND_CODE: Final = "60018"
UNDERLYING_CODE: Final = "64000"
LOGIN_CODE: Final = "60011"
NOTICE_UPGRADE_CODE: Final = "64008"
NOTICE_UPGRADE_MSG: Final = (
    "The connection will soon be closed for a service upgrade. Please reconnect."
)
# What OKX says when a connection goes over its subscribe/unsubscribe quota, as seen on the
# wire: {"event":"error","msg":"Requests too frequent","code":"60014","connId":"5f3f787a"}.
TOO_FREQUENT_CODE: Final = "60014"
TOO_FREQUENT_MSG: Final = "Requests too frequent"

# OKX's names for the argument keys, in the order OKX writes them.
_ARG_KEYS: Final = ("instType", "instFamily", "instId", "ccy")
_OURS: Final = {
    "instType": "inst_type",
    "instFamily": "inst_family",
    "instId": "inst_id",
    "ccy": "ccy",
}
# Keys a client may add that do not select anything the fake serves differently.
_PASSED_THROUGH: Final = frozenset({"extraParams", "uid"})


@dataclass(frozen=True, slots=True)
class Arg:
    """One element of a request's ``args``.

    ``raw`` is the arg as the client sent it (echoed in acks, in the client's key order);
    ``subscription`` is what it asks for, or ``None`` for a channel OKX does not have (or
    arguments that do not make one, e.g. a lower-case ``instId``): OKX answers those
    ``code``, 60018 (64000 for an arg that still uses ``uly``).
    """

    raw: Mapping[str, str]
    subscription: Subscription | None
    code: str = "60018"

    @property
    def channel(self) -> str:
        return self.raw["channel"]

    @property
    def inst_id(self) -> str | None:
        return self.raw.get("instId")


@dataclass(frozen=True, slots=True)
class Ping:
    """The bare text ``ping``: OKX's application-level heartbeat."""


@dataclass(frozen=True, slots=True)
class Request:
    """A well-formed ``subscribe`` or ``unsubscribe`` request."""

    op: Literal["subscribe", "unsubscribe"]
    id: str | None
    args: tuple[Arg, ...]


@dataclass(frozen=True, slots=True)
class IllegalRequest:
    """Anything else: not JSON, not an object, unknown op, malformed args or id, binary."""

    text: str
    reason: str


def message_text(message: str | bytes) -> str:
    """The text of a frame as OKX would echo it; binary frames are decoded leniently."""
    if isinstance(message, bytes):
        return message.decode("utf-8", errors="replace")
    return message


def parse_request(message: str | bytes) -> Ping | Request | IllegalRequest:
    """Classify one client frame. Never raises: bad input becomes :class:`IllegalRequest`."""
    if isinstance(message, bytes):
        # OKX only speaks text frames; a binary frame is a client bug worth reporting.
        return IllegalRequest(message_text(message), "binary frame")
    if message == PING:
        return Ping()
    try:
        obj: Any = json.loads(message)
    except (ValueError, RecursionError):
        return IllegalRequest(message, "not JSON")
    if not isinstance(obj, dict):
        return IllegalRequest(message, "not a JSON object")
    op = obj.get("op")
    if op not in ("subscribe", "unsubscribe"):
        return IllegalRequest(message, f"unknown op {op!r}")
    req_id = obj.get("id")
    if req_id is not None and not (
        isinstance(req_id, str) and _REQUEST_ID.fullmatch(req_id) is not None
    ):
        return IllegalRequest(message, f"bad id {req_id!r}")
    raw_args = obj.get("args")
    if not isinstance(raw_args, list) or not raw_args:
        return IllegalRequest(message, "args must be a non-empty list")
    args: list[Arg] = []
    for raw in raw_args:
        arg = _parse_arg(raw)
        if arg is None:
            return IllegalRequest(message, f"bad arg {raw!r}")
        args.append(arg)
    return Request(op=op, id=req_id, args=tuple(args))


def _parse_arg(raw: object) -> Arg | None:
    """The arg, or ``None`` if it is malformed (OKX: 60012 for the whole request)."""
    if not isinstance(raw, dict):
        return None
    if not all(isinstance(key, str) and isinstance(value, str) for key, value in raw.items()):
        return None
    channel = raw.get("channel")
    if not channel:
        return None
    if "uly" in raw:
        return Arg(raw, None, UNDERLYING_CODE)  # dropped for instFamily in 2023
    spec = CHANNELS.get(channel)
    if spec is None:
        return Arg(raw, None)  # an unknown channel is 60018, not an illegal request
    given = {_OURS[key] for key in _ARG_KEYS if raw.get(key)}
    if not spec.required <= given or (spec.one_of and not given & spec.one_of):
        return None  # a known channel without its arguments: "Invalid request"
    values = {_OURS[key]: raw[key] for key in _ARG_KEYS if key in raw}
    try:
        subscription = Subscription(channel, **values)
    except ValueError:
        subscription = None
    return Arg(raw, subscription)


def describe_arg(raw: Mapping[str, str]) -> str:
    """``tickers,instId:BTC-USDT``: how OKX names an arg in its error texts."""
    parts = [raw.get("channel", "")]
    parts.extend(f"{key}:{raw[key]}" for key in _ARG_KEYS if key in raw)
    return ",".join(parts)


def _dumps(obj: Mapping[str, Any]) -> str:
    # OKX sends compact JSON; clients that compare raw text deserve the same bytes.
    return json.dumps(obj, separators=(",", ":"))


def encode_ack(op: str, arg: Mapping[str, str], req_id: str | None, conn_id: str | None) -> str:
    """A per-argument ack, ``{"id":..,"event":op,"arg":{..},"connId":..}``.

    ``id`` is present only if the request had one, ``connId`` only if given (2022's OKX
    sent none); the key order is OKX's.
    """
    out: dict[str, Any] = {} if req_id is None else {"id": req_id}
    out["event"] = op
    out["arg"] = {key: value for key, value in arg.items() if key not in _PASSED_THROUGH}
    if conn_id is not None:
        out["connId"] = conn_id
    return _dumps(out)


def encode_error(
    code: str, msg: str, req_id: str | None, conn_id: str | None, *, msg_first: bool = True
) -> str:
    """An ``error`` event. OKX writes ``msg`` before ``code``; *msg_first* false swaps them.

    ``id`` leads if the request had one; ``connId`` closes it if given.
    """
    out: dict[str, Any] = {} if req_id is None else {"id": req_id}
    out["event"] = "error"
    if msg_first:
        out.update(msg=msg, code=code)
    else:
        out.update(code=code, msg=msg)
    if conn_id is not None:
        out["connId"] = conn_id
    return _dumps(out)


def encode_notice(code: str, msg: str, conn_id: str | None) -> str:
    """A ``notice`` event, e.g. 64008: the connection will be closed for an upgrade soon."""
    out: dict[str, Any] = {"event": "notice", "msg": msg, "code": code}
    if conn_id is not None:
        out["connId"] = conn_id
    return _dumps(out)


def encode_push(arg: Mapping[str, str], data: Sequence[Any], *, action: str | None = None) -> str:
    """One data push: ``{"arg":{..},"action":..,"data":[..]}`` (``action`` for books only)."""
    out: dict[str, Any] = {"arg": dict(arg)}
    if action is not None:
        out["action"] = action
    out["data"] = list(data)
    return _dumps(out)
