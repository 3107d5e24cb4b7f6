"""okx_trio.monitor: a live terminal monitor of the okx_trio client.

Run it as ``okx-trio-monitor`` or ``python -m okx_trio.monitor`` (``--demo`` for the offline
fake exchange, ``--help`` for the flags). The live table needs ``rich`` (the ``monitor``
extra); it is imported only when the table is drawn, so this package imports without it,
and ``import okx_trio`` never imports this package.

One concept a module: ``_format`` (numbers), ``_figures`` (what stats say),
``_commands`` (typed commands), ``_loglines`` (log lines, state words), ``_model``,
``_panels`` and ``_render`` (the screen), ``_views`` (which view shows which channel),
``_channels`` (the other channels' data), ``_view_part`` (the view on screen),
``_book_view``, ``_trades_view``, ``_candles_view`` and ``_funding_view`` (one view each),
``_input`` (the keyboard), ``_logs`` (log records), ``_live`` (the terminal), ``_faults``
and ``_demo`` (the demo's faults), ``_options``, ``_app`` (the Trio program), ``_output``
(its lines), ``_run`` (setting it up) and ``_cli`` (the command line).
"""

from ._app import Monitor as Monitor
from ._app import book_source as book_source
from ._app import demo_host as demo_host
from ._book_view import BookSource as BookSource
from ._channels import ChannelsModel as ChannelsModel
from ._channels import SwapLine as SwapLine
from ._cli import INSTALL_HINT as INSTALL_HINT
from ._cli import build_parser as build_parser
from ._cli import main as main
from ._cli import options_from_args as options_from_args
from ._cli import rich_available as rich_available
from ._commands import HELP_LINES as HELP_LINES
from ._commands import Command as Command
from ._commands import CommandError as CommandError
from ._commands import parse_commands as parse_commands
from ._faults import DEMO_FAULTS as DEMO_FAULTS
from ._faults import DemoFault as DemoFault
from ._faults import DemoFaultSchedule as DemoFaultSchedule
from ._figures import LOW_REQUEST_BUDGET as LOW_REQUEST_BUDGET
from ._figures import connection_of as connection_of
from ._figures import failover_url as failover_url
from ._figures import format_connection_part as format_connection_part
from ._figures import format_latency as format_latency
from ._figures import format_pool_part as format_pool_part
from ._figures import is_business as is_business
from ._figures import is_pooled as is_pooled
from ._figures import network_hint as network_hint
from ._figures import notable_figures as notable_figures
from ._figures import preferred_url as preferred_url
from ._figures import request_budget_low as request_budget_low
from ._figures import url_failure_count as url_failure_count
from ._figures import url_host as url_host
from ._format import base_volume as base_volume
from ._format import format_age as format_age
from ._format import format_duration as format_duration
from ._format import format_percent as format_percent
from ._format import format_price as format_price
from ._format import format_volume as format_volume
from ._format import sparkline as sparkline
from ._input import InputEditor as InputEditor
from ._input import KeyAction as KeyAction
from ._loglines import RateLimiter as RateLimiter
from ._loglines import StateWords as StateWords
from ._loglines import TickLogLimiter as TickLogLimiter
from ._loglines import format_closing_line as format_closing_line
from ._loglines import format_delay as format_delay
from ._loglines import format_stats_line as format_stats_line
from ._loglines import format_tick_line as format_tick_line
from ._loglines import state_words as state_words
from ._loglines import timestamped as timestamped
from ._logs import EventLogHandler as EventLogHandler
from ._model import LogEvent as LogEvent
from ._model import MonitorModel as MonitorModel
from ._model import PairRow as PairRow
from ._options import DEFAULT_PAIRS as DEFAULT_PAIRS
from ._options import Options as Options
from ._options import demo_channels as demo_channels
from ._panels import render_connections as render_connections
from ._render import COLUMNS as COLUMNS
from ._render import DROP_ORDER as DROP_ORDER
from ._render import Screen as Screen
from ._render import pair_window as pair_window
from ._render import render as render
from ._run import run as run
from ._views import VIEWS as VIEWS
from ._views import View as View
from ._views import view_of_channel as view_of_channel

__all__ = [
    "COLUMNS",
    "DEFAULT_PAIRS",
    "DEMO_FAULTS",
    "DROP_ORDER",
    "HELP_LINES",
    "INSTALL_HINT",
    "LOW_REQUEST_BUDGET",
    "VIEWS",
    "BookSource",
    "ChannelsModel",
    "Command",
    "CommandError",
    "DemoFault",
    "DemoFaultSchedule",
    "EventLogHandler",
    "InputEditor",
    "KeyAction",
    "LogEvent",
    "Monitor",
    "MonitorModel",
    "Options",
    "PairRow",
    "RateLimiter",
    "Screen",
    "StateWords",
    "SwapLine",
    "TickLogLimiter",
    "View",
    "base_volume",
    "book_source",
    "build_parser",
    "connection_of",
    "demo_channels",
    "demo_host",
    "failover_url",
    "format_age",
    "format_closing_line",
    "format_connection_part",
    "format_delay",
    "format_duration",
    "format_latency",
    "format_percent",
    "format_pool_part",
    "format_price",
    "format_stats_line",
    "format_tick_line",
    "format_volume",
    "is_business",
    "is_pooled",
    "main",
    "network_hint",
    "notable_figures",
    "options_from_args",
    "pair_window",
    "parse_commands",
    "preferred_url",
    "render",
    "render_connections",
    "request_budget_low",
    "rich_available",
    "run",
    "sparkline",
    "state_words",
    "timestamped",
    "url_failure_count",
    "url_host",
    "view_of_channel",
]
