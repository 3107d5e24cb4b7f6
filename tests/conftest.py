"""Shared helpers for the client's behaviour tests."""

from __future__ import annotations

import os
import pathlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import trio

from okx_trio import ClientConfig, ConnectionState, OkxClient, StateChange

# The recorded OKX traffic lives in ../shared beside the checkout (as on CI).
CAPTURES = pathlib.Path(
    os.environ.get(
        "OKX_TRIO_CAPTURES",
        pathlib.Path(__file__).resolve().parents[2] / "shared" / "okx-captures",
    )
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--soak", action="store_true", help="run the long soaks too")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="long soak: run with --soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


def make_config(**overrides: Any) -> ClientConfig:
    """A config for the in-memory exchange: no jitter, so every time is exact."""
    values: dict[str, Any] = {"url": "ws://fake.okx.test/ws/v5/public", "jitter": 0.0}
    values.update(overrides)
    return ClientConfig(**values)


@dataclass
class Recorder:
    """Everything a client reported, with the virtual time it arrived at."""

    changes: list[tuple[float, StateChange]] = field(default_factory=list)

    def states(self) -> list[ConnectionState]:
        return [change.state for _, change in self.changes]

    def times_of(self, state: ConnectionState) -> list[float]:
        return [t for t, change in self.changes if change.state is state]

    def messages(self, state: ConnectionState | None = None) -> list[str]:
        return [c.message for _, c in self.changes if state is None or c.state is state]


@asynccontextmanager
async def recording(client: OkxClient) -> AsyncIterator[Recorder]:
    """Record the client's state changes in the background for the block's lifetime."""
    recorder = Recorder()
    channel = client.state_changes()

    async def record() -> None:
        async with channel:
            async for change in channel:
                recorder.changes.append((trio.current_time(), change))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(record)
        yield recorder
        nursery.cancel_scope.cancel()


async def wait_for(predicate: Callable[[], bool], *, step: float = 0.001) -> None:
    """Poll *predicate* in virtual time (the autojump clock makes the steps free)."""
    while not predicate():
        await trio.sleep(step)
