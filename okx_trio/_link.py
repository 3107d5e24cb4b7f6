"""One supervised connection slot of the client: its attempt loop, backoff and endpoints.

A client has one :class:`Link` per endpoint and shard of its subscriptions. The link keeps a
connection open for its subscriptions, one :class:`~okx_trio._session.Session` at a time,
except during a make-before-break handover, when a successor session subscribes beside the
old one and takes over delivery once it is ready. In trio terms::

    Link.run                             in the client's nursery; cancelled when retired
    └── link nursery
        ├── supervisor                   one attempt after another, with backoff
        │   └── CancelScope (attempt)    cancelled on heartbeat timeout, errors, reconnect()
        │       └── session nursery      receiver, watchdog, commander
        └── successor attempt            only during a handover

The link knows the client only as a :class:`LinkHost`: what it needs from above.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

import trio
import trio_websocket

from ._attempt import Attempt
from ._connection import ConnectionClosed
from ._decoders import Record
from ._errors import TRANSPORT_ERRORS, close_code, closed_reason, describe
from ._link_core import LinkCore, LinkHost
from ._okx import AUTH_CLOSE_CODE
from ._ordering import position
from ._protocol import (
    BecameStable,
    BookInvalid,
    BookSeedWanted,
    BudgetSpent,
    ConnectionFailed,
    Garbage,
    LoggedIn,
    LoginClockRefused,
    OkxProtocol,
    PrivateSnapshotDropped,
    ProtocolEvent,
    Rejected,
    ServerError,
    ServerNotice,
    StaleResubscribed,
    SubscriptionsChanged,
    UpgradeAnnounced,
)
from ._session import Session
from ._state import ConnectionState
from ._subscription import Subscription

__all__ = ["Link", "LinkHost"]

log = logging.getLogger("okx_trio")

TaskFn = Callable[[], Awaitable[None]]


class Link(LinkCore):
    """Keeps one connection to *endpoint* subscribed to *subs*; see the module docstring."""

    async def run(self) -> None:
        """Supervise connections until cancelled or retired. Never raises but Cancelled."""
        with self.scope:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                await self._supervise()

    # -- what the sessions report (SessionHost) ----------------------------------------------

    def session_event(self, session: Session, event: ProtocolEvent) -> None:
        kind = type(event)
        if kind is SubscriptionsChanged:
            if session is self.successor and session.protocol.ready:
                self._promote(session)
            self.host.notify()
        elif kind is Rejected:
            assert isinstance(event, Rejected)
            sub = event.sub
            if sub.channel == "tickers":
                self.last_error = f"instrument rejected: {sub.inst_id} ({event.reason})"
            else:
                self.last_error = f"subscription rejected: {sub.key} ({event.reason})"
            self.host.subscription_rejected(event.sub, event.reason)
            self.note(self.last_error)
        elif kind is ConnectionFailed:
            assert isinstance(event, ConnectionFailed)
            self._attempts[session].end(
                event.reason, fatal=event.fatal, heartbeat_miss=event.heartbeat_miss
            )
        elif kind is UpgradeAnnounced:
            assert isinstance(event, UpgradeAnnounced)
            self._upgrade_notice(session, event)
        elif kind is ServerNotice:
            assert isinstance(event, ServerNotice)
            self.note(f"notice {event.code}: {event.msg}", level=logging.INFO)
        elif kind is ServerError:
            assert isinstance(event, ServerError)
            self.last_error = event.description
            log.warning("%s", self._label(event.description))
        elif kind is Garbage:
            assert isinstance(event, Garbage)
            log.warning("bad message from server (%s): %.200r", event.reason, event.raw)
        elif kind is StaleResubscribed:
            assert isinstance(event, StaleResubscribed)
            keys = [sub.inst_id or sub.key for sub in event.subs]
            names = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
            self.note(f"no update for {event.age:g}s on {names}: resubscribing", level=logging.INFO)
        elif kind is BudgetSpent:
            assert isinstance(event, BudgetSpent)
            wait = max(0.0, event.until - trio.current_time())
            self.note(
                f"subscription request budget spent ({event.limit} per hour): waiting {wait:.0f}s"
            )
        elif kind is BookInvalid:
            assert isinstance(event, BookInvalid)
            self._book_invalid(session, event)
        elif kind is LoggedIn:
            self.note("logged in", level=logging.INFO)
            if session is self.session:
                self.host.logged_in(self)
        elif kind is PrivateSnapshotDropped:
            assert isinstance(event, PrivateSnapshotDropped)
            self.note(event.description)
        elif kind is LoginClockRefused:
            assert isinstance(event, LoginClockRefused)
            self.note(f"{event.description}: measuring the clock offset to OKX")
            self.host.measure_clock(self)
        elif kind is BookSeedWanted:
            assert isinstance(event, BookSeedWanted)
            self.host.want_rest_book(self, event.sub, event.depth)
        elif kind is BecameStable and session is self.session:
            self.strategy.reset()

    def _book_invalid(self, session: Session, event: BookInvalid) -> None:
        if session is not self.session:
            return  # a successor's book: nobody follows it yet, and it heals before the switch
        sub = event.sub
        if event.retry_in is not None:
            when = "now" if event.retry_in == 0 else f"in {event.retry_in:.1f}s"
            log.info(
                "%s", self._label(f"book {sub.key} invalid ({event.detail}): resyncing {when}")
            )
        self.host.book_invalid(event)

    def _upgrade_notice(self, session: Session, notice: UpgradeAnnounced) -> None:
        """OKX will close *session* for a service upgrade (notice 64008)."""
        if session is not self.session:
            return  # the successor heard it too; it is already the way out
        attempt = self._attempts[session]
        what = f"service upgrade notice ({notice.code})"
        if not self.config.make_before_break or self._nursery is None:
            self.note(f"{what}: reconnecting now")
            attempt.end(what, immediate=True)
            return
        attempt.upgrade_announced = True
        if self._successor_attempt is not None:
            return
        # Routine (OKX upgrades often) and handled without a gap: worth INFO, not WARNING.
        self.note(f"{what}: opening a new connection before this one closes", level=logging.INFO)
        self._successor_attempt = Attempt()
        self._nursery.start_soon(self._run_attempt, self._successor_attempt, False)

    # -- the supervisor ---------------------------------------------------------------------

    async def _supervise(self) -> None:
        """Connect, and keep connecting, until cancelled. Never raises except Cancelled."""
        while True:
            if self.state is ConnectionState.FAILED:
                await self._wake_from_failed.wait()
                self._wake_from_failed = trio.Event()
                self._restart_requested = False
                self.strategy.reset()
            self._set_state(
                ConnectionState.CONNECTING,
                f"connecting (attempt {self.strategy.retry_count + 1})",
                self.strategy.retry_count,
            )
            attempt = self.attempt = Attempt()
            # Every attempt runs as a task of its own, the successor of a handover too, so
            # the new connection can outlive the attempt it replaces.
            assert self._nursery is not None
            self._nursery.start_soon(self._run_attempt, attempt, True)
            await attempt.done.wait()
            attempt = await self._follow_handover(attempt)
            self.attempt = None
            reason = attempt.reason or "connection closed"
            self.last_error = reason
            self.rotation.ended(trio.current_time())
            if attempt.fatal:
                self._set_state(
                    ConnectionState.FAILED, f"{reason}; not retrying", self.strategy.retry_count
                )
                continue
            if self._restart_requested:
                self._restart_requested = False
                self.strategy.reset()
            elif self.strategy.exhausted:
                self._set_state(
                    ConnectionState.FAILED,
                    f"max retries exceeded ({reason})",
                    self.strategy.retry_count,
                )
                continue
            delay = self.strategy.next_delay()
            if (attempt.immediate or attempt.upgrade_announced) and self.strategy.retry_count == 1:
                # An announced upgrade or a requested reconnect after a stable connection:
                # waiting would only lengthen the gap. Repeats still back off.
                delay = 0.0
            self._set_state(
                ConnectionState.RECONNECTING, reason, self.strategy.retry_count, delay=delay
            )
            with trio.CancelScope() as self._backoff_scope:
                await trio.sleep(delay)
            self._backoff_scope = None
            if self._restart_requested:
                self._restart_requested = False
                self.strategy.reset()

    async def _follow_handover(self, attempt: Attempt) -> Attempt:
        """After *attempt* ends, wait out the successors that took its place, if any."""
        while True:
            if attempt.handover_to is None and self.successor is not None:
                # The old connection went before the new one was ready: switch now; the
                # gap is the server's doing.
                successor = self.successor
                self._promote(successor)
                attempt.handover_to = self._attempts[successor]
            elif attempt.handover_to is None and self._successor_attempt is not None:
                self._successor_attempt.end("superseded: the old connection closed first")
            if attempt.handover_to is None:
                return attempt
            attempt = attempt.handover_to
            self.attempt = attempt
            await attempt.done.wait()

    def _promote(self, new: Session) -> None:
        old = self.session
        guard: dict[Subscription, tuple[int, ...]] = {}
        last_books: dict[Subscription, Record] = {}
        for sub in new.protocol.subscriptions:
            record = self.host.last_delivered(sub)
            if record is not None:
                guard[sub] = position(record)
                last_books[sub] = record
        if old is not None:
            old.protocol.delivering = False
        for item in new.protocol.start_delivering(guard, last_books):
            if isinstance(item, BookInvalid):
                self.host.book_invalid(item)
            else:
                self.host.deliver(item.sub, item.records)
        self.host.notify()
        new_attempt = self._attempts[new]
        new_attempt.promoted = True
        self.successor = None
        self.session = new
        self.counters.handovers += 1
        self.connected_at = new.protocol.opened_at
        if old is None:
            self.quality.connected(trio.current_time())
        self.note("switched to the new connection (service upgrade)", level=logging.INFO)
        if old is not None:
            old_attempt = self._attempts[old]
            old_attempt.handover_to = new_attempt
            old_attempt.end("replaced by a new connection after a service upgrade notice")

    async def _run_attempt(self, attempt: Attempt, delivering: bool) -> None:
        """One connection, from opening to its end; the reason ends up in *attempt*.

        *delivering* is False for a handover's successor, which delivers once promoted.
        """
        session: Session | None = None
        url = self.rotation.current
        timeout = self.config.connect_timeout
        try:
            with attempt.scope:
                await self.host.connect_slot()
                # The connect deadline sits on the attempt's own scope rather than on a
                # scope of its own around entering the connector: connectors open
                # nurseries that outlive their __aenter__, and a scope may not close
                # before a nursery opened inside it.
                attempt.scope.deadline = trio.current_time() + timeout
                async with self.host.connect(url) as conn:
                    attempt.scope.deadline = math.inf
                    protocol = OkxProtocol(
                        self.subs,
                        self.config,
                        trio.current_time(),
                        delivering=delivering,
                        signer=self.host.login_signer(),
                        login_required=self.endpoint == "private",
                    )
                    # Records go straight to the client: no hop through the link per message.
                    session = Session(self, self.host, conn, protocol)
                    self._attempts[session] = attempt
                    self._opened(session)
                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(self._guarded, session.receiver, attempt)
                        nursery.start_soon(self._guarded, session.watchdog, attempt)
                        nursery.start_soon(self._guarded, session.commander, attempt)
            if attempt.scope.cancelled_caught and attempt.reason is None:
                attempt.end(f"connect timed out after {timeout:g}s")
        except (ConnectionClosed, trio_websocket.ConnectionClosed) as exc:
            attempt.end(closed_reason(exc), fatal=close_code(exc) == AUTH_CLOSE_CODE)
        except TRANSPORT_ERRORS as exc:
            # Refused, DNS, TLS, a rejected handshake, a close that timed out: a failed
            # attempt, not a crash.
            phase = "connect failed" if session is None else "connection error"
            attempt.end(f"{phase}: {describe(exc)}")
            log.debug("attempt ended by %r", exc, exc_info=True)
        except Exception as exc:
            # A connector of the user's may raise anything; the client must live on, but
            # the traceback is worth an ERROR line.
            phase = "connect failed" if session is None else "connection error"
            attempt.end(f"{phase}: {describe(exc)}")
            log.error("unexpected error in a connection attempt", exc_info=True)
        finally:
            if session is not None:
                self._closed(session, attempt)
            if self._successor_attempt is attempt:
                self._successor_attempt = None
                if not attempt.promoted and self.session is not None:
                    self.note(
                        f"new connection for the upgrade ended ({attempt.reason or 'closed'}); "
                        "staying on the current one"
                    )
            attempt.done.set()

    def _opened(self, session: Session) -> None:
        now = session.protocol.opened_at
        counters = self.counters
        counters.connections_opened += 1
        if counters.connections_opened > 1:
            # A handover's new connection counts too: it is a reconnect without a gap.
            counters.reconnect_count += 1
        if not session.protocol.delivering:
            self.successor = session
            self.note("new connection open: subscribing there before switching", level=logging.INFO)
            return
        self.session = session
        self.rotation.connected(now)
        self.connected_at = now
        self.quality.connected(now)
        self._set_state(ConnectionState.CONNECTED, "connected to OKX", self.strategy.retry_count)

    def _closed(self, session: Session, attempt: Attempt) -> None:
        ended_books = session.close()
        if session is self.session:
            for event in ended_books:
                self.session_event(session, event)
        self.counters.add(session.protocol)
        self._attempts.pop(session, None)
        if self.successor is session:
            self.successor = None
        if self.session is session:
            self.session = None
            self.connected_at = None
            self.quality.disconnected(trio.current_time(), heartbeat_miss=attempt.heartbeat_miss)
        self.host.notify()

    async def _guarded(self, task: TaskFn, attempt: Attempt) -> None:
        """Run one per-connection task; a transport failure ends the attempt, with a reason."""
        try:
            await task()
        except (ConnectionClosed, trio_websocket.ConnectionClosed) as exc:
            attempt.end(closed_reason(exc), fatal=close_code(exc) == AUTH_CLOSE_CODE)
        except TRANSPORT_ERRORS as exc:
            attempt.end(f"connection error: {describe(exc)}")

