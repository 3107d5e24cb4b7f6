"""The command line: flags into :class:`Options`, one-line errors, exit codes."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import math
import os
import random
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Final, NoReturn

import trio

from okx_trio import ClientConfig, Credentials, Subscription, validate_inst_id
from okx_trio._config import TRANSPORTS

from ._commands import HELP_LINES
from ._format import one_line
from ._options import DEFAULT_PAIRS, DEMO_STABLE_AFTER, DEMO_TUNING, Options, demo_channels
from ._run import run
from ._views import view_of_channel

__all__ = [
    "CREDENTIAL_VARIABLES",
    "INSTALL_HINT",
    "PROG",
    "build_parser",
    "credentials_from_env",
    "main",
    "options_from_args",
    "rich_available",
]

PROG: Final = "okx-trio-monitor"

INSTALL_HINT: Final = (
    "monitor: the live table needs rich (pip install okx-trio[monitor]); using log lines instead"
)
FAST_HINT: Final = "the websockets package is not installed: pip install 'okx-trio[fast]'"

#: ClientConfig fields that have a flag of their own.
_FLAG_FIELDS: Final = (
    "url",
    "transport",
    "ping_interval",
    "connection_timeout",
    "initial_delay",
    "max_delay",
    "max_retries",
    "max_pairs_per_connection",
)


def rich_available() -> bool:
    """Whether ``rich`` can be imported (it is the optional ``monitor`` extra)."""
    return importlib.util.find_spec("rich") is not None


def websockets_available() -> bool:
    """Whether the ``websockets`` package (the ``fast`` extra) can be imported."""
    try:
        return importlib.util.find_spec("websockets") is not None
    except (ImportError, ValueError):  # a broken or blocked install
        return False


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, not the usage block and then the error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser; its errors are one line (exit 2)."""
    parser = _Parser(
        prog=PROG,
        description="Watch OKX tickers live with okx_trio and see the client heal itself.",
        epilog="While running, type: " + "; ".join(" ".join(h.split()) for h in HELP_LINES),
    )
    parser.add_argument(
        "pairs",
        nargs="*",
        metavar="PAIR",
        help=f"instrument ids to watch (default: {' '.join(DEFAULT_PAIRS)}), or CHANNEL:ID "
        "for another view (books:BTC-USDT, trades:ETH-USDT, candle1m:SOL-USDT, "
        "funding-rate:BTC-USDT-SWAP, mark-price:BTC-USDT-SWAP)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", help=f"WebSocket endpoint (default: {ClientConfig().url})")
    where.add_argument(
        "--demo",
        action="store_true",
        help="run offline against a fake exchange on a loopback port, with injected faults",
    )
    logs = parser.add_argument_group("log lines")
    logs.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print log lines instead of the live table (default when stdout is not a terminal)",
    )
    logs.add_argument(
        "--ticks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="print [tick] lines (default: on; --no-ticks leaves the state and stats lines)",
    )
    logs.add_argument(
        "--tick-every",
        type=_positive_float,
        default=1.0,
        metavar="SECONDS",
        help="at most one [tick] line per pair this often (default: 1)",
    )
    logs.add_argument(
        "--stats-every",
        type=_positive_float,
        default=5.0,
        metavar="SECONDS",
        help="seconds between [stats] lines (default: 5)",
    )
    parser.add_argument(
        "--duration", type=_positive_float, metavar="SECONDS", help="exit (code 0) after this long"
    )
    tuning = parser.add_argument_group(
        "client settings", "okx_trio.ClientConfig values; --demo picks short ones"
    )
    tuning.add_argument(
        "--config",
        metavar="FILE",
        help="a TOML file of ClientConfig keys (see examples/okx_trio.toml); flags win over it",
    )
    tuning.add_argument(
        "--transport",
        choices=TRANSPORTS,
        help="the WebSocket library (default: websockets-sansio)",
    )
    tuning.add_argument("--ping-interval", type=float, metavar="SECONDS")
    tuning.add_argument("--connection-timeout", type=float, metavar="SECONDS")
    tuning.add_argument("--initial-delay", type=float, metavar="SECONDS")
    tuning.add_argument("--max-delay", type=float, metavar="SECONDS")
    tuning.add_argument(
        "--max-retries", type=int, metavar="N", help="give up (exit 1) after N failed retries"
    )
    tuning.add_argument(
        "--max-pairs-per-connection",
        type=_positive_int,
        metavar="N",
        help="shard the pairs over several connections, at most N on each (default: one "
        "connection); the table then shows one row per connection",
    )
    demo = parser.add_argument_group("demo", "only with --demo")
    demo.add_argument("--no-chaos", action="store_true", help="do not inject faults")
    demo.add_argument("--seed", type=int, help="seed for the market and the faults")
    demo.add_argument(
        "--chaos-first-after",
        type=_positive_float,
        metavar="SECONDS",
        help="time of the first fault, always a dropped connection (default: 5-8 s)",
    )
    demo.add_argument(
        "--chaos-every",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="mean time between faults, each drawn from 2/3..4/3 of it (default: 15)",
    )
    demo.add_argument(
        "--tick-interval",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="seconds between fake ticker pushes per pair (default: 0.25)",
    )
    return parser


def _flag_names(message: str, flagged: set[str]) -> str:
    """``ClientConfig.url`` becomes ``--url`` in *message* when the user typed ``--url``."""

    def flag(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"--{name.replace('_', '-')}" if name in flagged else match.group(0)

    return re.sub(r"ClientConfig\.([a-z_]+)", flag, message)


def _client_config(args: argparse.Namespace) -> ClientConfig:
    """The ClientConfig for *args*; ValueError (naming the flag or the field) for bad values.

    Precedence: command-line flags, then ``--config FILE``, then the demo's short
    settings, then the defaults.
    """
    base = ClientConfig()
    values: dict[str, Any] = {}
    if args.demo:
        values.update(DEMO_TUNING)
        values["stable_after"] = DEMO_STABLE_AFTER
    if args.config is not None:
        try:
            # Over the demo's settings, so a file may tune just one of them.
            from_file = ClientConfig.from_toml(args.config, base=ClientConfig(**values))
        except OSError as exc:
            raise ValueError(f"--config: cannot read {args.config}: {exc.strerror}") from None
        values = dataclasses.asdict(from_file)
    flagged = {name for name in _FLAG_FIELDS if getattr(args, name) is not None}
    if args.url is not None:
        values["url"] = args.url
        values["urls"] = ()  # the flag's url alone, whatever endpoint list the file had
    for name in flagged - {"url"}:
        values[name] = getattr(args, name)
    # Keep the defaults consistent with what the user did set, so e.g. a lone
    # --connection-timeout 4 does not trip over the default ping interval.
    if args.ping_interval is None and args.connection_timeout is not None:
        ping = values.get("ping_interval", base.ping_interval)
        values["ping_interval"] = min(ping, args.connection_timeout / 2)
    if args.max_delay is None and args.initial_delay is not None:
        values["max_delay"] = max(values.get("max_delay", base.max_delay), args.initial_delay)
    try:
        config = ClientConfig(**values)
    except ValueError as exc:
        raise ValueError(_flag_names(str(exc), flagged)) from None
    if config.transport.startswith("websockets") and not websockets_available():
        where = f"--transport {config.transport}" if args.transport else f"{args.config}: transport"
        raise ValueError(f"{where}: {FAST_HINT}")
    return config


#: The variables the monitor takes OKX credentials from (see ``Credentials.from_env``).
CREDENTIAL_VARIABLES: Final = ("OKX_API_KEY", "OKX_SECRET_KEY", "OKX_PASSPHRASE")


def credentials_from_env(environ: Mapping[str, str] | None = None) -> Credentials | None:
    """The credentials in *environ* (default ``os.environ``) when any of
    :data:`CREDENTIAL_VARIABLES` is set, else None (the account view then says how to give
    them). A missing or malformed one is a one-line ``monitor:`` error on stderr and
    ``SystemExit(2)``; no value is ever quoted."""
    env = os.environ if environ is None else environ
    if not any(name in env for name in CREDENTIAL_VARIABLES):
        return None
    try:
        return Credentials.from_env(env)
    except (TypeError, ValueError) as exc:
        print(f"monitor: {one_line(str(exc))}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def options_from_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace, *, table: bool = False
) -> Options:
    """Validate *args* into :class:`Options`; problems go to ``parser.error`` (exit 2)."""
    pairs: list[str] = []
    channels: list[str] = []
    for raw in args.pairs:
        if ":" in raw:  # books:BTC-USDT
            key = _channel_key(parser, raw)
            is_ticker = key.startswith("tickers:")
            found = pairs if is_ticker else channels
            item = key.removeprefix("tickers:") if is_ticker else key
            if item not in found:
                found.append(item)
            continue
        try:
            inst_id = validate_inst_id(raw.upper())
        except ValueError:
            parser.error(
                f"invalid instrument id {raw.upper()!r}: expected like BTC-USDT, "
                "BTC-USDT-SWAP or BTC-USD-220527 (lower case is fine)"
            )
        if inst_id not in pairs:
            pairs.append(inst_id)
    if not pairs and not channels:
        pairs = list(DEFAULT_PAIRS)
    if args.demo and table and not channels:
        # The demo's table shows every view, following the pairs it was given (log lines
        # show no views, so they keep to the tickers).
        channels = list(demo_channels(tuple(pairs)))
    if not args.demo:
        for flag, value in (
            ("--no-chaos", args.no_chaos or None),
            ("--seed", args.seed),
            ("--chaos-first-after", args.chaos_first_after),
            ("--chaos-every", args.chaos_every),
            ("--tick-interval", args.tick_interval),
        ):
            if value is not None:
                parser.error(f"{flag} only applies with --demo")
    try:
        config = _client_config(args)
    except ValueError as exc:
        parser.error(" ".join(str(exc).split()))
    if not args.demo and config.credentials is None:
        config = config.replace(credentials=credentials_from_env())
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    return Options(
        pairs=tuple(pairs),
        config=config,
        table=table,
        demo=args.demo,
        chaos=not args.no_chaos,
        seed=seed,
        duration=args.duration,
        chaos_first_after=args.chaos_first_after,
        chaos_every=args.chaos_every if args.chaos_every is not None else 15.0,
        tick_interval=args.tick_interval if args.tick_interval is not None else 0.25,
        stats_every=args.stats_every,
        ticks=args.ticks,
        tick_every=args.tick_every,
        subscriptions=tuple(channels),
    )


def _channel_key(parser: argparse.ArgumentParser, raw: str) -> str:
    """``books:btc-usdt`` as ``books:BTC-USDT``, if a view shows it; else ``parser.error``."""
    channel, _, inst_id = raw.partition(":")
    try:
        sub = Subscription.parse(f"{channel.lower()}:{inst_id.upper()}")
    except ValueError as exc:
        parser.error(f"{raw!r}: {exc}")
    if view_of_channel(sub.channel) is None or sub.inst_id is None:
        parser.error(
            f"{raw!r}: the monitor has no view of {sub.channel} (it shows tickers, books, "
            "trades, candles, funding-rate and mark-price)"
        )
    return sub.key


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the monitor with *argv* (default ``sys.argv[1:]``); returns the exit code.

    0: ``q`` or ``--duration`` elapsed; 1: the client ended in FAILED (reason on stderr);
    2: bad arguments or settings (one line on stderr); 130: Ctrl-C; 143: SIGTERM.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        table = not args.verbose and sys.stdout is not None and sys.stdout.isatty()
        if table and not rich_available():
            print(INSTALL_HINT, file=sys.stderr, flush=True)
            table = False
        options = options_from_args(parser, args, table=table)
    except SystemExit as exc:
        return _exit_code(exc)
    try:
        return trio.run(run, options)
    except KeyboardInterrupt:
        return 130
    except BaseExceptionGroup as group:
        # A Ctrl-C that lands before run() installed its signal handler surfaces wrapped.
        _, rest = group.split(KeyboardInterrupt)
        if rest is None:
            return 130
        raise
