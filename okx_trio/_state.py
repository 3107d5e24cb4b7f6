"""Connection states, the transitions between them, and the events that report them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from ._okx import Endpoint

__all__ = ["TRANSITIONS", "ConnectionState", "StateChange", "is_allowed"]


class ConnectionState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"


_S = ConnectionState
#: Every transition the client makes; anything else is a bug. Written down once, here.
TRANSITIONS: Final[Mapping[ConnectionState, frozenset[ConnectionState]]] = MappingProxyType(
    {
        _S.DISCONNECTED: frozenset({_S.CONNECTING}),
        # An attempt ends connected, refused (retry or give up), or with the client closing.
        _S.CONNECTING: frozenset({_S.CONNECTED, _S.RECONNECTING, _S.FAILED, _S.DISCONNECTED}),
        _S.CONNECTED: frozenset({_S.RECONNECTING, _S.FAILED, _S.DISCONNECTED}),
        _S.RECONNECTING: frozenset({_S.CONNECTING, _S.FAILED, _S.DISCONNECTED}),
        # FAILED rests until reconnect() or the end of the client.
        _S.FAILED: frozenset({_S.CONNECTING, _S.DISCONNECTED}),
    }
)


def is_allowed(old: ConnectionState, new: ConnectionState) -> bool:
    """Whether the client may go from *old* to *new*."""
    return new in TRANSITIONS[old]


@dataclass(frozen=True, slots=True)
class StateChange:
    """One state transition, with a human-readable reason.

    For RECONNECTING, ``retry_count`` is the number of the retry about to be made (1 for the
    first); for CONNECTING it is the retries made so far. A StateChange whose ``state`` equals
    the previous one is not a transition but a notice on the same stream (an instrument the
    server rejected, an upgrade announcement).
    """

    state: ConnectionState
    message: str
    retry_count: int = 0
    #: Which connection of its endpoint's pool this is about (always 0 when not sharded):
    #: with ``endpoint``, the ``(endpoint, index)`` of its :class:`ConnectionStats`.
    connection: int = 0
    #: For RECONNECTING: seconds until the next attempt starts (the backoff delay, jitter
    #: included); None otherwise.
    delay: float | None = None
    #: The endpoint of that connection (``"public"``, ``"business"`` or ``"private"``:
    #: each has its own connections, numbered from 0), or None for a notice about the
    #: whole client rather than one connection.
    endpoint: Endpoint | None = "public"
