"""The state of one OKX connection that is not about a message: what it wants subscribed, its
login, its clocks (heartbeat, staleness, books, stability, the request budget), what it sends.

Sans-IO. :class:`ProtocolCore` is the base of :class:`~okx_trio._protocol.OkxProtocol`, which
adds what a message means (``receive``) and the handover; the two are one object, split in two
modules to keep each readable.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from typing import Final

from ._book_keeper import BookKeeper
from ._codec import PING
from ._config import ClientConfig
from ._decoders import Record
from ._heartbeat import Heartbeat, HeartbeatAction
from ._login import Login, LoginOutcome
from ._private_feed import PrivateFeed
from ._protocol_events import (
    BecameStable,
    BookInvalid,
    BudgetSpent,
    ConnectionFailed,
    LoggedIn,
    LoginClockRefused,
    ProtocolEvent,
    Rejected,
    StaleResubscribed,
    SubscriptionsChanged,
)
from ._ratelimit import SlidingWindowLimit
from ._signing import LoginRequest
from ._staleness import StaleClocks
from ._subscription import ArgKeyTuple, Subscription
from ._subscriptions import SubscriptionBook

__all__ = ["CHANGED", "UNDELIVERED_EVENTS", "ProtocolCore"]

_HOUR: Final = 3600.0
#: Records kept per subscription by a connection that does not deliver yet (a handover's
#: successor): enough for the seconds a switch takes.
UNDELIVERED_EVENTS: Final = 1024


CHANGED: Final = SubscriptionsChanged()
_STABLE: Final = BecameStable()


class ProtocolCore:
    """The state of one connection to one OKX endpoint; see the module docstring.

    *delivering* False makes a handover's successor: it subscribes and receives, but keeps
    its records (the latest per subscription for state channels, the last
    ``UNDELIVERED_EVENTS`` for event channels) until :meth:`start_delivering`.

    Counters (``messages_received``, ``records_received``, ``ticks_received``,
    ``bad_messages``, ``ignored_messages``, ``pings_sent``, ``stale_resubscribes``,
    ``requests_delayed``) belong to this connection; totals are taken above.

    *signer* makes a fresh login request (None: no credentials). With one, the connection
    logs in before it subscribes anything that needs a login (:mod:`okx_trio._login`);
    *login_required* says the whole connection is for that (the private endpoint): a login
    refused there fails the connection, while on the public endpoint it only rejects the
    login channels (``books-l2-tbt``, ...).
    """

    def __init__(
        self,
        subscriptions: Iterable[Subscription],
        config: ClientConfig,
        now: float,
        *,
        delivering: bool = True,
        signer: Callable[[], LoginRequest] | None = None,
        login_required: bool = False,
    ) -> None:
        self._config = config
        self._wanted = frozenset(subscriptions)
        self._signer = signer
        self._login_required = login_required
        self.login: Login | None = None
        self._ensure_login()
        self.book: SubscriptionBook[Subscription] = SubscriptionBook(
            self._book_set(), by_subscription=True
        )
        self.book.connection_opened()
        self.heartbeat = Heartbeat(config.ping_interval, config.connection_timeout, now)
        self.budget = (
            SlidingWindowLimit(config.max_requests_per_hour, _HOUR)
            if config.max_requests_per_hour is not None
            else None
        )
        # One staleness clock per distinct age (channels differ: see the channel table).
        self._stale = StaleClocks(config.stale_after)
        self.opened_at = now
        self.delivering = delivering
        self.stable = False
        self._stable_at = now + config.stable_after
        self._polled_at = now
        self._budget_noted = False
        self._ready_reported = False
        self._budget_until = math.inf
        # Per-message lookups: the desired subscriptions by their echoed arg, and tickers
        # by instrument (the ticker fast path carries no arg).
        self._by_key: dict[ArgKeyTuple, Subscription] = {}
        self._tickers: dict[str, Subscription] = {}
        self._index(self._wanted)
        #: Private pushes: pages joined, then decoded.
        self.private = PrivateFeed()
        #: The incremental order books of this connection (one engine per subscription).
        self.books = BookKeeper(config)
        self.books.track(self._wanted)
        #: While not delivering: records held back, per subscription.
        self.undelivered: dict[Subscription, deque[Record]] = {}
        #: Per subscription, the position of the last record the previous connection
        #: delivered (a handover): nothing at or before it is delivered from this one.
        self.guard: dict[Subscription, tuple[int, ...]] = {}
        #: Per book, after a handover where the old connection was ahead: the ``seqId``
        #: it delivered last; this one's records are skipped until one links to it.
        self.book_guard: dict[Subscription, int] = {}
        self.messages_received = 0
        self.records_received = 0
        self.ticks_received = 0
        self.bad_messages = 0
        self.ignored_messages = 0
        self.pings_sent = 0
        self.stale_resubscribes = 0
        self.requests_delayed = 0
        self.last_message_at: float | None = None

    # -- subscriptions -----------------------------------------------------------------------

    def _index(self, subs: Iterable[Subscription]) -> None:
        self._by_key = {sub.arg_key: sub for sub in subs}
        self._tickers = {
            sub.inst_id: sub
            for sub in self._by_key.values()
            if sub.channel == "tickers" and sub.inst_id is not None
        }

    def _ensure_login(self) -> None:
        needed = self._login_required or any(sub.spec.login for sub in self._wanted)
        if self.login is None and self._signer is not None and needed:
            self.login = Login(self._signer, self._config.connection_timeout)

    def _book_set(self) -> frozenset[Subscription]:
        """What may be subscribed now: all of it once logged in, else what needs no login
        (without credentials a login channel is sent anyway, and OKX's refusal says why)."""
        login = self.login
        if login is None or login.done:
            return self._wanted
        return frozenset(sub for sub in self._wanted if not sub.spec.login)

    def set_subscriptions(self, subs: Iterable[Subscription]) -> None:
        """Want exactly *subs* on this connection (sent by the next :meth:`requests`)."""
        subs = frozenset(subs)
        dropped = self._wanted - subs
        self._wanted = subs
        self._ensure_login()
        self.book.replace(self._book_set())
        self._index(subs)
        self.books.track(subs)
        for sub in dropped:
            self._stale.forget(sub)
            self.undelivered.pop(sub, None)
            self.guard.pop(sub, None)

    @property
    def subscriptions(self) -> frozenset[Subscription]:
        return self._wanted

    @property
    def acknowledged(self) -> frozenset[Subscription]:
        return self.book.acknowledged

    @property
    def settled(self) -> bool:
        return self.book.settled and self.book.desired == self._wanted

    @property
    def ready(self) -> bool:
        """Subscribed to exactly its subscriptions, and (for a handover's successor) every
        subscription of a regularly pushed channel has had a record here."""
        if not self.settled:
            return False
        if self.delivering:
            return True
        return all(
            sub in self.undelivered
            for sub in self._wanted
            if sub.spec.stale_factor is not None
        ) and all(self.books.valid(sub) for sub in self.books.books)

    @property
    def book_resyncs(self) -> int:
        return self.books.resyncs

    @property
    def book_rest_seeds(self) -> int:
        return self.books.rest_seeds

    # -- login -------------------------------------------------------------------------------

    def _login_outcome(self, outcome: LoginOutcome) -> list[ProtocolEvent]:
        if outcome.done:
            self.book.replace(self._book_set())
            return [LoggedIn(), CHANGED]
        if outcome.measure_clock:
            return [LoginClockRefused(outcome.description)]
        if outcome.retry:
            return [CHANGED]
        if self._login_required:
            return [ConnectionFailed(outcome.description, fatal=outcome.fatal)]
        # A public connection: only its login channels cannot be had.
        refused = [sub for sub in self._wanted if sub.spec.login]
        self._wanted = self._wanted - set(refused)
        return [Rejected(sub, outcome.description) for sub in refused]

    def clock_measured(self) -> None:
        """The clock offset a timestamp refusal asked for was measured (or could not be):
        the next :meth:`requests` logs in again with a fresh timestamp."""
        if self.login is not None:
            self.login.clock_measured()

    @property
    def logged_in(self) -> bool:
        return self.login is not None and self.login.done

    def loggable(self, text: str) -> str:
        """*text* as it may be logged (a login request with its secrets masked)."""
        return self.login.loggable(text) if self.login is not None else text

    # -- time --------------------------------------------------------------------------------

    def poll(self, now: float) -> list[ProtocolEvent]:
        """What the passing of time means at *now* (call at :meth:`next_deadline`)."""
        self._polled_at = now
        timeout = self._config.connection_timeout
        if self.login is not None:
            unanswered = self.login.timed_out(now)
            if unanswered is not None:
                return self._login_outcome(unanswered)
        if self.heartbeat.poll(now).action is HeartbeatAction.TIMEOUT:
            return [
                ConnectionFailed(
                    f"heartbeat timeout (no message for {timeout:g}s)", heartbeat_miss=True
                )
            ]
        oldest = self.book.oldest_pending_since()
        if oldest is not None and now >= oldest + timeout:
            return [ConnectionFailed(f"subscription request unanswered for {timeout:g}s")]
        events: list[ProtocolEvent] = []
        if self.books.books and now >= self.books.next_deadline():
            resubscribe, timed_out = self.books.poll(now)
            events.extend(timed_out)  # type: ignore[arg-type]
            scheduled = set(self.book.refresh(resubscribe)) if resubscribe else set()
            for sub in resubscribe:
                if sub not in scheduled:
                    self.books.not_resubscribed(sub, now)
        for age, due in self._stale.due(now):
            refreshed = self.book.refresh(due)
            if refreshed:
                self.stale_resubscribes += len(refreshed)
                events.append(StaleResubscribed(tuple(refreshed), age))
        if self.delivering and not self.stable and now >= self._stable_at and self.settled:
            # Only a connection that stayed subscribed and receiving this long earns a
            # fresh retry count; one that acks and then drops keeps backing off.
            self.stable = True
            events.append(_STABLE)
        if self._budget_noted and now >= self._budget_until:
            # The budget has room again; the next requests() goes ahead.
            self._budget_noted = False
            self._budget_until = math.inf
        budget = self.budget
        if (
            budget is not None
            and not self._budget_noted
            and self.book.has_work()
            and budget.available(now) == 0
        ):
            self._budget_noted = True
            self.requests_delayed += 1
            self._budget_until = budget.next_allowed(now)
            events.append(BudgetSpent(budget.limit, self._budget_until))
        return events

    def next_deadline(self) -> float:
        """When :meth:`poll` or :meth:`requests` next has something to do (math.inf: never,
        unless a message or a change comes first)."""
        decision_at = min(self.heartbeat.next_ping_at(), self.heartbeat.deadline())
        if self.login is not None:
            decision_at = min(decision_at, self.login.deadline())
        oldest = self.book.oldest_pending_since()
        if oldest is not None:
            decision_at = min(decision_at, oldest + self._config.connection_timeout)
        decision_at = min(decision_at, self._stale.next_due(), self.books.next_deadline())
        if self.delivering and not self.stable and self._stable_at > self._polled_at:
            # Once past, stability waits for the book to settle, which a change reports.
            decision_at = min(decision_at, self._stable_at)
        if self._budget_noted:
            decision_at = min(decision_at, self._budget_until)
        return decision_at

    # -- what to send --------------------------------------------------------------------------

    def ping(self, now: float) -> str | None:
        """OKX's ``ping`` text if one is due at *now* (recorded as sent), else None."""
        if self.heartbeat.poll(now).action is not HeartbeatAction.PING:
            return None
        self.heartbeat.ping_sent(now)
        self.pings_sent += 1
        return PING

    def wants_to_send(self, now: float) -> bool:
        """Whether :meth:`requests` would return something at *now*."""
        if not self.book.has_work() and not (self.login is not None and self.login.due):
            return False
        return self.budget is None or self.budget.available(now) > 0

    def requests(self, now: float) -> list[str]:
        """The subscribe/unsubscribe requests that bring the server to the desired set,
        within the request budget, recorded as sent at *now*."""
        out: list[str] = []
        budget = self.budget
        limit = budget.available(now) if budget is not None else None
        if limit is not None and limit > 0:
            self._budget_noted = False
            self._budget_until = math.inf
        login = self.login
        if login is not None and login.due and (limit is None or limit > 0):
            # Login counts against the same hourly budget as subscribe requests.
            out.append(login.request(now))
            if budget is not None:
                budget.record(now)
                limit = budget.available(now)
        for request in self.book.next_requests(now, max_requests=limit):
            if budget is not None:
                budget.record(now)
            out.append(request.text)
        return out

    def request_budget(self, now: float) -> int | None:
        return self.budget.available(now) if self.budget is not None else None

    def connection_lost(self) -> list[ProtocolEvent]:
        """The connection is gone: nothing on the server any more, no clocks running.

        Returns a :class:`BookInvalid` for each order book that was valid here (its
        consumers must hear that it stopped).
        """
        self.book.connection_lost()
        self._stale.clear()
        return [
            BookInvalid(sub, "disconnected", "the connection ended", None)
            for sub in self.books.connection_lost()
        ]

