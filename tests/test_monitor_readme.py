"""The README's monitor section and testing example say what the monitor and pytest do."""

from __future__ import annotations

import pathlib
import re
from typing import Any

import trio
import trio.testing

import okx_trio.monitor as monitor

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _section(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def _blocks(section: str, language: str = "") -> list[str]:
    """The fenced blocks of *section* opened with ```*language* (a bare ``` for "")."""
    blocks: list[str] = []
    current: list[str] | None = None
    keep = False
    for line in section.splitlines():
        if line.startswith("```"):
            if current is None:
                current, keep = [], line == f"```{language}"
            else:
                if keep:
                    blocks.append("\n".join(current) + "\n")
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_the_quick_start_runs_the_demo_in_one_command() -> None:
    [first, _] = _blocks(_section("Quick start"), "sh")
    assert first.count("\n") == 1 and "&&" in first
    assert "pip install -q -e '.[monitor]'" in first
    assert first.rstrip().endswith("examples/monitor.py --demo")


def test_one_capture_per_size_with_every_row_of_the_panel() -> None:
    captures = [block for block in _blocks(_section("The monitor")) if "OKX tickers" in block]
    assert len(captures) == 2
    sizes = [(max(len(line) for line in c.splitlines()), len(c.splitlines())) for c in captures]
    assert sizes[0] == (80, 24)
    assert sizes[1][0] == 160 and sizes[1][1] <= 50
    for capture in captures:
        for label in (
            "State", "Subscribed", "Connected for", "Reconnects", "Last message", "Ticks",
            "Quality", "Latency", "URL", "Last error", "events",
        ):  # fmt: skip
            assert label in capture, label
        assert "Retry count" not in capture
        assert re.search(r"^> ", capture, flags=re.MULTILINE)  # the input line
        assert "…" not in capture.split("╭─")[0]  # no cut prices or pairs
    assert "median " in captures[0] and " · p99 " in captures[0]


def test_the_flags_the_section_names_exist() -> None:
    text = _section("The monitor")
    help_text = monitor.build_parser().format_help()
    for flag in re.findall(r"`(--[a-z-]+)", text):
        assert flag in help_text or flag == "--help", flag


def test_the_testing_section_says_trio_mode_or_the_marker_and_both_run() -> None:
    section = _section("Testing your app with the fake exchange")
    assert "trio_mode = true" in section
    assert "@pytest.mark.trio" in section
    assert "async def functions are not natively supported" in section
    python_blocks = _blocks(section, "python")
    assert len(python_blocks) == 2
    for code in python_blocks:
        namespace: dict[str, Any] = {"__name__": "__readme__"}
        exec(compile(code, str(README), "exec"), namespace)
        test = namespace["test_my_app_survives_a_drop"]
        clock = trio.testing.MockClock(autojump_threshold=0)
        trio.run(test, clock, clock=clock)
    marked = python_blocks[1]
    assert "@pytest.mark.trio\nasync def test_my_app_survives_a_drop" in marked
