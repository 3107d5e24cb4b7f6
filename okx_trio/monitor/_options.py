"""The monitor's validated settings, and the defaults the command line starts from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from okx_trio import ClientConfig

__all__ = [
    "DEFAULT_PAIRS",
    "DEMO_STABLE_AFTER",
    "DEMO_SWAP",
    "DEMO_TUNING",
    "Options",
    "demo_channels",
]

#: Watched when no pairs are given on the command line.
DEFAULT_PAIRS: Final = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT")

#: Client settings for ``--demo`` so that healing is visible within seconds; each one can
#: still be overridden on the command line.
DEMO_TUNING: Final[dict[str, float]] = {
    "ping_interval": 3.0,
    "connection_timeout": 5.0,
    "initial_delay": 0.5,
    "max_delay": 5.0,
}
#: The swap whose funding and mark price the demo shows.
DEMO_SWAP: Final = "BTC-USDT-SWAP"


def demo_channels(pairs: tuple[str, ...]) -> tuple[str, ...]:
    """What the demo shows besides the tickers of *pairs*: the first pair's book, trades
    and 1-minute candles of the first two, and the funding and mark price of a swap."""
    first = pairs[:1] or ("BTC-USDT",)
    two = pairs[:2] or first
    return (
        *(f"books:{p}" for p in first),
        *(f"trades:{p}" for p in two),
        *(f"candle1m:{p}" for p in two),
        f"funding-rate:{DEMO_SWAP}",
        f"mark-price:{DEMO_SWAP}",
    )


#: In the demo a connection counts as stable (retry count back to 0) after this long.
DEMO_STABLE_AFTER: Final = 5.0


@dataclass(frozen=True)
class Options:
    """The validated command line.

    *table*: draw the live table (else log lines); *ticks*: print ``[tick]`` lines in log
    mode, at most one per pair per *tick_every* seconds; *stats_every*: seconds between
    ``[stats]`` lines. The ``chaos*``, *seed* and *tick_interval* settings are the demo's.
    *subscriptions* are the other channels shown from the start (``"books:BTC-USDT"``).
    """

    pairs: tuple[str, ...]
    config: ClientConfig
    table: bool = False
    demo: bool = False
    chaos: bool = True
    seed: int = 0
    duration: float | None = None
    chaos_first_after: float | None = None
    chaos_every: float = 15.0
    tick_interval: float = 0.25
    stats_every: float = 5.0
    ticks: bool = True
    tick_every: float = 1.0
    subscriptions: tuple[str, ...] = ()
