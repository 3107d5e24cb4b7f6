"""ClientConfig: the spec's defaults, and a ValueError naming the field for every bad value."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest

from okx_trio import DEFAULT_URL, ClientConfig, ReconnectStrategy


def test_defaults_per_spec() -> None:
    config = ClientConfig()
    assert dataclasses.asdict(config) == {
        "url": "wss://ws.okx.com:8443/ws/v5/public",
        "ping_interval": 20.0,
        "connection_timeout": 30.0,
        "connect_timeout": 10.0,
        "stable_after": 30.0,
        "initial_delay": 1.0,
        "max_delay": 30.0,
        "backoff_factor": 2.0,
        "max_retries": None,
        "jitter": 0.25,
        "tick_buffer": 1024,
        "stats_interval": 1.0,
        "transport": "trio-websocket",
    }
    assert DEFAULT_URL == "wss://ws.okx.com:8443/ws/v5/public"


def test_field_names() -> None:
    assert ClientConfig.field_names() == (
        "url",
        "ping_interval",
        "connection_timeout",
        "connect_timeout",
        "stable_after",
        "initial_delay",
        "max_delay",
        "backoff_factor",
        "max_retries",
        "jitter",
        "tick_buffer",
        "stats_interval",
        "transport",
    )


def test_frozen() -> None:
    config = ClientConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.ping_interval = 5  # type: ignore[misc]


def test_reconnect_strategy_carries_the_parameters() -> None:
    config = ClientConfig(
        initial_delay=0.5, max_delay=8, backoff_factor=3, max_retries=4, jitter=0.1
    )
    strategy = config.reconnect_strategy()
    assert isinstance(strategy, ReconnectStrategy)
    assert (
        strategy.initial_delay,
        strategy.max_delay,
        strategy.backoff_factor,
        strategy.max_retries,
        strategy.jitter,
    ) == (0.5, 8.0, 3.0, 4, 0.1)
    assert strategy.retry_count == 0
    assert config.reconnect_strategy() is not strategy


@pytest.mark.parametrize(
    "kwargs",
    [
        {"url": "ws://127.0.0.1:8765/ws/v5/public"},
        {"url": "wss://wspap.okx.com:8443/ws/v5/public?brokerId=9999"},
        {"ping_interval": 0.001, "connection_timeout": 0.002},
        {"stable_after": 0},
        {"initial_delay": 0, "max_delay": 0},
        {"max_retries": 0},
        {"max_retries": 10},
        {"jitter": 0},
        {"jitter": 1},
        {"backoff_factor": 1},
        {"tick_buffer": 1},
        {"ping_interval": 5, "connection_timeout": 6, "connect_timeout": 1, "stats_interval": 60},
    ],
)
def test_good_values(kwargs: dict[str, object]) -> None:
    config = ClientConfig(**kwargs)  # type: ignore[arg-type]
    for name, value in kwargs.items():
        assert getattr(config, name) == value


BAD = [
    ("url", "https://ws.okx.com:8443/ws/v5/public"),
    ("url", "ws.okx.com:8443"),
    ("url", ""),
    ("url", None),
    ("url", b"wss://ws.okx.com"),
    ("ping_interval", 0),
    ("ping_interval", -1),
    ("ping_interval", math.nan),
    ("ping_interval", math.inf),
    ("ping_interval", "20"),
    ("ping_interval", True),
    ("ping_interval", None),
    ("ping_interval", 30),  # not below connection_timeout
    ("ping_interval", 31),
    ("connection_timeout", 0),
    ("connection_timeout", -30),
    ("connection_timeout", math.inf),
    ("connection_timeout", "30"),
    ("connect_timeout", 0),
    ("connect_timeout", -1),
    ("connect_timeout", math.nan),
    ("connect_timeout", None),
    ("stable_after", -1),
    ("stable_after", math.nan),
    ("stable_after", math.inf),
    ("stable_after", "30"),
    ("initial_delay", -0.1),
    ("initial_delay", math.nan),
    ("initial_delay", "1"),
    ("max_delay", -1),
    ("max_delay", 0.5),  # below initial_delay
    ("max_delay", math.inf),
    ("max_delay", None),
    ("backoff_factor", 0.5),
    ("backoff_factor", 0),
    ("backoff_factor", math.nan),
    ("max_retries", -1),
    ("max_retries", 1.5),
    ("max_retries", "3"),
    ("max_retries", True),
    ("jitter", -0.01),
    ("jitter", 1.5),
    ("jitter", math.nan),
    ("tick_buffer", 0),
    ("tick_buffer", -1),
    ("tick_buffer", 1.5),
    ("tick_buffer", "1024"),
    ("tick_buffer", True),
    ("tick_buffer", None),
    ("stats_interval", 0),
    ("stats_interval", -1),
    ("stats_interval", math.nan),
]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_bad_value_raises_value_error_naming_the_field(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"^ClientConfig\.{name} must be ") as info:
        ClientConfig(**{name: value})  # type: ignore[arg-type]
    assert repr(value) in str(info.value) or name in ("ping_interval", "max_delay")


@pytest.mark.parametrize(
    ("name", "value"), [("backoff_factor", "2"), ("jitter", "0.25"), ("backoff_factor", None)]
)
def test_wrongly_typed_backoff_values_name_the_field(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"^ClientConfig\.{re.escape(name)} must be "):
        ClientConfig(**{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["wss://", "ws:", "wss:///ws/v5/public"])
def test_url_without_host_is_rejected(url: str) -> None:
    with pytest.raises(ValueError, match=r"^ClientConfig\.url "):
        ClientConfig(url=url)


@pytest.mark.parametrize("name", ["backoff_factor", "jitter"])
def test_bool_backoff_values_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match=rf"^ClientConfig\.{name} "):
        ClientConfig(**{name: True})  # type: ignore[arg-type]


def test_transport_is_checked() -> None:
    assert ClientConfig(transport="websockets").transport == "websockets"
    with pytest.raises(ValueError, match=r"ClientConfig\.transport must be one of"):
        ClientConfig(transport="aiohttp")
