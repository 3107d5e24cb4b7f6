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


def test_channel_commands_name_a_subscription_of_a_view() -> None:
    words = (
        "+books:btc-usdt +trades:ETH-USDT +candle1m:sol-usdt +funding-rate:BTC-USDT-SWAP "
        "+mark-price:btc-usdt-swap -books:BTC-USDT +tickers:sol-usdt"
    )
    commands = monitor.parse_commands(words)
    assert commands == [
        monitor.Command("add", "BTC-USDT", "books"),
        monitor.Command("add", "ETH-USDT", "trades"),
        monitor.Command("add", "SOL-USDT", "candle1m"),
        monitor.Command("add", "BTC-USDT-SWAP", "funding-rate"),
        monitor.Command("add", "BTC-USDT-SWAP", "mark-price"),
        monitor.Command("remove", "BTC-USDT", "books"),
        monitor.Command("add", "SOL-USDT"),  # the ticker: the same as +SOL-USDT
    ]
    assert [c.subscription.key for c in commands if isinstance(c, monitor.Command)][:2] == [
        "books:BTC-USDT",
        "trades:ETH-USDT",
    ]


def test_channels_without_a_view_and_bad_channels_are_refused_with_the_reason() -> None:
    [oi, unknown, bad_pair, no_pair] = monitor.parse_commands(
        "+open-interest:BTC-USDT-SWAP +nosuch:BTC-USDT +trades:BTC +books:"
    )
    assert isinstance(oi, monitor.CommandError)
    assert "no view of open-interest" in oi.reason and "books" in oi.reason
    assert isinstance(unknown, monitor.CommandError)
    assert "unknown channel 'nosuch'" in unknown.reason
    assert isinstance(bad_pair, monitor.CommandError)
    assert "'BTC'" in bad_pair.reason
    assert isinstance(no_pair, monitor.CommandError)


def test_view_words_switch_views_and_quit_help_still_win() -> None:
    assert monitor.parse_commands("book Trades candles funding tickers mark") == [
        monitor.Command("view", channel=view)
        for view in ("book", "trades", "candles", "funding", "tickers", "funding")
    ]
    with pytest.raises(ValueError, match="no subscription"):
        _ = monitor.Command("view", channel="book").subscription


def test_help_and_errors_agree_on_lower_case() -> None:
    assert any("lower case is fine" in line for line in monitor.HELP_LINES)
    [error] = monitor.parse_commands("+bogus")
    assert isinstance(error, monitor.CommandError)
    assert "lower case is fine" in error.reason
