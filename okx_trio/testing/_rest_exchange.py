"""The fake exchange's REST side, as a mixin of :class:`FakeExchange`: the route table, its
faults (failures, delays), counters and the skew of its clock, and the async entry point the
HTTP adapters (``_http.py``) call.
"""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import httpx
import trio

from ._http import FakeRestTransport
from ._rest import RestReply, RestRequest, RestRouter, okx_error
from ._rest_market import add_market_routes
from ._venue import Venue

__all__ = ["RestMixin"]


class RestMixin:
    """REST routes over ``_venue`` (provided by the exchange); call :meth:`_init_rest`."""

    _venue: Venue

    def _notify(self) -> None:  # provided by the exchange
        raise NotImplementedError

    def _init_rest(self) -> None:
        self.rest = RestRouter()
        """The route table: add routes with ``register_route(exchange.rest, ...)``."""
        self.rest_url: str | None = None
        """``http://HOST:PORT`` while ``open_fake_exchange_server`` serves REST, else None."""
        self.rest_failures = 0
        """Requests answered by :meth:`fail_rest` instead of their route."""
        self._clock_skew = 0.0
        self._fail: tuple[int, int] = (0, 503)
        self._delay: tuple[int, float] = (0, 0.0)
        add_market_routes(self.rest, self._venue, lambda: round(self._clock_skew * 1000))

    @property
    def clock_skew(self) -> float:
        """Seconds the REST ``/api/v5/public/time`` is ahead of :meth:`wall_clock` (settable;
        negative: behind). Push timestamps are not affected.

        Raises:
            ValueError: on setting a value that is not a finite number.
        """
        return self._clock_skew

    @clock_skew.setter
    def clock_skew(self, seconds: float) -> None:
        if not (isinstance(seconds, int | float) and math.isfinite(seconds)):
            raise ValueError(f"clock_skew must be a finite number of seconds, got {seconds!r}")
        self._clock_skew = float(seconds)
        self._notify()

    @property
    def rest_requests(self) -> dict[str, int]:
        """REST requests each route answered so far, by path (a new dict); requests
        :meth:`fail_rest` answered are in :attr:`rest_failures` instead."""
        return dict(self.rest.served)

    def fail_rest(self, n: int, status: int = 503) -> None:
        """Answer the next *n* REST requests (any route) with HTTP *status* and OKX's
        ``50001`` body (replacing any earlier count), for testing a client's retry.

        Raises:
            ValueError: for *n* < 0 or a *status* that is not an HTTP error (400-599).
        """
        if not (isinstance(n, int) and n >= 0):
            raise ValueError(f"n must be an int >= 0, got {n!r}")
        if not (isinstance(status, int) and 400 <= status <= 599):
            raise ValueError(f"status must be an HTTP error status 400-599, got {status!r}")
        self._fail = (n, status)
        self._notify()

    def delay_rest(self, seconds: float, n: int = 1) -> None:
        """Answer the next *n* REST requests *seconds* late (Trio's clock: virtual under
        the autojump clock), replacing any earlier delay.

        Raises:
            ValueError: for *seconds* not a finite number >= 0, or *n* < 0.
        """
        if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        if not (isinstance(n, int) and n >= 0):
            raise ValueError(f"n must be an int >= 0, got {n!r}")
        self._delay = (n, float(seconds))
        self._notify()

    async def serve_rest(
        self,
        method: str,
        target: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        *,
        client: str = "memory",
    ) -> RestReply:
        """Answer one REST request (*target* is the path with its query), applying
        :meth:`delay_rest` and :meth:`fail_rest` first. For adapters and tests.

        Never raises for what the request holds. Cancellation (a client that gave up during
        a delay) abandons the request; it is then not counted.
        """
        left, seconds = self._delay
        if left > 0:
            self._delay = (left - 1, seconds)
            await trio.sleep(seconds)
        else:
            await trio.lowlevel.checkpoint()
        fails, status = self._fail
        if fails > 0:
            self._fail = (fails - 1, status)
            self.rest_failures += 1
            self._notify()
            return okx_error("50001", "Service temporarily unavailable", status)
        split = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        request = RestRequest(
            method.upper(),
            split.path or "/",
            query,
            {k.lower(): v for k, v in (headers or {}).items()},
            body,
            trio.current_time(),
            client,
        )
        reply = self.rest.handle(request)
        self._notify()
        return reply

    def http_transport(self) -> httpx.AsyncBaseTransport:
        """An ``httpx`` transport that serves this exchange's REST API in memory (no sockets;
        exact under the autojump clock): ``httpx.AsyncClient(transport=exchange.http_transport(),
        base_url="https://www.okx.com")``. Any host is served."""
        return FakeRestTransport(self)
