"""The running monitor: the client's streams into the model and out as a table or log lines,
typed commands into the client, and the exit code."""

from __future__ import annotations

import contextlib
import signal
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

import trio

from okx_trio import (
    ConnectionState,
    ConnectionStats,
    OkxClient,
    StateChange,
    Subscription,
    Ticker,
)

from ._account import ACCOUNT_CHANNELS, ACCOUNT_SUBSCRIPTIONS
from ._book_view import BookSource
from ._commands import HELP_LINES, Command, CommandError, parse_commands
from ._demo import DemoChaos
from ._demo_account import DemoAccount
from ._figures import connection_of, url_host
from ._format import one_line
from ._input import cbreak
from ._live import LiveScreen
from ._loglines import (
    RateLimiter,
    TickLogLimiter,
    format_closing_line,
    format_stats_line,
    format_tick_line,
    timestamped,
)
from ._logs import capture_logs
from ._model import MonitorModel
from ._options import Options
from ._output import Output
from ._views import VIEW_BY_NAME, view_of_channel

if TYPE_CHECKING:
    from okx_trio.testing import FakeExchange

__all__ = ["Monitor", "book_source", "demo_host"]


def book_source(client: object) -> BookSource | None:
    """Where the book view reads books: the client (an :class:`~okx_trio.OkxClient` keeps
    them), or None for a stand-in that keeps none (the view then says ``waiting for book``)."""
    return client if isinstance(client, BookSource) else None


def demo_host(url: str) -> str:
    """How state lines name the demo's fake exchange: ``the demo exchange`` (its url is in
    the status panel and the first event; the state lines stay short)."""
    return "the demo exchange" if urlsplit(url).netloc else url


class Monitor:
    """Feeds the client's channels into the model and the output; see :func:`run`."""

    def __init__(
        self,
        options: Options,
        client: OkxClient,
        out: Output,
        *,
        exchange: FakeExchange | None,
        console_file: TextIO,
        url: str,
    ) -> None:
        self.options = options
        self.client = client
        self.out = out
        self.exchange = exchange
        self.demo_url = url if options.demo else None
        self.model = MonitorModel(
            options.pairs,
            started_at=trio.current_time(),
            host=demo_host(url) if options.demo else url_host(url),
            pooled=options.config.max_pairs_per_connection is not None,
        )
        self.tick_limiter = TickLogLimiter(options.tick_every)
        self.stats_limiter = RateLimiter(options.stats_every, trio.current_time())
        self.screen = (
            LiveScreen(
                self.model,
                client.get_stats,
                console_file,
                title="OKX tickers (demo exchange)" if options.demo else "OKX tickers",
                books=book_source(client),
            )
            if options.table
            else None
        )
        self.exit_code = 0
        self.why = "stopped"
        self.failure: str | None = None
        self._cancel_scope = trio.CancelScope()
        self._nursery: trio.Nursery | None = None
        self.demo_account: DemoAccount | None = None  # run() sets the demo's up
        #: The channels (other than tickers) whose stream feeds the model, by name.
        self._streams: dict[str, trio.MemoryReceiveChannel[Any]] = {}

    # -- output ------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return trio.current_time() - self.model.started_at

    def log(self, line: str) -> None:
        """A log line with its timestamp, in log mode only."""
        if not self.options.table:
            self.out.line(timestamped(self.elapsed(), line))

    def emit(self, kind: str, text: str) -> None:
        """An event: into the model (table) and, in log mode, to stdout."""
        event = self.model.add_event(kind, text, trio.current_time())
        self.log(f"[{event.kind}] {event.text}")
        if self.screen is not None:
            self.screen.redraw_soon()

    def stop(self, code: int, why: str) -> None:
        """Leave the monitor with exit *code* (the first reason to stop wins)."""
        if not self._cancel_scope.cancel_called:
            self.exit_code = code
            self.why = why
        self._cancel_scope.cancel()

    def closing_line(self) -> str:
        stats = self.client.get_stats()
        return format_closing_line(self.elapsed(), stats, self.why)

    # -- tasks -------------------------------------------------------------------------------

    async def run(
        self,
        commands: trio.abc.ReceiveChannel[str] | None,
        stdin: TextIO | None,
        handle_signals: bool,
    ) -> int:
        """Run every task until one of them calls :meth:`stop`; returns the exit code.

        Cancelling it from outside ends all tasks too (the stdin thread is abandoned).
        """
        # Subscribe before the first checkpoint so no early event is missed.
        states = self.client.state_changes()
        ticks = self.client.ticks()
        stats = self.client.stats_updates()
        for sub in self.model.channels.subscriptions:
            self._open_stream(sub.channel)
        keys_fd = stdin.fileno() if stdin is not None and self.screen is not None else None
        with self._cancel_scope, contextlib.ExitStack() as stack:
            stack.enter_context(capture_logs(lambda level, text: self.emit("log", text)))
            raw = keys_fd is not None and stack.enter_context(cbreak(keys_fd))
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                for channel, records in self._streams.items():
                    nursery.start_soon(self._watch_channel, channel, records)
                nursery.start_soon(self._watch_states, states)
                nursery.start_soon(self._watch_ticks, ticks)
                nursery.start_soon(self._watch_stats, stats)
                if handle_signals:
                    nursery.start_soon(self._watch_signals)
                if self.options.duration is not None:
                    nursery.start_soon(self._stop_after, self.options.duration)
                send: trio.MemorySendChannel[str] | None = None
                if commands is None and stdin is not None:
                    send, commands = trio.open_memory_channel[str](16)
                    if raw and self.screen is not None and keys_fd is not None:
                        nursery.start_soon(self.screen.read_keys, keys_fd, send.send)
                    else:
                        nursery.start_soon(self._read_lines, stdin, send)
                if commands is not None:
                    nursery.start_soon(self._handle_commands, commands)
                if self.exchange is not None and self.options.chaos:
                    chaos = DemoChaos(
                        self.options,
                        self.exchange,
                        self.client,
                        self.model,
                        lambda text: self.emit("chaos", text),
                    )
                    nursery.start_soon(chaos.run)
                if self.demo_account is not None:
                    nursery.start_soon(self.demo_account.run, self.client)
                if self.screen is not None:
                    await self.screen.run()
        return self.exit_code

    async def _watch_states(self, states: trio.MemoryReceiveChannel[StateChange]) -> None:
        async with states:
            if self.client.state is ConnectionState.FAILED:  # failed before we listened
                self._fail("max retries exceeded")
                return
            async for change in states:
                self._update_host(change)
                self._note_refusals()
                event = self.model.on_state_change(change, trio.current_time())
                self.log(f"[{event.kind}] {event.text}")
                if change.state is ConnectionState.FAILED:
                    self._fail(change.message)
                    return

    def _note_refusals(self) -> None:
        """Copy the client's refused subscriptions of the other views into the model."""
        self.model.channels.rejected = {
            sub: reason for sub, reason in self.client.rejected.items() if sub.channel != "tickers"
        }

    def _update_host(self, change: StateChange) -> None:
        """Name the endpoint this connection uses now (it changes on a failover)."""
        if self.demo_url is not None:
            return
        stats = self.client.get_stats()
        conn = connection_of(stats, change.endpoint, change.connection)
        url = conn.url if conn is not None else stats.url
        if url:
            self.model.host = url_host(url)

    def _fail(self, message: str) -> None:
        last_error = one_line(self.client.get_stats().last_error)
        reason = f"monitor: connection failed: {one_line(message)}"
        if last_error and last_error not in reason:
            reason += f" (last error: {last_error})"
        self.failure = reason
        self.stop(1, "the client gave up")

    async def _watch_ticks(self, ticks: trio.MemoryReceiveChannel[Ticker]) -> None:
        async with ticks:
            async for ticker in ticks:
                now = trio.current_time()
                if (
                    self.model.on_ticker(ticker, now)
                    and self.options.ticks
                    and not self.options.table
                    and self.tick_limiter.should_log(ticker.inst_id, now)
                ):
                    self.log(format_tick_line(ticker))
                if self.out.broken:
                    self.stop(0, "output closed")

    def _open_stream(self, channel: str) -> None:
        """Feed *channel*'s records into the model from now on (once per channel); before
        :meth:`run` starts its tasks the stream waits for them."""
        skip = view_of_channel(channel) in (None, "book", "tickers")
        if channel in self._streams or (skip and channel not in ACCOUNT_CHANNELS):
            return  # books are read from the client when drawn, not streamed
        records = self.client.stream(channel)
        self._streams[channel] = records
        if self._nursery is not None:
            self._nursery.start_soon(self._watch_channel, channel, records)

    def watch_account(self) -> None:
        """Subscribe ACCOUNT_SUBSCRIPTIONS and feed them into ``model.account``; a client
        without credentials refuses them (ValueError)."""
        for sub in ACCOUNT_SUBSCRIPTIONS:
            if sub not in self.client.subscriptions:
                self.client.add(sub)
        self.model.account.enabled = True
        for channel in ACCOUNT_CHANNELS:
            self._open_stream(channel)

    async def _watch_channel(self, channel: str, records: trio.MemoryReceiveChannel[Any]) -> None:
        async with records:
            async for record in records:
                # A Gap (the monitor fell behind on an event channel) has no instrument:
                # the views just show what came next.
                if channel in ACCOUNT_CHANNELS:
                    self.model.account.on_record(record)
                else:
                    self.model.channels.on_record(channel, record)

    async def _watch_stats(self, updates: trio.MemoryReceiveChannel[ConnectionStats]) -> None:
        async with updates:
            async for stats in updates:
                self.model.on_stats(stats, trio.current_time())
                self._note_refusals()
                if self.stats_limiter.ready(trio.current_time()):
                    self.log(format_stats_line(stats))

    async def _watch_signals(self) -> None:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                if signum == signal.SIGINT:
                    self.stop(130, "interrupted (Ctrl-C)")
                else:
                    self.stop(143, "terminated (SIGTERM)")
                return

    async def _stop_after(self, seconds: float) -> None:
        await trio.sleep(seconds)
        self.stop(0, f"--duration {seconds:g} s over")

    async def _read_lines(self, stdin: TextIO, send: trio.MemorySendChannel[str]) -> None:
        """Read stdin in a worker thread (abandoned on cancel, so exit is never blocked)."""
        async with send:
            while True:
                try:
                    line = await trio.to_thread.run_sync(stdin.readline, abandon_on_cancel=True)
                except UnicodeDecodeError:
                    self.emit("error", "could not decode that input line")
                    continue
                except (OSError, ValueError):  # stdin closed or gone (terminal hung up)
                    return
                if not line:  # EOF: keep running, just stop reading
                    return
                await send.send(line)

    async def _handle_commands(self, commands: trio.abc.ReceiveChannel[str]) -> None:
        async with commands:
            async for line in commands:
                for command in parse_commands(line):
                    self._apply(command)

    def _apply(self, command: Command | CommandError) -> None:
        if isinstance(command, CommandError):
            self.emit("error", command.reason)
        elif command.op == "quit":
            self.emit("cmd", "quitting")
            self.stop(0, "quit")
        elif command.op == "help":
            for text in HELP_LINES:
                self.emit("help", text)
        elif command.op == "view":
            self.model.channels.switch(VIEW_BY_NAME.get(command.channel, "tickers"))
        elif command.channel != "tickers":
            self._apply_channel(command)
        elif command.op == "add":
            if command.inst_id in self.client.pairs:
                self.emit("cmd", f"already watching {command.inst_id}")
                return
            try:
                self.client.add_pair(command.inst_id)
            except ValueError as exc:
                self.emit("error", str(exc))
                return
            self.model.add_pair(command.inst_id)
            self.tick_limiter.forget(command.inst_id)
            self.emit("cmd", f"watching {command.inst_id}")
        else:
            if command.inst_id not in self.client.pairs and command.inst_id not in self.model.rows:
                self.emit("error", f"not watching {command.inst_id}")
                return
            try:
                self.client.remove_pair(command.inst_id)
            except (ValueError, KeyError) as exc:
                self.emit("error", str(exc))
                return
            self.model.remove_pair(command.inst_id)
            self.emit("cmd", f"stopped watching {command.inst_id}")

    def _apply_channel(self, command: Command) -> None:
        """``+books:BTC-USDT`` and friends: the client's subscription and the view's; an
        add also shows that view with that pair."""
        sub = command.subscription
        channels = self.model.channels
        if command.op == "add":
            if sub in self.client.subscriptions and sub in channels.subscriptions:
                self.emit("cmd", f"already watching {sub.key}")
            else:
                try:
                    self.watch(sub)
                except ValueError as exc:
                    self.emit("error", str(exc))
                    return
                self.emit("cmd", f"watching {sub.key}")
            view = view_of_channel(sub.channel)
            if view is not None:
                channels.switch(view)
                channels.pick(command.inst_id, view)
            return
        if sub not in self.client.subscriptions and sub not in channels.subscriptions:
            self.emit("error", f"not watching {sub.key}")
            return
        try:
            self.client.remove(sub)
        except ValueError as exc:
            self.emit("error", str(exc))
            return
        channels.remove(sub)
        self.emit("cmd", f"stopped watching {sub.key}")

    def watch(self, sub: Subscription) -> None:
        """Subscribe *sub* (not tickers) and show it in its view.

        Raises:
            ValueError: for a subscription the client or the views refuse (nothing changes).
        """
        added = self.model.channels.add(sub)
        try:
            self.client.add(sub)
        except ValueError:
            if added:
                self.model.channels.remove(sub)
            raise
        self._open_stream(sub.channel)
