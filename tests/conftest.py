"""Shared helpers for the client's behaviour tests."""

from __future__ import annotations

import os
import pathlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import trio

from okx_trio import ClientConfig, ConnectionState, OkxClient, StateChange
from okx_trio.testing import CAPTURE_DIR

# The recorded OKX traffic ships inside the package (okx_trio/testing/captures).
CAPTURES = pathlib.Path(os.environ.get("OKX_TRIO_CAPTURES", str(CAPTURE_DIR)))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--soak", action="store_true", help="run the long soaks too")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="long soak: run with --soak")
    for item in items:
        # The marker, not ``item.keywords``: keywords also hold the names of the test's
        # package and module, and tests/soak/ holds the short soaks that always run.
        if item.get_closest_marker("soak") is not None:
            item.add_marker(skip)


@pytest.fixture(params=["c", "python"])
def merge_loop(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a book test on each of the engine's merge loops: the C one (skipped where okx_trio
    was built without a C compiler) and the pure-Python one."""
    import okx_trio._book_side as side

    if request.param == "c":
        if not side.ACCELERATED:
            pytest.skip("okx_trio was built without a C compiler: no C merge loop to test")
    else:
        monkeypatch.setattr(side, "_merge_c", None)
    return str(request.param)


def make_config(**overrides: Any) -> ClientConfig:
    """A config for the in-memory exchange: no jitter, so every time is exact."""
    values: dict[str, Any] = {"url": "ws://fake.okx.test/ws/v5/public", "jitter": 0.0}
    values.update(overrides)
    return ClientConfig(**values)


@dataclass
class Recorder:
    """Everything a client reported, with the virtual time it arrived at."""

    changes: list[tuple[float, StateChange]] = field(default_factory=list)
    _changed: trio.Event = field(default_factory=trio.Event)

    def append(self, change: StateChange) -> None:
        self.changes.append((trio.current_time(), change))
        self._changed.set()
        self._changed = trio.Event()

    async def wait_until(self, predicate: Callable[[Recorder], bool]) -> None:
        """Return once ``predicate(self)`` holds: re-checked as each change is recorded."""
        while not predicate(self):
            await self._changed.wait()

    def transitions(self) -> list[tuple[float, StateChange]]:
        """The changes that moved the state (notices repeat the current state)."""
        moved = []
        previous = ConnectionState.DISCONNECTED
        for t, change in self.changes:
            if change.state is not previous:
                moved.append((t, change))
                previous = change.state
        return moved

    def notices(self) -> list[StateChange]:
        moved = {id(change) for _, change in self.transitions()}
        return [change for _, change in self.changes if id(change) not in moved]

    def states(self) -> list[ConnectionState]:
        return [change.state for _, change in self.transitions()]

    def times_of(self, state: ConnectionState) -> list[float]:
        return [t for t, change in self.transitions() if change.state is state]

    def messages(self, state: ConnectionState | None = None) -> list[str]:
        return [c.message for _, c in self.transitions() if state is None or c.state is state]


@asynccontextmanager
async def recording(client: OkxClient) -> AsyncIterator[Recorder]:
    """Record the client's state changes in the background for the block's lifetime."""
    recorder = Recorder()
    channel = client.state_changes()

    async def record() -> None:
        async with channel:
            async for change in channel:
                recorder.append(change)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(record)
        yield recorder
        nursery.cancel_scope.cancel()


def count_tasks() -> int:
    """Every task alive in this Trio run, counted down the task tree."""
    root = trio.lowlevel.current_root_task()
    assert root is not None
    count, stack = 0, [root]
    while stack:
        task = stack.pop()
        count += 1
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return count


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The client logs ERROR only for its own bugs; any test that provokes one fails."""
    yield
    errors = [
        r for r in caplog.get_records("call") if r.name.startswith("okx_trio") and r.levelno >= 40
    ]
    assert not errors, [r.getMessage() for r in errors]
