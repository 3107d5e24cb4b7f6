"""The demo's faults, injected into the fake exchange on the schedule of
:class:`DemoFaultSchedule`, each announced as a ``[chaos]`` event."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeAlias

import trio

from okx_trio import OkxClient

from ._faults import DemoFault, DemoFaultSchedule
from ._figures import is_pooled
from ._model import MonitorModel
from ._options import Options

if TYPE_CHECKING:
    from okx_trio.testing import FakeConnection, FakeExchange

__all__ = ["DemoChaos"]

#: How long the rejected instrument stays before the demo removes it again.
REJECT_FOR = 8.0


#: What a fault does: given the connections it hits (None: all), injects it.
Handler: TypeAlias = "Callable[[list[FakeConnection] | None, str], Awaitable[None]]"


#: How late the demo's exchange sends a book's snapshot after a gap (under the client's
#: ``book_snapshot_timeout``, so the first resync heals it).
BOOK_SNAPSHOT_DELAY = 3.0


class DemoChaos:
    """Injects faults into *exchange* until cancelled; *say* announces each one.

    The faults are :meth:`handlers`: one entry each, so a new kind of fault is one entry
    there (the schedule goes through every kind it is given).
    """

    def __init__(
        self,
        options: Options,
        exchange: FakeExchange,
        client: OkxClient,
        model: MonitorModel,
        say: Callable[[str], None],
    ) -> None:
        self.options = options
        self.exchange = exchange
        self.client = client
        self.model = model
        self.say = say

    def handlers(self) -> dict[DemoFault, Handler]:
        """Every fault this demo injects, by name (see :data:`DEMO_FAULTS`), and ``book-gap``
        (a skipped book update: the client's book resyncs, then heals) when the exchange can
        drop one and a book is shown."""
        handlers: dict[DemoFault, Handler] = {
            "drop": self._drop,
            "silence": self._silence,
            "notice": self._notice,
            "reject": self._reject,
        }
        if self._book() is not None:
            handlers["book-gap"] = self._book_gap
        return handlers

    def _book(self) -> str | None:
        """The key of the book the book view shows (``books:BTC-USDT``), or None."""
        channels = self.model.channels
        inst_id = channels.selected("book")
        if inst_id is None:
            return None
        return f"{(channels.channels_of('book', inst_id) or ['books'])[0]}:{inst_id}"

    async def run(self) -> None:
        """Inject faults for ever (cancel to stop); never raises otherwise."""
        handlers = self.handlers()
        schedule = DemoFaultSchedule(
            random.Random(self.options.seed),
            first_after=self.options.chaos_first_after,
            every=self.options.chaos_every,
            kinds=tuple(handlers),
        )
        # Which connection of a pool a fault hits: its own stream, so the schedule stays
        # the same with or without a pool.
        pick = random.Random(f"monitor-chaos-target:{self.options.seed}")
        while True:
            await trio.sleep(schedule.next_delay())
            await self.inject(schedule.next_fault(), pick, handlers)

    async def inject(
        self,
        fault: DemoFault,
        pick: random.Random,
        handlers: dict[DemoFault, Handler] | None = None,
    ) -> None:
        """Inject *fault*. With a pool, a drop or a silence hits one of the exchange's open
        connections (chosen by *pick*), so the others are seen to carry on.

        Raises:
            ValueError: for a fault this demo has no handler for.
        """
        handlers = handlers if handlers is not None else self.handlers()
        handler = handlers.get(fault)
        if handler is None:
            raise ValueError(f"no such demo fault {fault!r}: expected one of {list(handlers)}")
        exchange = self.exchange
        # The account's private connection is no part of the pool a fault picks from.
        open_now = [conn for conn in exchange.connections if conn.endpoint != "private"]
        target: list[FakeConnection] | None = (
            [pick.choice(open_now)]
            if len(open_now) > 1 and is_pooled(self.client.get_stats())
            else None
        )
        which = f"1 of its {len(open_now)} connections" if target is not None else ""
        await handler(target, which)

    async def _drop(self, target: list[FakeConnection] | None, which: str) -> None:
        self.say(f"the exchange drops {which or 'the connection'}")
        self.exchange.drop_connections(only=target)

    async def _silence(self, target: list[FakeConnection] | None, which: str) -> None:
        timeout = self.options.config.connection_timeout
        silence = timeout + 2.0
        self.say(
            f"the exchange goes silent {f'on {which} ' if which else ''}for {silence:.0f}s "
            f"(no data, no pongs; the client's timeout is {timeout:g}s)"
        )
        self.exchange.go_silent(only=target)
        try:
            await trio.sleep(silence)
        finally:
            # A silenced connection the client has given up on is closed by now;
            # resume() skips it.
            self.exchange.resume(only=target)
        self.say("the exchange answers again")

    async def _notice(self, target: list[FakeConnection] | None, which: str) -> None:
        self.say("the exchange announces a service upgrade (64008)")
        self.exchange.send_notice()

    async def _reject(self, target: list[FakeConnection] | None, which: str) -> None:
        bogus = self._bogus_pair()
        self.say(f"adding {bogus}, which the exchange rejects")
        self.exchange.reject_instruments(bogus)
        self.model.add_pair(bogus)
        self.client.add_pair(bogus)
        await trio.sleep(REJECT_FOR)
        self.say(f"removing {bogus} again")
        with contextlib.suppress(ValueError, KeyError):
            self.client.remove_pair(bogus)
        self.model.remove_pair(bogus)

    async def _book_gap(self, target: list[FakeConnection] | None, which: str) -> None:
        key = self._book()
        if key is None:  # the book was removed since the schedule began
            return
        # The new snapshot comes a little late, as OKX's can: long enough to see the book
        # say "resyncing" (on loopback it would heal within a millisecond).
        self.say(
            f"the exchange skips an update of {key} and sends the next snapshot "
            f"{BOOK_SNAPSHOT_DELAY:g}s late: the book resyncs, then heals"
        )
        self.exchange.delay_book_snapshot(key, BOOK_SNAPSHOT_DELAY)
        self.exchange.drop_book_update(key)

    def _bogus_pair(self) -> str:
        n = 1
        while (candidate := "FAKE-USDT" if n == 1 else f"FAKE{n}-USDT") in self.model.rows:
            n += 1
        return candidate
