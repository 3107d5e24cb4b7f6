"""One OKX connection's protocol state, sans-IO, in the manner of h11's ``Connection``.

:class:`OkxProtocol` never touches a socket or a clock: the Trio session feeds it what arrived
(:meth:`~OkxProtocol.receive`), sends what it asks for (:meth:`~OkxProtocol.requests`), and
wakes it at :meth:`~OkxProtocol.next_deadline` (:meth:`~OkxProtocol.poll`). It owns everything
that lives and dies with one connection: the server's view of the subscriptions (the
:class:`SubscriptionBook`), the heartbeat, the per-subscription staleness clocks, the hourly
request budget, and the counters. What a message *means* is decided here and returned as
typed events; what to do about it across connections (backoff, handover, fan-out) is the
caller's business.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from ._book_keeper import BOOK_DEPTHS, BookOutput
from ._book_levels import OrderBook
from ._book_push import book_messages
from ._book_splice import SpliceKind, after_guard
from ._codec import (
    Ack,
    BadMessage,
    ChannelConnCount,
    DataPush,
    ErrorEvent,
    LoginAnswer,
    Notice,
    Pong,
    TickerPush,
    decode,
    push_records,
)
from ._decoders import PushError, Record
from ._login import LoginState
from ._okx import AUTH_ERROR_CODES, UPGRADE_NOTICE_CODE
from ._ordering import is_after
from ._private_feed import PrivateOutput
from ._protocol_core import CHANGED, UNDELIVERED_EVENTS
from ._protocol_events import (
    BecameStable,
    BookInvalid,
    BookSeedWanted,
    BudgetSpent,
    ConnectionFailed,
    Garbage,
    LoggedIn,
    LoginClockRefused,
    PrivateSnapshotDropped,
    ProtocolEvent,
    Records,
    Rejected,
    ServerError,
    ServerNotice,
    StaleResubscribed,
    SubscriptionsChanged,
    UpgradeAnnounced,
)
from ._protocol_handover import HandoverPart
from ._rest_books import RestBook
from ._subscription import Subscription

__all__ = [
    "BecameStable",
    "BookInvalid",
    "BookSeedWanted",
    "BudgetSpent",
    "ConnectionFailed",
    "Garbage",
    "LoggedIn",
    "LoginClockRefused",
    "OkxProtocol",
    "PrivateSnapshotDropped",
    "ProtocolEvent",
    "Records",
    "Rejected",
    "ServerError",
    "ServerNotice",
    "StaleResubscribed",
    "SubscriptionsChanged",
    "UpgradeAnnounced",
]


class OkxProtocol(HandoverPart):
    """The state of one connection to one OKX endpoint; see the module docstring and
    :class:`~okx_trio._protocol_core.ProtocolCore` (the constructor, subscriptions, login,
    time and requests) and :class:`~okx_trio._protocol_handover.HandoverPart` (the
    make-before-break). This part reads what arrives.
    """

    # -- what arrived ------------------------------------------------------------------------

    def receive(self, message: str | bytes, now: float) -> list[ProtocolEvent]:
        """Handle one message from the server; return what it meant, in order."""
        events: list[ProtocolEvent] = []
        self._receive(message, now, events)
        return events

    def receive_all(self, messages: Iterable[str | bytes], now: float) -> list[ProtocolEvent]:
        """:meth:`receive` for a burst of messages that arrived together at *now*."""
        events: list[ProtocolEvent] = []
        receive = self._receive
        for message in messages:
            receive(message, now, events)
        return events

    def _receive(self, message: str | bytes, now: float, events: list[ProtocolEvent]) -> None:
        self.last_message_at = now
        self.messages_received += 1
        self.heartbeat.last_message_at = now  # Heartbeat.message_received, inlined
        event = decode(message)
        kind = type(event)
        if kind is TickerPush:
            self._tickers_received(event.tickers, now, events)  # type: ignore[union-attr]
        elif kind is DataPush:
            self._data_received(event, now, events)  # type: ignore[arg-type]
        elif kind is Pong:
            pass
        elif kind is Ack:
            events.extend(self._ack(event, now))  # type: ignore[arg-type]
        elif kind is ErrorEvent:
            assert isinstance(event, ErrorEvent)
            login = self.login
            if login is not None and login.state is LoginState.SENT and event.req_id is None:
                # OKX's login request carries no id: an error without one answers it.
                events.extend(self._login_outcome(login.answered(event.code, event.msg)))
            else:
                events.extend(self._error(event))
        elif kind is ChannelConnCount:
            assert isinstance(event, ChannelConnCount)
            events.extend(self._conn_count(event))
        elif kind is LoginAnswer:
            assert isinstance(event, LoginAnswer)
            if self.login is not None and self.login.state is LoginState.SENT:
                events.extend(self._login_outcome(self.login.answered(event.code, event.msg)))
            else:
                self.ignored_messages += 1
        elif kind is Notice:
            assert isinstance(event, Notice)
            if event.code == UPGRADE_NOTICE_CODE:
                events.append(UpgradeAnnounced(event.code, event.msg))
            else:
                events.append(ServerNotice(event.code, event.msg))
        elif kind is BadMessage:
            assert isinstance(event, BadMessage)
            self.bad_messages += 1
            events.append(Garbage(event.reason, event.raw))
        else:
            self.ignored_messages += 1

    def _tickers_received(
        self, tickers: Sequence[Record], now: float, events: list[ProtocolEvent]
    ) -> None:
        # The hottest path of all: one ticker per push, the common case inlined.
        lookup = self._tickers
        stale = self._stale
        for ticker in tickers:
            # A push for a pair the user just dropped (its unsubscribe in flight) is not
            # delivered: the consumer already said it does not want it.
            sub = lookup.get(ticker.inst_id)
            if sub is None:
                continue
            self.ticks_received += 1
            if self.delivering and not self.guard and not self.book_guard:
                self.records_received += 1
                if stale:
                    stale.updated(sub, now)
                events.append(Records(sub, (ticker,)))
            else:
                self._accept(sub, (ticker,), now, events)

    def _data_received(self, push: DataPush, now: float, events: list[ProtocolEvent]) -> None:
        sub = self._by_key.get(push.arg_key)
        if sub is None:
            # Another channel's push, or one the user just dropped: not decoded at all.
            self.ignored_messages += 1
            return
        if sub[0] in BOOK_DEPTHS:
            self._book_received(sub, push, now, events)
            return
        if sub.endpoint == "private":
            try:
                self._private_output(self.private.receive(push, now), now, events)
            except PushError as exc:
                self.bad_messages += 1
                raw = push.text if push.text is not None else repr(push.obj)
                events.append(Garbage(f"malformed {push.channel} push: {exc}", raw))
            return
        try:
            records = push_records(push)
        except PushError as exc:
            self.bad_messages += 1
            raw = push.text if push.text is not None else repr(push.obj)
            events.append(Garbage(f"malformed {push.channel} push: {exc}", raw))
            return
        if records:
            self._accept(sub, records, now, events)

    def _private_output(
        self, output: tuple[PrivateOutput, list[str]], now: float, events: list[ProtocolEvent]
    ) -> None:
        decoded, dropped = output
        events.extend(PrivateSnapshotDropped(text) for text in dropped)
        for key, records in decoded:
            sub = self._by_key.get(key)
            if sub is not None and records:
                self._accept(sub, records, now, events)

    def poll(self, now: float) -> list[ProtocolEvent]:
        events = super().poll(now)
        if now >= self.private.next_deadline():
            try:
                self._private_output(self.private.expire(now), now, events)
            except PushError as exc:
                self.bad_messages += 1
                events.append(Garbage(f"malformed private push: {exc}", ""))
        return events

    def next_deadline(self) -> float:
        return min(super().next_deadline(), self.private.next_deadline())

    def connection_lost(self) -> list[ProtocolEvent]:
        events = super().connection_lost()
        events.extend(PrivateSnapshotDropped(text) for text in self.private.reset())
        return events

    def _book_received(
        self, sub: Subscription, push: DataPush, now: float, events: list[ProtocolEvent]
    ) -> None:
        try:
            messages = book_messages(push)
        except PushError as exc:
            # Malformed: the book cannot know what it missed, so it is resynced.
            self.bad_messages += 1
            raw = push.text if push.text is not None else repr(push.obj)
            events.append(Garbage(f"malformed {push.channel} push: {exc}", raw))
            self._book_outputs(sub, self.books.broken(sub, str(exc), now), now, events)
            return
        self._book_outputs(sub, self.books.receive(sub, messages, now), now, events)

    def _book_outputs(
        self,
        sub: Subscription,
        outputs: list[BookOutput],
        now: float,
        events: list[ProtocolEvent],
    ) -> None:
        """Records (runs of updates) and book events, in the order the keeper made them."""
        run: list[Record] = []
        for item in outputs:
            if type(item) is BookInvalid or type(item) is BookSeedWanted:
                if run:
                    self._accept(sub, tuple(run), now, events)
                    run = []
                events.append(item)
            else:
                run.append(item)  # type: ignore[arg-type]
        if run:
            self._accept(sub, tuple(run), now, events)

    def rest_book(self, sub: Subscription, rest: RestBook, now: float) -> list[ProtocolEvent]:
        """OKX's REST snapshot of *sub*'s book (asked for by :class:`BookSeedWanted`)."""
        events: list[ProtocolEvent] = []
        self._book_outputs(sub, self.books.rest_book(sub, rest, now), now, events)
        return events

    def rest_failed(self, sub: Subscription, error: str, now: float) -> list[ProtocolEvent]:
        """The REST snapshot of *sub*'s book could not be had: resync that book."""
        events: list[ProtocolEvent] = []
        self._book_outputs(sub, self.books.rest_failed(sub, error, now), now, events)
        return events

    def order_book(self, sub: Subscription) -> OrderBook | None:
        """The valid order book of *sub* on this connection, or None."""
        return self.books.book(sub)

    def _accept(
        self,
        sub: Subscription,
        records: tuple[Record, ...],
        now: float,
        events: list[ProtocolEvent],
    ) -> None:
        self.records_received += len(records)
        if self._stale:
            self._stale.updated(sub, now)
        if not self.delivering:
            held = self.undelivered.get(sub)
            if held is None:
                bound = 1 if sub.spec.delivery == "state" else UNDELIVERED_EVENTS
                held = self.undelivered[sub] = deque(maxlen=bound)
            held.extend(records)
            if not self._ready_reported and self.ready:
                # The link promotes a successor on a change: this is the one it waits for.
                self._ready_reported = True
                events.append(CHANGED)
            return
        if self.book_guard and sub in self.book_guard:
            result = after_guard(records, self.book_guard[sub])
            if result.kind is SpliceKind.WAIT:
                return
            del self.book_guard[sub]
            if result.kind is SpliceKind.RESTART:
                events.extend(self._book_restart(sub))
                return
            records = result.records
        if self.guard:
            last = self.guard.get(sub)
            if last is not None:
                records = tuple(r for r in records if is_after(r, last))
                if not records:
                    return
                del self.guard[sub]
        events.append(Records(sub, records))

    def _ack(self, ack: Ack, now: float) -> list[ProtocolEvent]:
        sub = self.book.handle_ack(ack)
        if sub is not None:
            if ack.op == "subscribe":
                self._stale.watch(sub, now)
                if sub[0] in BOOK_DEPTHS:
                    self.books.acked(sub, now)
            else:
                self._stale.forget(sub)
        return [CHANGED]

    def _conn_count(self, event: ChannelConnCount) -> list[ProtocolEvent]:
        if not event.error:
            self.ignored_messages += 1
            return []
        # OKX ended this connection's subscription of that channel: too many connections
        # hold it (30 per channel per sub-account). Resubscribing would only loop.
        ended = [sub for sub in self._wanted if sub.channel == event.channel]
        reason = (
            f"channel-conn-count-error: {event.count or 'too many'} connections hold "
            f"{event.channel} (OKX allows 30 per channel per sub-account); close others"
        )
        self._wanted = self._wanted - set(ended)
        self.book.ended_by_server(ended, reason)
        for sub in ended:
            self._stale.forget(sub)
        return [Rejected(sub, reason) for sub in ended]

    def _error(self, error: ErrorEvent) -> list[ProtocolEvent]:
        description = f"error {error.code}: {error.msg}".strip()
        if error.code in AUTH_ERROR_CODES:
            return [ConnectionFailed(f"authentication failed ({description})", fatal=True)]
        outcome = self.book.handle_error(error)
        events: list[ProtocolEvent] = [Rejected(s, r) for s, r in outcome.rejected.items()]
        if outcome.rejected:
            self._wanted = self._wanted - outcome.rejected.keys()
        for sub in outcome.rejected:
            self._stale.forget(sub)
        if outcome.handled:
            events.append(CHANGED)
        elif outcome.request is not None:
            events.append(
                ConnectionFailed(f"request {outcome.request.req_id} failed ({description})")
            )
        else:
            events.append(ServerError(f"server {description}"))
        return events
