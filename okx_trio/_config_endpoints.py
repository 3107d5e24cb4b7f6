"""Every endpoint's urls from a config's host settings (``host``, ``failover_hosts``,
``demo_trading``) and the url fields the user gave, by the rules of :mod:`._config_hosts`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, Protocol

from ._config_check import FieldError
from ._config_hosts import (
    check_host,
    check_url,
    default_failover,
    derive_rest_url,
    derive_urls,
    effective_host,
)
from ._okx import DEFAULT_HOST, Endpoint, endpoint_url

__all__ = ["DEFAULT_URL", "URL_FIELDS", "Derived", "DerivedText", "resolve_endpoints"]

#: The default public url (``host="production"``), kept for code that names it.
DEFAULT_URL: Final = endpoint_url(DEFAULT_HOST, "public")
#: The url lists by endpoint; an explicit empty one is refused by the loaders.
URL_FIELDS: Final[Mapping[Endpoint, str]] = MappingProxyType(
    {"public": "urls", "business": "business_urls", "private": "private_urls"}
)


class Derived(tuple[str, ...]):
    """A list the config derived from its host settings, not one the user gave.

    It compares, hashes and prints as a plain tuple; only its type says "derived", and the
    type survives ``dataclasses.replace`` and ``dataclasses.asdict``, so a copy with another
    host derives its lists afresh instead of keeping the old host's urls.
    """

    __slots__ = ()


class DerivedText(str):
    """A string the config derived (the REST url); see :class:`Derived`."""

    __slots__ = ()


class EndpointSettings(Protocol):
    """What :func:`resolve_endpoints` reads of a config."""

    @property
    def host(self) -> str: ...
    @property
    def failover_hosts(self) -> tuple[str, ...] | None: ...
    @property
    def demo_trading(self) -> bool: ...
    @property
    def url(self) -> str: ...
    @property
    def urls(self) -> tuple[str, ...]: ...
    @property
    def business_urls(self) -> tuple[str, ...]: ...
    @property
    def private_urls(self) -> tuple[str, ...]: ...
    @property
    def rest_url(self) -> str: ...


def resolve_endpoints(config: EndpointSettings, derived: set[str]) -> dict[str, Any]:
    """The resolved ``failover_hosts``, ``urls``, ``business_urls``, ``private_urls``, ``url``
    and ``rest_url`` of *config*. Fields named in *derived* were derived by an earlier
    config (:class:`Derived`) and are derived afresh.

    Raises:
        FieldError: for a bad host or url, a failover host that repeats one, ``url`` and
            ``urls[0]`` that disagree, or a list with a url twice.
    """
    out: dict[str, Any] = {}
    check_host("host", config.host)
    failover = config.failover_hosts
    if failover is None or "failover_hosts" in derived:
        failover = Derived(default_failover(config.host, config.demo_trading))
    bases = [effective_host("host", config.host, config.demo_trading)]
    for index, name in enumerate(failover):
        check_host(f"failover_hosts[{index}]", name)
        base = effective_host(f"failover_hosts[{index}]", name, config.demo_trading)
        if base in bases:
            raise FieldError(
                "failover_hosts",
                f"ClientConfig.failover_hosts[{index}] ({name!r}) is {base}, already in "
                f"use by host or an earlier failover host: {config.failover_hosts!r}",
            )
        bases.append(base)
    out["failover_hosts"] = failover
    hosts = tuple(bases)

    urls, url = config.urls, config.url
    if urls and "urls" not in derived:
        if url not in (DEFAULT_URL, urls[0]):
            raise FieldError(
                "url",
                f"ClientConfig.url ({url!r}) and urls[0] ({urls[0]!r}) disagree; "
                "give urls alone",
            )
    elif url != DEFAULT_URL and not (urls and url == urls[0]):
        # ``url`` set alone (or changed on a copy whose list was derived): it is the
        # one public endpoint, as it always was.
        check_url("url", url)
        urls = (url,)
    else:
        urls = Derived(derive_urls(hosts, "public"))
    for endpoint, name in URL_FIELDS.items():
        if endpoint == "public":
            given = urls
        else:
            given = getattr(config, name)
            if not given or name in derived:
                given = Derived(derive_urls(hosts, endpoint))
        if not isinstance(given, Derived):  # derived urls come from checked hosts
            for index, entry in enumerate(given):
                check_url(f"{name}[{index}]", entry)
        if len(set(given)) != len(given):
            raise FieldError(name, f"ClientConfig.{name} has a url twice: {given!r}")
        out[name] = given
    out["url"] = out["urls"][0]

    rest_url = config.rest_url
    if not rest_url or "rest_url" in derived:
        rest_url = DerivedText(derive_rest_url(config.host))
    else:
        check_url("rest_url", rest_url, schemes=("http", "https"))
    out["rest_url"] = rest_url
    return out
