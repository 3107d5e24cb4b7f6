"""Peer clients in the bench: cryptofeed's and ccxt(pro)'s OKX feeds against the bench exchange.

Each runs in its own asyncio loop, on a fresh process (``bench/clients.py throughput
--variant cryptofeed|ccxt``), pointed at the loopback bench server, and counts the records
its callbacks or ``watch_*`` calls hand over; the result is the same dict as every other
throughput variant's. Neither library can reach OKX's REST API here (no network), so the
instrument lists they would load at start are given to them directly: the bench pairs as
SPOT instruments. Nothing else of theirs is changed.

* ``cryptofeed`` - ``cryptofeed.exchanges.OKX`` under a ``FeedHandler``, its public
  ``websocket_endpoints`` replaced by the bench url; ``trades`` (``TRADES`` callback, one
  ``Trade`` per trade) or ``books`` (``L2_BOOK`` callback, its book in the C ``order-book``
  package, one call per update). cryptofeed 3 needs Python >= 3.13: ``bench/run.py`` runs
  this variant with ``bench/.venv-peers/bin/python`` when that exists.
* ``ccxt`` - ``ccxt.pro.okx`` with ``urls["api"]["ws"]`` on the bench server;
  ``watch_trades_for_symbols`` or ``watch_order_book_for_symbols`` in a loop (each call
  returns once something new arrived: a burst of trades, or a book after one or more
  updates; trades count the new trades, books count the updates the server sent that ccxt
  applied, from the book's ``nonce`` / seqId steps).

The bench server takes its mode from a ``/m/<mode>`` path segment as well as from the
query, since ccxt appends ``/public`` to its url.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit


class _Counter:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


def _window(counter: _Counter, t0: float, c0: int, cpu0: float) -> dict[str, Any]:
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    n = counter.n - c0
    return {
        "msgs": n,
        "seconds": wall,
        "rate": n / wall,
        "cpu_seconds": cpu,
        "cpu_pct": 100.0 * cpu / wall,
        "us_per_msg": 1e6 * cpu / n if n else None,
    }


def _mode_path(url: str) -> tuple[str, str]:
    """(base url with the mode as a path segment, the mode) for a ``...?mode=X`` url."""
    parts = urlsplit(url)
    query = dict(q.split("=", 1) for q in parts.query.split("&") if "=" in q)
    mode = query.get("mode", "quiet")
    base = parts.path.rsplit("/public", 1)[0]  # /ws/v5
    return urlunsplit((parts.scheme, parts.netloc, f"/m/{mode}{base}", "", "")), mode


def run_peer(
    name: str, url: str, pairs: list[str], warmup: float, seconds: float, channel: str
) -> dict[str, Any]:
    logging.disable(logging.WARNING)
    if channel not in ("trades", "books", "tickers"):
        raise SystemExit(f"{name}: no {channel!r} in the bench")
    runner = _cryptofeed if name == "cryptofeed" else _ccxt
    result = asyncio.run(runner(url, pairs, warmup, seconds, channel))
    result["channel"] = channel
    return result


async def _measure(counter: _Counter, warmup: float, seconds: float) -> dict[str, Any]:
    await asyncio.sleep(warmup)
    t0, c0, cpu0 = time.perf_counter(), counter.n, time.process_time()
    await asyncio.sleep(seconds)
    return _window(counter, t0, c0, cpu0)


async def _cryptofeed(
    url: str, pairs: list[str], warmup: float, seconds: float, channel: str
) -> dict[str, Any]:
    import cryptofeed
    from cryptofeed import FeedHandler
    from cryptofeed.connection import WebsocketEndpoint
    from cryptofeed.defines import L2_BOOK, TICKER, TRADES
    from cryptofeed.exchanges import OKX
    from cryptofeed.symbols import Symbols

    counter = _Counter()
    std = {p: p for p in pairs}  # B0000-USDT is its own normalized symbol
    Symbols.set(
        OKX.id,
        std,
        {
            "tick_size": dict.fromkeys(pairs, "0.01"),
            "instrument_type": dict.fromkeys(pairs, "spot"),
        },
    )
    kind = {"trades": TRADES, "books": L2_BOOK, "tickers": TICKER}[channel]
    OKX.websocket_endpoints = [
        WebsocketEndpoint(
            url, channel_filter=(OKX.websocket_channels[kind],), options={"compression": None}
        )
    ]

    async def callback(*_: Any) -> None:
        counter.n += 1

    handler = FeedHandler(config={"log": {"disabled": True}, "uvloop": False})
    handler.add_feed(OKX(symbols=pairs, channels=[kind], callbacks={kind: callback}))
    task = asyncio.create_task(handler.run_async(install_signal_handlers=False))
    try:
        result = await _measure(counter, warmup, seconds)
    finally:
        handler.request_stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
            await asyncio.wait_for(task, 5)
    del cryptofeed
    result["peer"] = f"cryptofeed {_version('cryptofeed')}"
    return result


def _version(dist: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _market(inst_id: str) -> dict[str, Any]:
    base, quote = inst_id.split("-")
    return {
        "id": inst_id,
        "symbol": f"{base}/{quote}",
        "base": base,
        "quote": quote,
        "baseId": base,
        "quoteId": quote,
        "settle": None,
        "type": "spot",
        "spot": True,
        "margin": False,
        "swap": False,
        "future": False,
        "option": False,
        "contract": False,
        "linear": None,
        "inverse": None,
        "active": True,
        "contractSize": None,
        "precision": {"amount": 1e-8, "price": 0.01},
        "limits": {"amount": {"min": None, "max": None}, "price": {"min": None, "max": None}},
        "info": {"instType": "SPOT", "instId": inst_id},
    }


async def _ccxt(
    url: str, pairs: list[str], warmup: float, seconds: float, channel: str
) -> dict[str, Any]:
    import ccxt.pro as ccxtpro

    base, _ = _mode_path(url)
    exchange = ccxtpro.okx({"urls": {"api": {"ws": base}}, "newUpdates": True})
    exchange.set_markets([_market(p) for p in pairs])
    symbols = [f"{p.split('-')[0]}/{p.split('-')[1]}" for p in pairs]
    counter = _Counter()

    async def watch() -> None:
        if channel == "trades":
            while True:
                trades = await exchange.watch_trades_for_symbols(symbols)
                counter.n += len(trades)
        elif channel == "books":
            last: dict[str, int] = {}
            while True:
                book = await exchange.watch_order_book_for_symbols(symbols)
                # One return may cover several updates of the book: count the server's
                # updates by their seqId (our server steps seqIds by seq_step).
                symbol = book["symbol"]
                nonce = book.get("nonce")
                prev = last.get(symbol)
                counter.n += 1 if prev is None or nonce is None else _steps(prev, nonce)
                if nonce is not None:
                    last[symbol] = nonce
        else:
            while True:
                await exchange.watch_tickers(symbols)
                counter.n += 1

    task = asyncio.create_task(watch())
    try:
        result = await _measure(counter, warmup, seconds)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await exchange.close()
    result["peer"] = f"ccxt {_version('ccxt')}"
    return result


def _steps(prev: int, seq: int) -> int:
    """About how many updates of the bench server lie between seqIds *prev* and *seq*.

    The server's steps (``book_stream.seq_step``) cycle through 1..13, 7 on average over
    every 13 updates, so this is exact to within one cycle's rounding per call.
    """
    return max(round((seq - prev) / 7), 1)
