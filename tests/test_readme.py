"""The README's examples work as written."""

from __future__ import annotations

import pathlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing

import okx_trio
from okx_trio.testing import FakeExchange

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def section_code(heading: str, language: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, f"no {language} block under ## {heading}"
    return str(blocks[0])


def test_quick_start_has_exactly_two_one_line_commands() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 2
    assert all(block.count("\n") == 1 for block in blocks)
    assert "examples/monitor.py --demo" in blocks[0]
    assert "pytest" in blocks[1]


def test_embedding_example_runs_as_written(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run the example with only the transport swapped for the in-memory exchange."""
    exchange = FakeExchange(tick_interval=0.02)
    real_open = okx_trio.open_okx_client

    @asynccontextmanager
    async def offline_open(*args: Any, **kwargs: Any) -> AsyncIterator[okx_trio.OkxClient]:
        async with real_open(*args, connector=exchange.connector, **kwargs) as client:
            yield client

    monkeypatch.setattr(okx_trio, "open_okx_client", offline_open)
    code = section_code("Embedding", "python")
    exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 21
    tick_line = re.compile(r"(BTC|ETH|SOL)-USDT: [0-9.]+ \([+-][0-9]+\.[0-9]{2}%\)")
    assert all(tick_line.fullmatch(line) for line in lines[:20]), lines[:20]
    assert {line.split(":")[0] for line in lines[:20]} == {"BTC-USDT", "ETH-USDT", "SOL-USDT"}
    assert lines[20].startswith("{'state': 'connected'")
    assert exchange.connections == []


def test_testing_example_runs_as_written() -> None:
    """The fake-exchange example defines a test; run it under the autojump clock."""
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    code = section_code("Testing your app with the fake exchange", "python")
    exec(compile(code, str(README), "exec"), namespace)
    test = namespace["test_my_app_survives_a_drop"]
    clock = trio.testing.MockClock(autojump_threshold=0)
    trio.run(test, clock, clock=clock)
    assert clock.current_time() >= 0.75  # it really waited out a backoff (1 s, jitter 25 %)
