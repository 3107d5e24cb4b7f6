"""``python -m okx_trio.testing``: serve a :class:`FakeExchange` on a real port until killed,
or (``python -m okx_trio.testing record ...``) record a live session into a capture file.

Prints the WebSocket URL as the first line on stdout (flushed), then serves until the process
is interrupted or killed. Meant for tests that need the exchange in a process of its own (to
kill it with SIGKILL mid-stream, say) and for pointing an app at a local fake OKX::

    $ python -m okx_trio.testing --port 8765 --tick-interval 0.5
    ws://127.0.0.1:8765/ws/v5/public

With ``--certfile`` (and ``--keyfile``, if the key is not in the same PEM) it serves
``wss://``; the client must trust the issuing CA.

``record`` writes a session of any public or business channels in the capture format
:class:`ReplayExchange` replays (see :func:`record_session`), until ``--duration`` seconds
have passed, ``--max-messages`` frames have arrived, or Ctrl-C (exit status 130; the file is
complete either way)::

    $ python -m okx_trio.testing record --out session.txt --duration 60 \\
          tickers:BTC-USDT trades:BTC-USDT candle1m:BTC-USDT instruments:SPOT

``--host`` takes a host url (``wss://ws.okx.com:8443``, the default), a named host
(``aws``, ``demo``, ...) or an endpoint url such as the one the serve mode prints. A bad
argument is reported in one line on stderr, with exit status 2; a connection that cannot
be opened, or that the server closes, exits with 1.
"""

from __future__ import annotations

import argparse
import signal
import ssl
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

import trio
import trio_websocket

from .._okx import DEFAULT_HOST
from ._exchange import FakeExchange
from ._record import RecordSummary, _group, raise_single, record_session, resolve_host
from ._server import open_fake_exchange_server

__all__ = ["main", "record_main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m okx_trio.testing",
        description="Serve a fake OKX v5 public WebSocket exchange; print its URL on stdout.",
        epilog="'python -m okx_trio.testing record --help': record a live session instead.",
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
        # stdout stays one line (scripts read the WebSocket URL from it).
        print(f"REST API at {exchange.rest_url}", file=sys.stderr, flush=True)
        await trio.sleep_forever()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server, or ``record``; returns the exit status (130 on Ctrl-C, 2 for bad
    arguments)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["record"]:
        return record_main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        trio.run(_serve, args)
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError) as exc:  # cannot bind, unreadable certificate, bad interval
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


class _OneLineParser(argparse.ArgumentParser):
    """Reports a bad argument in one line (no usage block), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _record_parser() -> _OneLineParser:
    parser = _OneLineParser(
        prog="python -m okx_trio.testing record",
        description="Record a live OKX session (any public or business channels) into a "
        "capture file that ReplayExchange replays.",
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="file to write (created or truncated); - is stdout",
    )
    parser.add_argument(
        "--host",
        metavar="HOST|URL",
        default=DEFAULT_HOST,
        help="host url, named host (aws, demo, ...) or endpoint url (default %(default)s)",
    )
    parser.add_argument(
        "--duration", type=float, metavar="S", help="seconds to record (default: until Ctrl-C)"
    )
    parser.add_argument("--max-messages", type=int, metavar="N", help="stop after this many frames")
    parser.add_argument(
        "subscriptions",
        nargs="+",
        metavar="SUB",
        help="channel:argument, like tickers:BTC-USDT, candle1m:BTC-USDT or instruments:SPOT",
    )
    return parser


async def _record(args: argparse.Namespace, out: str | TextIO) -> tuple[RecordSummary | None, bool]:
    """Record until done or Ctrl-C; returns the summary (None if a second Ctrl-C cut the
    closing short) and whether Ctrl-C was pressed."""
    stop = trio.Event()
    summary: RecordSummary | None = None
    try:
        async with trio.open_nursery() as nursery:

            async def on_sigint(
                task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
            ) -> None:
                with trio.open_signal_receiver(signal.SIGINT) as signals:
                    task_status.started()
                    async for _ in signals:
                        if stop.is_set():  # a second Ctrl-C: do not wait for closing handshakes
                            nursery.cancel_scope.cancel()
                        stop.set()

            # Installed before anything is written, so Ctrl-C always ends the recording cleanly.
            await nursery.start(on_sigint)
            summary = await record_session(
                args.subscriptions,
                out,
                duration=args.duration,
                host=args.host,
                max_messages=args.max_messages,
                stop=stop,
            )
            nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise_single(group)
    return summary, stop.is_set()


def record_main(argv: Sequence[str]) -> int:
    """``record``'s command line; returns the exit status: 0 when the duration or message
    count is reached, 130 on Ctrl-C, 1 when a connection fails or is closed, 2 for bad
    arguments (one line on stderr, naming the argument and what was expected)."""
    parser = _record_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad argument (2, reported already)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        _group(args.subscriptions)
        resolve_host(args.host)
        if args.duration is not None and not args.duration > 0:
            raise ValueError(f"--duration must be > 0 seconds, got {args.duration!r}")
        if args.max_messages is not None and args.max_messages < 1:
            raise ValueError(f"--max-messages must be >= 1, got {args.max_messages!r}")
    except ValueError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    out: str | TextIO = sys.stdout if args.out == "-" else args.out
    try:
        summary, interrupted = trio.run(_record, args, out)
    except KeyboardInterrupt:  # before the handler was installed
        return 130
    except (OSError, trio_websocket.HandshakeError, trio.BrokenResourceError) as exc:
        print(f"error: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    if summary is not None:
        print(
            f"recorded {summary.total_received} frames from {', '.join(summary.urls)} "
            f"into {args.out} ({summary.reason})",
            file=sys.stderr,
        )
        if summary.closed is not None and not interrupted:
            print(f"error: {summary.closed}", file=sys.stderr)
            return 1
    return 130 if interrupted else 0
