"""The transport seam: what the client needs from a WebSocket, and the default one."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import trio_websocket

__all__ = ["Connection", "Connector", "WebSocketConnector", "default_connector"]


class Connection(Protocol):
    """The part of :class:`trio_websocket.WebSocketConnection` the client uses.

    ``get_message`` raises :class:`trio_websocket.ConnectionClosed` once the peer closed.
    """

    async def send_message(self, message: str) -> None: ...

    async def get_message(self) -> str | bytes: ...


#: ``connector(url)`` returns an async context manager that opens a connection on entry
#: and closes it on exit, like :func:`trio_websocket.open_websocket_url`.
Connector = Callable[[str], AbstractAsyncContextManager[Connection]]


class WebSocketConnector:
    """The default connector: :func:`trio_websocket.open_websocket_url`.

    Certificates are verified for ``wss://`` (Python's default context) unless a
    ``ssl_context`` of your own is given; there is no switch that turns verification off.
    ``disconnect_timeout`` bounds the closing handshake, so a dead peer cannot hold a
    reconnect back.
    """

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        disconnect_timeout: float = 2.0,
        ssl_context: ssl.SSLContext | None = None,
        max_message_size: int = 4 * 1024 * 1024,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.disconnect_timeout = disconnect_timeout
        self.ssl_context = ssl_context
        self.max_message_size = max_message_size

    def __call__(self, url: str) -> AbstractAsyncContextManager[Connection]:
        return trio_websocket.open_websocket_url(
            url,
            ssl_context=self.ssl_context,
            connect_timeout=self.connect_timeout,
            disconnect_timeout=self.disconnect_timeout,
            max_message_size=self.max_message_size,
        )


def default_connector(transport: str, *, connect_timeout: float) -> Connector:
    """The connector for ``ClientConfig.transport``.

    Raises:
        ValueError: for an unknown transport, or ``"websockets"`` when the ``websockets``
            package (the ``fast`` extra) is not installed.
    """
    if transport == "trio-websocket":
        return WebSocketConnector(connect_timeout=connect_timeout)
    if transport == "websockets":
        try:
            from ._transport_websockets import WebsocketsConnector
        except ImportError as exc:
            raise ValueError(
                "ClientConfig.transport 'websockets' needs the websockets package: "
                "pip install 'okx-trio[fast]'"
            ) from exc
        return WebsocketsConnector(connect_timeout=connect_timeout)
    raise ValueError(f"unknown transport {transport!r}")
