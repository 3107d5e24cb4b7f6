"""okx_trio.monitor._commands: the commands typed while the monitor runs."""

from __future__ import annotations

import pytest

import okx_trio.monitor as monitor

# --- commands -----------------------------------------------------------------------------


def test_parse_commands_add_and_remove_several_per_line() -> None:
    Command = monitor.Command
    assert monitor.parse_commands("+sol-usdt -ETH-USDT") == [
        Command("add", "SOL-USDT"),
        Command("remove", "ETH-USDT"),
    ]
    assert monitor.parse_commands("  +BTC-USDT-SWAP,-btc-usd-250627\n") == [
        Command("add", "BTC-USDT-SWAP"),
        Command("remove", "BTC-USD-250627"),
    ]
    assert monitor.parse_commands("+ sol-usdt - xrp-usdt") == [
        Command("add", "SOL-USDT"),
        Command("remove", "XRP-USDT"),
    ]


@pytest.mark.parametrize("word", ["q", "Q", "quit", "exit"])
def test_parse_commands_quit(word: str) -> None:
    assert monitor.parse_commands(word) == [monitor.Command("quit")]


@pytest.mark.parametrize("word", ["?", "help", "h", "HELP"])
def test_parse_commands_help(word: str) -> None:
    assert monitor.parse_commands(word) == [monitor.Command("help")]


def test_parse_commands_invalid_ids_are_errors_not_exceptions() -> None:
    result = monitor.parse_commands("+foo +SOL-USDT -")
    assert len(result) == 3
    bad, good, bare = result
    assert isinstance(bad, monitor.CommandError)
    assert bad.token == "+foo"
    assert bad.reason == "'FOO' is not a pair like BTC-USDT (lower case is fine)"
    assert "upper case" not in bad.reason  # what ? says: lower case is fine
    assert good == monitor.Command("add", "SOL-USDT")
    assert isinstance(bare, monitor.CommandError)
    assert "needs a pair" in str(bare)


def test_parse_commands_unknown_word() -> None:
    [error] = monitor.parse_commands("BTC-USDT")
    assert isinstance(error, monitor.CommandError)
    assert "unknown command 'BTC-USDT'" in error.reason
    assert "+PAIR" in error.reason


@pytest.mark.parametrize(
    "line", ["", "   ", "\n", "++--", "+\x00", "+ÄÖ-USDT", "-" * 500, "+a-b-c-d", "+-", "?!", "+ +"]
)
def test_parse_commands_never_raises(line: str) -> None:
    for item in monitor.parse_commands(line):
        assert isinstance(item, monitor.Command | monitor.CommandError)


def test_other_channels_are_refused_politely_until_they_have_a_view() -> None:
    [trades, tickers, unknown] = monitor.parse_commands(
        "+trades:eth-usdt +tickers:sol-usdt +nosuch:BTC-USDT"
    )
    assert isinstance(trades, monitor.CommandError)
    assert trades.reason.startswith("the trades view is not shown yet")
    assert "+ETH-USDT" in trades.reason
    assert tickers == monitor.Command("add", "SOL-USDT")
    assert isinstance(unknown, monitor.CommandError)
    assert "unknown channel 'nosuch'" in unknown.reason


def test_help_and_errors_agree_on_lower_case() -> None:
    assert any("lower case is fine" in line for line in monitor.HELP_LINES)
    [error] = monitor.parse_commands("+bogus")
    assert isinstance(error, monitor.CommandError)
    assert "lower case is fine" in error.reason
