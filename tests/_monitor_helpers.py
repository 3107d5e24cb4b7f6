"""Builders shared by the monitor's tests: tickers and stats snapshots made by hand."""

from __future__ import annotations

import re
from decimal import Decimal

from okx_trio import ConnectionState, ConnectionStats, Ticker

__all__ = ["AWS", "OKX", "make_conn", "make_pool", "make_stats", "make_ticker", "untimed"]


def make_ticker(
    inst_id: str = "BTC-USDT",
    last: str = "46053",
    open_24h: str = "45000",
    *,
    bid: str | None = None,
    ask: str | None = None,
    vol: str = "17602.14225433",
    vol_ccy: str = "525802435.42181708",
    inst_type: str = "SPOT",
) -> Ticker:
    price = Decimal(last)
    return Ticker(
        inst_id=inst_id,
        inst_type=inst_type,
        last=price,
        last_size=Decimal("0.1"),
        bid=Decimal(bid) if bid is not None else price,
        bid_size=Decimal("1"),
        ask=Decimal(ask) if ask is not None else price,
        ask_size=Decimal("1"),
        open_24h=Decimal(open_24h),
        high_24h=price,
        low_24h=price,
        vol_24h=Decimal(vol),
        vol_ccy_24h=Decimal(vol_ccy),
        ts=1_700_000_000_000,
    )


def make_stats(**overrides: object) -> ConnectionStats:
    values: dict[str, object] = {
        "state": ConnectionState.CONNECTED,
        "reconnect_count": 1,
        "retry_count": 0,
        "subscribed_pairs": 3,
        "connection_duration": 12.34,
        "last_message_age": 0.12,
        "last_error": "",
        "url": "wss://ws.okx.com:8443/ws/v5/public",
        "desired_pairs": 3,
        "ticks_received": 1234,
        "ticks_dropped": 0,
    }
    values.update(overrides)
    return ConnectionStats(**values)  # type: ignore[arg-type]


OKX = "wss://ws.okx.com:8443/ws/v5/public"
AWS = "wss://wsaws.okx.com:8443/ws/v5/public"


def make_conn(index: int, **overrides: object) -> ConnectionStats:
    """One connection's snapshot, as in ``stats.connections``."""
    values: dict[str, object] = {
        "index": index,
        "subscribed_pairs": 2,
        "desired_pairs": 2,
        "ticks_received": 100 * (index + 1),
        "url_failures": ((OKX, 0), (AWS, 0)),
        "url": OKX,
    }
    values.update(overrides)
    return make_stats(**values)


def make_pool(*conns: ConnectionStats, **overrides: object) -> ConnectionStats:
    """Pool totals over *conns*, as ``OkxClient.get_stats`` gives them."""
    values: dict[str, object] = {
        "subscribed_pairs": sum(c.subscribed_pairs for c in conns),
        "desired_pairs": sum(c.desired_pairs for c in conns),
        "ticks_received": sum(c.ticks_received for c in conns),
        "quality": min(c.quality for c in conns),
        "url_failures": ((OKX, 0), (AWS, 0)),
        "connections": conns,
    }
    values.update(overrides)
    return make_stats(**values)


_TIMESTAMP = re.compile(r"\d\d:\d\d:\d\d\.\d\d ")


def untimed(lines: list[str]) -> list[str]:
    """Log lines without their leading ``HH:MM:SS.ss`` (each line must have one)."""
    result = []
    for line in lines:
        assert _TIMESTAMP.match(line), f"no timestamp: {line!r}"
        result.append(line[12:])
    return result
