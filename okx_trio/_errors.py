"""What a failed connection attempt means, in one line a user can read."""

from __future__ import annotations

from typing import Final

import trio
import trio_websocket

__all__ = ["AUTH_CLOSE_CODE", "TRANSPORT_ERRORS", "close_code", "closed_reason", "describe"]

#: OKX closes with this code when it refuses our credentials: retrying cannot help.
AUTH_CLOSE_CODE: Final = 4001
#: Failures of the network or the peer: they end an attempt, never the client.
TRANSPORT_ERRORS: Final = (
    trio_websocket.ConnectionClosed,
    trio_websocket.HandshakeError,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    OSError,
)


def close_code(exc: trio_websocket.ConnectionClosed) -> int | None:
    reason = exc.reason
    return reason.code if reason is not None else None


def closed_reason(exc: trio_websocket.ConnectionClosed) -> str:
    reason = exc.reason
    if reason is None:
        return "connection closed by server"
    text = f"code {reason.code}"
    if reason.reason:
        text += f", {reason.reason}"
    return f"connection closed by server ({text})"


def describe(exc: BaseException) -> str:
    """One line for an exception and the root causes it wraps (a TLS error, a refusal)."""
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
