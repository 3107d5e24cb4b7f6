"""What a failed connection attempt means, in one line a user can read."""

from __future__ import annotations

import http
from typing import Final

import trio
import trio_websocket

from ._connection import ConnectionClosed

__all__ = ["TRANSPORT_ERRORS", "close_code", "closed_reason", "describe"]

#: Failures of the network or the peer: they end an attempt, never the client. A connector
#: of the user's (``trio_websocket.open_websocket_url``) may raise trio-websocket's own
#: ``ConnectionClosed``; ours raise :class:`okx_trio.ConnectionClosed`.
TRANSPORT_ERRORS: Final = (
    ConnectionClosed,
    trio_websocket.ConnectionClosed,
    trio_websocket.HandshakeError,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    OSError,
)


def close_code(exc: ConnectionClosed | trio_websocket.ConnectionClosed) -> int | None:
    if isinstance(exc, ConnectionClosed):
        return exc.code
    reason = exc.reason
    return reason.code if reason is not None else None


def closed_reason(exc: ConnectionClosed | trio_websocket.ConnectionClosed) -> str:
    if isinstance(exc, ConnectionClosed):
        code, text = exc.code, exc.reason
    else:
        reason = exc.reason
        code, text = (reason.code, reason.reason or "") if reason is not None else (None, "")
    if code is None:
        return "connection closed by server"
    detail = f"code {code}"
    if text:
        detail += f", {text}"
    return f"connection closed by server ({detail})"


def _http_status(status: int) -> str:
    try:
        return f"HTTP {status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def describe(exc: BaseException) -> str:
    """One line for an exception and the root causes it wraps (a TLS error, a refusal).

    A refused WebSocket upgrade reads ``server refused the WebSocket upgrade: HTTP 404 Not
    Found``: the server's headers and body are not part of the story.
    """
    if isinstance(exc, trio_websocket.ConnectionRejected):
        return f"server refused the WebSocket upgrade: {_http_status(exc.status_code)}"
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    seen = {id(exc)}
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        # trio.open_tcp_stream wraps each address's failure in a group: one is the story.
        while isinstance(cause, BaseExceptionGroup) and len(cause.exceptions) == 1:
            cause = cause.exceptions[0]
        if str(cause):
            text += f" ({type(cause).__name__}: {cause})"
        cause = cause.__cause__ or cause.__context__
    return text
