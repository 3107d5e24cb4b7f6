"""The subscription book: what we want subscribed, what the server has, and what to send.

It is keyed by :class:`~okx_trio.Subscription` (the client's book), or, as a shorthand for the
``tickers`` channel, by bare instrument ids (``by_subscription=False``).

Sans-IO, in the manner of h11's state machines: the book never touches a socket or a clock.
The client tells it what happened (pairs wanted, connection opened or lost, an ack, an error)
and asks it what to send (:meth:`SubscriptionBook.next_requests`). Keeping *desired* apart
from the server's state is what makes changes incremental and lets a reconnect restore the
whole set: after :meth:`~SubscriptionBook.connection_opened` everything desired is simply
"not on the server yet".
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final, Generic

from ._codec import CHANNEL, Ack, ErrorEvent, Op, encode_request, request_size
from ._instruments import validate_inst_id
from ._okx import MAX_REQUEST_BYTES, REJECT_CODES, WRONG_ENDPOINT_CODES
from ._subscription import ArgKeyTuple, Subscription, sort_key
from ._subscription_requests import ENVELOPE, ErrorOutcome, K, OnServer, Request, batches_by_size

__all__ = ["MAX_REQUEST_BYTES", "REJECT_CODES", "ErrorOutcome", "Request", "SubscriptionBook"]

#: Codes that refuse one argument: the subscription is dropped, with OKX's reason.
_ARG_CODES: Final = REJECT_CODES | WRONG_ENDPOINT_CODES

class SubscriptionBook(Generic[K]):
    """Desired subscriptions vs. the server's on the current connection.

    Pairs move on the server through *subscribing → subscribed → unsubscribing → gone*; the
    book sends a request for a pair only when it is in a resting state, so a pair is never
    subscribed twice on one connection nor unsubscribed when it was not subscribed, however
    the user churns while requests are in flight.
    """

    def __init__(
        self,
        pairs: Iterable[K] = (),
        *,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        by_subscription: bool = False,
    ):
        if max_request_bytes < ENVELOPE + request_size("X" * 48):
            raise ValueError(f"max_request_bytes too small: {max_request_bytes}")
        self._max_request_bytes = max_request_bytes
        self._by_subscription = by_subscription
        self._desired: set[K] = {self._validate(p) for p in pairs}
        # By echoed arg: the instances the book was given (desired now, or still on the
        # server), so an ack or an error maps back to the very object the caller holds.
        self._known: dict[ArgKeyTuple, K] = {}
        self._remember(self._desired)
        self._rejected: dict[K, str] = {}
        self._on_server: dict[K, OnServer] = {}
        self._pending: dict[str, Request[K]] = {}
        self._split: set[K] = set()  # items to send one per request, to learn which one fails
        self._refresh: set[K] = set()  # subscribed items to unsubscribe and subscribe again
        self._ids = itertools.count(1)
        self._connected = False

    def _validate(self, item: object) -> K:
        if self._by_subscription:
            if not isinstance(item, Subscription):
                raise ValueError(f"expected a Subscription, got {item!r}")
            return item  # type: ignore[return-value]  # K is Subscription in this mode
        return validate_inst_id(item)  # type: ignore[return-value]  # K is str here

    def _remember(self, items: Iterable[K]) -> None:
        if self._by_subscription:
            for item in items:
                self._known[item.arg_key] = item  # type: ignore[attr-defined]

    def item_for(self, arg_key: ArgKeyTuple) -> K | None:
        """The item an echoed arg stands for, or None if it is not one this book keys."""
        channel, inst_type, inst_family, inst_id, ccy = arg_key
        if not self._by_subscription:
            if channel != CHANNEL or inst_id is None or inst_type or inst_family or ccy:
                return None
            return inst_id  # type: ignore[return-value]
        # The book's own instance when it knows the arg: then every dict that holds it
        # (staleness clocks, lookups on the per-message path) finds it by identity.
        known = self._known.get(arg_key)
        if known is not None:
            return known
        try:
            return Subscription(  # type: ignore[return-value]
                channel, inst_id, inst_type=inst_type, inst_family=inst_family, ccy=ccy
            )
        except ValueError:
            return None

    # -- what the user wants ------------------------------------------------------------

    @property
    def desired(self) -> frozenset[K]:
        return frozenset(self._desired)

    def wants(self, inst_id: K) -> bool:
        """Whether *inst_id* is desired (cheap: for the per-message path)."""
        return inst_id in self._desired

    @property
    def acknowledged(self) -> frozenset[K]:
        """Pairs the server confirmed and has not been asked to drop."""
        return frozenset(p for p, s in self._on_server.items() if s is OnServer.SUBSCRIBED)

    @property
    def rejected(self) -> Mapping[K, str]:
        """Pairs the server refused, with its reason; re-adding a pair clears its entry."""
        return MappingProxyType(self._rejected)

    def add(self, inst_id: K) -> None:
        """Want *inst_id*. Raises ValueError for a malformed id, changing nothing."""
        self._validate(inst_id)
        self._desired.add(inst_id)
        self._remember((inst_id,))
        self._rejected.pop(inst_id, None)

    def remove(self, inst_id: K) -> None:
        """Stop wanting *inst_id* (no error if it was not wanted)."""
        self._validate(inst_id)
        self._desired.discard(inst_id)
        self._rejected.pop(inst_id, None)

    def replace(self, pairs: Iterable[K]) -> None:
        """Want exactly *pairs*. Raises ValueError (changing nothing) if any id is malformed."""
        new = {self._validate(p) for p in pairs}
        for inst_id in new - self._desired:
            self._rejected.pop(inst_id, None)
        self._desired = new
        if self._by_subscription:
            # Forget what is neither wanted nor on the server any more; know the new ones.
            self._known = {
                key: item
                for key, item in self._known.items()
                if item in new or item in self._on_server
            }
            self._remember(new)

    def refresh(self, inst_ids: Iterable[K]) -> list[K]:
        """Resubscribe pairs whose subscription looks dead (no updates: a frozen price).

        Each given pair that is desired and subscribed on the server, with no request in
        flight for it, is scheduled: the next :meth:`next_requests` sends an unsubscribe for
        it, and once that is acknowledged, the call after sends a subscribe, so it is never
        subscribed twice on one connection. Other ids (not desired, not yet subscribed, in
        flight, malformed) are ignored. Returns the pairs this call scheduled, sorted; one
        already waiting for its unsubscribe is not scheduled again. If the pair is removed
        before the subscribe goes out, it is simply unsubscribed.

        Raises:
            ValueError: if *inst_ids* is a single string (an iterable of its letters).
        """
        if isinstance(inst_ids, str):
            raise ValueError(f"inst_ids must be an iterable of instrument ids, got {inst_ids!r}")
        scheduled = sorted(
            {
                inst_id
                for inst_id in inst_ids
                if inst_id in self._desired
                and inst_id not in self._refresh
                and self._on_server.get(inst_id) is OnServer.SUBSCRIBED
            }
        )
        self._refresh.update(scheduled)
        return scheduled

    def _refresh_waiting(self) -> bool:
        # A pair leaves SUBSCRIBED before next_requests only by a stray unsubscribe ack; it
        # is then subscribed again by the normal path (if desired): nothing left to refresh.
        return any(self._on_server.get(p) is OnServer.SUBSCRIBED for p in self._refresh)

    # -- the connection ------------------------------------------------------------------

    def connection_opened(self) -> None:
        """A fresh connection: the server has nothing, so every desired pair is to be sent."""
        self._reset_server()
        self._connected = True

    def connection_lost(self) -> None:
        """The connection is gone, and with it every subscription and request in flight."""
        self._reset_server()
        self._connected = False

    def _reset_server(self) -> None:
        self._on_server.clear()
        self._pending.clear()
        self._split.clear()
        self._refresh.clear()

    @property
    def pending(self) -> tuple[Request[K], ...]:
        """Requests sent and not fully answered, oldest first."""
        return tuple(self._pending.values())

    def oldest_pending_since(self) -> float | None:
        """When the oldest unanswered request was sent, or None."""
        for request in self._pending.values():
            return request.sent_at
        return None

    @property
    def settled(self) -> bool:
        """Connected, nothing in flight, and the server holds exactly the desired pairs."""
        return (
            self._connected
            and not self._pending
            and self.acknowledged == self._desired
            and len(self._on_server) == len(self._desired)
            and not self._refresh_waiting()
        )

    def has_work(self) -> bool:
        """Whether :meth:`next_requests` would send something now."""
        if not self._connected:
            return False
        for inst_id in self._desired:
            if inst_id not in self._on_server:
                return True
        return self._refresh_waiting() or any(
            state is OnServer.SUBSCRIBED and inst_id not in self._desired
            for inst_id, state in self._on_server.items()
        )

    def next_requests(self, now: float, *, max_requests: int | None = None) -> list[Request[K]]:
        """The requests that bring the server to the desired set, recorded as sent at *now*.

        All new pairs go out as one subscribe (split only to stay under the request size
        limit) and all dropped pairs, with the pairs to :meth:`refresh`, as one unsubscribe.
        Pairs with a request in flight wait for its answer; the next call after that answer
        sends what is still needed. With *max_requests* (a request budget) at most that
        many are made, unsubscribes first; the rest stays to do (:meth:`has_work`).
        Returns an empty list when not connected.
        """
        if not self._connected or (max_requests is not None and max_requests < 1):
            return []
        to_subscribe = sorted((p for p in self._desired if p not in self._on_server), key=sort_key)
        to_unsubscribe = sorted(
            (
                p
                for p, state in self._on_server.items()
                if state is OnServer.SUBSCRIBED and (p not in self._desired or p in self._refresh)
            ),
            key=sort_key,
        )
        requests: list[Request[K]] = []
        for op, pairs, state in (
            ("unsubscribe", to_unsubscribe, OnServer.UNSUBSCRIBING),
            ("subscribe", to_subscribe, OnServer.SUBSCRIBING),
        ):
            alone = [p for p in pairs if p in self._split]
            together = [p for p in pairs if p not in self._split]
            batches = [[p] for p in alone] + batches_by_size(together, self._max_request_bytes)
            if max_requests is not None:
                batches = batches[: max_requests - len(requests)]
            for batch in batches:
                requests.append(self._record(op, batch, state, now))  # type: ignore[arg-type]
                if len(batch) == 1:
                    self._split.discard(batch[0])
        # A pair whose refresh unsubscribe went out is UNSUBSCRIBING now; once that is
        # acked it is desired and not on the server, so a later call subscribes it. Keep
        # only pairs still SUBSCRIBED (none unless requests get capped): one that left that
        # state some other way has nothing left to refresh.
        if self._refresh:
            self._refresh = {
                p for p in self._refresh if self._on_server.get(p) is OnServer.SUBSCRIBED
            }
        return requests

    def _record(self, op: Op, pairs: list[K], state: OnServer, now: float) -> Request[K]:
        req_id = str(next(self._ids))
        request = Request(req_id, op, tuple(pairs), now, encode_request(op, pairs, req_id))
        request.waiting.update(pairs)
        self._pending[req_id] = request
        for inst_id in pairs:
            self._on_server[inst_id] = state
        return request

    # -- what the server said --------------------------------------------------------------

    def handle_ack(self, ack: Ack) -> K | None:
        """Record that the server confirmed one argument; returns the item it is about
        (None for an arg this book does not key, which changes nothing)."""
        item = self.item_for(ack.arg_key)
        if not self._connected or item is None:
            return item
        state = self._on_server.get(item)
        if ack.op == "subscribe":
            # A late ack for a pair we already asked to drop changes nothing: the
            # unsubscribe is in flight. Anything else: the server says it is subscribed.
            if state is not OnServer.UNSUBSCRIBING:
                self._on_server[item] = OnServer.SUBSCRIBED
        elif state is not OnServer.SUBSCRIBING:
            self._on_server.pop(item, None)
        self._answered(ack.req_id, ack.op, item)
        return item

    def _error_item(self, error: ErrorEvent, request: Request[K] | None) -> K | None:
        """The argument an error blames: by its arg, else by the instrument its text names
        (the one waiting argument of *request*, or of any request, with that inst_id)."""
        if error.arg_key is not None:
            item = self.item_for(error.arg_key)
            if item is not None:
                return item
        inst_id = error.inst_id
        if inst_id is None:
            return None
        if not self._by_subscription:
            return inst_id  # type: ignore[return-value]
        requests = [request] if request is not None else list(self._pending.values())
        named = {
            w
            for r in requests
            for w in r.waiting
            if isinstance(w, Subscription) and w.inst_id == inst_id
        }
        return named.pop() if len(named) == 1 else None

    def handle_error(self, error: ErrorEvent) -> ErrorOutcome[K]:
        """Record an error event; see :class:`ErrorOutcome` for what comes back."""
        request = self._pending.get(error.req_id) if error.req_id is not None else None
        inst_id = self._error_item(error, request)
        if request is None and inst_id is not None:
            request = self._request_waiting_for(inst_id)
        if request is None or error.code not in _ARG_CODES:
            return ErrorOutcome({}, request, handled=False)
        if inst_id is None or inst_id not in request.waiting:
            if len(request.waiting) != 1:
                # OKX did not say which argument it refused: ask again one per request.
                self._unsend(request)
                return ErrorOutcome({}, request, handled=True)
            (inst_id,) = request.waiting
        reason = f"{error.code} {error.msg}".strip()
        if request.op == "subscribe":
            self._desired.discard(inst_id)
            self._rejected[inst_id] = reason
            self._on_server.pop(inst_id, None)
            rejected = {inst_id: reason}
        else:
            # The server refused to drop it; it no longer knows it, so neither do we.
            self._on_server.pop(inst_id, None)
            rejected = {}
        self._answered(request.req_id, request.op, inst_id)
        return ErrorOutcome(rejected, request, handled=True)

    def ended_by_server(self, items: Iterable[K], reason: str) -> None:
        """The server ended these subscriptions on its own (OKX's ``channel-conn-count-error``):
        they are neither wanted nor on the server any more; *reason* is kept as a refusal."""
        for item in items:
            self._desired.discard(item)
            self._on_server.pop(item, None)
            self._rejected[item] = reason

    def _request_waiting_for(self, inst_id: K) -> Request[K] | None:
        for request in self._pending.values():
            if inst_id in request.waiting:
                return request
        return None

    def _answered(self, req_id: str | None, op: Op, inst_id: K) -> None:
        request = self._pending.get(req_id) if req_id is not None else None
        if request is None or inst_id not in request.waiting:
            request = self._request_waiting_for(inst_id)
        if request is None or request.op != op:
            return
        request.waiting.discard(inst_id)
        if not request.waiting:
            del self._pending[request.req_id]

    def _unsend(self, request: Request[K]) -> None:
        del self._pending[request.req_id]
        for inst_id in request.waiting:
            if request.op == "subscribe":
                self._on_server.pop(inst_id, None)
            else:
                self._on_server[inst_id] = OnServer.SUBSCRIBED
                if inst_id in self._desired:
                    # A desired pair in an unsubscribe is being refreshed (or was re-added
                    # while it was in flight, where a refresh is harmless): keep at it.
                    self._refresh.add(inst_id)
            self._split.add(inst_id)
