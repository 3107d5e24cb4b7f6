"""Commands typed while the monitor runs (``+SOL-USDT -ETH-USDT``, ``+books:BTC-USDT``,
``book``, ``q``, ``?``): pure parsing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from okx_trio import validate_inst_id
from okx_trio._subscription import Subscription

from ._views import View, parse_view, view_of_channel

__all__ = ["HELP_LINES", "Command", "CommandError", "parse_commands"]

HELP_LINES: Final = (
    "+PAIR   watch a pair's ticker, e.g. +SOL-USDT (lower case is fine: +sol-usdt)",
    "-PAIR   stop watching a pair, e.g. -ETH-USDT",
    "+CHANNEL:PAIR  e.g. +books:BTC-USDT +trades:ETH-USDT +candle1m:SOL-USDT",
    "        +funding-rate:BTC-USDT-SWAP +mark-price:BTC-USDT-SWAP; -books:BTC-USDT",
    "        several on one line: +SOL-USDT -ETH-USDT",
    "Tab/Shift-Tab switch views (tickers book trades candles funding); or type: book",
    "Left/Right pick the pair a view shows",
    "PgUp/PgDn or Up/Down scroll the pairs when they do not fit",
    "q       quit (or Ctrl-C)",
    "?       this help",
)

# The library's own message says "(upper case)": typed pairs are upper-cased for the user.
_CASE: Final = "(lower case is fine)"


@dataclass(frozen=True)
class Command:
    """One command typed on stdin.

    ``add``/``remove`` carry an upper-cased, valid ``inst_id`` and the OKX ``channel``
    (``tickers`` for a bare pair); ``view`` carries the view's name in ``channel``.
    """

    op: Literal["add", "remove", "quit", "help", "view"]
    inst_id: str = ""
    channel: str = "tickers"

    @property
    def subscription(self) -> Subscription:
        """The subscription an ``add``/``remove`` is about.

        Raises:
            ValueError: for another op (it has none).
        """
        if self.op not in ("add", "remove"):
            raise ValueError(f"a {self.op!r} command has no subscription")
        return Subscription(self.channel, self.inst_id)


@dataclass(frozen=True)
class CommandError:
    """A word that is not a valid command, with the reason shown to the user."""

    token: str
    reason: str

    def __str__(self) -> str:
        return self.reason


_QUIT_WORDS: Final = frozenset({"q", "quit", "exit"})
_HELP_WORDS: Final = frozenset({"?", "h", "help"})


def _channel_command(word: str, op: Literal["add", "remove"], rest: str) -> Command | CommandError:
    """``+books:BTC-USDT``: the channel's subscription, if the monitor has a view of it."""
    channel, _, argument = rest.partition(":")
    try:
        subscription = Subscription.parse(f"{channel.lower()}:{argument.upper()}")
    except ValueError as exc:
        return CommandError(word, f"{word!r}: {exc}")
    if subscription.inst_id is None or view_of_channel(subscription.channel) is None:
        return CommandError(
            word,
            f"the monitor has no view of {subscription.channel}: it shows tickers, books, "
            "trades, candles, funding-rate and mark-price",
        )
    return Command(op, subscription.inst_id, subscription.channel)


def parse_commands(line: str) -> list[Command | CommandError]:
    """Parse one input line into commands, in order; bad words become :class:`CommandError`.

    ``+ID`` adds and ``-ID`` removes a pair's ticker (``+ ID`` with a space works too), ids
    are upper-cased (so lower case is fine) and validated with
    :func:`okx_trio.validate_inst_id`; ``+CHANNEL:ID`` (``+books:BTC-USDT``,
    ``-trades:ETH-USDT``) is parsed with :meth:`okx_trio.Subscription.parse`, the channel
    lower-cased, and refused for a channel no view shows; a view's name (``book``,
    ``trades``, ``candles``, ``funding``, ``tickers``) switches to it; ``q`` quits, ``?``
    shows help. Words may be separated by spaces or commas. Never raises.

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
        view: View | None = parse_view(lowered)
        if view is not None:
            result.append(Command("view", channel=view))
            continue
        sign, rest = word[0], word[1:]
        if sign not in "+-":
            result.append(
                CommandError(
                    word,
                    f"unknown command {word!r}: type +PAIR to add, -PAIR to remove, "
                    "a view's name, q to quit, ? for help",
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
            result.append(_channel_command(word, op, rest))
            continue
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
