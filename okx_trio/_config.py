"""Client configuration, validated when it is made.

What each field accepts is said once, in its annotation; msgspec checks it
(:mod:`._config_check`). The host setting becomes every endpoint's urls by the rules in
:mod:`._config_hosts`; mappings, TOML files and the environment are read by
:mod:`._config_load`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Annotated, Any, Final

from msgspec import Meta

from ._backoff import ReconnectStrategy
from ._config_check import FINITE, FieldChecker, FieldError, check_credentials
from ._config_endpoints import DEFAULT_URL, URL_FIELDS, Derived, DerivedText, resolve_endpoints
from ._config_hosts import DEMO_OF
from ._config_load import check_keys, read_env, read_toml, refuse_unknown, take_old_names
from ._credentials import ENV_VARIABLES, Credentials
from ._failover import AWS_URL
from ._okx import ENDPOINT_PATHS, Endpoint

__all__ = ["AWS_URL", "DEFAULT_URL", "ENV_PREFIX", "TRANSPORTS", "ClientConfig"]

TRANSPORTS: Final = ("trio-websocket", "websockets", "websockets-sansio")
ENV_PREFIX: Final = "OKX_TRIO_"
#: Old field names still accepted, and the fields they mean now.
_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {"max_pairs_per_connection": "max_subscriptions_per_connection"}
)
_DEMO_HOSTS: Final = frozenset(DEMO_OF.values())

_Url = Annotated[str, Meta(description="a ws:// or wss:// url with a host")]
_Urls = Annotated[tuple[str, ...], Meta(description="a sequence of urls")]
_Host = Annotated[str, Meta(description="a host name or a ws:// or wss:// base url")]
_Hosts = Annotated[tuple[str, ...], Meta(description="a sequence of host names or base urls")]
_RestUrl = Annotated[str, Meta(description="an http:// or https:// url with a host")]
_Seconds = Annotated[float, Meta(gt=0), FINITE]
_Delay = Annotated[float, Meta(ge=0), FINITE]
_Count = Annotated[int, Meta(ge=1)]


@dataclass(frozen=True)
class ClientConfig:
    """Everything tunable about one client. All durations are in seconds.

    Every endpoint's urls come from ``host`` (plus ``failover_hosts``, and
    ``demo_trading``), unless a list is given for that endpoint; :meth:`urls_for` returns
    them. ``max_pairs_per_connection`` is accepted as the old name of
    ``max_subscriptions_per_connection`` (and can be read as a property); statically typed
    code should use the new name. Given both, :meth:`replace` and the loaders refuse
    different values; the constructor takes the old one, since the new one there is usually
    a copy (``dataclasses.replace``, ``asdict`` of another config).

    Raises:
        ValueError: naming the field and the expected range, for any bad value.
        TypeError: for an unknown keyword, with the closest field name.
    """

    #: The preferred public url: ``urls[0]``. Set alone, it is the one public endpoint
    #: (the default value means "from ``host``").
    url: _Url = DEFAULT_URL
    #: Public endpoints in order of preference; ``()``: derived from ``host`` and
    #: ``failover_hosts``. A failed attempt moves to the next one; after a connection
    #: stays healthy for ``stable_after`` the next attempt prefers the first again.
    urls: _Urls = ()
    #: Where OKX is: a name (production, aws, demo, eea, eea-demo, us, us-demo) or a
    #: ``wss://name[:port]`` / ``ws://...`` base url without a path.
    host: _Host = "production"
    #: Hosts tried after ``host``, in order. None: AWS behind production, else none.
    failover_hosts: _Hosts | None = None
    #: Use OKX's demo-trading hosts: each named host becomes its demo counterpart
    #: (production -> demo, eea -> eea-demo, us -> us-demo); AWS has none. A custom base
    #: url is used as given.
    demo_trading: bool = False
    #: Business endpoints (candles, ...), ``()``: derived from the hosts.
    business_urls: _Urls = ()
    #: Private endpoints (login), ``()``: derived from the hosts.
    private_urls: _Urls = ()
    #: REST base url (for later use), ``""``: derived from ``host``.
    rest_url: _RestUrl = ""
    #: Send ``ping`` after this long without a message (OKX cuts idle connections at 30 s).
    ping_interval: _Seconds = 20.0
    #: Give the connection up after this long without any message, or when a subscribe
    #: request has had no answer for this long.
    connection_timeout: _Seconds = 30.0
    #: Limit on opening the connection (TCP, TLS and WebSocket handshakes together).
    connect_timeout: _Seconds = 10.0
    #: A connection counts as stable, and the retry count resets, after this long
    #: subscribed and receiving.
    stable_after: _Delay = 30.0
    initial_delay: _Delay = 1.0
    max_delay: _Delay = 30.0
    backoff_factor: Annotated[float, Meta(ge=1), FINITE] = 2.0
    max_retries: Annotated[int, Meta(ge=0)] | None = None
    jitter: Annotated[float, Meta(ge=0, le=1)] = 0.25
    #: Bound of each subscriber's buffer; beyond it a slow consumer gets the latest ticker
    #: per instrument instead of every one.
    tick_buffer: _Count = 1024
    stats_interval: _Seconds = 1.0
    #: Warn (a notice on the state stream) when exchange-to-client latency exceeds this.
    latency_warning: _Seconds = 5.0
    #: The default connector's WebSocket library: ``"websockets-sansio"`` (websockets'
    #: sans-IO protocol, read by the receiving task itself: no reader task; the fastest in
    #: the bench on every row), ``"trio-websocket"`` or ``"websockets"`` (``websockets.trio``).
    #: Ignored when a connector is passed.
    transport: str = "websockets-sansio"
    #: Shard the subscriptions over several connections per endpoint, at most this many
    #: per connection (None: one connection per endpoint). Placed by a stable hash.
    max_subscriptions_per_connection: _Count | None = None
    #: OKX allows 3 connection attempts per second per IP; the client's connections share
    #: this budget and wait for it (None: no limit, for tests and private gateways).
    max_connects_per_second: _Count | None = 3
    #: OKX allows 480 subscribe/unsubscribe requests per connection per hour; once it is
    #: spent the connection waits for it rather than being cut off (None: no limit).
    max_requests_per_hour: _Count | None = 480
    #: Resubscribe an instrument, on its own, when it has had no update for this long
    #: while subscribed (the "frozen price"); None turns that off.
    stale_after: _Seconds | None = 120.0
    #: On OKX's service-upgrade notice (64008) open a second connection, switch to it once
    #: every pair ticks there, then close the old one; False reconnects at once instead.
    make_before_break: bool = True
    #: An incremental order book must be valid again this long after its (re)subscription
    #: or its REST seed began (OKX can take a moment); else it is resynced again, with
    #: backoff per book (``initial_delay`` ... ``max_delay``).
    book_snapshot_timeout: _Seconds = 5.0
    #: API key, secret and passphrase for the private channels (and ``books-l2-tbt``);
    #: never shown in a repr. From a mapping or TOML as ``{api_key, secret_key,
    #: passphrase}``; :meth:`from_env` reads ``OKX_API_KEY``, ``OKX_SECRET_KEY`` and
    #: ``OKX_PASSPHRASE``. ``open_okx_client(credentials=...)`` wins over this.
    credentials: Credentials | None = None

    def __post_init__(self) -> None:
        # Which lists were derived before, by type (a copy by ``dataclasses.replace`` keeps
        # it): those are derived again, from this config's host settings.
        derived = {
            name for name in _hints() if isinstance(getattr(self, name), Derived | DerivedText)
        }
        for name, checked in _checker().check(self.__dict__).items():
            if checked is not getattr(self, name):  # e.g. 20 -> 20.0, a list -> a tuple
                object.__setattr__(self, name, checked)
        object.__setattr__(self, "credentials", check_credentials(self.credentials))
        self._resolve_endpoints(derived)
        if self.ping_interval >= self.connection_timeout:
            raise FieldError(
                "ping_interval",
                "ClientConfig.ping_interval must be < connection_timeout "
                f"({self.connection_timeout}), got {self.ping_interval}",
            )
        if self.transport not in TRANSPORTS:
            raise FieldError(
                "transport",
                f"ClientConfig.transport must be one of {', '.join(TRANSPORTS)}, "
                f"got {self.transport!r}",
            )
        try:
            self.reconnect_strategy()
        except ValueError as exc:
            raise FieldError(str(exc).split(" ", 1)[0], f"ClientConfig.{exc}") from None

    def _resolve_endpoints(self, derived: set[str]) -> None:
        # Frozen dataclass: the resolved lists are written once, here, so every reader sees
        # one consistent set.
        for name, value in resolve_endpoints(self, derived).items():
            object.__setattr__(self, name, value)

    def urls_for(self, endpoint: Endpoint) -> tuple[str, ...]:
        """*endpoint*'s urls in order of preference; never empty.

        Raises:
            ValueError: for an endpoint other than public, business or private.
        """
        name = URL_FIELDS.get(endpoint)
        if name is None:
            raise ValueError(
                f"endpoint must be one of {', '.join(ENDPOINT_PATHS)}, got {endpoint!r}"
            )
        urls: tuple[str, ...] = getattr(self, name)
        return urls

    @property
    def max_pairs_per_connection(self) -> int | None:
        """The old name of :attr:`max_subscriptions_per_connection`."""
        return self.max_subscriptions_per_connection

    @property
    def is_demo(self) -> bool:
        """Whether the connections go to a demo-trading host (``demo_trading``, or a named
        demo host such as ``host="demo"``)."""
        return self.demo_trading or self.host in _DEMO_HOSTS

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

        Changing ``url`` alone replaces the public list with it (and its default
        failover); changing ``urls`` alone makes ``url`` its first entry. Lists this config
        derived are derived again (so a new ``host`` moves them); lists that were given
        stay. ``max_pairs_per_connection`` may be used for its new name.

        Raises:
            ValueError: naming the field, for a bad value or an old and a new name that
                disagree. TypeError: for an unknown field (with the closest name).
        """
        take_old_names("ClientConfig", changes, aliases=_ALIASES, hints=_hints(), strict=True)
        if "url" in changes and "urls" not in changes:
            changes["urls"] = ()
        elif "urls" in changes and "url" not in changes:
            changes["url"] = DEFAULT_URL
        refuse_unknown("ClientConfig", changes, names=_hints(), aliases=_ALIASES)
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any], *, base: ClientConfig | None = None, source: str = ""
    ) -> ClientConfig:
        """A config from a mapping of field names to values, over *base* (or the defaults).

        Raises:
            ValueError: naming *source* and the key, for an unknown key (with the closest
                known one), an empty url list, or a bad value.
        """
        check_keys(
            values,
            names=cls.field_names(),
            aliases=_ALIASES,
            not_empty=URL_FIELDS.values(),
            source=source,
        )
        prefix = f"{source}: " if source else ""
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
        return cls.from_mapping(read_toml(path), base=base, source=os.fspath(path))

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        base: ClientConfig | None = None,
        prefix: str = ENV_PREFIX,
    ) -> ClientConfig:
        """A config from ``OKX_TRIO_<FIELD>`` variables (e.g. ``OKX_TRIO_PING_INTERVAL=15``).

        Each value is decoded by its field's type: numbers; ``true``/``false`` (also
        ``1``/``0``, ``yes``/``no``, ``on``/``off``); ``none`` for an optional field (e.g.
        ``OKX_TRIO_MAX_RETRIES=none``: no limit); comma-separated lists
        (``OKX_TRIO_FAILOVER_HOSTS=`` empty: no failover).

        Raises:
            ValueError: naming the variable, for an unknown ``OKX_TRIO_*`` name (with the
                closest known one), a value that does not parse, or one out of range.
        """
        environ = os.environ if environ is None else environ
        hints = {k: v for k, v in _hints().items() if k not in _OWN_CHECK}
        values, variables = read_env(environ, prefix=prefix, hints=hints, aliases=_ALIASES)
        if any(name in environ for name in ENV_VARIABLES.values()):
            # OKX's own variable names (Credentials.from_env), not OKX_TRIO_*: raises naming
            # what is missing.
            values["credentials"] = Credentials.from_env(environ)

        def render(key: str) -> str:
            return prefix + key.upper()

        check_keys(
            values,
            names=cls.field_names(),
            aliases=_ALIASES,
            not_empty=URL_FIELDS.values(),
            render=render,
        )
        try:
            return (base or cls()).replace(**values)
        except FieldError as exc:
            # Name the variable that set the field, or (a cross-field check such as
            # ping_interval < connection_timeout) the variables that were set.
            where = variables.get(exc.field) or ", ".join(sorted(variables.values()))
            raise ValueError(f"{where}: {exc}") from None


@functools.cache
def _hints() -> dict[str, Any]:
    """Each field's annotation, ``Annotated`` extras kept (read once)."""
    hints = typing.get_type_hints(ClientConfig, include_extras=True)
    return {f.name: hints[f.name] for f in fields(ClientConfig)}


@functools.cache
def _checker() -> FieldChecker:
    # Credentials are checked on their own (_credentials): msgspec has no type for them.
    hints = {k: v for k, v in _hints().items() if k not in _OWN_CHECK}
    return FieldChecker("ClientConfig", hints)


_OWN_CHECK: Final = frozenset({"credentials"})



def _accept_old_names(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def __init__(self: ClientConfig, *args: Any, **kwargs: Any) -> None:
        # The old name wins here: see take_old_names.
        take_old_names("ClientConfig", kwargs, aliases=_ALIASES, hints=_hints(), strict=False)
        refuse_unknown("ClientConfig", kwargs, names=_hints(), aliases=_ALIASES)
        init(self, *args, **kwargs)

    return __init__


# The old name is a keyword of the constructor, not a field: ``fields()``, ``asdict`` and
# ``dataclasses.replace`` see only the new one.
ClientConfig.__init__ = _accept_old_names(ClientConfig.__init__)  # type: ignore[method-assign]
