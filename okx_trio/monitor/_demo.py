"""The demo's faults, injected into the fake exchange on the schedule of
:class:`DemoFaultSchedule`, each announced as a ``[chaos]`` event."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

import trio

from okx_trio import OkxClient

from ._faults import DemoFault, DemoFaultSchedule
from ._figures import is_pooled
from ._model import MonitorModel
from ._options import Options

if TYPE_CHECKING:
    from okx_trio.testing import FakeExchange

__all__ = ["DemoChaos"]

#: How long the rejected instrument stays before the demo removes it again.
REJECT_FOR = 8.0


class DemoChaos:
    """Injects faults into *exchange* until cancelled; *say* announces each one."""

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

    async def run(self) -> None:
        """Inject faults for ever (cancel to stop); never raises otherwise."""
        schedule = DemoFaultSchedule(
            random.Random(self.options.seed),
            first_after=self.options.chaos_first_after,
            every=self.options.chaos_every,
        )
        # Which connection of a pool a fault hits: its own stream, so the schedule stays
        # the same with or without a pool.
        pick = random.Random(f"monitor-chaos-target:{self.options.seed}")
        while True:
            await trio.sleep(schedule.next_delay())
            await self.inject(schedule.next_fault(), pick)

    async def inject(self, fault: DemoFault, pick: random.Random) -> None:
        """Inject *fault*. With a pool, a drop or a silence hits one of the exchange's open
        connections (chosen by *pick*), so the others are seen to carry on."""
        exchange = self.exchange
        open_now = exchange.connections
        target = (
            [pick.choice(open_now)]
            if len(open_now) > 1 and is_pooled(self.client.get_stats())
            else None
        )
        which = f"1 of its {len(open_now)} connections" if target is not None else ""
        if fault == "drop":
            self.say(f"the exchange drops {which or 'the connection'}")
            exchange.drop_connections(only=target)
        elif fault == "silence":
            timeout = self.options.config.connection_timeout
            silence = timeout + 2.0
            self.say(
                f"the exchange goes silent {f'on {which} ' if which else ''}for {silence:.0f}s "
                f"(no data, no pongs; the client's timeout is {timeout:g}s)"
            )
            exchange.go_silent(only=target)
            try:
                await trio.sleep(silence)
            finally:
                # A silenced connection the client has given up on is closed by now;
                # resume() skips it.
                exchange.resume(only=target)
            self.say("the exchange answers again")
        elif fault == "notice":
            self.say("the exchange announces a service upgrade (64008)")
            exchange.send_notice()
        else:
            bogus = self._bogus_pair()
            self.say(f"adding {bogus}, which the exchange rejects")
            exchange.reject_instruments(bogus)
            self.model.add_pair(bogus)
            self.client.add_pair(bogus)
            await trio.sleep(REJECT_FOR)
            self.say(f"removing {bogus} again")
            with contextlib.suppress(ValueError, KeyError):
                self.client.remove_pair(bogus)
            self.model.remove_pair(bogus)

    def _bogus_pair(self) -> str:
        n = 1
        while (candidate := "FAKE-USDT" if n == 1 else f"FAKE{n}-USDT") in self.model.rows:
            n += 1
        return candidate
