"""``python -m okx_trio.testing record``: argument errors in one line, and real-socket runs
against the fake exchange's server (127.0.0.1, real time, a few seconds at most)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from okx_trio.testing import (
    FakeExchange,
    load_capture,
    open_fake_exchange_server,
    parse_capture,
    record_session,
)
from okx_trio.testing._cli import main

EXPECTED = "expected CHANNEL:ARGUMENT, like tickers:BTC-USDT, candle1m:BTC-USDT or instruments:SPOT"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trades"], f"bad subscription 'trades': channel 'trades' needs inst_id; {EXPECTED}"),
        (["tickers:BTC-USDT", "foo:X-Y"], "bad subscription 'foo:X-Y': unknown channel 'foo'"),
        (["tickers:btc-usdt"], "bad subscription 'tickers:btc-usdt': channel 'tickers': invalid"),
        (["account"], "cannot record 'account': channel 'account' needs a login"),
        (["--host", "http://x", "tickers:BTC-USDT"], "bad host 'http://x': expected a ws://"),
        (["--duration", "soon", "tickers:BTC-USDT"], "argument --duration: invalid float value"),
        (["--duration", "-1", "tickers:BTC-USDT"], "--duration must be > 0 seconds, got -1.0"),
        (["--max-messages", "0", "tickers:BTC-USDT"], "--max-messages must be >= 1, got 0"),
        ([], "the following arguments are required: SUB"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "never.txt"
    assert main(["record", "--out", str(out), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("python -m okx_trio.testing record: error: ")
    assert message in captured.err
    assert not out.exists()


def test_out_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "tickers:BTC-USDT"]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == "python -m okx_trio.testing record: error: the following arguments are required: --out\n"
    )


def test_help_exits_0_and_names_the_forms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "--out FILE" in help_text and "SUB [SUB ...]" in help_text
    assert "tickers:BTC-USDT" in help_text and "instruments:SPOT" in help_text


def test_a_connection_that_fails_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "session.txt"
    # Port 1 on loopback: refused at once.
    assert (
        main(["record", "--out", str(out), "--host", "ws://127.0.0.1:1", "tickers:BTC-USDT"]) == 1
    )
    assert capsys.readouterr().err.startswith("error: ")
    assert out.read_text() == ""


def assert_a_tickers_session(path: Path, url: str) -> None:
    lines = load_capture(path)
    assert lines[0].kind == "open" and lines[0].url == url
    assert lines[1].kind == "sent" and lines[1].url == url
    request = json.loads(lines[1].text)
    assert request == {
        "id": "1",
        "op": "subscribe",
        "args": [{"channel": "tickers", "instId": "BTC-USDT"}],
    }
    received = [json.loads(line.text) for line in lines[2:]]
    assert all(line.kind == "received" and line.url == url for line in lines[2:])
    assert received[0]["event"] == "subscribe" and received[0]["id"] == "1"
    pushes = [m for m in received if "data" in m]
    assert pushes and all(m["data"][0]["instId"] == "BTC-USDT" for m in pushes)
    assert [line.time for line in lines] == sorted(line.time for line in lines)


async def test_record_session_over_a_real_socket(tmp_path: Path) -> None:
    out = tmp_path / "session.txt"
    exchange = FakeExchange(tick_interval=0.05)
    async with open_fake_exchange_server(exchange) as url:
        with trio.fail_after(5):
            summary = await record_session(
                ["tickers:BTC-USDT"], out, host=url, duration=3, max_messages=4
            )
    assert summary.reason == "max_messages" and summary.urls == (url,)
    assert summary.received == {url: 4} and summary.sent == {url: 1}
    assert_a_tickers_session(out, url)


async def test_cli_records_for_a_duration(tmp_path: Path) -> None:
    out = tmp_path / "session.txt"
    exchange = FakeExchange(tick_interval=0.05)
    async with open_fake_exchange_server(exchange) as url:
        command = [sys.executable, "-m", "okx_trio.testing", "record", "--out", str(out)]
        command += ["--host", url, "--duration", "0.5", "tickers:BTC-USDT"]
        with trio.fail_after(20):
            result = await trio.run_process(command, capture_stderr=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "frames from " + url in result.stderr.decode()
    assert result.stderr.decode().endswith("(duration)\n")
    assert_a_tickers_session(out, url)


async def test_cli_ctrl_c_leaves_a_complete_file_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "session.txt"
    exchange = FakeExchange(tick_interval=0.05)
    async with open_fake_exchange_server(exchange) as url:
        command = [sys.executable, "-m", "okx_trio.testing", "record", "--out", str(out)]
        command += ["--host", url, "tickers:BTC-USDT"]
        process = await trio.lowlevel.open_process(command, stderr=subprocess.PIPE)
        try:
            with trio.fail_after(20):
                # Another process writes the file: nothing to wait on but the file itself.
                while not out.exists() or out.read_text().count("\n") < 5:  # noqa: ASYNC110
                    await trio.sleep(0.05)
                process.send_signal(signal.SIGINT)
                await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                with trio.CancelScope(shield=True):
                    await process.wait()
    assert process.returncode == 130
    assert process.stderr is not None
    err = (await process.stderr.receive_some()).decode()
    await process.stderr.aclose()
    assert err.endswith("(stopped)\n")
    text = out.read_text()
    assert text.endswith("\n")
    assert_a_tickers_session(out, url)


async def test_cli_writes_to_stdout_and_stops_after_max_messages() -> None:
    exchange = FakeExchange(tick_interval=0.05)
    async with open_fake_exchange_server(exchange) as url:
        command = [sys.executable, "-m", "okx_trio.testing", "record", "--out", "-"]
        command += ["--host", url, "--max-messages", "3", "tickers:BTC-USDT"]
        with trio.fail_after(20):
            result = await trio.run_process(
                command, capture_stdout=True, capture_stderr=True, check=False
            )
    assert result.returncode == 0, result.stderr
    assert result.stderr.decode().endswith("(max_messages)\n")
    lines = parse_capture(result.stdout.decode().splitlines())
    assert [line.kind for line in lines] == ["open", "sent", "received", "received", "received"]
    assert {line.url for line in lines} == {url}
