"""Client configuration, validated when it is made."""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final
from urllib.parse import urlsplit

from ._backoff import ReconnectStrategy

__all__ = ["DEFAULT_URL", "ENV_PREFIX", "ClientConfig"]

DEFAULT_URL: Final = "wss://ws.okx.com:8443/ws/v5/public"
TRANSPORTS: Final = ("trio-websocket", "websockets")
ENV_PREFIX: Final = "OKX_TRIO_"
_INT_FIELDS: Final = frozenset({"tick_buffer", "max_retries"})
_STR_FIELDS: Final = frozenset({"url", "transport"})


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
    #: Warn (a notice on the state stream) when exchange-to-client latency exceeds this.
    latency_warning: float = 5.0
    #: The default connector's WebSocket library: ``"trio-websocket"`` or ``"websockets"``
    #: (``websockets.trio``, the ``fast`` extra). Ignored when a connector is passed.
    transport: str = "trio-websocket"

    def __post_init__(self) -> None:
        parts = urlsplit(self.url) if isinstance(self.url, str) else None
        if parts is None or parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(
                f"ClientConfig.url must be a ws:// or wss:// url with a host, got {self.url!r}"
            )
        for name in (
            "ping_interval",
            "connection_timeout",
            "connect_timeout",
            "stats_interval",
            "latency_warning",
        ):
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

    def replace(self, **changes: Any) -> ClientConfig:
        """A copy with *changes*, validated like a new one."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any], *, base: ClientConfig | None = None, source: str = ""
    ) -> ClientConfig:
        """A config from a mapping of field names to values, over *base* (or the defaults).

        Raises:
            ValueError: naming *source* and the key, for an unknown key or a bad value.
        """
        prefix = f"{source}: " if source else ""
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise ValueError(
                f"{prefix}unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                f"(known: {', '.join(cls.field_names())})"
            )
        try:
            return (base or cls()).replace(**values)
        except ValueError as exc:
            raise ValueError(f"{prefix}{exc}") from None

    @classmethod
    def from_toml(
        cls, path: str | os.PathLike[str], *, base: ClientConfig | None = None
    ) -> ClientConfig:
        """A config from a TOML file of ``key = value`` lines named like the fields.

        The keys may also sit in an ``[okx_trio]`` table (handy inside a bigger file).

        Raises:
            ValueError: naming the file and the key, for unknown keys, bad values or bad
                TOML. OSError if the file cannot be read.
        """
        source = os.fspath(path)
        with open(path, "rb") as file:
            try:
                data = tomllib.load(file)
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"{source}: not valid TOML: {exc}") from None
        table = data.get("okx_trio")
        if isinstance(table, dict):
            data = table
        return cls.from_mapping(data, base=base, source=source)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        base: ClientConfig | None = None,
        prefix: str = ENV_PREFIX,
    ) -> ClientConfig:
        """A config from ``OKX_TRIO_<FIELD>`` variables (e.g. ``OKX_TRIO_PING_INTERVAL=15``).

        ``OKX_TRIO_MAX_RETRIES=none`` means no limit.

        Raises:
            ValueError: naming the variable, for an unknown ``OKX_TRIO_*`` name or a value
                that does not parse or is out of range.
        """
        environ = os.environ if environ is None else environ
        names = set(cls.field_names())
        values: dict[str, Any] = {}
        for variable, text in sorted(environ.items()):
            if not variable.startswith(prefix):
                continue
            name = variable[len(prefix) :].lower()
            if name not in names:
                raise ValueError(
                    f"{variable}: unknown setting (known: "
                    f"{', '.join(prefix + n.upper() for n in cls.field_names())})"
                )
            values[name] = _parse_env(variable, name, text)
        base = base or cls()
        try:
            return base.replace(**values)
        except ValueError as exc:
            field = str(exc).split(" ", 1)[0].removeprefix("ClientConfig.")
            raise ValueError(f"{prefix}{field.upper()}: {exc}") from None


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


def _parse_env(variable: str, name: str, text: str) -> Any:
    text = text.strip()
    if name in _STR_FIELDS:
        return text
    if name == "max_retries" and text.lower() in ("", "none"):
        return None
    try:
        return int(text) if name in _INT_FIELDS else float(text)
    except ValueError:
        kind = "an integer" if name in _INT_FIELDS else "a number"
        raise ValueError(f"{variable}: expected {kind}, got {text!r}") from None
