"""OKX's v5 WebSocket facts, as data: hosts, the channel table, codes and limits.

No logic lives here (what a code *means* to a connection is decided in the protocol core);
every other module reads these tables instead of spelling a fact out again. Sources are in
the project's notes on OKX's API (docs v5, July 2026, and recorded traffic).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

__all__ = [
    "AUTH_CLOSE_CODE",
    "AUTH_ERROR_CODES",
    "AWS_HOST",
    "BUSINESS_PATH",
    "CANDLE_BARS",
    "CHANNELS",
    "CONNECTS_PER_SECOND",
    "DEFAULT_HOST",
    "DEMO_HOST",
    "ENDPOINT_PATHS",
    "HOSTS",
    "IDLE_CLOSE_CODE",
    "INDEX_CANDLE_BARS",
    "MARK_PRICE_CANDLE_BARS",
    "MAX_REQUEST_BYTES",
    "PING",
    "PONG",
    "PRIVATE_PATH",
    "PUBLIC_PATH",
    "REJECT_CODES",
    "REQUESTS_PER_HOUR",
    "TOO_FREQUENT_CODE",
    "UPGRADE_NOTICE_CODE",
    "WRONG_ENDPOINT_CODES",
    "ArgKey",
    "ChannelSpec",
    "Delivery",
    "Endpoint",
    "channel_spec",
    "endpoint_url",
]

Endpoint = Literal["public", "business", "private"]
#: How a channel's records reach a lagging consumer: ``state`` conflates to the latest per
#: subscription, ``event`` never conflates (a ``Gap`` tells what was lost).
Delivery = Literal["state", "event"]
#: The argument keys a subscription may carry, by our name.
ArgKey = Literal["inst_id", "inst_type", "inst_family", "ccy"]

# -- hosts and paths ---------------------------------------------------------------------

PUBLIC_PATH: Final = "/ws/v5/public"
BUSINESS_PATH: Final = "/ws/v5/business"
PRIVATE_PATH: Final = "/ws/v5/private"
ENDPOINT_PATHS: Final[Mapping[Endpoint, str]] = MappingProxyType(
    {"public": PUBLIC_PATH, "business": BUSINESS_PATH, "private": PRIVATE_PATH}
)

DEFAULT_HOST: Final = "wss://ws.okx.com:8443"
#: Legacy AWS-hosted production endpoint: the default failover.
AWS_HOST: Final = "wss://wsaws.okx.com:8443"
#: Demo trading ("paper") endpoint: demo API keys, same protocol.
DEMO_HOST: Final = "wss://wspap.okx.com:8443"
#: The named hosts one setting away (``ClientConfig.host``).
HOSTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "production": DEFAULT_HOST,
        "aws": AWS_HOST,
        "demo": DEMO_HOST,
        "eea": "wss://wseea.okx.com:8443",
        "eea-demo": "wss://wseeapap.okx.com:8443",
        "us": "wss://wsus.okx.com:8443",
        "us-demo": "wss://wsuspap.okx.com:8443",
    }
)


def endpoint_url(host: str, endpoint: Endpoint) -> str:
    """``host`` (``wss://name:port``, no path) joined with *endpoint*'s path."""
    return host.rstrip("/") + ENDPOINT_PATHS[endpoint]


# -- heartbeat, limits -------------------------------------------------------------------

PING: Final = "ping"  # OKX's heartbeat is the bare text, not a WebSocket ping frame
PONG: Final = "pong"
#: Connection attempts per second per IP.
CONNECTS_PER_SECOND: Final = 3
#: subscribe/unsubscribe/login requests per connection per hour (one budget for all three).
REQUESTS_PER_HOUR: Final = 480
#: OKX allows 64 KB per request; stay a little under so an id cannot tip it.
MAX_REQUEST_BYTES: Final = 64_000

# -- codes -------------------------------------------------------------------------------

UPGRADE_NOTICE_CODE: Final = "64008"
TOO_FREQUENT_CODE: Final = "60014"
#: Errors that mean our credentials are refused for good: retrying cannot help.
AUTH_ERROR_CODES: Final = frozenset({"60005", "60007", "60009", "60024", "60032"})
#: Close code for a refused login: fatal until the credentials change.
AUTH_CLOSE_CODE: Final = 4001
#: Close code OKX uses for a connection with nothing subscribed or pushed for 30 s.
IDLE_CLOSE_CODE: Final = 4004
#: Errors that condemn one argument, not the connection: 60018 "doesn't exist", 60012
#: "illegal request", 60013 "invalid args", 64000 ``uly`` no longer accepted, 64003 fee tier
#: too low, 64004 ``books-l2-tbt`` beside ``books``, 60008/60028 not on this endpoint, 60011
#: "please log in" (a login channel such as ``books-l2-tbt`` on a connection that has not
#: logged in: until the client logs in, that subscription cannot be had).
REJECT_CODES: Final = frozenset(
    {"60018", "60012", "60013", "64000", "64003", "64004", "60008", "60028", "60011"}
)
#: The channel belongs to another endpoint (64001: business; 64002: not business).
WRONG_ENDPOINT_CODES: Final = frozenset({"64001", "64002"})

# -- channels ----------------------------------------------------------------------------

CANDLE_BARS: Final = frozenset(
    [
        "3M",
        "1M",
        "1W",
        "1D",
        "2D",
        "3D",
        "5D",
        "12H",
        "6H",
        "4H",
        "2H",
        "1H",
        "30m",
        "15m",
        "5m",
        "3m",
        "1m",
        "1s",
        "3Mutc",
        "1Mutc",
        "1Wutc",
        "1Dutc",
        "2Dutc",
        "3Dutc",
        "5Dutc",
        "12Hutc",
        "6Hutc",
    ]
)
MARK_PRICE_CANDLE_BARS: Final = (CANDLE_BARS - {"1s"}) | {"1Yutc"}
INDEX_CANDLE_BARS: Final = CANDLE_BARS - {"1s"}

_DERIVATIVES: Final = frozenset({"SWAP", "FUTURES", "OPTION", "MARGIN"})
_ALL_TYPES: Final = frozenset({"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS"})


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """One row of the channel table.

    ``required``/``optional`` are the argument keys a subscription must / may carry (by our
    name); ``one_of`` lists keys of which exactly one must be given. ``inst_types`` are the
    ``instType`` values OKX takes (empty: any). ``stale_factor`` multiplies
    ``ClientConfig.stale_after`` for the frozen-feed check (None: never stale, for channels
    that legitimately stay quiet). ``bar`` is the candle bar for ``candle1m`` and friends.
    """

    name: str
    endpoint: Endpoint
    delivery: Delivery
    required: frozenset[ArgKey] = frozenset()
    optional: frozenset[ArgKey] = frozenset()
    one_of: frozenset[ArgKey] = frozenset()
    inst_types: frozenset[str] = frozenset()
    stale_factor: float | None = None
    login: bool = False
    bar: str | None = None


_INST: Final[frozenset[ArgKey]] = frozenset({"inst_id"})


def _by_inst_id(
    name: str,
    endpoint: Endpoint,
    delivery: Delivery,
    stale_factor: float | None,
    *,
    login: bool = False,
    bar: str | None = None,
) -> ChannelSpec:
    return ChannelSpec(
        name, endpoint, delivery, _INST, stale_factor=stale_factor, login=login, bar=bar
    )


def _table() -> dict[str, ChannelSpec]:
    rows = [
        _by_inst_id("tickers", "public", "state", 1.0),
        _by_inst_id("trades", "public", "event", None),
        # Incremental books: the sequence checks keep them honest, and their keep-alive
        # comes every ~60 s, so a silence of stale_after means a frozen feed.
        _by_inst_id("books", "public", "event", 1.0),
        _by_inst_id("books-l2-tbt", "public", "event", 1.0, login=True),
        _by_inst_id("books50-l2-tbt", "public", "event", 1.0, login=True),
        _by_inst_id("books5", "public", "state", 1.0),
        _by_inst_id("bbo-tbt", "public", "state", 1.0),
        # Pushed every 10 s at least.
        _by_inst_id("mark-price", "public", "state", 1.0),
        # Pushed once a minute at least.
        _by_inst_id("index-tickers", "public", "state", 1.5),
        # Every 30-90 s, or only on change: silence is normal.
        _by_inst_id("funding-rate", "public", "state", None),
        _by_inst_id("open-interest", "public", "state", None),
        _by_inst_id("price-limit", "public", "state", None),
        ChannelSpec(
            "estimated-price",
            "public",
            "state",
            frozenset({"inst_type"}),
            one_of=frozenset({"inst_family", "inst_id"}),
            inst_types=frozenset({"OPTION", "FUTURES", "SWAP", "EVENTS"}),
        ),
        ChannelSpec(
            "liquidation-orders",
            "public",
            "event",
            frozenset({"inst_type"}),
            inst_types=_DERIVATIVES,
        ),
        ChannelSpec("opt-summary", "public", "state", frozenset({"inst_family"})),
        ChannelSpec(
            "instruments", "public", "event", frozenset({"inst_type"}), inst_types=_ALL_TYPES
        ),
        _by_inst_id("trades-all", "business", "event", None),
        # Private channels (login first); the client needs credentials to subscribe them.
        ChannelSpec("account", "private", "event", optional=frozenset({"ccy"}), login=True),
        ChannelSpec(
            "positions",
            "private",
            "event",
            frozenset({"inst_type"}),
            frozenset({"inst_family", "inst_id"}),
            inst_types=frozenset({"MARGIN", "SWAP", "FUTURES", "OPTION", "ANY"}),
            login=True,
        ),
        ChannelSpec("balance_and_position", "private", "event", login=True),
        ChannelSpec(
            "orders",
            "private",
            "event",
            frozenset({"inst_type"}),
            frozenset({"inst_family", "inst_id"}),
            inst_types=_ALL_TYPES | {"ANY"},
            login=True,
        ),
        ChannelSpec("fills", "private", "event", optional=_INST, login=True),
        ChannelSpec(
            "liquidation-warning",
            "private",
            "event",
            frozenset({"inst_type"}),
            frozenset({"inst_family", "inst_id"}),
            inst_types=frozenset({"MARGIN", "SWAP", "FUTURES", "OPTION", "ANY"}),
            login=True,
        ),
        ChannelSpec("account-greeks", "private", "event", optional=frozenset({"ccy"}), login=True),
    ]
    # Candles: one channel per bar. Event delivery: a consumer that lags must not miss a
    # confirmed bar (confirm "1") because a later revision of the next one replaced it.
    for prefix, bars in (
        ("candle", CANDLE_BARS),
        ("mark-price-candle", MARK_PRICE_CANDLE_BARS),
        ("index-candle", INDEX_CANDLE_BARS),
    ):
        rows.extend(
            _by_inst_id(f"{prefix}{bar}", "business", "event", None, bar=bar) for bar in bars
        )
    return {row.name: row for row in rows}


#: Every channel the client speaks, by OKX's name (``candle1m``, ``books``, ...).
CHANNELS: Final[Mapping[str, ChannelSpec]] = MappingProxyType(_table())


def channel_spec(channel: str) -> ChannelSpec:
    """The table row for *channel*.

    Raises:
        ValueError: naming the channel, for one OKX does not have (or the client does not
            speak), with the closest known names.
    """
    spec = CHANNELS.get(channel) if isinstance(channel, str) else None
    if spec is None:
        import difflib

        close = difflib.get_close_matches(str(channel), CHANNELS, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"unknown channel {channel!r}{hint}")
    return spec
