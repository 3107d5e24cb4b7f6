"""One open connection and its three tasks: receiver, watchdog and commander.

A :class:`Session` exists from the moment a connector hands over a connection until the
connection's attempt ends. It owns everything that lives and dies with the socket: the
server's view of the subscriptions (a :class:`SubscriptionBook`), the heartbeat, the
per-instrument staleness clocks and the hourly request budget. What outlives a socket
(backoff, endpoint choice, state) belongs to the :class:`~okx_trio._link.Link` above it.
"""

from __future__ import annotations

import contextlib
import logging
import math
from typing import TYPE_CHECKING, Final

import trio

from ._codec import (
    PING,
    Ack,
    BadMessage,
    ErrorEvent,
    Notice,
    OtherEvent,
    Pong,
    TickerPush,
    decode,
)
from ._heartbeat import Heartbeat, HeartbeatAction
from ._ratelimit import SlidingWindowLimit
from ._staleness import StaleDetector
from ._subscriptions import SubscriptionBook
from ._ticker import Ticker
from ._transport import Connection

if TYPE_CHECKING:
    from ._link import Attempt, Link

__all__ = ["AUTH_ERROR_CODES", "UPGRADE_NOTICE_CODE", "Session"]

log = logging.getLogger("okx_trio")

#: Errors that mean our credentials or request are refused for good: retrying cannot help.
AUTH_ERROR_CODES: Final = frozenset({"60005", "60007", "60009", "60024"})
UPGRADE_NOTICE_CODE: Final = "64008"
_HOUR: Final = 3600.0
#: Messages handled per wake-up at most, so one flooded connection cannot starve the rest.
_BATCH: Final = 256


class Session:
    """One connection's protocol state and tasks (see the module docstring).

    *delivering* says whether its ticks reach the consumers; a successor opened for a
    make-before-break handover runs undelivered until every pair has ticked on it.
    """

    def __init__(
        self,
        link: Link,
        conn: Connection,
        attempt: Attempt,
        pairs: frozenset[str],
        now: float,
        *,
        delivering: bool,
    ) -> None:
        config = link.config
        self.link = link
        self.conn = conn
        self.attempt = attempt
        self.book = SubscriptionBook(pairs)
        self.book.connection_opened()
        self.heartbeat = Heartbeat(config.ping_interval, config.connection_timeout, now)
        self.stale = StaleDetector(config.stale_after) if config.stale_after is not None else None
        self.budget = (
            SlidingWindowLimit(config.max_requests_per_hour, _HOUR)
            if config.max_requests_per_hour is not None
            else None
        )
        self.opened_at = now
        self.delivering = delivering
        #: While not delivering (a handover's successor): the latest ticker per pair, so
        #: readiness is "every pair ticked" and the switch can hand them on at once.
        self.undelivered: dict[str, Ticker] = {}
        #: Per instrument, the last ``ts`` the old connection delivered before a handover;
        #: older or equal ticks from this session are not delivered (no duplicates, and
        #: ``ts`` never goes backwards to consumers).
        self.guard: dict[str, int] = {}
        self._budget_waiting = False
        # The watchdog sleeps in this scope; its deadline may be moved earlier from outside.
        self._watchdog_sleep = trio.CancelScope()
        # Pair changes wake the command task through this channel. It holds at most one
        # wake-up: the desired set itself is already in the book, so one pending wake-up
        # covers any number of changes, and that is exactly the coalescing we want.
        self._wake_send, self._wake_receive = trio.open_memory_channel[None](1)

    # -- called by the link --------------------------------------------------------------

    def set_pairs(self, pairs: frozenset[str]) -> None:
        self.book.replace(pairs)
        if self.stale is not None:
            for inst_id in self.book.acknowledged - pairs:
                self.stale.forget(inst_id)
        self.poke()

    def poke(self) -> None:
        """Wake the commander (if a wake-up is pending, it will see this change too)."""
        with contextlib.suppress(trio.WouldBlock, trio.ClosedResourceError):
            self._wake_send.send_nowait(None)

    def close(self) -> None:
        self._wake_send.close()
        self.book.connection_lost()
        if self.stale is not None:
            self.stale.clear()

    @property
    def ready(self) -> bool:
        """Subscribed to exactly its pairs, and (for a successor) every pair has ticked."""
        return self.book.settled and (
            self.delivering or self.undelivered.keys() >= self.book.desired
        )

    def start_delivering(self, guard: dict[str, int]) -> None:
        """Become the delivering session (a handover): hand on what ticked here already.

        *guard* is, per instrument, the last ``ts`` delivered from the old connection;
        nothing at or before it is delivered from this one.
        """
        self.delivering = True
        self.guard = guard
        undelivered, self.undelivered = self.undelivered, {}
        for inst_id, ticker in undelivered.items():
            if not self.book.wants(inst_id):
                continue  # dropped by the user while the new connection got ready
            last = guard.get(inst_id)
            if last is None or ticker.ts > last:
                guard.pop(inst_id, None)
                self.link.ticks_received += 1
                self.link.client.deliver(ticker)
        self.link.client.notify()

    def request_budget(self, now: float) -> int | None:
        return self.budget.available(now) if self.budget is not None else None

    # -- the three tasks -----------------------------------------------------------------

    async def receiver(self) -> None:
        conn = self.conn
        drain = getattr(conn, "get_messages_nowait", None)
        while True:
            message = await conn.get_message()
            self.handle_message(message)
            if drain is not None:
                # Whatever arrived meanwhile is handled now, without a checkpoint per
                # message: the scheduler hand-off is most of a small message's cost.
                for message in drain(_BATCH):
                    self.handle_message(message)

    def handle_message(self, message: str | bytes) -> None:
        link = self.link
        now = trio.current_time()
        link.last_message_at = now
        link.messages_received += 1
        self.heartbeat.message_received(now)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("<- %.500r", message)
        event = decode(message)
        if type(event) is TickerPush:
            self._handle_tickers(event, now)
        elif type(event) is Ack:
            self.book.handle_ack(event)
            if self.stale is not None:
                if event.op == "subscribe":
                    self.stale.watch(event.inst_id, now)
                    # The watchdog may be asleep until a later deadline: bring it forward.
                    due = now + self.stale.max_age
                    if due < self._watchdog_sleep.deadline:
                        self._watchdog_sleep.deadline = due
                else:
                    self.stale.forget(event.inst_id)
            link.progressed(self)
            if self.book.has_work():
                self.poke()
        elif type(event) is Pong:
            pass
        elif type(event) is ErrorEvent:
            self._handle_error(event)
        elif type(event) is Notice:
            if event.code == UPGRADE_NOTICE_CODE:
                link.upgrade_notice(self, event)
            else:
                link.note(f"notice {event.code}: {event.msg}", level=logging.INFO)
        elif type(event) is BadMessage:
            link.bad_messages += 1
            log.warning("bad message from server (%s): %.200r", event.reason, event.raw)
        elif type(event) is OtherEvent:
            link.ignored_messages += 1
            log.debug("ignored %s message: %.200r", event.event, event.raw)

    def _handle_tickers(self, event: TickerPush, now: float) -> None:
        book = self.book
        stale = self.stale
        if not self.delivering:
            for ticker in event.tickers:
                if book.wants(ticker.inst_id):
                    self.undelivered[ticker.inst_id] = ticker
                    if stale is not None:
                        stale.updated(ticker.inst_id, now)
            if self.ready:
                self.link.progressed(self)
            return
        deliver = self.link.client.deliver
        guard = self.guard
        for ticker in event.tickers:
            inst_id = ticker.inst_id
            # A push for a pair the user just dropped (its unsubscribe in flight) is not
            # delivered: the consumer already said it does not want it.
            if not book.wants(inst_id):
                continue
            if stale is not None:
                stale.updated(inst_id, now)
            if guard:
                last = guard.get(inst_id)
                if last is not None:
                    if ticker.ts <= last:
                        continue
                    del guard[inst_id]
            self.link.ticks_received += 1
            deliver(ticker)
        self.link.client.notify()

    def _handle_error(self, error: ErrorEvent) -> None:
        link = self.link
        description = f"error {error.code}: {error.msg}".strip()
        if error.code in AUTH_ERROR_CODES:
            self.attempt.end(f"authentication failed ({description})", fatal=True)
            return
        outcome = self.book.handle_error(error)
        for inst_id, reason in outcome.rejected.items():
            link.rejected(inst_id, reason)
        if outcome.handled:
            link.progressed(self)
            if self.book.has_work():
                self.poke()
        elif outcome.request is not None:
            self.attempt.end(f"request {outcome.request.req_id} failed ({description})")
        else:
            link.last_error = f"server {description}"
            log.warning("server sent %s", description)

    async def watchdog(self) -> None:
        link = self.link
        heartbeat = self.heartbeat
        config = link.config
        timeout = config.connection_timeout
        stable_at = self.opened_at + config.stable_after
        stale = self.stale
        while True:
            now = trio.current_time()
            decision = heartbeat.poll(now)
            if decision.action is HeartbeatAction.TIMEOUT:
                self.attempt.end(
                    f"heartbeat timeout (no message for {timeout:g}s)", heartbeat_miss=True
                )
                return
            if decision.action is HeartbeatAction.PING:
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("-> %s", PING)
                await self.conn.send_message(PING)
                heartbeat.ping_sent(now)
                link.pings_sent += 1
                continue
            wake = decision.until
            oldest = self.book.oldest_pending_since()
            if oldest is not None:
                if now >= oldest + timeout:
                    self.attempt.end(f"subscription request unanswered for {timeout:g}s")
                    return
                wake = min(wake, oldest + timeout)
            if stale is not None:
                self._refresh_stale(stale, now)
                wake = min(wake, stale.next_due())
            if self.delivering and not link.stable:
                if now >= stable_at and self.book.settled:
                    link.became_stable()
                elif now < stable_at:
                    wake = min(wake, stable_at)
            with trio.move_on_at(wake) as self._watchdog_sleep:
                await trio.sleep_forever()

    def _refresh_stale(self, stale: StaleDetector, now: float) -> None:
        due = stale.due(now)
        if not due:
            return
        refreshed = self.book.refresh(due)
        if not refreshed:
            return
        self.link.stale_resubscribes += len(refreshed)
        age = self.link.config.stale_after
        names = ", ".join(refreshed[:5]) + (
            f" and {len(refreshed) - 5} more" if len(refreshed) > 5 else ""
        )
        self.link.note(f"no update for {age:g}s on {names}: resubscribing", level=logging.INFO)
        self.poke()

    async def commander(self) -> None:
        book = self.book
        budget = self.budget
        while True:
            now = trio.current_time()
            limit: int | None = None
            if budget is not None:
                limit = budget.available(now)
                if limit == 0 and book.has_work():
                    await self._wait_for_budget(budget, now)
                    continue
            for request in book.next_requests(now, max_requests=limit):
                if budget is not None:
                    budget.record(now)
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("-> %s", request.text)
                await self.conn.send_message(request.text)
            if book.has_work() and budget is not None and budget.available(now) == 0:
                continue
            try:
                await self._wake_receive.receive()
            except trio.EndOfChannel:
                return  # the session is closing

    async def _wait_for_budget(self, budget: SlidingWindowLimit, now: float) -> None:
        until = budget.next_allowed(now)
        if not self._budget_waiting:
            self._budget_waiting = True
            self.link.requests_delayed += 1
            self.link.note(
                f"subscription request budget spent ({budget.limit} per hour): "
                f"waiting {until - now:.0f}s",
            )
        await trio.sleep_until(until if math.isfinite(until) else now + 1.0)
        self._budget_waiting = False
