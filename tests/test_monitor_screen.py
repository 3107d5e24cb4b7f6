"""The monitor as a person sees it: a real process on a pseudo-terminal of a given size,
its output fed to a terminal emulator (pyte), and the screen checked for what a person
looks for: the state, every pair or a scroll marker, whole prices, the typed text."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pyte
import pytest

pytestmark = pytest.mark.realtime

ROOT = Path(__file__).resolve().parents[1]
PAIRS_30 = [
    f"{base}-USDT"
    for base in [
        "BTC",
        "ETH",
        "SOL",
        "XRP",
        "DOGE",
        "ADA",
        "TRX",
        "LINK",
        "AVAX",
        "DOT",
        "LTC",
        "BCH",
        "UNI",
        "ATOM",
        "ETC",
        "FIL",
        "APT",
        "ARB",
        "OP",
        "NEAR",
        "SUI",
        "TON",
        "PEPE",
        "SHIB",
        "AAVE",
        "INJ",
        "XLM",
        "HBAR",
        "ICP",
        "ALGO",
    ]
]
PRICE = re.compile(r"\d+\.\d+")


class Terminal:
    """The monitor running on a pseudo-terminal of *columns* x *lines*, seen through pyte."""

    def __init__(self, columns: int, lines: int, *args: str) -> None:
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.controller, terminal = os.openpty()
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env["TERM"] = "xterm-256color"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "okx_trio.monitor", *args],
            cwd=ROOT,
            stdin=terminal,
            stdout=terminal,
            stderr=subprocess.PIPE,
            env=env,
        )
        os.close(terminal)

    def pump(self, seconds: float) -> None:
        """Feed the emulator whatever the monitor writes for *seconds*."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.controller], [], [], min(left, 0.05))
            if ready:
                try:
                    self.stream.feed(os.read(self.controller, 65536))
                except OSError:  # the monitor closed the terminal
                    return

    def wait_for(self, needle: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump(0.1)
            if needle in self.text():
                return True
        return False

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    def text(self) -> str:
        return "\n".join(self.lines())

    def type(self, keys: str) -> None:
        os.write(self.controller, keys.encode())

    def close(self) -> int:
        self.type("q\r")
        try:
            deadline = time.monotonic() + 10
            while self.proc.poll() is None and time.monotonic() < deadline:
                self.pump(0.1)  # keep reading, or a full terminal would block its writes
            code = self.proc.wait(timeout=1)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self.controller)
        return code


def _look(term: Terminal, pairs: list[str]) -> None:
    """What a person looks for on any size of screen."""
    lines = term.lines()
    text = term.text()
    assert re.search(r"State\s+connected", text), text  # the state is on screen
    shown = [pair for pair in pairs if any(line.startswith(f"{pair} ") for line in lines)]
    marker = next((line for line in lines if line.startswith("pairs ")), None)
    if len(shown) < len(pairs):
        assert marker is not None, text  # a scroll marker says there are more
        assert marker.startswith(f"pairs 1-{len(shown)} of {len(pairs)}"), marker
    else:
        assert marker is None
    for pair in shown:
        row = next(line for line in lines if line.startswith(f"{pair} "))
        assert "…" not in row, row  # no cut prices or names
        assert PRICE.search(row) or "waiting" in row, row
    assert "events" in text
    assert any(line.startswith("> ") for line in lines), text  # the input line


@pytest.mark.parametrize(("columns", "lines"), [(80, 24), (160, 50)])
@pytest.mark.parametrize("pairs", [PAIRS_30[:5], PAIRS_30], ids=["5 pairs", "30 pairs"])
def test_the_screen_at_a_size(columns: int, lines: int, pairs: list[str]) -> None:
    term = Terminal(columns, lines, "--demo", "--no-chaos", "--duration", "30", *pairs)
    try:
        assert term.wait_for("State", 15), term.text()
        assert term.wait_for(f"{pairs[0]} ", 10), term.text()
        term.pump(1.5)  # every pair has had its first tick
        _look(term, pairs)
        assert len(term.lines()) == lines
        term.type("+ada-us")
        assert term.wait_for("> +ada-us", 5), term.text()  # typed text is visible
        term.type("dt\r")
        assert term.wait_for("watching ADA-USDT", 5) or "already watching" in term.text()
        assert not any(line.startswith("> +ada") for line in term.lines())  # line cleared
    finally:
        code = term.close()
    assert code == 0
    assert term.proc.stderr is not None
    assert b"Traceback" not in term.proc.stderr.read()


def test_scrolling_and_a_resize_leave_no_fragments() -> None:
    term = Terminal(80, 24, "--demo", "--no-chaos", "--duration", "30", *PAIRS_30)
    try:
        assert term.wait_for("pairs 1-", 15), term.text()
        first = next(line for line in term.lines() if line.startswith("pairs "))
        term.type("\x1b[6~")  # PgDn
        assert term.wait_for("pairs 8-", 5) or first not in term.text(), term.text()
        # Shrink the terminal: the next frame fits the new size, nothing of the old one stays.
        fcntl.ioctl(term.controller, termios.TIOCSWINSZ, struct.pack("HHHH", 20, 70, 0, 0))
        term.screen.resize(20, 70)
        term.pump(2.0)
        lines = term.lines()
        assert len(lines) == 20
        assert all(len(line) <= 70 for line in lines)
        assert re.search(r"State\s+connected", term.text()), term.text()
        assert sum(line.startswith("╭─ connection") for line in lines) == 1
    finally:
        term.close()
