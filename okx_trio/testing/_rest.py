"""The fake exchange's REST API as a sans-IO core: a route table and OKX's answers.

:class:`RestRouter` maps ``(method, path)`` to a handler, enforces each route's rate limit
(OKX counts per IP, sliding windows), and turns a request into ``(status, json_bytes)``.
No Trio, no I/O, no clock: ``now`` (the Trio clock's reading) comes in with the request.
Adapters (``_http.py``) serve it through an ``httpx`` transport in memory and over HTTP/1.1
on loopback.

To add routes (private ones, say), write a handler ``(RestRequest) -> RestReply`` and call
:func:`register_route` (or :meth:`RestRouter.add`); :func:`okx_ok` and :func:`okx_error`
make OKX's ``{"code","msg","data"}`` bodies.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from ._limits import admit_into_window

__all__ = [
    "RATE_LIMIT_CODE",
    "RATE_LIMIT_MSG",
    "RateLimit",
    "RestReply",
    "RestRequest",
    "RestRouter",
    "okx_error",
    "okx_ok",
    "register_route",
]

#: OKX's answer to a request over a route's rate limit, with HTTP 429.
RATE_LIMIT_CODE: Final = "50011"
RATE_LIMIT_MSG: Final = "Too Many Requests"


class RestReply(NamedTuple):
    """An HTTP status and a JSON body."""

    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class RestRequest:
    """One HTTP request as a handler sees it.

    ``query`` holds the first value of each query parameter; ``headers`` has lower-case
    names (it and ``body`` are left out of the repr: they may hold credentials); ``client``
    is who asked (the peer's IP on loopback, ``"memory"`` in memory): rate limits count per
    client, as OKX counts per IP.
    """

    method: str
    path: str
    query: Mapping[str, str]
    # Signed requests carry credentials in headers and body: never in a repr.
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    now: float = 0.0
    client: str = "memory"


Handler = Callable[[RestRequest], RestReply]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most *requests* per sliding *window* seconds per client (OKX: per IP)."""

    requests: int
    window: float

    def __post_init__(self) -> None:
        if not (isinstance(self.requests, int) and self.requests >= 1):
            raise ValueError(f"requests must be an int >= 1, got {self.requests!r}")
        if not (isinstance(self.window, int | float) and self.window > 0):
            raise ValueError(f"window must be a number > 0, got {self.window!r}")


def okx_ok(data: list[Any]) -> RestReply:
    """HTTP 200 with ``{"code":"0","msg":"","data":data}``."""
    return RestReply(200, _dumps({"code": "0", "msg": "", "data": data}))


def okx_error(code: str, msg: str, status: int = 200) -> RestReply:
    """OKX's error body ``{"code":code,"msg":msg,"data":[]}`` with HTTP *status*."""
    return RestReply(status, _dumps({"code": code, "msg": msg, "data": []}))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass(slots=True)
class _Route:
    handler: Handler
    limit: RateLimit | None
    # client -> times of the requests the limit let through
    admitted: dict[str, deque[float]] = field(default_factory=dict)


class RestRouter:
    """The route table (see the module docstring). ``served`` counts the requests each
    route answered (by path), rate-limited ones included; ``limited`` those answered 50011."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], _Route] = {}
        self.served: dict[str, int] = {}
        self.limited: dict[str, int] = {}

    def add(
        self, method: str, path: str, handler: Handler, *, limit: RateLimit | None = None
    ) -> None:
        """Serve ``method path`` (``"GET"``, ``"/api/v5/market/books"``) with *handler*,
        replacing any earlier handler of it.

        Raises:
            ValueError: for a method that is not upper-case letters or a path not from ``/``.
        """
        if not (method.isalpha() and method.isupper()):
            raise ValueError(f"method must be upper-case, like 'GET', got {method!r}")
        if not path.startswith("/") or "?" in path:
            raise ValueError(f"path must start with '/' and hold no query, got {path!r}")
        self._routes[(method, path.rstrip("/") or "/")] = _Route(handler, limit)

    @property
    def routes(self) -> list[tuple[str, str]]:
        """The ``(method, path)`` pairs served."""
        return list(self._routes)

    def handle(self, request: RestRequest) -> RestReply:
        """Answer *request*. Never raises: an unknown path is HTTP 404, a known path with
        another method 405, a request over the route's limit 429 with ``50011``, and a
        handler that fails 500 with ``50026`` (a bug in the handler, reported in ``msg``)."""
        path = request.path.rstrip("/") or "/"
        route = self._routes.get((request.method, path))
        if route is None:
            if any(p == path for _, p in self._routes):
                return okx_error("50000", f"method {request.method} not allowed", 405)
            return okx_error("50000", f"no route {request.method} {path}", 404)
        self.served[path] = self.served.get(path, 0) + 1
        if route.limit is not None and not _admit(route, request):
            self.limited[path] = self.limited.get(path, 0) + 1
            return RestReply(429, _dumps({"msg": RATE_LIMIT_MSG, "code": RATE_LIMIT_CODE}))
        try:
            return route.handler(request)
        except Exception as exc:  # a handler's bug must not take the server down
            return okx_error("50026", f"System error: {type(exc).__name__}: {exc}", 500)


def _admit(route: _Route, request: RestRequest) -> bool:
    assert route.limit is not None
    times = route.admitted.setdefault(request.client, deque())
    # The fake's one window rule: a request at t counts until t + window.
    return admit_into_window(times, request.now, route.limit.window, route.limit.requests)


def register_route(
    router: RestRouter,
    method: str,
    path: str,
    handler: Handler,
    *,
    limit: RateLimit | None = None,
) -> None:
    """``router.add(method, path, handler, limit=limit)``: the one call a new route needs,
    e.g. ``register_route(exchange.rest, "GET", "/api/v5/account/balance", balance)``.

    Raises:
        ValueError: as :meth:`RestRouter.add`.
    """
    router.add(method, path, handler, limit=limit)
