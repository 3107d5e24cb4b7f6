"""Choosing the built-in connector for ``ClientConfig.transport``."""

from __future__ import annotations

from ._connection import Connector
from ._transport_trio_websocket import WebSocketConnector

__all__ = ["default_connector"]


def default_connector(transport: str, *, connect_timeout: float) -> Connector:
    """The connector for ``ClientConfig.transport``.

    Raises:
        ValueError: for an unknown transport, or ``"websockets"`` /
            ``"websockets-sansio"`` when the ``websockets`` package (the ``fast`` extra) is
            not installed.
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
    if transport == "websockets-sansio":
        try:
            from ._transport_sansio import SansIOConnector
        except ImportError as exc:
            raise ValueError(
                "ClientConfig.transport 'websockets-sansio' needs the websockets package: "
                "pip install 'okx-trio[fast]'"
            ) from exc
        return SansIOConnector(connect_timeout=connect_timeout)
    raise ValueError(f"unknown transport {transport!r}")
