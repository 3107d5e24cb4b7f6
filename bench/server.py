"""The bench's fake OKX exchange: a separate process, built to never be the bottleneck.

A hand-rolled RFC 6455 server on plain :mod:`asyncio` streams (no WebSocket library): the
HTTP upgrade, unmasked server frames, masked client frames. It speaks enough OKX for every
client in the bench: acks ``subscribe``/``unsubscribe`` per argument with the request's
``id`` echoed, answers the text ``ping`` with ``pong`` (and ping frames with pong frames),
and pushes ticker messages in OKX's exact format, built before they are needed.

Why hand-rolled: in flood mode the server writes *pre-framed* batches (``FLOOD_BATCH``
complete WebSocket frames in one buffer, one ``write`` + ``drain`` each), so it spends a few
microseconds of CPU per thousand messages and TCP back-pressure paces it to exactly the
client's reading speed. A per-message ``await send`` through a WebSocket library costs the
server more than the fastest client spends receiving, on a 2-core box, and would measure the
server. ``bench/run.py`` also checks this: the ``raw`` client (socket reads, no parsing)
measures what the server can deliver.

The mode is chosen per connection by the URL's query string:

* ``?mode=flood`` - once the client has subscribed, push tickers of the subscribed pairs as
  fast as the client reads them (each message a different, pre-built price line);
* ``?mode=rate&hz=10`` - push each subscribed pair ``hz`` times a second, spread evenly
  in 5 ms slots (500 pairs x 10 Hz = 5,000 msgs/s);
* ``?mode=quiet`` (default) - push one ticker for each pair right after acking it, then
  nothing (subscription-change and reconnect timing).

Control: ``GET /control/drop`` aborts every WebSocket connection (TCP reset, no closing
handshake, the client sees 1006) and answers ``200 dropped N``.

Run: ``python bench/server.py [--host 127.0.0.1] [--port 0] [--tls-cert PEM --tls-key PEM]``;
it prints one JSON line ``{"ws": url, "wss": url-or-null}`` once listening, and runs until
stdin closes or it is killed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import random
import socket
import ssl
import struct
import sys
import time
from typing import Final
from urllib.parse import parse_qs, urlsplit

GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
FLOOD_BATCH: Final = 512  # frames per write in flood mode
VARIANTS: Final = 64  # different pre-built messages per pair
RATE_SLOT: Final = 0.005  # seconds between rate-mode writes

_connections: set[asyncio.StreamWriter] = set()


def frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One unmasked, unfragmented server frame."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return header + payload


def ticker_json(inst_id: str, rng: random.Random, ts: int) -> bytes:
    """An OKX ``tickers`` push, key for key as OKX sends it."""
    base = rng.uniform(0.5, 60000.0)
    last = base * rng.uniform(0.99, 1.01)
    data = {
        "instType": "SPOT",
        "instId": inst_id,
        "last": f"{last:.2f}",
        "lastSz": f"{rng.uniform(0.0001, 5):.8f}",
        "askPx": f"{last * 1.0001:.2f}",
        "askSz": f"{rng.uniform(0.01, 50):.8f}",
        "bidPx": f"{last * 0.9999:.2f}",
        "bidSz": f"{rng.uniform(0.01, 50):.8f}",
        "open24h": f"{base:.2f}",
        "high24h": f"{base * 1.05:.2f}",
        "low24h": f"{base * 0.95:.2f}",
        "sodUtc0": f"{base * 1.01:.2f}",
        "sodUtc8": f"{base * 0.99:.2f}",
        "volCcy24h": f"{rng.uniform(1e5, 1e9):.8f}",
        "vol24h": f"{rng.uniform(10, 1e6):.8f}",
        "ts": str(ts),
    }
    message = {"arg": {"channel": "tickers", "instId": inst_id}, "data": [data]}
    return json.dumps(message, separators=(",", ":")).encode()


class Frames:
    """Pre-built ticker frames per pair, each made on first use.

    One variant at a time: building all ``VARIANTS`` of a pair at its first subscribe took
    ~1.3 ms a pair on the 2-core machine, so the first client to subscribe 100 new pairs
    waited ~130 ms for the *server* (the subscription-change figure of whichever transport
    the bench ran first).
    """

    def __init__(self) -> None:
        self._by_pair: dict[str, tuple[int, list[bytes]]] = {}
        self._rng = random.Random(5)

    def one(self, inst_id: str, variant: int) -> bytes:
        """Frame *variant* (``< VARIANTS``) of *inst_id*'s pushes."""
        entry = self._by_pair.get(inst_id)
        if entry is None:
            entry = self._by_pair[inst_id] = (int(time.time() * 1000), [])
        ts, frames = entry
        while len(frames) <= variant:
            frames.append(frame(ticker_json(inst_id, self._rng, ts + len(frames))))
        return frames[variant]

    def for_pair(self, inst_id: str) -> list[bytes]:
        """All ``VARIANTS`` frames of *inst_id*."""
        self.one(inst_id, VARIANTS - 1)
        return self._by_pair[inst_id][1]

    def flood_batch(self, pairs: list[str], start: int) -> bytes:
        """``FLOOD_BATCH`` frames cycling over *pairs* and their variants."""
        lists = [self.for_pair(p) for p in pairs]
        n = len(lists)
        return b"".join(
            lists[(start + i) % n][((start + i) // n) % VARIANTS] for i in range(FLOOD_BATCH)
        )


FRAMES = Frames()


class Session:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.subscriptions: dict[str, None] = {}  # ordered set
        self.changed = asyncio.Event()
        self.conn_id = os.urandom(4).hex()

    async def send_text(self, text: str) -> None:
        self.writer.write(frame(text.encode()))
        await self.writer.drain()

    async def read_frames(self) -> None:
        """Client frames: text requests, ping frames, close."""
        buffered: list[bytes] = []
        while True:
            head = await self.reader.readexactly(2)
            b0, b1 = head[0], head[1]
            opcode = b0 & 0x0F
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
            mask = await self.reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
            payload = await self.reader.readexactly(n)
            if b1 & 0x80 and n:
                payload = _unmask(payload, mask)
            if opcode == 0x8:  # close: echo the code, then hang up
                self.writer.write(frame(payload[:2], 0x8))
                await self.writer.drain()
                return
            if opcode == 0x9:  # ping frame
                self.writer.write(frame(payload, 0xA))
                continue
            if opcode == 0xA:
                continue
            buffered.append(payload)
            if not b0 & 0x80:
                continue
            message = b"".join(buffered).decode("utf-8", "replace")
            buffered.clear()
            await self.handle(message)

    async def handle(self, text: str) -> None:
        if text == "ping":
            await self.send_text("pong")
            return
        try:
            request = json.loads(text)
            op = request["op"]
            args = request["args"]
        except (ValueError, KeyError, TypeError):
            await self.send_text('{"event":"error","msg":"Illegal request","code":"60012"}')
            return
        req_id = request.get("id")
        id_part = f',"id":"{req_id}"' if req_id is not None else ""
        out: list[bytes] = []
        for arg in args:
            inst_id = arg.get("instId", "")
            if op == "subscribe":
                self.subscriptions[inst_id] = None
            elif op == "unsubscribe":
                self.subscriptions.pop(inst_id, None)
            ack = (
                f'{{"event":"{op}","arg":{{"channel":"tickers","instId":"{inst_id}"}}'
                f'{id_part},"connId":"{self.conn_id}"}}'
            )
            out.append(frame(ack.encode()))
            if op == "subscribe":
                out.append(FRAMES.one(inst_id, 0))  # the first push follows the ack
        self.writer.write(b"".join(out))
        self.changed.set()
        await self.writer.drain()

    async def flood(self) -> None:
        await self.changed.wait()
        start = 0
        pairs: list[str] = []
        batches: list[bytes] = []
        while True:
            if self.changed.is_set():
                self.changed.clear()
                pairs = list(self.subscriptions)
                batches = [FRAMES.flood_batch(pairs, i * FLOOD_BATCH) for i in range(8)]
            if not pairs:
                await self.changed.wait()
                continue
            self.writer.write(batches[start % len(batches)])
            start += 1
            await self.writer.drain()

    async def rate(self, hz: float) -> None:
        loop = asyncio.get_running_loop()
        began = loop.time()
        sent = 0
        cursor = 0
        while True:
            await asyncio.sleep(RATE_SLOT)
            pairs = list(self.subscriptions)
            if not pairs:
                began, sent = loop.time(), 0
                continue
            due = int((loop.time() - began) * hz * len(pairs)) - sent
            if due <= 0:
                continue
            out = []
            for _ in range(due):
                p = pairs[cursor % len(pairs)]
                out.append(FRAMES.one(p, (cursor // len(pairs)) % VARIANTS))
                cursor += 1
            sent += due
            self.writer.write(b"".join(out))
            await self.writer.drain()


def _unmask(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    target = lines[0].split(" ")[1]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return target, headers


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        target, headers = await read_request(reader)
        path = urlsplit(target)
        if path.path == "/control/drop":
            dropped = len(_connections)
            for other in list(_connections):
                _abort(other)
            body = f"dropped {dropped}".encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                % (len(body), body)
            )
            await writer.drain()
            writer.close()
            return
        key = headers.get("sec-websocket-key", "")
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        writer.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        query = parse_qs(path.query)
        mode = query.get("mode", ["quiet"])[0]
        session = Session(reader, writer)
        _connections.add(writer)
        tasks = [asyncio.create_task(session.read_frames())]
        if mode == "flood":
            tasks.append(asyncio.create_task(session.flood()))
        elif mode == "rate":
            tasks.append(asyncio.create_task(session.rate(float(query.get("hz", ["10"])[0]))))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, IndexError):
        pass
    finally:
        _connections.discard(writer)
        if not writer.is_closing():
            writer.close()


def _abort(writer: asyncio.StreamWriter) -> None:
    transport = writer.transport
    sock = writer.get_extra_info("socket")
    if sock is not None:  # RST, not FIN: like a dead network path
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    _connections.discard(writer)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-port", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    servers = [await asyncio.start_server(serve, args.host, args.port, limit=1 << 20)]
    port = servers[0].sockets[0].getsockname()[1]
    urls: dict[str, str | None] = {"ws": f"ws://{args.host}:{port}/ws/v5/public", "wss": None}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        tls = await asyncio.start_server(
            serve, args.host, args.tls_port, ssl=context, limit=1 << 20
        )
        servers.append(tls)
        tls_port = tls.sockets[0].getsockname()[1]
        urls["wss"] = f"wss://{args.host}:{tls_port}/ws/v5/public"
    print(json.dumps(urls), flush=True)
    loop = asyncio.get_running_loop()
    # Run until stdin closes (the parent went away) or we are killed.
    await loop.run_in_executor(None, sys.stdin.buffer.read)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
