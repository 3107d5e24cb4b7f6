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
from ._failover import AWS_URL

__all__ = ["AWS_URL", "DEFAULT_URL", "ENV_PREFIX", "ClientConfig"]

DEFAULT_URL: Final = "wss://ws.okx.com:8443/ws/v5/public"
TRANSPORTS: Final = ("trio-websocket", "websockets")
ENV_PREFIX: Final = "OKX_TRIO_"
_INT_FIELDS: Final = frozenset(
    {
        "tick_buffer",
        "max_retries",
        "max_pairs_per_connection",
        "max_connects_per_second",
        "max_requests_per_hour",
    }
)
_OPTIONAL_FIELDS: Final = frozenset(
    {
        "max_retries",
        "max_pairs_per_connection",
        "max_connects_per_second",
        "max_requests_per_hour",
        "stale_after",
    }
)
_STR_FIELDS: Final = frozenset({"url", "transport"})
_BOOL_FIELDS: Final = frozenset({"make_before_break"})


@dataclass(frozen=True)
class ClientConfig:
    """Everything tunable about one client. All durations are in seconds.

    Raises:
        ValueError: naming the field and the expected range, for any bad value.
    """

    #: The preferred endpoint. Without ``urls``, the default url fails over to
    #: :data:`AWS_URL`; any other url is used alone.
    url: str = DEFAULT_URL
    #: Endpoints in order of preference. A failed attempt moves to the next one; after a
    #: connection stays healthy for ``stable_after`` the next attempt prefers the first
    #: again. When given, ``url`` becomes ``urls[0]``.
    urls: tuple[str, ...] = ()
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
    #: Shard the pairs over several connections, at most this many per connection (None:
    #: one connection). Pairs are placed by a stable hash and stay where they are.
    max_pairs_per_connection: int | None = None
    #: OKX allows 3 connection attempts per second per IP; the client's connections share
    #: this budget and wait for it (None: no limit, for tests and private gateways).
    max_connects_per_second: int | None = 3
    #: OKX allows 480 subscribe/unsubscribe requests per connection per hour; once it is
    #: spent the connection waits for it rather than being cut off (None: no limit).
    max_requests_per_hour: int | None = 480
    #: Resubscribe an instrument, on its own, when it has had no update for this long
    #: while subscribed (the "frozen price"); None turns that off.
    stale_after: float | None = 120.0
    #: On OKX's service-upgrade notice (64008) open a second connection, switch to it once
    #: every pair ticks there, then close the old one; False reconnects at once instead.
    make_before_break: bool = True

    def __post_init__(self) -> None:
        urls = self.urls
        if isinstance(urls, str) or not isinstance(urls, tuple | list):
            raise ValueError(f"ClientConfig.urls must be a sequence of urls, got {urls!r}")
        urls = tuple(urls)
        if urls == (DEFAULT_URL, AWS_URL) and self.url != DEFAULT_URL:
            # ``dataclasses.replace(config, url=...)`` on a default config: the default
            # failover list came from the default url, so it goes with it.
            urls = ()
        if not urls:
            urls = (self.url, AWS_URL) if self.url == DEFAULT_URL else (self.url,)
        elif self.url not in (DEFAULT_URL, urls[0]):
            raise ValueError(
                f"ClientConfig.url ({self.url!r}) and urls[0] ({urls[0]!r}) disagree; "
                "give urls alone"
            )
        for url in urls:
            parts = urlsplit(url) if isinstance(url, str) else None
            if parts is None or parts.scheme not in ("ws", "wss") or not parts.hostname:
                raise ValueError(
                    f"ClientConfig.url must be a ws:// or wss:// url with a host, got {url!r}"
                )
        if len(set(urls)) != len(urls):
            raise ValueError(f"ClientConfig.urls has a url twice: {urls!r}")
        # Frozen dataclass: normalise once, here, so readers see one consistent pair.
        object.__setattr__(self, "urls", urls)
        object.__setattr__(self, "url", urls[0])
        for name in (
            "max_pairs_per_connection",
            "max_connects_per_second",
            "max_requests_per_hour",
        ):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1
            ):
                raise ValueError(f"ClientConfig.{name} must be an int >= 1 or None, got {value!r}")
        if self.stale_after is not None:
            _require("stale_after", self.stale_after, positive=True)
        if not isinstance(self.make_before_break, bool):
            raise ValueError(
                "ClientConfig.make_before_break must be true or false, "
                f"got {self.make_before_break!r}"
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

    def urls_for(self, endpoint: str) -> tuple[str, ...]:
        """The failover list of *endpoint* ("public", "business", "private")."""
        if endpoint == "public":
            return self.urls
        path = {"business": "/ws/v5/business", "private": "/ws/v5/private"}[endpoint]
        return tuple(u.replace("/ws/v5/public", path) for u in self.urls)

    @property
    def max_subscriptions_per_connection(self) -> int | None:
        return self.max_pairs_per_connection

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
        """A copy with *changes*, validated like a new one.

        Changing ``url`` alone replaces the endpoint list with it (and its default
        failover); changing ``urls`` alone makes ``url`` its first entry.
        """
        if "url" in changes and "urls" not in changes:
            changes["urls"] = ()
        elif "urls" in changes and "url" not in changes:
            changes["url"] = DEFAULT_URL
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
    if name == "urls":
        return tuple(part.strip() for part in text.split(",") if part.strip())
    if name in _BOOL_FIELDS:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{variable}: expected true or false, got {text!r}")
    if name in _OPTIONAL_FIELDS and text.lower() in ("", "none"):
        return None
    try:
        return int(text) if name in _INT_FIELDS else float(text)
    except ValueError:
        kind = "an integer" if name in _INT_FIELDS else "a number"
        raise ValueError(f"{variable}: expected {kind}, got {text!r}") from None
