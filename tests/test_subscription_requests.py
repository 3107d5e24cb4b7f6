"""Cutting a burst of subscriptions into requests under OKX's size limit."""

from __future__ import annotations

import itertools

from okx_trio._codec import encode_request
from okx_trio._subscription import Subscription
from okx_trio._subscription_requests import ENVELOPE, batches_by_size


def test_a_burst_fits_in_as_few_requests_as_the_limit_allows() -> None:
    subs = [Subscription("trades", f"P{i:04d}-USDT") for i in range(300)]
    limit = 4096
    batches = batches_by_size(subs, limit)
    assert [s for batch in batches for s in batch] == subs  # all of them, in order
    for batch in batches:
        assert len(encode_request("subscribe", batch, "9" * 32)) <= limit
    # As few as fit: each batch but the last would overflow with the next item.
    for batch, following in itertools.pairwise(batches):
        longer = [*batch, following[0]]
        assert len(encode_request("subscribe", longer, "9" * 32)) > limit - 1


def test_an_item_too_long_for_the_limit_goes_alone() -> None:
    assert batches_by_size(["BTC-USDT", "ETH-USDT"], ENVELOPE + 1) == [["BTC-USDT"], ["ETH-USDT"]]
    assert batches_by_size([], 4096) == []
