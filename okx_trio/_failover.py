"""Which endpoint the next connection attempt uses, as a plain object with no clock.

OKX serves the public stream from more than one host; when the preferred one fails (DNS,
routing, a regional outage) the AWS-hosted one usually still works. Rotating on failure and
coming back to the preferred url after a healthy period keeps a client on the best endpoint
without getting stuck on a broken one. ``now`` is always passed in, so tests choose the time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit

from ._okx import AWS_HOST, endpoint_url

__all__ = ["AWS_URL", "EndpointRotation"]

#: OKX's second public endpoint (AWS-hosted); the usual failover target.
AWS_URL: Final = endpoint_url(AWS_HOST, "public")


class EndpointRotation:
    """Which url the next connection attempt uses.

    A failed attempt (could not connect, or the connection ended before it was healthy)
    moves to the next url, wrapping around, and counts as a failure of its url. A connection
    that was healthy (up for ``healthy_after`` seconds) and then ended is not a failure: the
    next attempt goes to the *first* url, the preferred one, even if it failed before. With
    one url every attempt uses it.

    The calls for one attempt are :meth:`connected` (if it opened) then :meth:`ended`.

    Raises:
        ValueError: for no urls, a bare string instead of a sequence, a url that is not a
            ``ws://`` or ``wss://`` url with a host, a url given twice, or a
            ``healthy_after`` that is not a finite number >= 0.
    """

    def __init__(self, urls: Sequence[str], healthy_after: float) -> None:
        if isinstance(urls, str) or not isinstance(urls, Sequence):
            # A str is a Sequence[str] of one-letter "urls": almost certainly a mistake.
            raise ValueError(f"urls must be a sequence of urls, got {urls!r}")
        urls = tuple(urls)
        if not urls:
            raise ValueError("urls must hold at least one url, got none")
        for url in urls:
            parts = urlsplit(url) if isinstance(url, str) else None
            if parts is None or parts.scheme not in ("ws", "wss") or not parts.hostname:
                raise ValueError(f"urls must be ws:// or wss:// urls with a host, got {url!r}")
        seen: set[str] = set()
        for url in urls:
            if url in seen:
                raise ValueError(f"urls must be distinct, got {url!r} twice in {urls!r}")
            seen.add(url)
        if (
            not isinstance(healthy_after, int | float)
            or isinstance(healthy_after, bool)
            or not math.isfinite(healthy_after)
            or healthy_after < 0
        ):
            raise ValueError(f"healthy_after must be a finite number >= 0, got {healthy_after!r}")
        self._urls = urls
        self._healthy_after = float(healthy_after)
        self._index = 0
        self._connected_at: float | None = None  # None: the current attempt has not opened
        self._failures = dict.fromkeys(urls, 0)

    @property
    def urls(self) -> tuple[str, ...]:
        return self._urls

    @property
    def healthy_after(self) -> float:
        return self._healthy_after

    @property
    def current(self) -> str:
        """The url of the current (or next) attempt."""
        return self._urls[self._index]

    def connected(self, now: float) -> None:
        """The attempt on :attr:`current` opened at *now*.

        Raises:
            RuntimeError: if it was already called for this attempt; a second call would
                move the start of the healthy period and hide a bug in the caller.
        """
        if self._connected_at is not None:
            raise RuntimeError(
                f"connected() called twice for one attempt on {self.current!r} "
                f"(first at {self._connected_at!r}, again at {now!r}); call ended() first"
            )
        self._connected_at = now

    def healthy(self, now: float) -> bool:
        """Whether the current attempt opened and has been up for ``healthy_after``."""
        # The deadline is computed and compared with ``now`` (not ``now - at >= d``), so a
        # caller that sleeps until ``at + healthy_after`` sees True at that very instant.
        at = self._connected_at
        return at is not None and now >= at + self._healthy_after

    def ended(self, now: float) -> str:
        """The attempt on :attr:`current` ended at *now*; return the url for the next one.

        It failed if :meth:`connected` was not called for it, or if it was not yet
        :meth:`healthy`: the failure is counted against its url and the next url is used.
        A healthy connection that ended sends the next attempt to the first url.
        """
        if self.healthy(now):
            self._index = 0
        else:
            self._failures[self.current] += 1
            self._index = (self._index + 1) % len(self._urls)
        self._connected_at = None
        return self.current

    def failures(self) -> dict[str, int]:
        """Failed attempts per url since creation, every url present (0 if none), in
        :attr:`urls` order. A fresh dict: changing it changes nothing here."""
        return dict(self._failures)

    def __repr__(self) -> str:
        return (
            f"EndpointRotation(urls={self._urls!r}, healthy_after={self._healthy_after}, "
            f"current={self.current!r})"
        )
