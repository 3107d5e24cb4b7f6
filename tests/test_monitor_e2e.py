"""End-to-end tests of the monitor as a program (examples/monitor.py, ``python -m
okx_trio.monitor`` and the console script): real processes, real loopback sockets, real time
(each bounded to a few seconds)."""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._monitor_helpers import untimed

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
    lines = untimed(result.stdout.splitlines())
    for pair in pairs:
        assert any(line.startswith(f"[tick] {pair}: $") for line in lines), pair
    first_connected = lines.index("[state] connected: connected to the demo exchange")
    drop = lines.index("[chaos] the exchange drops the connection")
    assert first_connected < drop
    after = lines[drop:]
    reconnecting = next(i for i, line in enumerate(after) if line.startswith("[state] "))
    assert after[reconnecting].startswith("[state] reconnecting: ")
    assert "; next attempt in " in after[reconnecting]
    assert after[reconnecting].endswith(" s (retry 1)")
    healed = after.index("[state] connected: connected to the demo exchange", reconnecting)
    assert any(line.startswith("[tick] ") for line in after[healed:])


def test_demo_pool_logs_each_connection_and_a_drop_hits_only_one() -> None:
    result = run_monitor(
        "--demo", "--verbose", "--duration", "3.5", "--stats-every", "1", "--seed", "4",
        "--max-pairs-per-connection", "1", "--chaos-first-after", "1", "--chaos-every", "100",
        "BTC-USDT", "ETH-USDT", "SOL-USDT",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = untimed(result.stdout.splitlines())
    for index in range(3):
        assert f"[state] connected: [connection {index}] connected to the demo exchange" in lines
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
    lines = untimed(result.stdout.splitlines())
    assert lines[0] == f"[info] connecting to 127.0.0.1 (ws://127.0.0.1:{port})"
    assert any(
        line.startswith("[state] reconnecting: ") and "; next attempt in " in line for line in lines
    ), lines
    assert lines[-1].startswith("[bye] ran ") and lines[-1].endswith("; the client gave up")


@pytest.fixture
def http_404_port() -> Iterator[int]:
    """A loopback port answering every request with an HTTP 404 and an HTML body."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    port: int = server.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        body = b"<html><body><h1>404 Not Found</h1>" + b"x" * 500 + b"</body></html>"
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(
                        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n"
                        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
                    )
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(5)
        server.close()


def test_a_refused_upgrade_reads_as_one_short_sentence(http_404_port: int) -> None:
    result = run_monitor(
        "--max-retries", "1", "--initial-delay", "0.05", "--no-ticks",
        "--url", f"ws://127.0.0.1:{http_404_port}/ws/v5/public", "BTC-USDT", timeout=20,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    sentence = "server refused the WebSocket upgrade: HTTP 404 Not Found"
    assert result.stderr.count("\n") == 1, result.stderr
    assert sentence in result.stderr
    for line in result.stdout.splitlines() + result.stderr.splitlines():
        assert "<html>" not in line and "Content-Type" not in line, line
        assert line.count(sentence) <= 1, line  # not twice per line
    assert sentence in result.stdout


def test_python_m_and_the_console_script_run_the_same_program() -> None:
    for command in (
        [sys.executable, "-m", "okx_trio.monitor", "--help"],
        [str(Path(sys.executable).with_name("okx-trio-monitor")), "--help"],
    ):
        result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("usage: okx-trio-monitor ")
        assert "--no-ticks" in result.stdout


def test_without_the_fast_extra_the_websockets_transport_is_one_line() -> None:
    code = (
        "import sys, runpy; sys.modules['websockets'] = None; "
        "sys.argv = ['okx-trio-monitor', '--transport', 'websockets', '--demo']; "
        "runpy.run_module('okx_trio.monitor', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "pip install 'okx-trio[fast]'" in result.stderr


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


def test_without_a_network_it_names_the_host_the_next_attempt_and_suggests_the_demo() -> None:
    result = run_monitor(
        "--verbose", "--duration", "2.5", "--no-ticks",
        "--url", "wss://no-such-host.invalid/ws/v5/public", "BTC-USDT",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = untimed(result.stdout.splitlines())
    assert lines[0].startswith("[info] connecting to no-such-host.invalid ")
    assert "[state] connecting: connecting to no-such-host.invalid (attempt 1)" in lines
    reconnecting = next(line for line in lines if line.startswith("[state] reconnecting: "))
    assert re.search(r"; next attempt in \d+(\.\d)? s \(retry 1\)", reconnecting), reconnecting
    assert reconnecting.endswith("try --demo for the offline demo)")
    assert lines[-1].startswith("[bye] ran 2.5s: 0 reconnects, 0 ticks")
