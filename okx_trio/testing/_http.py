"""The fake exchange's REST API over HTTP: an ``httpx`` transport in memory, and an HTTP/1.1
server (``h11``) on a loopback port. Both only move bytes; every answer is the exchange's
``serve_rest`` (the sans-IO routes of ``_rest.py`` behind its REST faults).
"""

from __future__ import annotations

import math
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Final, Protocol

import h11
import httpx
import trio

from ._groups import raise_single
from ._rest import RestReply, okx_error

__all__ = ["FakeRestTransport", "RestServer", "open_fake_rest_server", "serve_http_connection"]

_MAX_BODY: Final = 1 << 20
# A peer that stalls in the middle of a request for this long is dropped (real seconds).
_READ_TIMEOUT: Final = 10.0


class RestServer(Protocol):
    """What the adapters need: the exchange's REST entry point and where it is served."""

    rest_url: str | None

    async def serve_rest(
        self,
        method: str,
        target: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        *,
        client: str = "memory",
    ) -> RestReply: ...


class FakeRestTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncBaseTransport`` answering from *server* in memory (any host)."""

    def __init__(self, server: RestServer) -> None:
        self._server = server

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        target = request.url.raw_path.decode("ascii")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers.raw}
        reply = await self._server.serve_rest(request.method, target, headers, body)
        return httpx.Response(
            reply.status,
            headers={"content-type": "application/json"},
            content=reply.body,
            request=request,
        )


async def _next_event(conn: h11.Connection, stream: trio.abc.Stream) -> object:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        # An idle keep-alive connection may wait for its next request as long as it likes
        # (until the server closes); a request begun must arrive within the bound.
        idle = conn.their_state is h11.IDLE
        with trio.move_on_after(math.inf if idle else _READ_TIMEOUT) as scope:
            data = await stream.receive_some(65536)
        if scope.cancelled_caught:
            return None
        conn.receive_data(bytes(data))  # b"": the peer closed


async def _send(conn: h11.Connection, stream: trio.abc.Stream, reply: RestReply) -> None:
    headers = [("content-type", "application/json"), ("content-length", str(len(reply.body)))]
    for event in (
        h11.Response(status_code=reply.status, headers=headers),
        h11.Data(data=reply.body),
        h11.EndOfMessage(),
    ):
        data = conn.send(event)
        if data:
            await stream.send_all(data)


async def serve_http_connection(server: RestServer, stream: trio.abc.Stream, client: str) -> None:
    """Serve HTTP/1.1 requests (keep-alive) on *stream* until the peer leaves; never raises
    for what the peer does (a malformed request gets HTTP 400 and the connection closes)."""
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_BODY)
    try:
        while True:
            event = await _next_event(conn, stream)
            if not isinstance(event, h11.Request):
                return
            body = bytearray()
            while True:
                part = await _next_event(conn, stream)
                if isinstance(part, h11.Data):
                    body += part.data
                    if len(body) > _MAX_BODY:
                        raise h11.RemoteProtocolError("body too large")
                elif isinstance(part, h11.EndOfMessage):
                    break
                else:
                    return
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in event.headers}
            reply = await server.serve_rest(
                event.method.decode("ascii"),
                event.target.decode("ascii", "replace"),
                headers,
                bytes(body),
                client=client,
            )
            await _send(conn, stream, reply)
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            conn.start_next_cycle()
    except h11.RemoteProtocolError:
        if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            with suppress(h11.LocalProtocolError, trio.BrokenResourceError):
                await _send(conn, stream, okx_error("50000", "Bad request", 400))
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # the peer went away
    finally:
        await trio.aclose_forcefully(stream)


def _peer(stream: trio.abc.Stream) -> str:
    inner = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
    if isinstance(inner, trio.SocketStream):
        peer = inner.socket.getpeername()
        return str(peer[0])
    return "unknown"  # pragma: no cover - trio's TCP listeners give socket streams


@asynccontextmanager
async def open_fake_rest_server(
    server: RestServer,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[str]:
    """Serve *server*'s REST API over HTTP/1.1 (HTTPS with *ssl_context*) and yield its base
    URL, ``http://HOST:PORT``; ``server.rest_url`` is that URL inside the block (and what it
    was before, after). *port* 0 picks a free port. Rate limits count per peer IP.

    Real time: do not use it under an autojump clock. Leaving the block stops listening and
    closes every connection; no task outlives it.

    Raises:
        OSError: if the address cannot be bound.
    """
    listeners: list[trio.SocketListener] | list[trio.SSLListener[trio.SocketStream]]
    if ssl_context is None:
        listeners = await trio.open_tcp_listeners(port, host=host)
        scheme = "http"
    else:
        listeners = await trio.open_ssl_over_tcp_listeners(port, ssl_context, host=host)
        scheme = "https"
    first = listeners[0]
    inner = first.transport_listener if isinstance(first, trio.SSLListener) else first
    assert isinstance(inner, trio.SocketListener)
    url_host = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{url_host}:{inner.socket.getsockname()[1]}"

    async def handler(stream: trio.abc.Stream) -> None:
        await serve_http_connection(server, stream, _peer(stream))

    before = server.rest_url
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, handler, listeners)
            server.rest_url = url
            try:
                yield url
            finally:
                server.rest_url = before
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise_single(group)
