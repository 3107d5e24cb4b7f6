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
    assert "invalid instrument id 'FOO'" in bad.reason
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
