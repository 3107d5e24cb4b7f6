"""One open connection's three tasks around its :class:`~okx_trio._protocol.OkxProtocol`.

The session only moves bytes, sleeps and wakes: the *receiver* feeds every message to the
protocol and hands the records on, the *commander* sends what the protocol asks for, and
the *watchdog* sleeps until the protocol's next deadline, sends the heartbeat ``ping`` and
reports what the passing of time means. Every decision is the protocol's; what an event
means beyond this connection is its host's (the link), which it knows only as a
:class:`SessionHost`.
"""

from __future__ import annotations

import contextlib
import logging
import math
from typing import Final, Protocol

import trio

from ._connection import Connection
from ._decoders import Record
from ._protocol import ConnectionFailed, OkxProtocol, ProtocolEvent, Records
from ._subscription import Subscription

__all__ = ["RecordSink", "Session", "SessionHost"]

log = logging.getLogger("okx_trio")

#: Messages handled per wake-up at most, so one flooded connection cannot starve the rest.
_BATCH: Final = 256


class RecordSink(Protocol):
    """Where records go (the per-message path: must not block)."""

    def deliver(self, sub: Subscription, records: tuple[Record, ...]) -> None: ...


class SessionHost(Protocol):
    """What a session needs from above besides the sink: a reader of its events."""

    def session_event(self, session: Session, event: ProtocolEvent) -> None:
        """Act on anything but records (a refusal, a notice, a failure, ...)."""


class Session:
    """The tasks of one open connection (see the module docstring).

    Exists from the moment a connector hands over a connection until the connection's
    attempt ends; the host cancels the tasks (by the attempt's scope) to end it.
    """

    def __init__(
        self, host: SessionHost, sink: RecordSink, conn: Connection, protocol: OkxProtocol
    ) -> None:
        self.host = host
        self._deliver = sink.deliver
        self.conn = conn
        self.protocol = protocol
        # The watchdog sleeps in this scope; a change moves its deadline to "now".
        self._watchdog_sleep = trio.CancelScope()
        # Subscription changes wake the command task through this channel. It holds at most
        # one wake-up: the desired set itself is already in the protocol, so one pending
        # wake-up covers any number of changes, and that is exactly the coalescing we want.
        self._wake_send, self._wake_receive = trio.open_memory_channel[None](1)

    # -- from the host -----------------------------------------------------------------------

    def set_subscriptions(self, subs: frozenset[Subscription]) -> None:
        self.protocol.set_subscriptions(subs)
        self.poke()

    def poke(self) -> None:
        """Wake the commander and the watchdog: something changed that they may act on."""
        with contextlib.suppress(trio.WouldBlock, trio.ClosedResourceError):
            self._wake_send.send_nowait(None)
        self._watchdog_sleep.deadline = -math.inf

    def close(self) -> list[ProtocolEvent]:
        """The connection ended: stop the commander; return what the protocol reports
        about it (the order books that stopped being valid)."""
        self._wake_send.close()
        return self.protocol.connection_lost()

    def inject(self, events: list[ProtocolEvent]) -> None:
        """Dispatch events the protocol produced outside a receive (a REST answer), as if
        they had come with a message."""
        if events and self._dispatch(events):
            self.poke()

    # -- the three tasks ---------------------------------------------------------------------

    async def receiver(self) -> None:
        conn = self.conn
        drain = getattr(conn, "get_messages_nowait", None)
        protocol = self.protocol
        while True:
            batch = [await conn.get_message()]
            if drain is not None:
                # Whatever arrived meanwhile is handled now, without a checkpoint per
                # message: the scheduler hand-off is most of a small message's cost. It all
                # arrived by this instant, so one reading of the clock serves the batch.
                batch += drain(_BATCH)
            if log.isEnabledFor(logging.DEBUG):
                for message in batch:
                    log.debug("<- %.500r", message)
            events = protocol.receive_all(batch, trio.current_time())
            if events and self._dispatch(events):
                self.poke()

    def _dispatch(self, events: list[ProtocolEvent]) -> bool:
        """Hand the records on and the other events to the host; True if anything but
        records came (the other tasks may have something to do)."""
        deliver = self._deliver
        protocol = self.protocol
        changed = False
        for event in events:
            if type(event) is Records:
                # A handover earlier in this batch may have made another connection the
                # one that delivers: what this one received after that point is not ours.
                if protocol.delivering:
                    deliver(event.sub, event.records)
            else:
                changed = True
                self.host.session_event(self, event)
        return changed

    async def watchdog(self) -> None:
        protocol = self.protocol
        while True:
            now = trio.current_time()
            for event in protocol.poll(now):
                self.host.session_event(self, event)
                if type(event) is ConnectionFailed:
                    return  # the host ends the attempt; nothing left to watch
            ping = protocol.ping(now)
            if ping is not None:
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("-> %s", ping)
                await self.conn.send_message(ping)
                continue
            if protocol.wants_to_send(now):
                with contextlib.suppress(trio.WouldBlock, trio.ClosedResourceError):
                    self._wake_send.send_nowait(None)
            with trio.move_on_at(protocol.next_deadline()) as self._watchdog_sleep:
                await trio.sleep_forever()

    async def commander(self) -> None:
        protocol = self.protocol
        while True:
            for text in protocol.requests(trio.current_time()):
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("-> %s", protocol.loggable(text))  # never a login's secrets
                await self.conn.send_message(text)
            try:
                await self._wake_receive.receive()
            except trio.EndOfChannel:
                return  # the session is closing
