"""``open_okx_client``: the client's lifetime as an ``async with`` block."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

import httpx
import trio

from ._client import OkxClient
from ._config import ClientConfig
from ._connection import Connector
from ._connectors import default_connector
from ._credentials import Credentials
from ._rest import RestClient
from ._subscription import Subscription
from ._subscription_input import as_subscription, ticker_subscription

__all__ = ["open_okx_client"]


@asynccontextmanager
async def open_okx_client(
    pairs: Iterable[str] = (),
    *,
    subscriptions: Iterable[Subscription | str] = (),
    config: ClientConfig | None = None,
    connector: Connector | None = None,
    wall_clock: Callable[[], float] = time.time,
    http_client: httpx.AsyncClient | None = None,
    credentials: Credentials | None = None,
) -> AsyncIterator[OkxClient]:
    """Run a client for the block's lifetime and yield it.

    *pairs* are instrument ids for the ``tickers`` channel; *subscriptions* any channels'
    (:class:`Subscription`, or the short form ``"trades:BTC-USDT"``). The client connects in
    the background; the block does not wait for it (watch :meth:`OkxClient.state_changes`
    or the streams). Leaving the block, by any means, cancels every task of the client,
    closes the sockets and ends every channel it handed out; an exception raised in the
    block comes out as itself, not wrapped in a group.

    *wall_clock* (seconds since the epoch) is what exchange timestamps are measured
    against for latency; tests pass the fake exchange's
    (:meth:`okx_trio.testing.FakeExchange.wall_clock`).

    *http_client* is the ``httpx.AsyncClient`` for OKX's REST API (an order book that gets
    no WebSocket snapshot is seeded from REST); None: the client makes its own on first
    use, with ``config.rest_url``, and closes it at the end. One passed in is used as it is
    (its base url is ignored: the client asks ``config.rest_url``) and left open.

    *credentials* let the client log in: on the private endpoint (``orders``, ``account``,
    ...) and for the public login channels (``books-l2-tbt``). Every connection that needs it
    logs in before it subscribes what needs it, after every reconnect, with a fresh
    timestamp; refused credentials fail that endpoint (its ``StateChange`` quotes OKX's code),
    never the others. The secret and the passphrase never reach a log or an error.

    Raises:
        TypeError: if *pairs* or *subscriptions* is a single string (pass a list).
        ValueError: for a malformed instrument id or subscription.
    """
    if isinstance(pairs, str) or isinstance(subscriptions, str | Subscription):
        raise TypeError(
            "open_okx_client takes a list of pairs (and of subscriptions), not one string: "
            "open_okx_client(['BTC-USDT'])"
        )
    config = config if config is not None else ClientConfig()
    if credentials is None:
        credentials = config.credentials
    if credentials is not None and not isinstance(credentials, Credentials):
        kind = type(credentials).__name__
        raise TypeError(f"credentials must be okx_trio.Credentials, not {kind}")
    can_log_in = credentials is not None
    subs = [ticker_subscription(p) for p in pairs] + [
        as_subscription(s, can_log_in=can_log_in) for s in subscriptions
    ]
    if connector is None:
        connector = default_connector(config.transport, connect_timeout=config.connect_timeout)
    body_error: BaseException | None = None
    async with trio.open_nursery() as nursery:
        rest = RestClient(http_client, config.rest_url, config.connect_timeout)
        client = OkxClient(subs, config, connector, nursery, wall_clock, rest, credentials)
        client._start()
        nursery.start_soon(client._placer)
        nursery.start_soon(client._publish_stats)
        try:
            yield client
        except BaseException as exc:
            # Re-raised below, outside the nursery, so the caller sees their own exception
            # rather than an ExceptionGroup around it.
            body_error = exc
        finally:
            nursery.cancel_scope.cancel()
            client._close()
            await rest.aclose()
    if body_error is not None:
        try:
            raise body_error
        finally:
            body_error = None
