"""Client configuration, validated when it is made."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Final
from urllib.parse import urlsplit

from ._backoff import ReconnectStrategy

__all__ = ["DEFAULT_URL", "ClientConfig"]

DEFAULT_URL: Final = "wss://ws.okx.com:8443/ws/v5/public"
TRANSPORTS: Final = ("trio-websocket", "websockets")


@dataclass(frozen=True)
class ClientConfig:
    """Everything tunable about one client. All durations are in seconds.

    Raises:
        ValueError: naming the field and the expected range, for any bad value.
    """

    url: str = DEFAULT_URL
    #: Send ``ping`` after this long without a message (OKX cuts idle connections at 30 s).
    ping_interval: float = 20.0
    #: Give the connection up after this long without any message, or when a subscribe
    #: request has had no answer for this long.
    connection_timeout: float = 30.0
    #: Limit on opening the connection (TCP, TLS and WebSocket handshakes together).
    connect_timeout: float = 10.0
    #: A connection counts as stable, and the retry count resets, after this long
    #: subscribed and receiving.
    stable_after: float = 30.0
    initial_delay: float = 1.0
    max_delay: float = 30.0
    backoff_factor: float = 2.0
    max_retries: int | None = None
    jitter: float = 0.25
    #: Bound of each subscriber's buffer; beyond it a slow consumer gets the latest ticker
    #: per instrument instead of every one.
    tick_buffer: int = 1024
    stats_interval: float = 1.0
    #: The default connector's WebSocket library: ``"trio-websocket"`` or ``"websockets"``
    #: (``websockets.trio``, the ``fast`` extra). Ignored when a connector is passed.
    transport: str = "trio-websocket"

    def __post_init__(self) -> None:
        parts = urlsplit(self.url) if isinstance(self.url, str) else None
        if parts is None or parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(
                f"ClientConfig.url must be a ws:// or wss:// url with a host, got {self.url!r}"
            )
        for name in ("ping_interval", "connection_timeout", "connect_timeout", "stats_interval"):
            _require(name, getattr(self, name), positive=True)
        for name in ("stable_after", "initial_delay", "max_delay", "jitter"):
            _require(name, getattr(self, name), positive=False)
        _require("backoff_factor", self.backoff_factor, positive=True)
        if self.max_retries is not None and (
            not isinstance(self.max_retries, int) or isinstance(self.max_retries, bool)
        ):
            raise ValueError(
                f"ClientConfig.max_retries must be an int or None, got {self.max_retries!r}"
            )
        if self.ping_interval >= self.connection_timeout:
            raise ValueError(
                "ClientConfig.ping_interval must be < connection_timeout "
                f"({self.connection_timeout}), got {self.ping_interval}"
            )
        if not isinstance(self.tick_buffer, int) or isinstance(self.tick_buffer, bool):
            raise ValueError(f"ClientConfig.tick_buffer must be an int, got {self.tick_buffer!r}")
        if self.tick_buffer < 1:
            raise ValueError(f"ClientConfig.tick_buffer must be >= 1, got {self.tick_buffer!r}")
        if self.transport not in TRANSPORTS:
            raise ValueError(
                f"ClientConfig.transport must be one of {', '.join(TRANSPORTS)}, "
                f"got {self.transport!r}"
            )
        try:
            self.reconnect_strategy()
        except ValueError as exc:
            raise ValueError(f"ClientConfig.{exc}") from None

    def reconnect_strategy(self) -> ReconnectStrategy:
        """A fresh :class:`ReconnectStrategy` with this config's parameters."""
        return ReconnectStrategy(
            initial_delay=self.initial_delay,
            max_delay=self.max_delay,
            backoff_factor=self.backoff_factor,
            max_retries=self.max_retries,
            jitter=self.jitter,
        )

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def _require(name: str, value: object, *, positive: bool) -> None:
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > 0 if positive else value >= 0)
    )
    if not ok:
        expected = "a finite number > 0" if positive else "a finite number >= 0"
        raise ValueError(f"ClientConfig.{name} must be {expected}, got {value!r}")
