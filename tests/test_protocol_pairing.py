"""The client's OkxProtocol paired with the fake's FakeServerProtocol: no Trio, no sockets.

As h11's tests pair a client and a server connection, these pass text between the two
sans-IO objects and move time by hand, so every exchange is exact and instant.
"""

from __future__ import annotations

import math

from okx_trio import ClientConfig, FundingRate, Subscription, Ticker, Trade
from okx_trio._protocol import (
    ConnectionFailed,
    OkxProtocol,
    ProtocolEvent,
    Records,
    Rejected,
)
from okx_trio.testing import FakeExchange, FakeServerProtocol

TICKER = Subscription("tickers", "BTC-USDT")
TRADES = Subscription("trades", "BTC-USDT")
FUNDING = Subscription("funding-rate", "BTC-USDT-SWAP")
CANDLE = Subscription("candle1m", "BTC-USDT")


class Pair:
    """A client protocol and a server protocol wired back to back."""

    def __init__(self, subs: list[Subscription], *, endpoint: str = "public") -> None:
        self.exchange = FakeExchange(tick_interval=1.0, epoch_ms=0)
        self.server: FakeServerProtocol = self.exchange.server_protocol(endpoint, now=0.0)  # type: ignore[arg-type]
        self.client = OkxProtocol(subs, ClientConfig(max_requests_per_hour=None), 0.0)
        self.now = 0.0
        self.events: list[ProtocolEvent] = []

    def _deliver(self, texts: list[str]) -> None:
        for text in texts:
            self.events.extend(self.client.receive(text, self.now))

    def step(self) -> None:
        """Everything either side has to say at the current time."""
        ping = self.client.ping(self.now)
        for request in ([ping] if ping else []) + self.client.requests(self.now):
            self._deliver(self.server.receive(request, self.now))
        self._deliver(self.server.pushes_due(self.now))
        self.events.extend(self.client.poll(self.now))

    def run_until(self, end: float) -> None:
        """Advance to *end*, waking each side at its own next deadline."""
        self.step()
        while self.now < end:
            wake = min(self.client.next_deadline(), self.server.next_deadline(), end)
            # A deadline already here was handled by the last step: move on past it.
            self.now = wake if wake > self.now else min(self.now + 0.001, end)
            self.step()

    def records(self, kind: type) -> list[object]:
        out = [r for e in self.events if isinstance(e, Records) for r in e.records]
        return [r for r in out if isinstance(r, kind)]


def test_subscribing_acks_every_arg_and_records_flow() -> None:
    pair = Pair([TICKER, TRADES, FUNDING])
    pair.step()
    assert pair.client.settled
    assert pair.client.acknowledged == {TICKER, TRADES, FUNDING}
    pair.run_until(10.0)
    tickers = pair.records(Ticker)
    assert len(tickers) >= 10 and all(t.inst_id == "BTC-USDT" for t in tickers)  # type: ignore[attr-defined]
    assert pair.records(Trade)
    assert all(isinstance(r, FundingRate) for r in pair.records(FundingRate))
    assert pair.client.bad_messages == 0


def test_a_business_channel_on_the_public_endpoint_is_rejected_by_the_server() -> None:
    pair = Pair([TICKER, CANDLE])
    pair.step()
    rejected = [e for e in pair.events if isinstance(e, Rejected)]
    assert [r.sub for r in rejected] == [CANDLE]
    assert rejected[0].reason.startswith("64001")
    assert pair.client.subscriptions == {TICKER} and pair.client.settled


def test_the_same_channel_on_the_business_endpoint_is_served() -> None:
    pair = Pair([CANDLE], endpoint="business")
    pair.run_until(3.0)
    assert pair.client.acknowledged == {CANDLE}
    assert pair.client.records_received > 0


def test_an_unlisted_instrument_gets_60018_and_only_it_is_dropped() -> None:
    bogus = Subscription("trades", "NOPE-USDT")
    pair = Pair([TICKER, bogus])
    pair.step()
    (rejected,) = [e for e in pair.events if isinstance(e, Rejected)]
    assert rejected.sub == bogus and rejected.reason.startswith("60018")
    assert pair.client.acknowledged == {TICKER}


def test_pings_keep_a_quiet_connection_alive_and_a_silent_server_fails_it() -> None:
    pair = Pair([FUNDING])  # funding pushes once a minute: the heartbeat has to work
    pair.run_until(300.0)
    assert not [e for e in pair.events if isinstance(e, ConnectionFailed)]
    assert pair.client.pings_sent > 0
    # Now the server stops answering anything (a half-open connection).
    pair.exchange.go_silent()
    silent_from = pair.now
    pair.server.pushes_due(pair.now)
    while not [e for e in pair.events if isinstance(e, ConnectionFailed)]:
        wake = pair.client.next_deadline()
        assert math.isfinite(wake)
        pair.now = wake
        pair.step()
    (failed,) = [e for e in pair.events if isinstance(e, ConnectionFailed)]
    assert failed.heartbeat_miss
    assert pair.now <= silent_from + 30.0 + 1e-9
