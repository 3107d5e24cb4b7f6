"""What users pass for subscriptions, turned into the Subscription objects the client takes."""

from __future__ import annotations

import functools

from ._instruments import validate_inst_id
from ._subscription import Subscription

__all__ = ["as_subscription", "ticker_subscription"]


@functools.lru_cache(maxsize=65536)
def ticker_subscription(inst_id: str) -> Subscription:
    # Cached: the tickers shortcuts (latest("BTC-USDT") in a predicate, say) run often.
    return Subscription("tickers", validate_inst_id(inst_id))


def as_subscription(item: object, *, can_log_in: bool = False) -> Subscription:
    """A Subscription from a Subscription or its short form ("trades:BTC-USDT").

    Raises:
        ValueError: for anything else, a bad subscription, or a private channel when the
            client has no credentials (*can_log_in* False), naming the channel.
    """
    if isinstance(item, Subscription):
        sub = item
    elif isinstance(item, str):
        sub = Subscription.parse(item)
    else:
        raise ValueError(f"expected a Subscription or text like 'trades:BTC-USDT', got {item!r}")
    if sub.endpoint == "private" and not can_log_in:
        raise ValueError(
            f"channel {sub.channel!r} is private: it needs a login; pass "
            "credentials=okx_trio.Credentials(...) (or Credentials.from_env()) to open_okx_client"
        )
    return sub
