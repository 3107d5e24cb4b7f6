"""ClientConfig: the spec's defaults, and a ValueError naming the field for every bad value."""

from __future__ import annotations

import dataclasses
import math
import pathlib
import re
from typing import Any

import pytest

from okx_trio import AWS_URL, DEFAULT_URL, ClientConfig, ReconnectStrategy
from okx_trio._okx import HOSTS


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
        "transport": "websockets-sansio",
        "urls": (DEFAULT_URL, AWS_URL),
        "max_subscriptions_per_connection": None,
        "max_connects_per_second": 3,
        "max_requests_per_hour": 480,
        "stale_after": 120.0,
        "make_before_break": True,
        "book_snapshot_timeout": 5.0,
        "credentials": None,
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
        "book_snapshot_timeout",
        "credentials",
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


# -- hosts: every endpoint's urls from one setting ------------------------------------------------

OKX_WS = "wss://ws.okx.com:8443"
AWS_WS = "wss://wsaws.okx.com:8443"
ENDPOINTS = ("public", "business", "private")


def urls_by_endpoint(config: ClientConfig) -> dict[str, tuple[str, ...]]:
    return {endpoint: config.urls_for(endpoint) for endpoint in ENDPOINTS}  # type: ignore[arg-type]


def test_the_default_host_is_production_with_aws_behind_it() -> None:
    config = ClientConfig()
    assert urls_by_endpoint(config) == {
        endpoint: (f"{OKX_WS}/ws/v5/{endpoint}", f"{AWS_WS}/ws/v5/{endpoint}")
        for endpoint in ENDPOINTS
    }
    assert (config.host, config.failover_hosts, config.demo_trading) == (
        "production",
        ("aws",),
        False,
    )
    assert (config.url, config.urls) == (DEFAULT_URL, (DEFAULT_URL, AWS_URL))
    assert config.rest_url == "https://openapi.okx.com"
    assert not config.is_demo


@pytest.mark.parametrize("name", [name for name in HOSTS if name != "production"])
def test_each_named_host_gives_every_endpoint_with_no_failover(name: str) -> None:
    config = ClientConfig(host=name)
    base = HOSTS[name]
    assert urls_by_endpoint(config) == {e: (f"{base}/ws/v5/{e}",) for e in ENDPOINTS}
    assert config.failover_hosts == ()
    assert config.url == f"{base}/ws/v5/public"
    assert config.is_demo == name.endswith("demo")


@pytest.mark.parametrize(
    ("host", "rest_url"),
    [
        ("production", "https://openapi.okx.com"),
        ("aws", "https://aws.okx.com"),
        ("eea", "https://eea.okx.com"),
        ("us", "https://us.okx.com"),
        ("demo", "https://openapi.okx.com"),
        ("eea-demo", "https://eea.okx.com"),
        ("us-demo", "https://us.okx.com"),
        ("ws://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("wss://gateway.example:9443/", "https://gateway.example:9443"),
    ],
)
def test_rest_url_follows_the_host(host: str, rest_url: str) -> None:
    assert ClientConfig(host=host).rest_url == rest_url
    given = ClientConfig(host=host, rest_url="https://proxy.example/okx")
    assert given.rest_url == "https://proxy.example/okx"


@pytest.mark.parametrize("host", ["ws://127.0.0.1:8765", "ws://127.0.0.1:8765/"])
def test_a_custom_host_serves_every_endpoint_alone(host: str) -> None:
    config = ClientConfig(host=host)
    assert urls_by_endpoint(config) == {e: (f"ws://127.0.0.1:8765/ws/v5/{e}",) for e in ENDPOINTS}
    assert config.failover_hosts == ()


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("producton", "got 'producton' (did you mean production?)"),
        ("Demo", "(did you mean demo?)"),
        ("wss://ws.okx.com:8443/ws/v5/public", "no path, got 'wss://ws.okx.com:8443/ws/v5/public'"),
        ("https://www.okx.com", "got 'https://www.okx.com'"),
        ("wss://", "got 'wss://'"),
        ("ws://127.0.0.1:port", "got 'ws://127.0.0.1:port'"),
        ("ws://127.0.0.1:1?x=1", "got 'ws://127.0.0.1:1?x=1'"),
        ("", "got ''"),
    ],
)
def test_a_bad_host_is_named(host: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^ClientConfig\.host must be a host name \(") as info:
        ClientConfig(host=host)
    assert message in str(info.value)


def test_a_host_that_is_not_a_string_is_named() -> None:
    with pytest.raises(ValueError, match=r"^ClientConfig\.host must be .*got 5$"):
        ClientConfig(host=5)  # type: ignore[arg-type]


# -- demo trading ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "demo_host"),
    [
        ("production", "wss://wspap.okx.com:8443"),
        ("demo", "wss://wspap.okx.com:8443"),
        ("eea", "wss://wseeapap.okx.com:8443"),
        ("eea-demo", "wss://wseeapap.okx.com:8443"),
        ("us", "wss://wsuspap.okx.com:8443"),
        ("us-demo", "wss://wsuspap.okx.com:8443"),
    ],
)
def test_demo_trading_switches_every_endpoint_to_the_demo_host(host: str, demo_host: str) -> None:
    config = ClientConfig(host=host, demo_trading=True)
    assert urls_by_endpoint(config) == {e: (f"{demo_host}/ws/v5/{e}",) for e in ENDPOINTS}
    assert config.failover_hosts == ()  # demo trading has no AWS failover
    assert config.is_demo


def test_demo_trading_on_a_copy_of_the_default_config_moves_every_endpoint() -> None:
    for demo in (
        dataclasses.replace(ClientConfig(), demo_trading=True),
        ClientConfig().replace(demo_trading=True),
    ):
        assert demo.urls_for("private") == ("wss://wspap.okx.com:8443/ws/v5/private",)
        assert demo.url == "wss://wspap.okx.com:8443/ws/v5/public"
        assert demo.failover_hosts == ()
        back = demo.replace(demo_trading=False)
        assert back == ClientConfig()


def test_demo_trading_keeps_a_custom_host_as_given() -> None:
    config = ClientConfig(host="ws://127.0.0.1:8765", demo_trading=True)
    assert config.urls_for("private") == ("ws://127.0.0.1:8765/ws/v5/private",)
    assert config.is_demo


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"host": "aws"}, "host"),
        ({"failover_hosts": ("aws",)}, r"failover_hosts\[0\]"),
        ({"host": "eea", "failover_hosts": ("us", "aws")}, r"failover_hosts\[1\]"),
    ],
)
def test_demo_trading_refuses_the_aws_host(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=rf"^ClientConfig\.{field} is 'aws', which has no demo"):
        ClientConfig(demo_trading=True, **kwargs)  # type: ignore[arg-type]


def test_demo_trading_must_be_a_bool() -> None:
    with pytest.raises(ValueError, match=r"^ClientConfig\.demo_trading must be true or false"):
        ClientConfig(demo_trading="yes")  # type: ignore[arg-type]


# -- failover --------------------------------------------------------------------------------


def test_failover_hosts_are_tried_in_order_on_every_endpoint() -> None:
    config = ClientConfig(host="eea", failover_hosts=["production", "ws://127.0.0.1:9"])  # type: ignore[arg-type]
    assert config.failover_hosts == ("production", "ws://127.0.0.1:9")
    assert config.urls_for("business") == (
        "wss://wseea.okx.com:8443/ws/v5/business",
        f"{OKX_WS}/ws/v5/business",
        "ws://127.0.0.1:9/ws/v5/business",
    )


def test_no_failover_is_one_setting_away() -> None:
    config = ClientConfig(failover_hosts=())
    assert urls_by_endpoint(config) == {e: (f"{OKX_WS}/ws/v5/{e}",) for e in ENDPOINTS}


def test_given_failover_hosts_stay_when_the_host_changes_and_default_ones_follow_it() -> None:
    given = ClientConfig(failover_hosts=("aws",))
    assert dataclasses.replace(given, host="eea").failover_hosts == ("aws",)
    assert dataclasses.replace(ClientConfig(), host="eea").failover_hosts == ()
    assert dataclasses.replace(ClientConfig(host="eea"), host="production").failover_hosts == (
        "aws",
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"failover_hosts": ("production",)},
            r"^ClientConfig\.failover_hosts\[0\] \('production'\) is wss://ws\.okx\.com:8443, "
            "already in use",
        ),
        ({"failover_hosts": ("aws", "aws")}, r"^ClientConfig\.failover_hosts\[1\] \('aws'\)"),
        ({"host": "ws://127.0.0.1:1", "failover_hosts": ("ws://127.0.0.1:1/",)}, "already in use"),
        (
            {"failover_hosts": ("awss",)},
            r"^ClientConfig\.failover_hosts\[0\] must be a host name .*\(did you mean aws\?\)",
        ),
        (
            {"failover_hosts": "aws"},
            r"^ClientConfig\.failover_hosts must be a sequence of host names or base urls or None, "
            "got 'aws'",
        ),
    ],
)  # fmt: skip
def test_bad_failover_hosts_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClientConfig(**kwargs)  # type: ignore[arg-type]


# -- explicit lists per endpoint ---------------------------------------------------------------


def test_a_list_per_endpoint_wins_over_the_host() -> None:
    config = ClientConfig(
        host="eea",
        business_urls=["ws://127.0.0.1:1/anything", "wss://b.test"],  # type: ignore[arg-type]
        private_urls=("wss://p.test/ws/v5/private",),
    )
    assert config.business_urls == ("ws://127.0.0.1:1/anything", "wss://b.test")
    assert config.urls_for("private") == ("wss://p.test/ws/v5/private",)
    assert config.urls_for("public") == ("wss://wseea.okx.com:8443/ws/v5/public",)
    moved = dataclasses.replace(config, host="us")  # the given lists are the user's word
    assert moved.business_urls == config.business_urls
    assert moved.private_urls == config.private_urls
    assert moved.urls == ("wss://wsus.okx.com:8443/ws/v5/public",)


def test_url_alone_is_the_one_public_endpoint_and_the_others_follow_the_host() -> None:
    config = ClientConfig(url="ws://127.0.0.1:1/ws/v5/public", host="us")
    assert config.urls == ("ws://127.0.0.1:1/ws/v5/public",)
    assert config.urls_for("business") == ("wss://wsus.okx.com:8443/ws/v5/business",)
    assert dataclasses.replace(config, host="eea").urls == config.urls  # given, so it stays


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"business_urls": ("https://b.test",)},
            r"^ClientConfig\.business_urls\[0\] must be a ws:// or wss:// url with a host, "
            r"got 'https://b\.test'$",
        ),
        ({"private_urls": ("wss://p.test", "wss://")}, r"^ClientConfig\.private_urls\[1\] must "),
        ({"private_urls": ("wss://p.test",) * 2}, r"^ClientConfig\.private_urls has a url twice"),
        (
            {"business_urls": "wss://b.test"},
            r"^ClientConfig\.business_urls must be a sequence of urls, got 'wss://b\.test'$",
        ),
        ({"urls": ("wss://a.test", "ws:")}, r"^ClientConfig\.urls\[1\] must be a ws://"),
        (
            {"rest_url": "wss://www.okx.com"},
            r"^ClientConfig\.rest_url must be an http:// or https:// url with a host, "
            r"got 'wss://www\.okx\.com'$",
        ),
        (
            {"rest_url": None},
            r"^ClientConfig\.rest_url must be an http:// or https:// url with a host, got None$",
        ),
    ],
)  # fmt: skip
def test_bad_url_lists_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClientConfig(**kwargs)  # type: ignore[arg-type]


def test_urls_for_refuses_an_unknown_endpoint() -> None:
    message = r"^endpoint must be one of public, business, private, got 'spot'$"
    with pytest.raises(ValueError, match=message):
        ClientConfig().urls_for("spot")  # type: ignore[arg-type]


def test_copies_derive_their_lists_again_but_compare_and_print_like_plain_tuples() -> None:
    config = ClientConfig(host="eea")
    values = dataclasses.asdict(config)
    assert values["business_urls"] == ("wss://wseea.okx.com:8443/ws/v5/business",)
    assert ClientConfig(**values) == config
    values["host"] = "us"  # what examples/monitor.py does with a file's settings
    moved = ClientConfig(**values)
    assert urls_by_endpoint(moved) == urls_by_endpoint(ClientConfig(host="us"))
    assert moved.rest_url == "https://us.okx.com"
    assert "business_urls=('wss://wseea.okx.com:8443/ws/v5/business',)" in repr(config)
    assert hash(config) == hash(ClientConfig(**dataclasses.asdict(config)))


# -- the old name of max_subscriptions_per_connection ---------------------------------------------


def test_max_pairs_per_connection_is_the_old_name_of_max_subscriptions_per_connection(
    tmp_path: pathlib.Path,
) -> None:
    kwargs: dict[str, Any] = {"max_pairs_per_connection": 300}
    old = ClientConfig(**kwargs)
    assert old == ClientConfig(max_subscriptions_per_connection=300)
    assert (old.max_subscriptions_per_connection, old.max_pairs_per_connection) == (300, 300)
    assert "max_pairs_per_connection" not in dataclasses.asdict(old)
    assert "max_pairs_per_connection" not in ClientConfig.field_names()
    assert old.replace(max_pairs_per_connection=5).max_subscriptions_per_connection == 5
    assert old.replace(max_subscriptions_per_connection=None).max_pairs_per_connection is None
    changed = dataclasses.replace(old, max_pairs_per_connection=7)  # type: ignore[call-arg]
    assert changed.max_pairs_per_connection == 7
    changed = dataclasses.replace(old, max_subscriptions_per_connection=8)
    assert changed.max_pairs_per_connection == 8
    assert dataclasses.replace(old, transport="websockets").max_pairs_per_connection == 300
    # What examples/monitor.py does: a file's settings, then the old name from a flag.
    values = {**dataclasses.asdict(old), "max_pairs_per_connection": 2}
    assert ClientConfig(**values).max_subscriptions_per_connection == 2
    path = tmp_path / "old.toml"
    path.write_text("max_pairs_per_connection = 40\n")
    assert ClientConfig.from_toml(path).max_subscriptions_per_connection == 40
    env = {"OKX_TRIO_MAX_PAIRS_PER_CONNECTION": "41"}
    assert ClientConfig.from_env(env).max_subscriptions_per_connection == 41


def test_the_old_and_the_new_name_must_agree_when_both_are_given(tmp_path: pathlib.Path) -> None:
    both = {"max_pairs_per_connection": 3, "max_subscriptions_per_connection": 4}
    disagree = re.escape(
        "ClientConfig.max_pairs_per_connection (3) is the old name of "
        "max_subscriptions_per_connection (4) and they disagree: give "
        "max_subscriptions_per_connection alone"
    )
    with pytest.raises(ValueError, match=rf"^{disagree}$"):
        ClientConfig().replace(**both)
    same = ClientConfig().replace(max_pairs_per_connection=3, max_subscriptions_per_connection=3)
    assert same.max_pairs_per_connection == 3
    path = tmp_path / "both.toml"
    path.write_text("max_pairs_per_connection = 3\nmax_subscriptions_per_connection = 4\n")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: {disagree}$"):
        ClientConfig.from_toml(path)
    old, new = "OKX_TRIO_MAX_PAIRS_PER_CONNECTION", "OKX_TRIO_MAX_SUBSCRIPTIONS_PER_CONNECTION"
    with pytest.raises(ValueError, match=rf"^{old}: {disagree}$"):
        ClientConfig.from_env({old: "3", new: "4"})
    bad = "must be an int >= 1 or None, got 0"
    with pytest.raises(ValueError, match=rf"^{old}: ClientConfig\.max_pairs_per_connection {bad}$"):
        ClientConfig.from_env({old: "0"})
    new_name = r"ClientConfig\.max_subscriptions_per_connection"
    with pytest.raises(ValueError, match=rf"^{new_name} {bad}$"):
        ClientConfig(max_subscriptions_per_connection=0)


def test_an_unknown_keyword_gets_the_closest_field_name() -> None:
    unexpected = "ClientConfig got an unexpected keyword argument"
    close = r"\(did you mean ping_interval\?\)"
    with pytest.raises(TypeError, match=rf"^{unexpected} 'ping_intervall' {close}$"):
        ClientConfig(ping_intervall=5)  # type: ignore[call-arg]
    close = r"\(did you mean max_pairs_per_connection\?\)"
    with pytest.raises(TypeError, match=rf"^{unexpected} 'max_pair_per_connection' {close}$"):
        ClientConfig().replace(max_pair_per_connection=5)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'zzz'$"):
        ClientConfig(zzz=5)  # type: ignore[call-arg]


# -- loading the new settings, and what goes wrong there -------------------------------------------


def test_toml_sets_the_host_settings(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "hosts.toml"
    path.write_text(
        '[okx_trio]\nhost = "eea"\nfailover_hosts = ["production"]\n'
        'private_urls = ["wss://p.test/ws/v5/private"]\nrest_url = "https://r.test"\n'
    )
    config = ClientConfig.from_toml(path)
    assert config.urls_for("public") == (
        "wss://wseea.okx.com:8443/ws/v5/public",
        f"{OKX_WS}/ws/v5/public",
    )
    assert config.urls_for("private") == ("wss://p.test/ws/v5/private",)
    assert config.rest_url == "https://r.test"
    path.write_text("demo_trading = true\nfailover_hosts = []\n")
    demo = ClientConfig.from_toml(path)
    assert (demo.url, demo.failover_hosts) == ("wss://wspap.okx.com:8443/ws/v5/public", ())


@pytest.mark.parametrize("key", ["urls", "business_urls", "private_urls"])
def test_an_empty_url_list_is_an_error_naming_the_key(tmp_path: pathlib.Path, key: str) -> None:
    path = tmp_path / "empty.toml"
    path.write_text(f"{key} = []\n")
    leave_out = "is an empty list; leave it out"
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: {key} {leave_out}"):
        ClientConfig.from_toml(path)
    with pytest.raises(ValueError, match=rf"^{key} is an empty list"):
        ClientConfig.from_mapping({key: []})
    with pytest.raises(ValueError, match=rf"^settings: {key} is an empty list"):
        ClientConfig.from_mapping({key: ()}, source="settings")
    variable = f"OKX_TRIO_{key.upper()}"
    for text in ("", " , "):
        with pytest.raises(ValueError, match=rf"^{variable} is an empty list"):
            ClientConfig.from_env({variable: text})


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("ping_intervall", "ping_interval"),
        ("hots", "host"),
        ("failover_host", "failover_hosts"),
        ("demotrading", "demo_trading"),
        ("max_pair_per_connection", "max_pairs_per_connection"),
        ("bussiness_urls", "business_urls"),
    ],
)
def test_an_unknown_key_gets_a_did_you_mean(
    tmp_path: pathlib.Path, key: str, suggestion: str
) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(f"{key} = 1\n")
    expected = f"unknown key {key} (did you mean {suggestion}?) (known: url, urls, host, "
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: {re.escape(expected)}"):
        ClientConfig.from_toml(path)
    with pytest.raises(ValueError, match=rf"^{re.escape(expected)}"):
        ClientConfig.from_mapping({key: 1})
    variable, close = f"OKX_TRIO_{key.upper()}", f"OKX_TRIO_{suggestion.upper()}"
    expected = f"{variable}: unknown setting (did you mean {close}?) (known: OKX_TRIO_URL, "
    with pytest.raises(ValueError, match=rf"^{re.escape(expected)}"):
        ClientConfig.from_env({variable: "1"})


def test_unknown_keys_far_from_any_field_are_listed_without_a_guess() -> None:
    with pytest.raises(ValueError, match=r"^unknown keys aaa, zzz \(known: url, "):
        ClientConfig.from_mapping({"zzz": 1, "aaa": 2})
    with pytest.raises(ValueError, match=r"^OKX_TRIO_ZZZ: unknown setting \(known: "):
        ClientConfig.from_env({"OKX_TRIO_ZZZ": "1"})


@pytest.mark.parametrize(
    ("variable", "text", "field", "value"),
    [
        ("OKX_TRIO_DEMO_TRADING", "true", "demo_trading", True),
        ("OKX_TRIO_DEMO_TRADING", "YES", "demo_trading", True),
        ("OKX_TRIO_DEMO_TRADING", "on", "demo_trading", True),
        ("OKX_TRIO_DEMO_TRADING", "1", "demo_trading", True),
        ("OKX_TRIO_MAKE_BEFORE_BREAK", "off", "make_before_break", False),
        ("OKX_TRIO_MAKE_BEFORE_BREAK", "No", "make_before_break", False),
        ("OKX_TRIO_MAKE_BEFORE_BREAK", "0", "make_before_break", False),
        ("OKX_TRIO_TICK_BUFFER", " 64 ", "tick_buffer", 64),
        ("OKX_TRIO_MAX_RETRIES", "0", "max_retries", 0),
        ("OKX_TRIO_MAX_RETRIES", "NONE", "max_retries", None),
        ("OKX_TRIO_MAX_REQUESTS_PER_HOUR", "", "max_requests_per_hour", None),
        ("OKX_TRIO_MAX_PAIRS_PER_CONNECTION", "200", "max_subscriptions_per_connection", 200),
        ("OKX_TRIO_STALE_AFTER", "none", "stale_after", None),
        ("OKX_TRIO_STALE_AFTER", "45", "stale_after", 45.0),
        ("OKX_TRIO_JITTER", "0", "jitter", 0.0),
        ("OKX_TRIO_CONNECT_TIMEOUT", "2.5", "connect_timeout", 2.5),
        ("OKX_TRIO_HOST", " us ", "host", "us"),
        ("OKX_TRIO_TRANSPORT", "websockets", "transport", "websockets"),
        ("OKX_TRIO_FAILOVER_HOSTS", "eea, us", "failover_hosts", ("eea", "us")),
        ("OKX_TRIO_FAILOVER_HOSTS", "", "failover_hosts", ()),
        ("OKX_TRIO_FAILOVER_HOSTS", "none", "failover_hosts", ("aws",)),
        ("OKX_TRIO_BUSINESS_URLS", "wss://b.test,wss://c.test", "business_urls", ("wss://b.test", "wss://c.test")),
        ("OKX_TRIO_REST_URL", "https://r.test", "rest_url", "https://r.test"),
    ],
)  # fmt: skip
def test_environment_strings_are_decoded_by_the_field_type(
    variable: str, text: str, field: str, value: object
) -> None:
    config = ClientConfig.from_env({variable: text})
    assert getattr(config, field) == value
    assert isinstance(getattr(config, field), type(value))


ENV_ERRORS = [
    ({"DEMO_TRADING": "si"}, "DEMO_TRADING: expected true or false, got 'si'"),
    ({"MAX_RETRIES": "lots"}, "MAX_RETRIES: expected an integer or none, got 'lots'"),
    ({"STALE_AFTER": "2m"}, "STALE_AFTER: expected a number or none, got '2m'"),
    ({"TICK_BUFFER": "none"}, "TICK_BUFFER: expected an integer, got 'none'"),
    ({"HOST": "mars"}, "HOST: ClientConfig.host must be a host name"),
    (
        {"DEMO_TRADING": "1", "HOST": "aws"},
        "HOST: ClientConfig.host is 'aws', which has no demo-trading host",
    ),
    (
        {"PRIVATE_URLS": "https://p.test"},
        "PRIVATE_URLS: ClientConfig.private_urls[0] must be a ws://",
    ),
    (
        {"CONNECT_TIMEOUT": "inf"},
        "CONNECT_TIMEOUT: ClientConfig.connect_timeout must be a finite number > 0, got inf",
    ),
    (
        {"STALE_AFTER": "nan"},
        "STALE_AFTER: ClientConfig.stale_after must be a finite number > 0 or None, got nan",
    ),
    # A check across fields names the variables that were set.
    (
        {"CONNECTION_TIMEOUT": "10"},
        "CONNECTION_TIMEOUT: ClientConfig.ping_interval must be < connection_timeout (10.0), "
        "got 20.0",
    ),
]


@pytest.mark.parametrize(("names", "message"), ENV_ERRORS)
def test_environment_errors_name_the_variable_and_the_field(
    names: dict[str, str], message: str
) -> None:
    environ = {f"OKX_TRIO_{name}": text for name, text in names.items()}
    with pytest.raises(ValueError, match=rf"^{re.escape('OKX_TRIO_' + message)}"):
        ClientConfig.from_env(environ)


FILE_ERRORS = [
    ('host = "mars"', "host must be a host name"),
    ("host = 443", "host must be a host name or a ws:// or wss:// base url, got 443"),
    (
        'failover_hosts = "aws"',
        "failover_hosts must be a sequence of host names or base urls or None, got 'aws'",
    ),
    (
        'business_urls = ["wss://b.test", 7]',
        "business_urls must be a sequence of urls, got ['wss://b.test', 7]",
    ),
    ('demo_trading = "yes"', "demo_trading must be true or false, got 'yes'"),
    (
        "max_subscriptions_per_connection = 2.5",
        "max_subscriptions_per_connection must be an int >= 1 or None, got 2.5",
    ),
    ("stable_after = -1", "stable_after must be a finite number >= 0, got -1"),
    ("jitter = 1.5", "jitter must be a number >= 0 and <= 1, got 1.5"),
    ("backoff_factor = 0.5", "backoff_factor must be a finite number >= 1, got 0.5"),
    ("max_retries = -1", "max_retries must be an int >= 0 or None, got -1"),
]


@pytest.mark.parametrize(("text", "message"), FILE_ERRORS)
def test_file_errors_name_the_file_and_the_field(
    tmp_path: pathlib.Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text + "\n")
    with pytest.raises(ValueError, match=rf"^{re.escape(f'{path}: ClientConfig.{message}')}"):
        ClientConfig.from_toml(path)


def test_the_example_file_shows_every_setting() -> None:
    text = EXAMPLE.read_text()
    keys = set(re.findall(r"^#? ?([a-z_]+) = ", text, flags=re.MULTILINE))
    assert keys >= set(ClientConfig.field_names())


def test_a_mapping_with_keys_that_are_not_strings_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"^unknown keys 1, ping \(known: "):
        ClientConfig.from_mapping({1: 2, "ping": 3})  # type: ignore[dict-item]


# -- credentials ---------------------------------------------------------------------------

_KEY, _SECRET, _PASS = "key-abc123", "s3cr3t-value-xyz", "pass-phrase-9"


def test_credentials_come_from_a_mapping_and_never_show() -> None:
    config = ClientConfig.from_mapping(
        {"credentials": {"api_key": _KEY, "secret_key": _SECRET, "passphrase": _PASS}}
    )
    assert config.credentials is not None and config.credentials.api_key == _KEY
    for text in (repr(config), str(config), repr(dataclasses.asdict(config))):
        assert _SECRET not in text and _PASS not in text


def test_credentials_come_from_a_toml_table(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "okx.toml"
    path.write_text(
        f'ping_interval = 15\n[credentials]\napi_key = "{_KEY}"\nsecret_key = "{_SECRET}"\n'
        f'passphrase = "{_PASS}"\n'
    )
    config = ClientConfig.from_toml(path)
    assert config.credentials is not None and config.credentials.api_key == _KEY


def test_credentials_come_from_okxs_variables() -> None:
    environ = {"OKX_API_KEY": _KEY, "OKX_SECRET_KEY": _SECRET, "OKX_PASSPHRASE": _PASS}
    config = ClientConfig.from_env(environ)
    assert config.credentials is not None and config.credentials.api_key == _KEY
    assert ClientConfig.from_env({}).credentials is None
    with pytest.raises(ValueError, match="OKX_PASSPHRASE") as caught:
        ClientConfig.from_env({"OKX_API_KEY": _KEY, "OKX_SECRET_KEY": _SECRET})
    assert _SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"api_key": _KEY, "secret_key": _SECRET}, "missing passphrase"),
        (
            {"api_key": _KEY, "secret_key": _SECRET, "passphrase": _PASS, "pin": "1"},
            "unknown pin",
        ),
        ("key:secret", "must be okx_trio.Credentials or a mapping"),
    ],
)
def test_bad_credentials_name_the_field_and_hide_the_secret(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        ClientConfig(credentials=value)  # type: ignore[arg-type]
    assert "ClientConfig.credentials" in str(caught.value)
    assert _SECRET not in str(caught.value)
