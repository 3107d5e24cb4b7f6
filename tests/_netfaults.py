"""Real-socket fault helpers: dead ports, black holes, a freezable TCP proxy, a killable server.

Everything listens on 127.0.0.1 and runs in real time; no helper outlives its ``async with``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Final

import trio

LOOPBACK: Final = "127.0.0.1"
PATH: Final = "/ws/v5/public"
_CHUNK: Final = 65536


def unused_port() -> int:
    """A loopback port nobody listens on (bound and released; good enough for one test)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
    return port


def count_fds() -> int:
    """Open file descriptors of this process (Linux: ``/proc/self/fd``)."""
    return len(os.listdir("/proc/self/fd"))


def _port_of(listeners: list[trio.SocketListener]) -> int:
    port: int = listeners[0].socket.getsockname()[1]
    return port


@dataclass
class BlackHole:
    """A TCP server that accepts and reads everything but never answers or closes."""

    port: int = 0
    accepted: int = 0
    received: int = 0

    async def _handle(self, stream: trio.SocketStream) -> None:
        self.accepted += 1
        async with stream:
            # Read (so the client's request is not merely sitting in a kernel buffer), answer
            # nothing, close nothing: the peer's handshake can only end by its own deadline.
            while data := await stream.receive_some(_CHUNK):
                self.received += len(data)
            await trio.sleep_forever()


@asynccontextmanager
async def open_black_hole() -> AsyncIterator[BlackHole]:
    hole = BlackHole()
    async with trio.open_nursery() as nursery:
        listeners = await trio.open_tcp_listeners(0, host=LOOPBACK)
        hole.port = _port_of(listeners)
        nursery.start_soon(trio.serve_listeners, hole._handle, listeners)
        yield hole
        nursery.cancel_scope.cancel()


@dataclass
class _Link:
    frozen: bool = False


@dataclass
class TcpProxy:
    """A loopback TCP proxy to ``127.0.0.1:upstream_port`` that can go half-open.

    :meth:`freeze` makes every link open now stop forwarding in both directions while both
    of its sockets stay open: no FIN, no RST, no data, like a NAT entry that died. Links made
    afterwards forward normally, so a client that gives up and reconnects gets through.
    """

    upstream_port: int
    port: int = 0
    accepted: int = 0
    _links: list[_Link] = field(default_factory=list)

    @property
    def open_links(self) -> int:
        return len(self._links)

    def freeze(self) -> int:
        """Stop forwarding on every open link, closing nothing; returns how many."""
        for link in self._links:
            link.frozen = True
        return len(self._links)

    async def _handle(self, downstream: trio.SocketStream) -> None:
        self.accepted += 1
        async with downstream:
            try:
                upstream = await trio.open_tcp_stream(LOOPBACK, self.upstream_port)
            except OSError:
                return  # upstream down: the client sees its connection close
            async with upstream:
                link = _Link()
                self._links.append(link)
                try:
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(_pump, downstream, upstream, link, nursery.cancel_scope)
                        nursery.start_soon(_pump, upstream, downstream, link, nursery.cancel_scope)
                finally:
                    self._links.remove(link)


async def _pump(
    source: trio.SocketStream, sink: trio.SocketStream, link: _Link, scope: trio.CancelScope
) -> None:
    try:
        while not link.frozen:
            data = await source.receive_some(_CHUNK)
            if not data:
                break
            if link.frozen:
                break  # drop what arrived after the freeze
            await sink.send_all(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    if link.frozen:
        # Half-open: keep both sockets open, read nothing more, send nothing more.
        await trio.sleep_forever()
    scope.cancel()  # one side ended: close the link (both sockets, by the async withs)


@asynccontextmanager
async def open_tcp_proxy(upstream_port: int) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(upstream_port)
    async with trio.open_nursery() as nursery:
        listeners = await trio.open_tcp_listeners(0, host=LOOPBACK)
        proxy.port = _port_of(listeners)
        nursery.start_soon(trio.serve_listeners, proxy._handle, listeners)
        yield proxy
        nursery.cancel_scope.cancel()


class ServerProcess:
    """``python -m okx_trio.testing`` in a child process; :meth:`kill` sends SIGKILL."""

    def __init__(self, process: trio.Process, url: str) -> None:
        self.process = process
        self.url = url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/", 1)[0])

    async def kill(self) -> None:
        """SIGKILL the server and reap it: the kernel closes its sockets, nothing says bye."""
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()


async def _read_line(stream: trio.abc.ReceiveStream) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = await stream.receive_some(1024)
        if not chunk:
            raise RuntimeError(f"server process exited before printing its url: {data!r}")
        data += chunk
    return data.decode().strip()


@asynccontextmanager
async def run_server_process(
    port: int = 0, tick_interval: float = 0.05
) -> AsyncIterator[ServerProcess]:
    """Start the fake exchange in its own process; yield once it listens (its URL is printed).

    Leaving the block SIGKILLs the process if it still runs and reaps it.
    """
    command = [
        sys.executable,
        "-m",
        "okx_trio.testing",
        "--port",
        str(port),
        "--tick-interval",
        str(tick_interval),
    ]
    process = await trio.lowlevel.open_process(command, stdout=subprocess.PIPE)
    assert process.stdout is not None
    try:
        async with process.stdout:
            url = await _read_line(process.stdout)
            yield ServerProcess(process, url)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        with trio.CancelScope(shield=True):
            await process.wait()
