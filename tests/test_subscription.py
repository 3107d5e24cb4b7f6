"""``Subscription``'s text and order: what requests are made of."""

from __future__ import annotations

import json

import pytest

from okx_trio._subscription import Subscription, sort_key
from tests.conftest import CAPTURES


def _documented_args() -> list[dict[str, str]]:
    """Every arg object in OKX's documentation samples that names a channel we know."""
    args = []
    for line in (CAPTURES / "okx-docs-samples.jsonl").read_text().splitlines():
        message = json.loads(line)["message"]
        for arg in [message.get("arg"), *message.get("args", [])]:
            if isinstance(arg, dict) and "channel" in arg:
                args.append(arg)
    return args


def test_the_text_of_a_subscription_is_its_arg_as_okx_writes_it() -> None:
    subs = [
        Subscription("tickers", "BTC-USDT"),
        Subscription("instruments", inst_type="SWAP"),
        Subscription("opt-summary", inst_family="BTC-USD"),
        Subscription("mark-price", "BTC-USD-241013-70000.5-P"),
    ]
    for arg in _documented_args():
        try:
            subs.append(Subscription.from_arg(arg))
        except ValueError:
            continue  # a private or login channel's arg with keys of its own
    assert len(subs) > 20
    for sub in subs:
        assert str(sub) == json.dumps(sub.arg, separators=(",", ":"))
        assert json.loads(str(sub)) == sub.arg
        assert Subscription.from_arg(json.loads(str(sub))) == sub


def test_sort_key_orders_as_the_comparisons_do() -> None:
    subs = [
        Subscription("trades", "ETH-USDT"),
        Subscription("tickers", "BTC-USDT"),
        Subscription("instruments", inst_type="SPOT"),
        Subscription("trades", "BTC-USDT"),
        Subscription("instruments", inst_type="FUTURES"),
    ]
    assert sorted(subs, key=sort_key) == sorted(subs)
    assert sorted(["ETH-USDT", "BTC-USDT"], key=sort_key) == ["BTC-USDT", "ETH-USDT"]


def _made(channel: str, inst_id: object) -> object:
    try:
        return Subscription(channel, inst_id)  # type: ignore[arg-type]
    except ValueError as exc:
        return ("ValueError", str(exc))


def test_the_fast_path_for_one_instrument_makes_what_the_full_checks_make(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from okx_trio import _subscription
    from okx_trio._okx import CHANNELS

    ids: list[object] = ["BTC-USDT", "BTC-USD-241013-70000.5-P", "btc-usdt", "BTC", "", 7, None]
    cases = [(channel, inst_id) for channel in CHANNELS for inst_id in ids]
    fast = [_made(channel, inst_id) for channel, inst_id in cases]
    monkeypatch.setattr(_subscription, "_BY_INST_ID_ONLY", frozenset())
    full = [_made(channel, inst_id) for channel, inst_id in cases]
    assert fast == full
    assert sum(isinstance(made, Subscription) for made in fast) > 100


def test_a_channel_that_is_not_text_is_a_value_error_naming_it() -> None:
    for channel in (["tickers"], None, 5):
        with pytest.raises(ValueError, match="unknown channel"):
            Subscription(channel, "BTC-USDT")  # type: ignore[arg-type]
