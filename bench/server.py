"""The bench's fake OKX exchange: a separate process, built to never be the bottleneck.

A hand-rolled RFC 6455 server on plain :mod:`asyncio` streams (no WebSocket library): the
HTTP upgrade, unmasked server frames, masked client frames. It speaks enough OKX for every
client in the bench: acks ``subscribe``/``unsubscribe`` per argument with the request's
``id`` echoed, answers the text ``ping`` with ``pong`` (and ping frames with pong frames),
and pushes messages in OKX's exact format for ``tickers``, ``trades`` and ``books5``
(built before they are needed) and ``books`` (a 400-level snapshot after the ack, then
updates shaped like OKX's at 100 ms, from :mod:`book_stream`, with irregular ``seqId`` steps
linked per connection, so a client that checks OKX's sequence rules keeps a valid book).

Why hand-rolled: in flood mode the server writes *pre-framed* batches (``FLOOD_BATCH``
complete WebSocket frames in one buffer, one ``write`` + ``drain`` each), so it spends a few
microseconds of CPU per thousand messages and TCP back-pressure paces it to exactly the
client's reading speed. A per-message ``await send`` through a WebSocket library costs the
server more than the fastest client spends receiving, on a 2-core box, and would measure the
server. ``bench/run.py`` also checks this: the ``raw`` client (socket reads, no parsing)
measures what the server can deliver.

The mode is chosen per connection by the URL's query string:

* ``?mode=flood`` - once the client has subscribed, push the subscriptions' messages round
  robin as fast as the client reads them (each message a different, pre-built price line;
  ``books`` updates are joined with their sequence ids as they go);
* ``?mode=rate&hz=10`` - push each subscription ``hz`` times a second, spread evenly
  in 5 ms slots (500 pairs x 10 Hz = 5,000 msgs/s);
* ``?mode=quiet`` (default) - push one message for each subscription right after acking
  it (a ``books`` snapshot for ``books``), then nothing (subscription-change and reconnect
  timing).

The mode may also be given as a path segment, ``/m/flood/ws/v5/public``, for clients that
append their own path to a base url (ccxt).

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

from book_stream import PushText, make_stream, seq_step

GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
FLOOD_BATCH: Final = 512  # frames per write in flood mode
VARIANTS: Final = 64  # different pre-built messages per pair
RATE_SLOT: Final = 0.005  # seconds between rate-mode writes
BOOK_UPDATES: Final = 512  # different updates per books stream, then they repeat
BOOK_SEED: Final = 11

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


def trade_json(inst_id: str, rng: random.Random, ts: int, trade_id: int) -> bytes:
    """An OKX ``trades`` push (one trade, as OKX sends them), key for key."""
    data = {
        "instId": inst_id,
        "tradeId": str(trade_id),
        "px": f"{rng.uniform(0.5, 60000.0):.2f}",
        "sz": f"{rng.uniform(0.0001, 5):.8f}",
        "side": rng.choice(("buy", "sell")),
        "ts": str(ts),
        "count": str(rng.randint(1, 4)),
    }
    message = {"arg": {"channel": "trades", "instId": inst_id}, "data": [data]}
    return json.dumps(message, separators=(",", ":")).encode()


def books5_json(inst_id: str, rng: random.Random, ts: int, seq_id: int) -> bytes:
    """An OKX ``books5`` push: the best 5 levels a side."""
    mid = rng.uniform(1.0, 60000.0)
    bids = [
        [f"{mid - 0.01 * (i + 1):.2f}", f"{rng.uniform(0.01, 9):.4f}", "0", "1"] for i in range(5)
    ]
    asks = [
        [f"{mid + 0.01 * (i + 1):.2f}", f"{rng.uniform(0.01, 9):.4f}", "0", "1"] for i in range(5)
    ]
    data = {"asks": asks, "bids": bids, "instId": inst_id, "ts": str(ts), "seqId": seq_id}
    message = {"arg": {"channel": "books5", "instId": inst_id}, "data": [data]}
    return json.dumps(message, separators=(",", ":")).encode()


#: Channels with pre-built pushes (any number of variants, cycled).
STATELESS: Final = ("tickers", "trades", "books5")


class Frames:
    """Pre-built frames per subscription (channel, instId), each made on first use.

    One variant at a time: building all ``VARIANTS`` of a pair at its first subscribe took
    ~1.3 ms a pair on the 2-core machine, so the first client to subscribe 100 new pairs
    waited ~130 ms for the *server* (the subscription-change figure of whichever transport
    the bench ran first).
    """

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], tuple[int, list[bytes]]] = {}
        self._rng = random.Random(5)

    def one(self, inst_id: str, variant: int, channel: str = "tickers") -> bytes:
        """Frame *variant* (``< VARIANTS``) of *inst_id*'s pushes on *channel*."""
        key = (channel, inst_id)
        entry = self._by_key.get(key)
        if entry is None:
            entry = self._by_key[key] = (int(time.time() * 1000), [])
        ts, frames = entry
        while len(frames) <= variant:
            n = len(frames)
            if channel == "trades":
                text = trade_json(inst_id, self._rng, ts + n, 1_000_000 + n)
            elif channel == "books5":
                text = books5_json(inst_id, self._rng, ts + n, 1000 + 3 * n)
            else:
                text = ticker_json(inst_id, self._rng, ts + n)
            frames.append(frame(text))
        return frames[variant]

    def for_pair(self, inst_id: str, channel: str = "tickers") -> list[bytes]:
        """All ``VARIANTS`` frames of *inst_id* on *channel*."""
        self.one(inst_id, VARIANTS - 1, channel)
        return self._by_key[(channel, inst_id)][1]

    def flood_batch(self, keys: list[tuple[str, str]], start: int) -> bytes:
        """``FLOOD_BATCH`` frames cycling over the subscriptions *keys* and their variants."""
        lists = [self.for_pair(inst_id, channel) for channel, inst_id in keys]
        n = len(lists)
        return b"".join(
            lists[(start + i) % n][((start + i) // n) % VARIANTS] for i in range(FLOOD_BATCH)
        )


FRAMES = Frames()


class BookBodies:
    """The serialised sides of one generated ``books`` stream, shared by every instrument."""

    def __init__(self) -> None:
        self._made: tuple[bytes, list[bytes]] | None = None

    def get(self) -> tuple[bytes, list[bytes]]:
        if self._made is None:
            snapshot, updates = make_stream(BOOK_UPDATES, BOOK_SEED)
            self._made = (
                PushText.body(*snapshot),
                [PushText.body(bids, asks) for bids, asks in updates],
            )
        return self._made


BOOK_BODIES = BookBodies()


class BookFeed:
    """One ``books`` subscription on one connection: the snapshot, then linked updates."""

    __slots__ = ("_i", "_seq", "_text")

    def __init__(self, inst_id: str) -> None:
        self._text = PushText(inst_id)
        self._seq = 1000
        self._i = 0

    def snapshot(self) -> bytes:
        snapshot, _ = BOOK_BODIES.get()
        self._seq, self._i = 1000, 0
        return frame(self._text.push("snapshot", snapshot, _now_ms(), -1, self._seq))

    def next_update(self) -> bytes:
        _, updates = BOOK_BODIES.get()
        prev = self._seq
        self._seq = prev + seq_step(self._i)
        body = updates[self._i % len(updates)]
        self._i += 1
        return frame(self._text.push("update", body, _now_ms(), prev, self._seq))


def _now_ms() -> int:
    return int(time.time() * 1000)


class Session:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        # (channel, instId) -> None (an ordered set); books have a feed of their own.
        self.subscriptions: dict[tuple[str, str], None] = {}
        self.books: dict[str, BookFeed] = {}
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

    def first_push(self, channel: str, inst_id: str) -> bytes:
        """What follows the ack of a subscribe: a books snapshot, or one pre-built push."""
        if channel == "books":
            feed = self.books[inst_id] = BookFeed(inst_id)
            return feed.snapshot()
        return FRAMES.one(inst_id, 0, channel)

    def next_push(self, key: tuple[str, str], n: int) -> bytes:
        channel, inst_id = key
        if channel == "books":
            return self.books[inst_id].next_update()
        return FRAMES.one(inst_id, n % VARIANTS, channel)

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
            channel = str(arg.get("channel", "tickers"))
            inst_id = str(arg.get("instId", ""))
            key = (channel, inst_id)
            if op == "subscribe":
                self.subscriptions[key] = None
            elif op == "unsubscribe":
                self.subscriptions.pop(key, None)
                if channel == "books":
                    self.books.pop(inst_id, None)
            arg_text = json.dumps(arg, separators=(",", ":"))
            ack = f'{{"event":"{op}","arg":{arg_text}{id_part},"connId":"{self.conn_id}"}}'
            out.append(frame(ack.encode()))
            if op == "subscribe":
                out.append(self.first_push(channel, inst_id))  # the first push follows the ack
        self.writer.write(b"".join(out))
        self.changed.set()
        await self.writer.drain()

    async def flood(self) -> None:
        await self.changed.wait()
        start = 0
        keys: list[tuple[str, str]] = []
        batches: list[bytes] = []
        while True:
            if self.changed.is_set():
                self.changed.clear()
                keys = list(self.subscriptions)
                stateless = all(channel in STATELESS for channel, _ in keys)
                batches = (
                    [FRAMES.flood_batch(keys, i * FLOOD_BATCH) for i in range(8)]
                    if stateless
                    else []
                )
            if not keys:
                await self.changed.wait()
                continue
            if batches:
                self.writer.write(batches[start % len(batches)])
            else:
                # Books need their sequence ids: made as they go (a few µs a push against
                # the tens of µs a client spends on one).
                n = len(keys)
                self.writer.write(
                    b"".join(
                        self.next_push(keys[(start + i) % n], (start + i) // n)
                        for i in range(FLOOD_BATCH // 8)
                    )
                )
            start += 1
            await self.writer.drain()
            if self.writer.is_closing():
                # The client went away: drain() no longer waits on a closing transport, so
                # without this the loop would spin, writing into it (and asyncio logging
                # "socket.send() raised exception." each time) and starve the next client.
                return

    async def rate(self, hz: float) -> None:
        loop = asyncio.get_running_loop()
        began = loop.time()
        sent = 0
        cursor = 0
        while True:
            await asyncio.sleep(RATE_SLOT)
            keys = list(self.subscriptions)
            if not keys:
                began, sent = loop.time(), 0
                continue
            due = int((loop.time() - began) * hz * len(keys)) - sent
            if due <= 0:
                continue
            out = []
            n = len(keys)
            for _ in range(due):
                out.append(self.next_push(keys[cursor % n], cursor // n))
                cursor += 1
            sent += due
            self.writer.write(b"".join(out))
            await self.writer.drain()
            if self.writer.is_closing():
                return  # the client went away (see flood)


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
        segments = path.path.split("/")
        if "m" in segments[:-1]:  # /m/<mode>/...: for clients that append to their url
            mode = segments[segments.index("m") + 1]
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
