"""okx_trio.monitor as a package: optional for the library, small modules, no clashing names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import okx_trio
import okx_trio.monitor as monitor

PACKAGE = Path(monitor.__file__).parent


def test_import_okx_trio_imports_neither_the_monitor_nor_rich() -> None:
    code = (
        "import sys, okx_trio, okx_trio.testing; "
        "assert 'okx_trio.monitor' not in sys.modules, 'monitor'; "
        "assert 'rich' not in sys.modules, 'rich'; "
        "import okx_trio.monitor; "
        "assert 'rich' not in sys.modules, 'rich via the monitor'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_no_module_is_over_400_lines() -> None:
    sizes = {path.name: len(path.read_text().splitlines()) for path in PACKAGE.glob("*.py")}
    assert len(sizes) >= 10
    assert max(sizes.values()) <= 400, sizes


def test_no_name_clashes_with_the_library() -> None:
    for name in ("ChaosSchedule", "Fault", "Event"):
        assert not hasattr(monitor, name), name
    assert set(monitor.__all__).isdisjoint(okx_trio.__all__)
    assert set(monitor.__all__) <= set(dir(monitor))
    assert {"DemoFaultSchedule", "DemoFault", "LogEvent"} <= set(monitor.__all__)
