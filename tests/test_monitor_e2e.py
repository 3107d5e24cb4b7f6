"""End-to-end tests of examples/monitor.py as a program: real processes, real loopback
sockets, real time (each bounded to a few seconds)."""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.realtime

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "monitor.py"


def run_monitor(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run the monitor to completion with stdout/stderr captured (so: log mode)."""
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_demo_heals_after_an_injected_drop() -> None:
    pairs = ("BTC-USDT", "ETH-USDT", "DOGE-USDT")
    result = run_monitor(
        "--demo", "--verbose", "--duration", "6", "--seed", "3",
        "--chaos-first-after", "1.5", "--chaos-every", "100", *pairs,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    for pair in pairs:
        assert any(line.startswith(f"[tick] {pair}: $") for line in lines), pair
    first_connected = lines.index("[state] connected: connected to OKX")
    drop = lines.index("[chaos] the exchange drops the connection")
    assert first_connected < drop
    after = lines[drop:]
    reconnecting = next(i for i, line in enumerate(after) if line.startswith("[state] "))
    assert after[reconnecting].startswith("[state] reconnecting: ")
    assert after[reconnecting].endswith("(attempt 1)")
    healed = after.index("[state] connected: connected to OKX", reconnecting)
    assert any(line.startswith("[tick] ") for line in after[healed:])


def test_demo_pool_logs_each_connection_and_a_drop_hits_only_one() -> None:
    result = run_monitor(
        "--demo", "--verbose", "--duration", "3.5", "--stats-every", "1", "--seed", "4",
        "--max-pairs-per-connection", "1", "--chaos-first-after", "1", "--chaos-every", "100",
        "BTC-USDT", "ETH-USDT", "SOL-USDT",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    for index in range(3):
        assert f"[state] connected: [connection {index}] connected to OKX" in lines
    drop = lines.index("[chaos] the exchange drops 1 of its 3 connections")
    reconnecting = [line for line in lines[drop:] if line.startswith("[state] reconnecting:")]
    assert len(reconnecting) == 1, reconnecting  # the other two carried on
    stats = [line for line in lines if line.startswith("[stats] ")]
    assert len(stats) >= 2, lines
    healthy = re.compile(
        r" pool=\[conn0 connected 1/1 q\d+; conn1 connected 1/1 q\d+; "
        r"conn2 connected 1/1 q\d+\] "
    )
    assert healthy.search(stats[0]), stats[0]
    assert healthy.search(stats[-1]), stats[-1]  # healed
    assert " reconnects=1 " in stats[-1]


def test_unreachable_url_fails_with_exit_1_and_one_line() -> None:
    port = closed_port()
    result = run_monitor(
        "--max-retries", "1", "--initial-delay", "0.05", "--url", f"ws://127.0.0.1:{port}",
        "BTC-USDT", timeout=20,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("monitor: connection failed: max retries exceeded")
    assert "[state] failed: max retries exceeded" in result.stdout


def test_bad_pair_on_the_command_line_exits_2() -> None:
    result = run_monitor("BTC-USDT", "not_a_pair")
    assert result.returncode == 2
    assert "invalid instrument id 'NOT_A_PAIR'" in result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_exits_130_at_once() -> None:
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--demo", "--no-chaos", "--verbose", "BTC-USDT"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 15
        for line in proc.stdout:  # wait for live data before interrupting
            if line.startswith("[tick] BTC-USDT") or time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, err = proc.communicate(timeout=10)
        assert time.monotonic() - started < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert "KeyboardInterrupt" not in err


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_table_on_a_terminal_takes_typed_commands() -> None:
    """On a terminal the monitor draws the table and reads +PAIR / q typed on stdin."""
    controller, terminal = os.openpty()
    env = {**os.environ, "COLUMNS": "120", "LINES": "40", "TERM": "xterm-256color"}
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--demo", "--no-chaos", "--duration", "20", "BTC-USDT"],
        cwd=ROOT,
        stdin=terminal,
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(terminal)
    output = bytearray()

    def read_until(needle: bytes, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.1)
            if ready:
                try:
                    output.extend(os.read(controller, 65536))
                except OSError:  # the child closed the terminal
                    return needle in output
            if needle in output:
                return True
        return False

    try:
        assert read_until(b"BTC-USDT", 10), output.decode(errors="replace")[-2000:]
        os.write(controller, b"+sol-usdt\n")
        assert read_until(b"watching SOL-USDT", 5), output.decode(errors="replace")[-2000:]
        os.write(controller, b"q\n")
        started = time.monotonic()
        proc.wait(timeout=10)
        read_until(b"\x00never", 0.3)  # drain the last frame
        assert time.monotonic() - started < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(controller)
    assert proc.returncode == 0
    text = output.decode(errors="replace")
    assert "OKX tickers" in text
    assert "SOL-USDT" in text
    assert proc.stderr is not None
    assert b"Traceback" not in proc.stderr.read()
