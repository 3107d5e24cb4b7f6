"""``wss://`` over real loopback sockets with certificates from ``trustme``, in real time.

The rule under test: a certificate is accepted only when the client was told to trust its
CA and it names the host in the URL. Anything else is a failed attempt with a reason in
``last_error`` and a backoff before the next one; never a crash, never a connection.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Final

import pytest
import trio
import trustme

from okx_trio import (
    ClientConfig,
    ConnectionState,
    Connector,
    WebSocketConnector,
    open_okx_client,
)
from okx_trio.testing import FakeExchange, open_fake_exchange_server

from .conftest import recording

try:
    from okx_trio._transport_sansio import SansIOConnector
    from okx_trio._transport_websockets import WebsocketsConnector
except ImportError:  # the optional ``fast`` extra is not installed
    WebsocketsConnector = None  # type: ignore[assignment,misc]
    SansIOConnector = None  # type: ignore[assignment,misc]

pytestmark = pytest.mark.realtime

S = ConnectionState
PAIRS: Final = ["BTC-USDT", "ETH-USDT"]
#: Loopback TLS handshakes take milliseconds; a failure must be reported about that fast.
PROMPT: Final = 1.0


def connector_for(transport: str, ssl_context: ssl.SSLContext | None = None) -> Connector:
    """The connector ``ClientConfig(transport=...)`` would make, with *ssl_context*."""
    if transport == "websockets":
        if WebsocketsConnector is None:
            pytest.skip("the websockets transport needs the 'fast' extra")
        return WebsocketsConnector(ssl_context=ssl_context)
    if transport == "websockets-sansio":
        if SansIOConnector is None:
            pytest.skip("the websockets-sansio transport needs the 'fast' extra")
        return SansIOConnector(ssl_context=ssl_context)
    return WebSocketConnector(ssl_context=ssl_context)


TRANSPORTS: Final = ["trio-websocket", "websockets", "websockets-sansio"]


def tls_config(url: str, transport: str = "trio-websocket", **overrides: float) -> ClientConfig:
    values: dict[str, object] = {
        "transport": transport,
        "ping_interval": 1.0,
        "connection_timeout": 2.0,
        "connect_timeout": 1.0,
        "initial_delay": 0.1,
        "max_delay": 0.4,
        "jitter": 0.0,
    }
    values.update(overrides)
    return ClientConfig(url=url, **values)  # type: ignore[arg-type]


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """A client context with Python's defaults (verify, check hostname) that trusts *ca*."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@asynccontextmanager
async def serve_wss(exchange: FakeExchange, ca: trustme.CA, *names: str) -> AsyncIterator[str]:
    """Serve *exchange* on ``wss://127.0.0.1:PORT`` with a certificate for *names* from *ca*."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(server_context)
    async with open_fake_exchange_server(exchange, ssl_context=server_context) as url:
        assert url.startswith("wss://127.0.0.1:")
        yield url


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_wss_connects_and_heals_when_the_ca_is_trusted(
    ca: trustme.CA, transport: str
) -> None:
    exchange = FakeExchange(tick_interval=0.05)
    connector = connector_for(transport, trusting(ca))
    with trio.fail_after(10):
        async with serve_wss(exchange, ca, "127.0.0.1") as url:
            config = tls_config(url, transport)
            async with open_okx_client(PAIRS, config=config, connector=connector) as client:
                started = trio.current_time()
                await client.wait_until(lambda: all(client.latest(p) for p in PAIRS))
                assert trio.current_time() - started < PROMPT
                assert client.get_stats().last_error == ""
                # A drop over TLS heals like one over plain TCP, inside the backoff bound.
                exchange.drop_connections()
                dropped = trio.current_time()
                await exchange.wait_until(lambda: exchange.accepted_connections == 2)
                await client.wait_until(lambda: client.subscribed_pairs == set(PAIRS))
                assert trio.current_time() - dropped < config.max_delay + PROMPT
                assert client.get_stats().reconnect_count == 1


async def assert_never_accepted(
    exchange: FakeExchange, url: str, connector: Connector | None, transport: str = "trio-websocket"
) -> str:
    """Run a client against a certificate it must refuse; return its ``last_error``.

    Checks that it fails (at least twice, backing off in between), never reaches CONNECTED,
    never gets past the TLS handshake (the exchange sees no WebSocket connection), and
    stays a live, retrying client rather than crashing.
    """
    # A short connect_timeout, so that a TLS failure surfacing only as a timeout would show.
    config = tls_config(url, transport, connect_timeout=0.5)
    async with open_okx_client(PAIRS, config=config, connector=connector) as client:
        async with recording(client) as recorder:
            # Attempt 3 has started: two failures, each followed by a backoff.
            await recorder.wait_until(lambda r: len(r.times_of(S.CONNECTING)) >= 3)
            assert S.CONNECTED not in recorder.states()
            assert exchange.connection_attempts == exchange.accepted_connections == 0
            assert client.latest("BTC-USDT") is None
            # Backoff between attempts: 0.1 s, then 0.2 s (jitter is off).
            reconnecting = recorder.times_of(S.RECONNECTING)
            connecting = recorder.times_of(S.CONNECTING)
            for retry, delay in enumerate([0.1, 0.2]):
                assert connecting[retry + 1] - reconnecting[retry] >= delay - 0.01
            assert [c.retry_count for _, c in recorder.transitions()][:4] == [0, 1, 1, 2]
            last_error = client.get_stats().last_error
            assert last_error.startswith("connect"), last_error
            return last_error


@pytest.mark.parametrize(
    "make_connector",
    [
        pytest.param(lambda: None, id="client-default"),
        pytest.param("websockets", id="client-default-websockets"),
        pytest.param("websockets-sansio", id="client-default-websockets-sansio"),
        pytest.param(WebSocketConnector, id="WebSocketConnector()"),
        pytest.param(
            lambda: WebSocketConnector(ssl_context=ssl.create_default_context()),
            id="default-context",
        ),
    ],
)
async def test_an_untrusted_certificate_is_never_accepted(
    ca: trustme.CA, make_connector: Callable[[], Connector | None] | str
) -> None:
    exchange = FakeExchange(tick_interval=0.05)
    with trio.fail_after(10):
        async with serve_wss(exchange, ca, "127.0.0.1") as url:
            if isinstance(make_connector, str):  # the client's own default for a transport
                await assert_never_accepted(exchange, url, None, make_connector)
            else:
                await assert_never_accepted(exchange, url, make_connector())


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("cert_name", ["example.org", "localhost"])
async def test_a_certificate_for_another_host_is_never_accepted(
    ca: trustme.CA, cert_name: str, transport: str
) -> None:
    exchange = FakeExchange(tick_interval=0.05)
    with trio.fail_after(10):
        async with serve_wss(exchange, ca, cert_name) as url:  # url names 127.0.0.1
            connector = connector_for(transport, trusting(ca))
            await assert_never_accepted(exchange, url, connector, transport)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("cert_name", "trusted", "why"),
    [
        ("127.0.0.1", False, "CERTIFICATE_VERIFY_FAILED"),
        ("example.org", True, "CERTIFICATE_VERIFY_FAILED"),
    ],
    ids=["untrusted", "wrong-host"],
)
async def test_a_refused_certificate_fails_the_attempt_promptly_naming_the_problem(
    ca: trustme.CA, cert_name: str, trusted: bool, why: str, transport: str
) -> None:
    exchange = FakeExchange(tick_interval=0.05)
    with trio.fail_after(10):
        async with serve_wss(exchange, ca, cert_name) as url:
            connector = connector_for(transport, trusting(ca) if trusted else None)
            config = tls_config(url, transport, connect_timeout=2.0)
            async with open_okx_client(PAIRS, config=config, connector=connector) as client:
                started = trio.current_time()
                await client.wait_state(S.RECONNECTING)
                failed_after = trio.current_time() - started
                last_error = client.get_stats().last_error
                assert why in last_error, last_error
                assert failed_after < PROMPT, f"{failed_after:.2f}s: {last_error}"


def test_certificate_verification_has_no_off_switch() -> None:
    """The only TLS knob is ``ssl_context``; the default verifies against the system store.

    (That the default really verifies is shown by the untrusted-certificate tests above,
    which run the client with no connector at all.)
    """
    suspicious = re.compile(r"verif|insecure|unsafe|cert|hostname|ssl|tls", re.IGNORECASE)
    config_fields = {f.name for f in dataclasses.fields(ClientConfig)}
    assert not {name for name in config_fields if suspicious.search(name)}
    parameters = set(inspect.signature(WebSocketConnector).parameters)
    assert {name for name in parameters if suspicious.search(name)} == {"ssl_context"}
    assert WebSocketConnector().ssl_context is None  # trio-websocket's default: verified
    assert ClientConfig().url.startswith("wss://")
