"""The one thing a server-side session needs from a connection: a tiny transport interface.

The in-memory connector (``_memory``) and the real WebSocket server (``_server``) both
implement it, so the session logic (``_session``, ``_replay``) is written once.
"""

from __future__ import annotations

from typing import Protocol

from trio_websocket import CloseReason

__all__ = ["ServerTransport"]


class ServerTransport(Protocol):
    """The server's end of one accepted WebSocket connection."""

    @property
    def close_reason(self) -> CloseReason | None:
        """Why the connection closed (either side), or ``None`` while it is open."""
        ...

    async def receive(self) -> str | bytes:
        """The next message from the client.

        Raises:
            trio_websocket.ConnectionClosed: once the connection is closed, by either side.
        """
        ...

    async def send(self, message: str | bytes) -> None:
        """Send one message to the client.

        Raises:
            trio_websocket.ConnectionClosed: if the connection is closed.
        """
        ...

    async def close(self, code: int, reason: str) -> None:
        """Close from the server side with *code*; idempotent, never raises ``ConnectionClosed``.

        Code 1006 (and any other code that cannot appear in a close frame) means abort: the
        connection ends without a closing handshake, as when a network path dies.
        """
        ...
