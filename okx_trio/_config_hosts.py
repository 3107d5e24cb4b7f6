"""From one host setting to every endpoint's urls: named hosts, demo trading, failover, REST.

``ClientConfig`` keeps the settings; this module holds the rules that turn them into urls,
as pure functions, so they read (and are tested) in one place. The WebSocket hosts and
paths are OKX facts from :mod:`._okx`; the REST hosts are the matching table below.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final
from urllib.parse import urlsplit

from ._config_check import FieldError, did_you_mean
from ._okx import HOSTS, Endpoint, endpoint_url

__all__ = [
    "DEMO_OF",
    "REST_HOSTS",
    "check_host",
    "check_url",
    "default_failover",
    "derive_rest_url",
    "derive_urls",
    "effective_host",
]

#: The demo-trading host of each production host that has one (``demo_trading=True``
#: switches to it); a demo host is its own counterpart. AWS has none.
DEMO_OF: Final[Mapping[str, str]] = MappingProxyType(
    {
        "production": "demo",
        "demo": "demo",
        "eea": "eea-demo",
        "eea-demo": "eea-demo",
        "us": "us-demo",
        "us-demo": "us-demo",
    }
)
#: REST host per named WebSocket host. OKX's 2026 docs name ``openapi.okx.com`` for
#: production (``www.okx.com`` in older docs); demo trading uses its region's production REST
#: host with the ``x-simulated-trading: 1`` header.
REST_HOSTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "production": "https://openapi.okx.com",
        "aws": "https://aws.okx.com",
        "demo": "https://openapi.okx.com",
        "eea": "https://eea.okx.com",
        "eea-demo": "https://eea.okx.com",
        "us": "https://us.okx.com",
        "us-demo": "https://us.okx.com",
    }
)
_HOST_WORDS: Final = (
    f"a host name ({', '.join(HOSTS)}) or a ws:// or wss:// base url with a host and no path"
)


def check_url(field: str, url: str, *, schemes: tuple[str, ...] = ("ws", "wss")) -> None:
    """Raise FieldError unless *url* has one of *schemes* and a host."""
    parts = urlsplit(url)
    try:
        ok = parts.scheme in schemes and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number
        ok = False
    if not ok:
        kind = " or ".join(f"{scheme}://" for scheme in schemes)
        article = "an" if kind.startswith("h") else "a"  # "an http://", "a ws://"
        raise FieldError(
            field.split("[", 1)[0],
            f"ClientConfig.{field} must be {article} {kind} url with a host, got {url!r}",
        )


def check_host(field: str, host: str) -> None:
    """Raise FieldError unless *host* names a host in ``HOSTS`` or is a bare base url."""
    if host in HOSTS:
        return
    parts = urlsplit(host)
    try:
        ok = parts.scheme in ("ws", "wss") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        ok = False
    if not ok or parts.path not in ("", "/") or parts.query or parts.fragment:
        hint = did_you_mean(host, HOSTS) if "://" not in host else ""
        raise FieldError(
            field.split("[", 1)[0],
            f"ClientConfig.{field} must be {_HOST_WORDS}, got {host!r}{hint}",
        )


def effective_host(field: str, host: str, demo_trading: bool) -> str:
    """The base url (``wss://name:port``) *host* stands for, demo or not.

    A custom base url is the user's word and is used as given, demo or not.

    Raises:
        FieldError: with *demo_trading*, for a named host with no demo counterpart (AWS).
    """
    if host not in HOSTS:
        return host.rstrip("/")
    if demo_trading:
        demo = DEMO_OF.get(host)
        if demo is None:
            raise FieldError(
                field.split("[", 1)[0],
                f"ClientConfig.{field} is {host!r}, which has no demo-trading host; with "
                f"demo_trading use one of {', '.join(sorted(set(DEMO_OF.values())))} "
                "(demo trading has no AWS failover)",
            )
        host = demo
    return HOSTS[host]


def default_failover(host: str, demo_trading: bool) -> tuple[str, ...]:
    """The failover hosts used when none are given: AWS behind production, else none."""
    return ("aws",) if host == "production" and not demo_trading else ()


def derive_urls(bases: tuple[str, ...], endpoint: Endpoint) -> tuple[str, ...]:
    """One url per base url, each with *endpoint*'s path."""
    return tuple(endpoint_url(base, endpoint) for base in bases)


def derive_rest_url(host: str) -> str:
    """The REST base for *host* (a name, or a custom ``ws(s)://`` base: ``http(s)://``)."""
    named = REST_HOSTS.get(host)
    if named is not None:
        return named
    parts = urlsplit(host.rstrip("/"))
    scheme = "https" if parts.scheme == "wss" else "http"
    return f"{scheme}://{parts.netloc}"
