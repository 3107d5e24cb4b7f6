"""``python -m okx_trio.testing``: serve a :class:`FakeExchange` on a real port until killed.

Prints the WebSocket URL as the first line on stdout (flushed), then serves until the process
is interrupted or killed. Meant for tests that need the exchange in a process of its own (to
kill it with SIGKILL mid-stream, say) and for pointing an app at a local fake OKX::

    $ python -m okx_trio.testing --port 8765 --tick-interval 0.5
    ws://127.0.0.1:8765/ws/v5/public

With ``--certfile`` (and ``--keyfile``, if the key is not in the same PEM) it serves
``wss://``; the client must trust the issuing CA.
"""

from __future__ import annotations

import argparse
import ssl
import sys
from collections.abc import Sequence

import trio

from ._exchange import FakeExchange
from ._server import open_fake_exchange_server

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m okx_trio.testing",
        description="Serve a fake OKX v5 public WebSocket exchange; print its URL on stdout.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="numeric address (default %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument(
        "--tick-interval", type=float, default=0.1, help="seconds between pushes per instrument"
    )
    parser.add_argument("--seed", type=int, default=0, help="seeds the simulated market")
    parser.add_argument("--certfile", help="PEM certificate chain: serve wss://")
    parser.add_argument("--keyfile", help="PEM private key, if not in --certfile")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    ssl_context: ssl.SSLContext | None = None
    if args.certfile:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(args.certfile, args.keyfile)
    exchange = FakeExchange(tick_interval=args.tick_interval, seed=args.seed)
    async with open_fake_exchange_server(
        exchange, args.host, args.port, ssl_context=ssl_context
    ) as url:
        print(url, flush=True)
        await trio.sleep_forever()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server; returns the exit status (130 on Ctrl-C, 2 for bad arguments)."""
    args = _parser().parse_args(argv)
    try:
        trio.run(_serve, args)
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError) as exc:  # cannot bind, unreadable certificate, bad interval
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
