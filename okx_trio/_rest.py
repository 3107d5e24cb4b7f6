"""The Trio shell's REST calls over an ``httpx.AsyncClient``: OKX's order-book snapshot, and
its clock (for the login's timestamp).

httpx runs on Trio through anyio. The client takes an ``httpx.AsyncClient`` of the user's
(tests pass one on ``httpx.MockTransport`` or on the fake exchange's transport) or makes its
own, with OKX's REST host from the configuration, and closes only one it made. Calls share one
rate budget (OKX allows 40 order-book requests per 2 s per IP; the client keeps to half, for
other clients on the same address).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Final

import httpx
import trio

from ._ratelimit import SlidingWindowLimit
from ._rest_books import BOOKS_PATH, RestBook, RestError, books_params, parse_books_answer
from ._signing import TIME_PATH, clock_offset

__all__ = ["RestClient", "RestError"]


def _okx_message(body: bytes) -> str:
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    if isinstance(answer, dict) and "code" in answer:
        return f"(OKX error {answer.get('code')}: {str(answer.get('msg') or '').strip()})"
    return ""

_BOOK_REQUESTS: Final = 20
_BOOK_WINDOW: Final = 2.0


class RestClient:
    """OKX's REST API for one client: order-book snapshots, its clock, signed GETs.

    *http* is the user's client (never closed here) or None: one is made on first use with
    *base_url* and *timeout*, and closed by :meth:`aclose`.
    """

    def __init__(self, http: httpx.AsyncClient | None, base_url: str, timeout: float) -> None:
        self._http = http
        self._owned: httpx.AsyncClient | None = None
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._limit = SlidingWindowLimit(_BOOK_REQUESTS, _BOOK_WINDOW)
        #: Requests made, and those that failed.
        self.requests = 0
        self.failures = 0

    def _client(self) -> httpx.AsyncClient:
        if self._http is not None:
            return self._http
        if self._owned is None:
            self._owned = httpx.AsyncClient(timeout=self._timeout)
        return self._owned

    async def _exchange(
        self,
        path: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """One ``GET`` of *path* on the REST host: ``(status, body)``, counted.

        Raises :class:`RestError` starting with *what* for a timeout or a transport
        failure (never quoting the headers, which may hold a signature and a passphrase).
        """
        self.requests += 1
        try:
            with trio.fail_after(self._timeout):
                response = await self._client().get(
                    self._base_url + path, params=params, headers=headers
                )
                body = await response.aread()
        except trio.TooSlowError:
            self.failures += 1
            raise RestError(f"{what}: no answer within {self._timeout:g}s") from None
        except httpx.HTTPError as exc:
            self.failures += 1
            raise RestError(f"{what}: {type(exc).__name__}: {exc}") from None
        return response.status_code, body

    async def fetch_book(self, inst_id: str, depth: int) -> RestBook:
        """OKX's REST snapshot of *inst_id* with *depth* levels per side.

        Waits for the rate budget first. Raises :class:`RestError` (one sentence: what and
        why) for a transport failure, a timeout (``timeout`` seconds), an HTTP error or an
        answer that is not a book. Cancellation abandons the request.
        """
        now = trio.current_time()
        while (at := self._limit.next_allowed(now)) > now:
            await trio.sleep_until(at)
            now = trio.current_time()
        self._limit.record(now)
        status, body = await self._exchange(
            BOOKS_PATH, f"REST order book of {inst_id}", params=books_params(inst_id, depth)
        )
        try:
            return parse_books_answer(status, body, inst_id)
        except RestError:
            self.failures += 1
            raise

    async def fetch_clock_offset(self, wall_clock: Callable[[], float]) -> float:
        """Seconds to add to *wall_clock* to read OKX's clock (``GET /api/v5/public/time``,
        the midpoint of the round trip).

        Raises :class:`RestError` (one sentence) for a failure, a timeout or a bad answer.
        """
        sent_at = wall_clock()
        status, body = await self._exchange(TIME_PATH, "OKX's time")
        received_at = wall_clock()
        if status != 200:
            self.failures += 1
            raise RestError(f"OKX's time: HTTP {status}")
        try:
            return clock_offset(body, sent_at, received_at)
        except (ValueError, TypeError) as exc:
            self.failures += 1
            raise RestError(f"OKX's time: {exc}") from None

    async def get(self, path_and_query: str, headers: dict[str, str], what: str) -> bytes:
        """``GET`` *path_and_query* (on the REST host) with *headers*; the body of a 200.

        Raises :class:`RestError` (one sentence starting with *what*) for a failure, a
        timeout, or another status (with OKX's code and message when the body has them).
        The headers (which may hold a signature and a passphrase) are never in the error.
        """
        status, body = await self._exchange(path_and_query, what, headers=headers)
        if status != 200:
            self.failures += 1
            raise RestError(f"{what}: HTTP {status} {_okx_message(body)}".rstrip())
        return body

    async def aclose(self) -> None:
        """Close the httpx client made here, if any (the user's stays open)."""
        owned, self._owned = self._owned, None
        if owned is not None:
            with trio.CancelScope(shield=True):
                await owned.aclose()
