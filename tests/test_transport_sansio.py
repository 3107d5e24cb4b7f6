"""The ``websockets-sansio`` transport over real loopback sockets, in real time.

The client-level tests run ``open_okx_client`` with ``ClientConfig(transport=
"websockets-sansio")`` against the fake exchange's loopback server; the connector-level
ones check the seam's contract on :class:`SansIOConnector` directly against it. What a real
server rarely does on cue (fragments, pings, a close from the server, frames split across
reads, protocol errors, a peer that hangs up or never answers, cancelled sends) is in
``test_transport_sansio_receive.py`` and ``test_transport_sansio_send.py``, against the
hand-made servers of ``tests/_ws_peer.py``.
"""

from __future__ import annotations

import socket
import ssl
import sys
from typing import Final

import pytest
import trio
import trustme

from okx_trio import ClientConfig, ConnectionState, open_okx_client
from okx_trio._connectors import default_connector
from okx_trio.testing import FakeExchange, open_fake_exchange_server

pytest.importorskip("websockets")

from okx_trio._transport_sansio import SansIOConnector

pytestmark = pytest.mark.realtime

S = ConnectionState
PAIRS: Final = ["BTC-USDT", "ETH-USDT"]
TRANSPORT: Final = "websockets-sansio"


def fast_config(url: str, **overrides: object) -> ClientConfig:
    values: dict[str, object] = {
        "url": url,
        "transport": TRANSPORT,
        "ping_interval": 1.0,
        "connection_timeout": 2.0,
        "connect_timeout": 2.0,
        "initial_delay": 0.05,
        "max_delay": 0.2,
    }
    values.update(overrides)
    return ClientConfig(**values)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- choosing it ------------------------------------------------------------------------------


def test_the_config_selects_the_connector() -> None:
    connector = default_connector(TRANSPORT, connect_timeout=3.0)
    assert isinstance(connector, SansIOConnector)
    assert connector.connect_timeout == 3.0
    assert ClientConfig(transport=TRANSPORT).transport == TRANSPORT
    assert ClientConfig().transport == TRANSPORT  # the default


def test_without_websockets_the_transport_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "okx_trio._transport_sansio", None)
    with pytest.raises(ValueError, match=r"'websockets-sansio' needs the websockets package"):
        default_connector(TRANSPORT, connect_timeout=1.0)


# -- the client on it -------------------------------------------------------------------------


# The client over this transport: tests/test_transport_websockets.py runs its client tests
# on every built-in transport, this one included.


# -- TLS --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_wss_with_a_trusted_ca_connects_and_heals(ca: trustme.CA) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    connector = SansIOConnector(ssl_context=trusting(ca), connect_timeout=2.0)
    with trio.fail_after(10):
        async with open_fake_exchange_server(
            exchange, ssl_context=server_context(ca, "127.0.0.1")
        ) as url:
            assert url.startswith("wss://")
            config = fast_config(url)
            async with open_okx_client(PAIRS, config=config, connector=connector) as client:
                await client.wait_until(lambda: all(client.latest(p) for p in PAIRS))
                exchange.drop_connections()
                await exchange.wait_until(lambda: exchange.accepted_connections == 2)
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))


async def test_wss_is_verified_by_default(ca: trustme.CA) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    with trio.fail_after(10):
        async with open_fake_exchange_server(
            exchange, ssl_context=server_context(ca, "127.0.0.1")
        ) as url:
            async with open_okx_client(PAIRS, config=fast_config(url, max_retries=1)) as client:
                await client.wait_until(lambda: client.state is S.FAILED)
                assert "CERTIFICATE_VERIFY_FAILED" in client.get_stats().last_error
            assert exchange.accepted_connections == 0


async def test_wss_checks_the_host_name(ca: trustme.CA) -> None:
    exchange = FakeExchange(tick_interval=0.02)
    connector = SansIOConnector(ssl_context=trusting(ca), connect_timeout=2.0)
    with trio.fail_after(10):
        async with open_fake_exchange_server(
            exchange, ssl_context=server_context(ca, "okx.example")
        ) as url:
            with pytest.raises(trio.BrokenResourceError) as caught:
                async with connector(url):
                    pytest.fail("connected")  # pragma: no cover
            assert "CERTIFICATE_VERIFY_FAILED" in repr(caught.value.__cause__)
            assert exchange.accepted_connections == 0


# The connector's contract (closes, refusals, timeouts, cancellation) is checked on every
# built-in connector in tests/test_transport_contract.py.
