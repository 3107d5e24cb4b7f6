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
    """The monitor running on a pseudo-terminal of *columns* x *lines*, seen through pyte
    (run as ``python -m`` *module*: the monitor, or a helper that runs it with stubs)."""

    def __init__(
        self, columns: int, lines: int, *args: str, module: str = "okx_trio.monitor"
    ) -> None:
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.controller, terminal = os.openpty()
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env["TERM"] = "xterm-256color"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
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


def _first_line_with(term: Terminal, prefix: str) -> str:
    return next((line for line in term.lines() if line.startswith(prefix)), "")


def _fits(term: Terminal, columns: int, lines: int) -> None:
    """The frame fills the terminal, nothing runs past its width, the state is shown."""
    # A frame may be caught half drawn: read on until the whole one is there.
    term.wait_for("╰─", 3)
    term.pump(0.3)
    assert len(term.lines()) == lines
    assert all(len(line) <= columns for line in term.lines())
    assert re.search(r"State\s+connected", term.text()), term.text()
    assert any(line.startswith("> ") for line in term.lines()), term.text()


@pytest.mark.parametrize(("columns", "lines"), [(80, 24), (160, 50)])
def test_every_view_on_screen(columns: int, lines: int) -> None:
    # The helper runs the monitor with a book source serving a BTC-USDT book only (the
    # client keeps no books before the order-book merge).
    term = Terminal(
        columns, lines, "--demo", "--no-chaos", "--duration", "60", "BTC-USDT", "ETH-USDT",
        module="tests._monitor_helpers",
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not re.search(r"State\s+connected", term.text()) and time.monotonic() < deadline:
            term.pump(0.1)
        term.pump(1.0)  # the first pushes of every channel
        term.type("\t")  # the book view
        assert term.wait_for("order book BTC-USDT  valid  (books)", 5), term.text()
        _fits(term, columns, lines)
        title = _first_line_with(term, "order book")
        assert "valid" in title and "1/1" in title
        asks = [line for line in term.lines() if line.startswith("ask ")]
        bids = [line for line in term.lines() if line.startswith("bid ")]
        assert asks and bids and len(asks) == len(bids)
        middle = term.lines().index(asks[-1]) + 1
        assert "spread" in term.lines()[middle] and "seq_id 123456" in term.lines()[middle]
        assert term.lines()[middle + 1] == bids[0]
        assert float(bids[0].split()[1]) < float(asks[-1].split()[1])  # best bid < best ask
        for line in asks + bids:
            assert PRICE.search(line.split()[1]) and "…" not in line  # whole prices

        term.type("+books:eth-u")
        assert term.wait_for("> +books:eth-u", 5), term.text()  # the input line echoes
        term.type("sdt\r")
        assert term.wait_for("order book ETH-USDT", 5), term.text()
        _fits(term, columns, lines)  # the whole frame, not half of one
        title = _first_line_with(term, "order book")
        assert "resyncing" in title and "2/2" in title  # no valid book for ETH-USDT
        assert not any(line.startswith("ask ") for line in term.lines())
        term.type("\x1b[D")  # Left: back to BTC-USDT
        assert term.wait_for("order book BTC-USDT", 5), term.text()

        term.type("\t")  # the trades tape
        assert term.wait_for("trades BTC-USDT", 5), term.text()
        term.pump(0.5)
        _fits(term, columns, lines)
        tape = [line for line in term.lines() if re.match(r"\d\d:\d\d:\d\d\.\d{3}  ", line)]
        assert tape, term.text()
        for line in tape:
            _, side, price, _size = line.split()
            assert side in ("buy", "sell") and re.fullmatch(r"\d+(\.\d+)?", price), line

        term.type("\t")  # the candles
        assert term.wait_for("candles 1m BTC-USDT", 5), term.text()
        assert term.wait_for(" ┤", 5), term.text()  # the chart's axis
        _fits(term, columns, lines)
        assert any(" UTC O " in line for line in term.lines()), term.text()

        term.type("\t")  # funding and mark
        assert term.wait_for("funding & mark", 5), term.text()
        assert term.wait_for("%", 5), term.text()
        _fits(term, columns, lines)
        swap = _first_line_with(term, "BTC-USDT-SWAP")
        assert "%" in swap and re.search(r" \d{4,}", swap), swap  # the rate and the mark

        term.type("\t")  # the account: the demo's own, its credentials never shown
        assert term.wait_for("account  total equity", 5), term.text()
        assert term.wait_for("open orders", 5), term.text()
        _fits(term, columns, lines)
        assert _first_line_with(term, "Ccy").split() == ["Ccy", "Equity", "Cash", "Available"]
        assert term.wait_for("BTC-USDT-SWAP", 10), term.text()  # the scripted position
        assert "demo-" not in term.text()  # no api key on screen

        term.type("\x1b[Z")  # Shift-Tab: back to funding, and again to the candles
        assert term.wait_for("funding & mark", 5), term.text()
        term.type("\x1b[Z")
        assert term.wait_for("candles 1m", 5), term.text()
        term.type("\t\t\t")  # round to the tickers
        assert term.wait_for("OKX tickers", 5), term.text()
        _look(term, ["BTC-USDT", "ETH-USDT"])
    finally:
        code = term.close()
    assert code == 0
    assert term.proc.stderr is not None
    assert b"Traceback" not in term.proc.stderr.read()
