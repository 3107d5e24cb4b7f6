"""okx_trio.monitor._cli: flags, options, one-line errors, exit codes."""

from __future__ import annotations

import io
import pathlib
import sys

import pytest

import okx_trio.monitor as monitor
import okx_trio.monitor._cli as cli
from okx_trio import ClientConfig

from ._monitor_helpers import AWS, OKX, untimed

# --- command line -------------------------------------------------------------------------


def _options(argv: list[str]) -> monitor.Options:
    parser = monitor.build_parser()
    return monitor.options_from_args(parser, parser.parse_args(argv))


def test_default_pairs_and_url() -> None:
    options = _options([])
    assert options.pairs == monitor.DEFAULT_PAIRS
    assert options.config == ClientConfig()
    assert not options.demo


def test_pairs_are_upper_cased_and_deduplicated() -> None:
    assert _options(["btc-usdt", "ETH-USDT", "BTC-USDT"]).pairs == ("BTC-USDT", "ETH-USDT")


def test_channel_words_on_the_command_line_add_views() -> None:
    options = _options(["books:btc-usdt", "eth-usdt", "TRADES:ETH-USDT", "tickers:sol-usdt"])
    assert options.pairs == ("ETH-USDT", "SOL-USDT")
    assert options.subscriptions == ("books:BTC-USDT", "trades:ETH-USDT")
    only_views = _options(["books:BTC-USDT"])
    assert only_views.pairs == () and only_views.subscriptions == ("books:BTC-USDT",)


def test_the_demo_table_shows_every_view_and_its_log_lines_keep_to_tickers() -> None:
    parser = monitor.build_parser()
    args = parser.parse_args(["--demo", "SOL-USDT", "XRP-USDT"])
    table = monitor.options_from_args(parser, args, table=True)
    assert table.subscriptions == monitor.demo_channels(("SOL-USDT", "XRP-USDT")) == (
        "books:SOL-USDT", "trades:SOL-USDT", "trades:XRP-USDT", "candle1m:SOL-USDT",
        "candle1m:XRP-USDT", "funding-rate:BTC-USDT-SWAP", "mark-price:BTC-USDT-SWAP",
    )  # fmt: skip
    assert monitor.options_from_args(parser, args, table=False).subscriptions == ()
    given = parser.parse_args(["--demo", "trades:BTC-USDT"])
    assert monitor.options_from_args(parser, given, table=True).subscriptions == (
        "trades:BTC-USDT",
    )


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("open-interest:BTC-USDT-SWAP", "no view of open-interest"),
        ("nosuch:BTC-USDT", "unknown channel 'nosuch'"),
        ("books:BTC", "invalid inst_id 'BTC'"),
    ],
)
def test_a_bad_channel_word_exits_2_in_one_line(
    word: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert monitor.main([word]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_url_and_tunables_go_into_the_client_config() -> None:
    options = _options(
        [
            "--url", "wss://wsaws.okx.com:8443/ws/v5/public",
            "--ping-interval", "10", "--connection-timeout", "15", "--initial-delay", "0.2",
            "--max-delay", "4", "--max-retries", "3", "--duration", "2.5",
        ]
    )  # fmt: skip
    config = options.config
    assert config.url == "wss://wsaws.okx.com:8443/ws/v5/public"
    assert (config.ping_interval, config.connection_timeout) == (10.0, 15.0)
    assert (config.initial_delay, config.max_delay, config.max_retries) == (0.2, 4.0, 3)
    assert options.duration == 2.5


def test_demo_uses_short_timings_unless_overridden() -> None:
    demo = _options(["--demo", "--seed", "4"])
    assert demo.demo and demo.chaos and demo.seed == 4
    config = demo.config
    assert (config.ping_interval, config.connection_timeout, config.initial_delay) == (3, 5, 0.5)
    overridden = _options(["--demo", "--connection-timeout", "2", "--initial-delay", "9"])
    assert overridden.config.connection_timeout == 2
    assert overridden.config.ping_interval == 1.0  # kept below the timeout
    assert overridden.config.max_delay == 9.0  # kept above the initial delay
    quiet = _options(["--demo", "--no-chaos", "--chaos-first-after", "1", "--chaos-every", "3"])
    assert not quiet.chaos
    assert (quiet.chaos_first_after, quiet.chaos_every) == (1.0, 3.0)


def test_max_pairs_per_connection_flag() -> None:
    assert _options([]).config.max_pairs_per_connection is None
    assert _options(["--max-pairs-per-connection", "300"]).config.max_pairs_per_connection == 300
    demo = _options(["--demo", "--max-pairs-per-connection", "2"])
    assert demo.config.max_pairs_per_connection == 2
    assert demo.config.ping_interval == 3  # the demo's other settings stay


def test_config_file_then_flags(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "client.toml"
    path.write_text("ping_interval = 7\nmax_retries = 5\ntransport = 'websockets'\n")
    config = _options(["--config", str(path)]).config
    assert (config.ping_interval, config.max_retries, config.transport) == (7, 5, "websockets")
    config = _options(
        ["--config", str(path), "--max-retries", "2", "--transport", "trio-websocket"]
    ).config
    assert (config.ping_interval, config.max_retries, config.transport) == (7, 2, "trio-websocket")
    path.write_text("connection_timeout = 8\n")
    demo = _options(["--demo", "--config", str(path)]).config
    assert (demo.ping_interval, demo.connection_timeout) == (3, 8)  # the file over the demo's
    path.write_text(f"max_pairs_per_connection = 50\nurls = ['{OKX}', '{AWS}']\n")
    assert _options(["--config", str(path)]).config.max_pairs_per_connection == 50
    flagged = _options(
        ["--config", str(path), "--max-pairs-per-connection", "7", "--url", "ws://127.0.0.1:1"]
    ).config
    assert flagged.max_pairs_per_connection == 7
    assert flagged.urls == ("ws://127.0.0.1:1",)  # --url replaces the file's list


def test_a_bad_config_file_exits_2_naming_file_and_key(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "client.toml"
    path.write_text("ping_intervall = 7\n")
    assert monitor.main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: unknown key ping_intervall" in err
    assert err.count("\n") == 1 and "usage:" not in err  # the library's message, one line
    assert monitor.main(["--config", str(tmp_path / "missing.toml")]) == 2
    assert "--config: cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["btc"], "invalid instrument id 'BTC'"),
        (["BTC-USDT", "foo_bar"], "invalid instrument id 'FOO_BAR'"),
        (["--ping-interval", "-1"], "--ping-interval must be"),
        (["--ping-interval", "40"], "--ping-interval must be < connection_timeout"),
        (["--connection-timeout", "nan"], "--connection-timeout must be"),
        (["--max-retries", "-1"], "--max-retries must be an int >= 0"),
        (["--max-retries", "two"], "invalid int value"),
        (["--url", "http://example.com"], "--url must be"),
        (["--demo", "--url", "ws://127.0.0.1:1"], "not allowed with argument"),
        (["--no-chaos"], "--no-chaos only applies with --demo"),
        (["--seed", "3"], "--seed only applies with --demo"),
        (["--duration", "0"], "must be a finite number > 0"),
        (["--duration", "soon"], "not a number"),
        (["--bogus"], "unrecognized arguments"),
        (["--max-pairs-per-connection", "0"], "--max-pairs-per-connection: must be an int >= 1"),
        (["--max-pairs-per-connection", "-2"], "--max-pairs-per-connection: must be an int >= 1"),
        (["--max-pairs-per-connection", "1.5"], "--max-pairs-per-connection: must be an int >= 1"),
        (["--max-pairs-per-connection", "many"], "--max-pairs-per-connection: must be an int"),
        (["--max-pairs-per-connection"], "--max-pairs-per-connection: expected one argument"),
    ],
)
def test_bad_arguments_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert monitor.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    # One line naming what the user typed, not the usage block first.
    assert err.count("\n") == 1, err
    assert "usage:" not in err and "ClientConfig." not in err
    assert err.startswith("okx-trio-monitor: error: ")
    assert err.rstrip().endswith("(see okx-trio-monitor --help)")


def test_a_flag_error_names_the_flag_a_file_error_the_field(tmp_path: pathlib.Path) -> None:
    assert cli._flag_names("ClientConfig.url must be ws", {"url"}) == "--url must be ws"
    path = tmp_path / "client.toml"
    path.write_text("ping_interval = -1\n")
    with pytest.raises(SystemExit):
        _options(["--config", str(path)])


def test_websockets_transport_without_the_fast_extra_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    monkeypatch.setattr(cli, "websockets_available", lambda: False)
    assert monitor.main(["--transport", "websockets"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "--transport websockets: the websockets package is not installed" in err
    assert "pip install 'okx-trio[fast]'" in err
    path = tmp_path / "client.toml"
    path.write_text("transport = 'websockets'\n")
    assert monitor.main(["--config", str(path)]) == 2
    assert f"{path}: transport: the websockets package" in capsys.readouterr().err


def test_ticks_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert _options([]).ticks and _options([]).tick_every == 1.0
    assert not _options(["--no-ticks"]).ticks
    assert _options(["--tick-every", "5"]).tick_every == 5.0
    assert monitor.main(["--tick-every", "0"]) == 2
    assert "--tick-every: must be a finite number > 0" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_without_rich_a_terminal_gets_a_hint_and_log_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr(cli, "rich_available", lambda: False)
    code = monitor.main(["--demo", "--no-chaos", "--duration", "1", "BTC-USDT"])
    assert code == 0
    assert capsys.readouterr().err == monitor.INSTALL_HINT + "\n"
    assert "pip install okx-trio[monitor]" in monitor.INSTALL_HINT
    lines = untimed(terminal.getvalue().splitlines())
    assert "[state] connected: connected to the demo exchange" in lines
    assert any(line.startswith("[tick] BTC-USDT: $") for line in lines)


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert monitor.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--demo" in out and "--max-retries" in out and "+PAIR" in out
    assert "--max-pairs-per-connection N" in out


def test_the_sansio_transport_is_a_choice_and_needs_the_fast_extra_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "websockets_available", lambda: False)
    assert monitor.main(["--transport", "websockets-sansio"]) == 2
    assert "--transport websockets-sansio: the websockets package" in capsys.readouterr().err
