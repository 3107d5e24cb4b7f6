"""Setting the monitor up and running it: the demo's fake exchange, the client, the
:class:`~._app.Monitor`, and what is printed after the table is gone."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

import trio

from okx_trio import Connector, Subscription, open_okx_client

from ._app import Monitor
from ._demo_account import DemoAccount, demo_credentials
from ._figures import url_host
from ._format import one_line
from ._options import Options
from ._output import Output

if TYPE_CHECKING:
    import httpx

    from okx_trio.testing import FakeExchange

__all__ = ["demo_business_url", "demo_private_url", "run"]


def demo_business_url(url: str) -> str:
    """The fake exchange's business endpoint (candles) beside its public *url*."""
    return url.removesuffix("/ws/v5/public") + "/ws/v5/business"


def demo_private_url(url: str) -> str:
    """The fake exchange's private endpoint (the account) beside its public *url*."""
    return url.removesuffix("/ws/v5/public") + "/ws/v5/private"


async def run(
    options: Options,
    *,
    connector: Connector | None = None,
    exchange: FakeExchange | None = None,
    commands: trio.abc.ReceiveChannel[str] | None = None,
    read_stdin: bool = True,
    out: TextIO | None = None,
    err: TextIO | None = None,
    handle_signals: bool = True,
) -> int:
    """Run the monitor until ``q``, ``--duration``, a signal or FAILED; returns the exit code.

    With ``options.demo`` it serves *exchange* (default: a new seeded FakeExchange) on a
    loopback port, unless a *connector* is given (tests: the in-memory one). Input lines come
    from *commands*, else (if *read_stdin*) from ``sys.stdin``: on a terminal in table mode
    key by key into the input line, else line by line in a worker thread. The FAILED reason
    goes to *err* as one line, after the table (if any) is gone; a closing ``[bye]`` line
    goes to *out*. A client setting the library refuses (e.g. a transport that is not
    installed) is one line on *err* and exit code 2.
    """
    out_stream = out if out is not None else sys.stdout
    err_stream = err if err is not None else sys.stderr
    stdin = sys.stdin if commands is None and read_stdin else None
    output = Output(out_stream)
    config = options.config
    demo_account: DemoAccount | None = None
    wall_clock: Callable[[], float] = time.time
    http_client: httpx.AsyncClient | None = None
    async with contextlib.AsyncExitStack() as stack:
        if options.demo:
            from okx_trio.testing import FakeExchange, open_fake_exchange_server

            if exchange is None:
                exchange = FakeExchange(tick_interval=options.tick_interval, seed=options.seed)
            if options.table:
                # The demo's own account (whatever the environment holds) for the account
                # view; log lines show no views, so they keep to the public channels.
                credentials = demo_credentials()
                demo_account = DemoAccount(exchange, credentials, options.pairs, seed=options.seed)
                config = config.replace(credentials=credentials)
                # The exchange's clock signs the logins (under a test's autojump clock too).
                wall_clock = exchange.wall_clock
            if connector is None:
                url = await stack.enter_async_context(open_fake_exchange_server(exchange))
                # The fake exchange alone, no failover; candles go to its business path,
                # the account to its private path and its REST server on loopback.
                config = config.replace(
                    url=url,
                    business_urls=(demo_business_url(url),),
                    private_urls=(demo_private_url(url),),
                    rest_url=exchange.rest_url,
                )
            else:  # in memory (tests): the REST calls go to the exchange in memory too
                import httpx

                http_client = await stack.enter_async_context(
                    httpx.AsyncClient(transport=exchange.http_transport())
                )
        try:
            client = await stack.enter_async_context(
                open_okx_client(
                    options.pairs,
                    config=config,
                    connector=connector,
                    wall_clock=wall_clock,
                    http_client=http_client,
                )
            )
        except ValueError as exc:
            print(f"monitor: {one_line(str(exc))}", file=err_stream, flush=True)
            return 2
        monitor = Monitor(
            options, client, output, exchange=exchange, console_file=out_stream, url=config.url
        )
        monitor.demo_account = demo_account
        try:
            for key in options.subscriptions:
                monitor.watch(Subscription.parse(key))
            if config.credentials is not None:
                monitor.watch_account()
        except ValueError as exc:
            print(f"monitor: {one_line(str(exc))}", file=err_stream, flush=True)
            return 2
        if options.demo:
            chaos = "no faults" if not options.chaos else "faults on"
            monitor.emit(
                "info", f"demo: fake exchange at {config.url} (seed {options.seed}, {chaos})"
            )
        else:
            monitor.emit("info", f"connecting to {url_host(config.url)} ({config.url})")
        code = await monitor.run(commands, stdin, handle_signals)
        closing = monitor.closing_line()
    if options.table:
        output.line(closing)
    else:
        monitor.log(closing)
    if monitor.failure is not None:
        print(monitor.failure, file=err_stream, flush=True)
    return code
