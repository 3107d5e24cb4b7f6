"""Commands typed while the monitor runs (``+SOL-USDT -ETH-USDT``, ``q``, ``?``): pure parsing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from okx_trio import validate_inst_id
from okx_trio._subscription import Subscription

__all__ = ["HELP_LINES", "Command", "CommandError", "parse_commands"]

HELP_LINES: Final = (
    "+PAIR   watch a pair, e.g. +SOL-USDT (lower case is fine: +sol-usdt)",
    "-PAIR   stop watching a pair, e.g. -ETH-USDT",
    "        several on one line: +SOL-USDT -ETH-USDT",
    "PgUp/PgDn or Up/Down scroll the pairs when they do not fit",
    "q       quit (or Ctrl-C)",
    "?       this help",
)

# The library's own message says "(upper case)": typed pairs are upper-cased for the user.
_CASE: Final = "(lower case is fine)"


@dataclass(frozen=True)
class Command:
    """One command typed on stdin: ``add``/``remove`` carry an upper-cased, valid ``inst_id``."""

    op: Literal["add", "remove", "quit", "help"]
    inst_id: str = ""


@dataclass(frozen=True)
class CommandError:
    """A word that is not a valid command, with the reason shown to the user."""

    token: str
    reason: str

    def __str__(self) -> str:
        return self.reason


_QUIT_WORDS: Final = frozenset({"q", "quit", "exit"})
_HELP_WORDS: Final = frozenset({"?", "h", "help"})


def _channel_pair(word: str, rest: str) -> str | CommandError:
    """``tickers:BTC-USDT`` is the pair itself; any other channel has no view yet."""
    channel, _, argument = rest.partition(":")
    try:
        subscription = Subscription.parse(f"{channel.lower()}:{argument.upper()}")
    except ValueError as exc:
        return CommandError(word, f"{word!r}: {exc}")
    if subscription.channel != "tickers" or subscription.inst_id is None:
        return CommandError(
            word,
            f"the {subscription.channel} view is not shown yet: the monitor shows tickers "
            f"for now (type +{subscription.inst_id or 'BTC-USDT'} for its ticker)",
        )
    return subscription.inst_id


def parse_commands(line: str) -> list[Command | CommandError]:
    """Parse one input line into commands, in order; bad words become :class:`CommandError`.

    ``+ID`` adds and ``-ID`` removes a pair (``+ ID`` with a space works too), ids are
    upper-cased (so lower case is fine) and validated with :func:`okx_trio.validate_inst_id`;
    ``+tickers:ID`` is the same as ``+ID`` and other channels (``+trades:ETH-USDT``) are
    politely refused until they have a view; ``q`` quits, ``?`` shows help. Words may be
    separated by spaces or commas. Never raises.

    >>> parse_commands("+sol-usdt -ETH-USDT")
    [Command(op='add', inst_id='SOL-USDT'), Command(op='remove', inst_id='ETH-USDT')]
    """
    words = line.replace(",", " ").split()
    result: list[Command | CommandError] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        lowered = word.lower()
        if lowered in _QUIT_WORDS:
            result.append(Command("quit"))
            continue
        if lowered in _HELP_WORDS:
            result.append(Command("help"))
            continue
        sign, rest = word[0], word[1:]
        if sign not in "+-":
            result.append(
                CommandError(
                    word,
                    f"unknown command {word!r}: type +PAIR to add, -PAIR to remove, "
                    "q to quit, ? for help",
                )
            )
            continue
        if not rest and i < len(words):  # "+ SOL-USDT"
            rest = words[i]
            i += 1
        op: Literal["add", "remove"] = "add" if sign == "+" else "remove"
        if not rest:
            result.append(CommandError(word, f"{word!r} needs a pair, e.g. {sign}BTC-USDT"))
            continue
        if ":" in rest:
            pair = _channel_pair(word, rest)
            if isinstance(pair, CommandError):
                result.append(pair)
                continue
            rest = pair
        try:
            inst_id = validate_inst_id(rest.upper())
        except ValueError:
            result.append(
                # Short enough for the events panel of an 80-column terminal.
                CommandError(word, f"{rest.upper()!r} is not a pair like BTC-USDT {_CASE}")
            )
            continue
        result.append(Command(op, inst_id))
    return result
