"""The transport seam: what the client needs from a WebSocket connection, and nothing more.

Each transport (``_transport_trio_websocket``, ``_transport_websockets``,
``_transport_sansio``, the fake exchange's in-memory one) implements :class:`Connection` and
raises this module's :class:`ConnectionClosed`, so the client above never sees a library's
own exception types.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

__all__ = ["Connection", "ConnectionClosed", "Connector"]


class ConnectionClosed(Exception):
    """The connection is closed: the peer closed it, the network dropped it, or we did.

    ``code`` is the WebSocket close code (``None`` when the connection ended without one,
    e.g. a TCP reset: reported as 1006 by most libraries) and ``reason`` its text
    (``""`` when none was given).
    """

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(code, reason)

    def __str__(self) -> str:
        if self.code is None:
            return "connection closed"
        return f"connection closed (code {self.code}{', ' + self.reason if self.reason else ''})"

    def __repr__(self) -> str:
        return f"ConnectionClosed(code={self.code!r}, reason={self.reason!r})"


class Connection(Protocol):
    """One open WebSocket connection, as the client uses it.

    ``get_message`` and ``send_message`` raise :class:`ConnectionClosed` once the
    connection is closed (after every message received before the close was returned).

    Optional, not part of this protocol (a connector of your own may lack it; the client
    looks it up with ``getattr(conn, "get_messages_nowait", None)``)::

        def get_messages_nowait(self, limit: int) -> list[str | bytes]: ...

    It returns, in order, up to ``limit`` messages that are *already* buffered, and ``[]``
    when none is. It is synchronous: no checkpoint, no task switch, never blocks and never
    raises (not even :class:`trio.WouldBlock`); a closed or broken connection is reported
    by the next ``await get_message()`` instead, after every message buffered before it.
    With it, one wake-up of the receiving task can handle a whole burst. The built-in
    connectors' connections have it.
    """

    async def send_message(self, message: str) -> None: ...

    async def get_message(self) -> str | bytes: ...


#: ``connector(url)`` returns an async context manager that opens a connection on entry
#: and closes it on exit, like :func:`trio_websocket.open_websocket_url`.
Connector = Callable[[str], AbstractAsyncContextManager[Connection]]
