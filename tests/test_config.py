"""ClientConfig: the spec's defaults, and a ValueError naming the field for every bad value."""

from __future__ import annotations

import dataclasses
import math
import pathlib
import re

import pytest

from okx_trio import AWS_URL, DEFAULT_URL, ClientConfig, ReconnectStrategy


def test_defaults_per_spec() -> None:
    config = ClientConfig()
    assert dataclasses.asdict(config) == {
        "url": "wss://ws.okx.com:8443/ws/v5/public",
        "host": "production",
        "failover_hosts": ("aws",),
        "demo_trading": False,
        "business_urls": (
            "wss://ws.okx.com:8443/ws/v5/business",
            "wss://wsaws.okx.com:8443/ws/v5/business",
        ),
        "private_urls": (
            "wss://ws.okx.com:8443/ws/v5/private",
            "wss://wsaws.okx.com:8443/ws/v5/private",
        ),
        "rest_url": "https://openapi.okx.com",
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
        "latency_warning": 5.0,
        "transport": "trio-websocket",
        "urls": (DEFAULT_URL, AWS_URL),
        "max_subscriptions_per_connection": None,
        "max_connects_per_second": 3,
        "max_requests_per_hour": 480,
        "stale_after": 120.0,
        "make_before_break": True,
    }
    assert DEFAULT_URL == "wss://ws.okx.com:8443/ws/v5/public"


def test_field_names() -> None:
    assert ClientConfig.field_names() == (
        "url",
        "urls",
        "host",
        "failover_hosts",
        "demo_trading",
        "business_urls",
        "private_urls",
        "rest_url",
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
        "latency_warning",
        "transport",
        "max_subscriptions_per_connection",
        "max_connects_per_second",
        "max_requests_per_hour",
        "stale_after",
        "make_before_break",
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


# -- configuration files and the environment ---------------------------------------------------

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "okx_trio.toml"


def test_the_example_file_loads_to_the_defaults() -> None:
    assert ClientConfig.from_toml(EXAMPLE) == ClientConfig()


def test_from_toml_reads_keys_at_top_level_or_under_okx_trio(tmp_path: pathlib.Path) -> None:
    flat = tmp_path / "flat.toml"
    flat.write_text('ping_interval = 15\nmax_retries = 3\nurl = "ws://127.0.0.1:1/x"\n')
    config = ClientConfig.from_toml(flat)
    assert (config.ping_interval, config.max_retries, config.url) == (15, 3, "ws://127.0.0.1:1/x")
    nested = tmp_path / "nested.toml"
    nested.write_text("[okx_trio]\njitter = 0.5\n")
    assert ClientConfig.from_toml(nested).jitter == 0.5
    base = ClientConfig(initial_delay=3, max_delay=60)
    assert ClientConfig.from_toml(nested, base=base).initial_delay == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ping_intervall = 5\n", "unknown key ping_intervall"),
        ("tick_buffer = 1.5\n", "ClientConfig.tick_buffer must be an int"),
        ("ping_interval = -1\n", "ClientConfig.ping_interval must be a finite number > 0"),
        ('transport = "tcp"\n', "ClientConfig.transport must be one of"),
        ("ping_interval = \n", "not valid TOML"),
    ],
)
def test_from_toml_names_the_file_and_the_key(
    tmp_path: pathlib.Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        ClientConfig.from_toml(path)
    assert str(info.value).startswith(f"{path}: ")


def test_from_env_reads_prefixed_variables() -> None:
    config = ClientConfig.from_env(
        {
            "OKX_TRIO_PING_INTERVAL": "12.5",
            "OKX_TRIO_MAX_RETRIES": "none",
            "OKX_TRIO_TICK_BUFFER": "64",
            "OKX_TRIO_URL": "wss://wsaws.okx.com:8443/ws/v5/public",
            "PATH": "/usr/bin",
        }
    )
    assert config.ping_interval == 12.5
    assert config.max_retries is None
    assert config.tick_buffer == 64
    assert config.url == "wss://wsaws.okx.com:8443/ws/v5/public"
    assert ClientConfig.from_env({"OKX_TRIO_MAX_RETRIES": "4"}).max_retries == 4
    assert ClientConfig.from_env({}) == ClientConfig()


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"OKX_TRIO_PING": "5"}, "OKX_TRIO_PING: unknown setting"),
        ({"OKX_TRIO_PING_INTERVAL": "soon"}, "OKX_TRIO_PING_INTERVAL: expected a number"),
        ({"OKX_TRIO_TICK_BUFFER": "1.5"}, "OKX_TRIO_TICK_BUFFER: expected an integer"),
        ({"OKX_TRIO_JITTER": "2"}, "OKX_TRIO_JITTER: ClientConfig.jitter must be"),
    ],
)
def test_from_env_names_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ClientConfig.from_env(environ)


# -- endpoints, pool and limits ------------------------------------------------------------------


def test_urls_come_from_toml_lists_and_comma_separated_environment(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "urls.toml"
    path.write_text('urls = ["ws://a.test/ws", "ws://b.test/ws"]\nstale_after = 30\n')
    config = ClientConfig.from_toml(path)
    assert (config.urls, config.url, config.stale_after) == (
        ("ws://a.test/ws", "ws://b.test/ws"),
        "ws://a.test/ws",
        30,
    )
    env = {
        "OKX_TRIO_URLS": "ws://a.test/ws, ws://b.test/ws",
        "OKX_TRIO_STALE_AFTER": "none",
        "OKX_TRIO_MAKE_BEFORE_BREAK": "false",
        "OKX_TRIO_MAX_PAIRS_PER_CONNECTION": "300",
        "OKX_TRIO_MAX_CONNECTS_PER_SECOND": "None",
    }
    config = ClientConfig.from_env(env)
    assert config.urls == ("ws://a.test/ws", "ws://b.test/ws")
    assert (config.stale_after, config.make_before_break) == (None, False)
    assert (config.max_pairs_per_connection, config.max_connects_per_second) == (300, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"urls": ()}, None),
        ({"urls": "ws://a.test/ws"}, "ClientConfig.urls must be a sequence of urls"),
        ({"urls": ("ws://a.test/ws", "ws://a.test/ws")}, "has a url twice"),
        ({"urls": ("http://a.test/ws",)}, "must be a ws:// or wss:// url"),
        ({"url": "ws://x.test/ws", "urls": ("ws://a.test/ws",)}, "disagree"),
        ({"max_pairs_per_connection": 0}, "max_pairs_per_connection must be an int >= 1 or None"),
        ({"max_connects_per_second": 2.5}, "max_connects_per_second must be an int >= 1"),
        ({"max_requests_per_hour": True}, "max_requests_per_hour must be an int >= 1"),
        ({"stale_after": 0}, "stale_after must be a finite number > 0"),
        ({"make_before_break": "yes"}, "make_before_break must be true or false"),
    ],
)
def test_endpoint_and_limit_settings_are_checked(
    changes: dict[str, object], message: str | None
) -> None:
    if message is None:
        assert ClientConfig(**changes).urls == (DEFAULT_URL, AWS_URL)  # type: ignore[arg-type]
        return
    with pytest.raises(ValueError, match=re.escape(message)):
        ClientConfig(**changes)  # type: ignore[arg-type]


def test_bad_boolean_in_the_environment_names_the_variable() -> None:
    with pytest.raises(ValueError, match="OKX_TRIO_MAKE_BEFORE_BREAK: expected true or false"):
        ClientConfig.from_env({"OKX_TRIO_MAKE_BEFORE_BREAK": "maybe"})
