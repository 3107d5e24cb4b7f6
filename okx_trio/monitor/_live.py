"""The live table on a terminal: the alternate screen, redraws (at a steady rate, at once
on a key or a resize) and the keys typed into the input line."""

from __future__ import annotations

import codecs
import os
import signal
from collections.abc import Awaitable, Callable
from typing import TextIO

import trio

from okx_trio import ConnectionStats

from ._book_view import BookSource
from ._input import InputEditor
from ._model import MonitorModel
from ._render import render

__all__ = ["LiveScreen"]

#: Redraws per second when nothing else asks for one (ages and countdowns move on).
REDRAW_EVERY = 0.25


class LiveScreen:
    """Draws *model* with *stats* on *file* until cancelled (the book view's books from
    *books*, None when the client keeps none).

    On a terminal the screen is the alternate one (the shell's earlier output is left alone
    and comes back on exit) and a resize clears it before the next frame, so no stale
    fragments stay; elsewhere (a file, tests) rich prints the last frame when it stops.
    """

    def __init__(
        self,
        model: MonitorModel,
        stats: Callable[[], ConnectionStats],
        file: TextIO,
        *,
        title: str = "OKX tickers",
        books: BookSource | None = None,
    ) -> None:
        self.model = model
        self.stats = stats
        self.file = file
        self.title = title
        self.books = books
        self._wake = trio.Event()

    def redraw_soon(self) -> None:
        """Ask for a frame now rather than at the next tick (a key was typed)."""
        self._wake.set()

    async def run(self) -> None:
        """Redraw until cancelled; the alternate screen is left however it ends."""
        from rich.console import Console
        from rich.live import Live

        console = Console(file=self.file)
        screen = console.is_terminal
        try:
            with Live(
                console=console,
                auto_refresh=False,
                transient=False,
                screen=screen,
                redirect_stdout=False,
                redirect_stderr=False,
            ) as live:
                drawn_at = console.size

                def frame() -> None:
                    nonlocal drawn_at
                    if screen and console.size != drawn_at:
                        # Resized (even if SIGWINCH never came): clear the old frame first.
                        drawn_at = console.size
                        console.clear()
                    live.update(
                        render(
                            self.model,
                            self.stats(),
                            trio.current_time(),
                            title=self.title,
                            height=console.height if screen else None,
                            books=self.books,
                        ),
                        refresh=True,
                    )

                async with trio.open_nursery() as nursery:
                    if screen and hasattr(signal, "SIGWINCH"):
                        nursery.start_soon(self._watch_resize, console, frame)
                    try:
                        while True:
                            frame()
                            with trio.move_on_after(REDRAW_EVERY):
                                await self._wake.wait()
                            self._wake = trio.Event()
                    finally:
                        frame()
                        nursery.cancel_scope.cancel()
        finally:
            if not screen:
                # rich leaves the cursor at the end of the last frame's last line.
                console.line()

    async def _watch_resize(self, console: object, frame: Callable[[], None]) -> None:
        from rich.console import Console

        assert isinstance(console, Console)
        with trio.open_signal_receiver(signal.SIGWINCH) as resizes:
            async for _ in resizes:
                frame()  # at once, not at the next tick: the old frame is cut by the resize

    async def read_keys(self, fd: int, on_line: Callable[[str], Awaitable[None]]) -> None:
        """Read keys from terminal *fd* (in cbreak mode) into the input line until EOF.

        Finished lines go to *on_line*; scroll keys move the pair list, Tab/Shift-Tab switch
        the view and Left/Right pick its pair. The blocking read
        runs in a worker thread that is abandoned on cancel, so leaving is never blocked.
        """
        editor = InputEditor()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            try:
                data = await trio.to_thread.run_sync(os.read, fd, 1024, abandon_on_cancel=True)
            except OSError:  # the terminal hung up
                return
            if not data:
                return
            for action in editor.feed(decoder.decode(data)):
                if action.kind == "line":
                    self.model.input_text = ""
                    await on_line(action.text + "\n")
                elif action.kind == "view":
                    self.model.channels.cycle(action.amount)
                elif action.kind == "pick":
                    self.model.channels.pick_next(action.amount)
                else:
                    step = self.model.visible_rows if action.pages else 1
                    self.model.scroll_by(action.amount * step)
            self.model.input_text = editor.text
            self.redraw_soon()
