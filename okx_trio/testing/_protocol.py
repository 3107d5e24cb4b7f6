"""The server side of the OKX v5 public WebSocket protocol, without I/O.

Parses what a client sends into typed requests and renders what the exchange says back, byte
for byte in OKX's shape (compact JSON, OKX's key order). Nothing here touches Trio or a clock,
so the rules are easy to read in one place and to test directly.

This is deliberately an independent implementation of the wire format: it does not import the
client's codec (``okx_trio._codec``), so a bug there shows up as a disagreement with the fake.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = [
    "CHANNEL",
    "NOTICE_UPGRADE_CODE",
    "NOTICE_UPGRADE_MSG",
    "PING",
    "PONG",
    "TOO_FREQUENT_CODE",
    "TOO_FREQUENT_MSG",
    "Arg",
    "IllegalRequest",
    "Ping",
    "Request",
    "encode_ack",
    "encode_arg_error",
    "encode_illegal",
    "encode_notice",
    "encode_push",
    "encode_too_frequent",
    "message_text",
    "parse_request",
]

CHANNEL: Final = "tickers"
PING: Final = "ping"
PONG: Final = "pong"

# OKX: "A combination of case-sensitive alphanumerics, all numbers, or all letters of up to 32
# characters." Anything else is an illegal request, which catches clients sending ints.
_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9]{1,32}")

_ILLEGAL_CODE: Final = "60012"
NOTICE_UPGRADE_CODE: Final = "64008"
NOTICE_UPGRADE_MSG: Final = (
    "The connection will soon be closed for a service upgrade. Please reconnect."
)
# What OKX says when a connection goes over its subscribe/unsubscribe quota, as seen on the
# wire: {"event":"error","msg":"Requests too frequent","code":"60014","connId":"5f3f787a"}.
TOO_FREQUENT_CODE: Final = "60014"
TOO_FREQUENT_MSG: Final = "Requests too frequent"


@dataclass(frozen=True, slots=True)
class Arg:
    """One element of a request's ``args``: a channel and, for ``tickers``, an instrument."""

    channel: str
    inst_id: str | None


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
    if not isinstance(raw, dict):
        return None
    channel = raw.get("channel")
    inst_id = raw.get("instId")
    if not isinstance(channel, str) or not channel:
        return None
    if inst_id is None:
        # Other channels may be keyed by instType/instFamily; tickers is always by instId.
        return None if channel == CHANNEL else Arg(channel, None)
    if not isinstance(inst_id, str) or not inst_id:
        return None
    return Arg(channel, inst_id)


def _dumps(obj: dict[str, Any]) -> str:
    # OKX sends compact JSON; clients that compare raw text deserve the same bytes.
    return json.dumps(obj, separators=(",", ":"))


def _arg_json(arg: Arg) -> dict[str, str]:
    out = {"channel": arg.channel}
    if arg.inst_id is not None:
        out["instId"] = arg.inst_id
    return out


def encode_ack(op: str, arg: Arg, req_id: str | None, conn_id: str) -> str:
    """A per-argument ack, ``{"id":..,"event":op,"arg":{..},"connId":..}``.

    ``id`` is present only if the request had one; the key order is OKX's.
    """
    out: dict[str, Any] = {} if req_id is None else {"id": req_id}
    out["event"] = op
    out["arg"] = _arg_json(arg)
    out["connId"] = conn_id
    return _dumps(out)


def encode_arg_error(code: str, arg: Arg, req_id: str | None, conn_id: str) -> str:
    """The per-argument error OKX sends for a channel or instrument it does not serve."""
    what = arg.channel if arg.inst_id is None else f"{arg.channel},instId:{arg.inst_id}"
    msg = (
        f"Wrong URL or channel:{what} doesn't exist. "
        "Please use the correct URL, channel and parameters referring to API document."
    )
    out: dict[str, Any] = {} if req_id is None else {"id": req_id}
    out.update(event="error", code=code, msg=msg, connId=conn_id)
    return _dumps(out)


def encode_illegal(text: str, conn_id: str) -> str:
    """The 60012 error for a request OKX cannot parse; it echoes the request text."""
    msg = f"Illegal request: {text}"
    return _dumps({"event": "error", "code": _ILLEGAL_CODE, "msg": msg, "connId": conn_id})


def encode_too_frequent(req_id: str | None, conn_id: str) -> str:
    """The 60014 error for a request over the rate limit; one per request, not per argument.

    Key order as OKX sends it (``msg`` before ``code``); ``id`` leads if the request had one.
    """
    out: dict[str, Any] = {} if req_id is None else {"id": req_id}
    out.update(event="error", msg=TOO_FREQUENT_MSG, code=TOO_FREQUENT_CODE, connId=conn_id)
    return _dumps(out)


def encode_notice(code: str, msg: str, conn_id: str) -> str:
    """A ``notice`` event, e.g. 64008: the connection will be closed for an upgrade soon."""
    return _dumps({"event": "notice", "msg": msg, "code": code, "connId": conn_id})


def encode_push(inst_id: str, ticker: dict[str, str]) -> str:
    """One ``tickers`` push carrying one ticker data object."""
    return _dumps({"arg": {"channel": CHANNEL, "instId": inst_id}, "data": [ticker]})
