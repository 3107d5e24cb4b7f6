"""The fake exchange's fault injection, as a mixin of :class:`FakeExchange`.

Every fault is a plain synchronous method, usable from any task of the Trio run that serves
the exchange. Faults aimed at single connections take ``only`` (records, or indices into
``connections``) and, where it makes sense, ``endpoint`` (``"public"`` / ``"business"``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._subscription import Subscription
from ._protocol import NOTICE_UPGRADE_CODE, NOTICE_UPGRADE_MSG
from ._records import EndpointName, FakeConnection
from ._session import ExchangeSession
from ._venue import Venue

__all__ = ["FaultsMixin", "Only"]

Only = Iterable[FakeConnection | int] | None
"""Which open connections a fault reaches: records, or indices into ``connections``."""


class FaultsMixin:
    """Fault injection over ``_sessions`` and ``_venue`` (provided by the exchange)."""

    _sessions: list[ExchangeSession]
    _venue: Venue
    _refuse: int

    def _notify(self) -> None:  # provided by the exchange
        raise NotImplementedError

    def _changed_all(self) -> None:
        for session in list(self._sessions):
            session.wake()
        self._notify()

    def drop_connections(
        self,
        code: int = 1006,
        reason: str = "",
        *,
        only: Only = None,
        endpoint: EndpointName | None = None,
    ) -> int:
        """Close the open connections now (or those in *only*, on *endpoint*), with *code*;
        returns how many.

        Code 1006 (the default) aborts without a closing handshake, like a dead network
        path; other codes send a close frame. Messages queued before the drop are still
        delivered first. The connections leave :attr:`connections` immediately.

        Raises:
            TypeError, IndexError, ValueError: for a bad *only* (see :meth:`send_notice`);
                nothing is dropped then.
        """
        sessions = self._select(only, endpoint)
        for session in sessions:
            session.close_nowait(code, reason)
        self._notify()
        return len(sessions)

    def go_silent(self, *, only: Only = None, endpoint: EndpointName | None = None) -> None:
        """Become a half-open server: stop pushing and stop answering anything.

        Connections stay open and requests are still recorded, but there is no ``pong``, no
        ack and no error. Explicit pushes, :meth:`send_notice` and :meth:`send_raw` still go
        out. WebSocket-level ping frames on the real-socket server are still answered (see
        :meth:`blackhole` for a stream that stalls entirely).

        With *only* or *endpoint*, just those connections go half-open (their
        ``FakeConnection.silent`` becomes true), for good: a connection made later is not
        silent, and :attr:`silent` stays false.

        Raises:
            TypeError, IndexError, ValueError: for a bad *only* (see :meth:`send_notice`).
        """
        if only is None and endpoint is None:
            self._venue.silent = True
        else:
            for session in self._select(only, endpoint):
                session.record.silent = True
        self._changed_all()

    def blackhole(self, *, only: Only = None, endpoint: EndpointName | None = None) -> int:
        """Stall the open connections' streams entirely (or those in *only*, on *endpoint*);
        returns how many.

        The half-open case :meth:`go_silent` does not reach: nothing is pushed, nothing is
        read or answered (no ``pong``), and on the real socket the TCP stream is not read
        either, so even WebSocket-level pings get no answer. What the client sends meanwhile
        is read (and answered) when :meth:`resume` ends the stall; an exchange close cannot
        get through either, but :meth:`drop_connections` still closes after a 1 s grace.

        Raises:
            TypeError, IndexError, ValueError: for a bad *only* (see :meth:`send_notice`).
        """
        sessions = self._select(only, endpoint)
        for session in sessions:
            session.record.blackholed = True
        self._changed_all()
        return len(sessions)

    def resume(self, *, only: Only = None, endpoint: EndpointName | None = None) -> None:
        """Undo :meth:`go_silent` and :meth:`blackhole`: pushes continue on their schedule,
        requests get answers.

        Without *only* or *endpoint* this ends every silence and stall, exchange-wide and per
        connection. With them, it ends those connections' own; an exchange-wide silence stays.

        Raises:
            TypeError, IndexError, ValueError: for a bad *only* (see :meth:`send_notice`).
        """
        if only is None and endpoint is None:
            self._venue.silent = False
        for session in self._select(only, endpoint):
            session.record.silent = False
            session.record.blackholed = False
        self._changed_all()

    def refuse_connections(self, n: int) -> None:
        """Make the next *n* connection attempts fail (replacing any earlier count).

        In memory the attempt raises ``ConnectionRefusedError``; the real-socket server
        rejects the handshake with HTTP 503.

        Raises:
            ValueError: if *n* is negative.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n!r}")
        self._refuse = n
        self._notify()

    def reject_instruments(self, *inst_ids: str, code: str = "60018") -> None:
        """Answer future subscribes of *inst_ids* (any channel) with a per-argument error
        *code*. Other arguments of the same request are acked normally. Existing
        subscriptions are not touched."""
        for inst_id in inst_ids:
            self._venue.rejected[inst_id] = code
        self._notify()

    def accept_instruments(self, *inst_ids: str) -> None:
        """Undo :meth:`reject_instruments` for *inst_ids*."""
        for inst_id in inst_ids:
            self._venue.rejected.pop(inst_id, None)
        self._notify()

    def reject_subscriptions(self, *subs: Subscription | str, code: str = "60018") -> None:
        """Answer future subscribes of exactly *subs* (``Subscription`` or ``"trades:BTC-USDT"``)
        with a per-argument error *code*; the instrument's other channels are served.

        Raises:
            ValueError: for a text that is not a subscription.
        """
        for item in subs:
            self._venue.rejected_subscriptions[_subscription(item)] = code
        self._notify()

    def accept_subscriptions(self, *subs: Subscription | str) -> None:
        """Undo :meth:`reject_subscriptions` for *subs*."""
        for item in subs:
            self._venue.rejected_subscriptions.pop(_subscription(item), None)
        self._notify()

    def ignore_requests(self, ignore: bool = True) -> None:
        """Keep pushing and ponging, but never answer (or act on) subscribe/unsubscribe.

        Ignored requests are still recorded; they change no subscription. Malformed requests
        still get error 60012.
        """
        self._venue.ignoring_requests = ignore
        self._notify()

    def send_notice(
        self,
        code: str = NOTICE_UPGRADE_CODE,
        msg: str = NOTICE_UPGRADE_MSG,
        *,
        only: Only = None,
        endpoint: EndpointName | None = None,
    ) -> None:
        """Send a ``notice`` event (default: 64008, service upgrade) to the open connections.

        A 64008 is followed by the close OKX makes about 60 s later (code 1001, see
        ``notice_close_after``).

        Raises:
            TypeError: if *only* is not an iterable, or holds something other than records
                and ints.
            IndexError: if an index in *only* is out of range for :attr:`connections`.
            ValueError: if a record in *only* is open but not a connection of this exchange.
        """
        for session in self._select(only, endpoint):
            session.notice(code, msg)
        self._notify()

    def send_raw(
        self, payload: str | bytes, *, only: Only = None, endpoint: EndpointName | None = None
    ) -> None:
        """Send *payload* to the open connections: ``str`` as a text frame, ``bytes`` as binary.

        Raises:
            TypeError: if *payload* is neither ``str`` nor ``bytes``.
            TypeError, IndexError, ValueError: for a bad *only* (see :meth:`send_notice`).
        """
        if not isinstance(payload, str | bytes):
            raise TypeError(f"payload must be str or bytes, not {type(payload).__name__}")
        for session in self._select(only, endpoint):
            session.send_nowait(payload)
        self._notify()

    def push(
        self, sub: Subscription | str, data: list[Any] | None = None, *, only: Only = None
    ) -> None:
        """Push *sub* (a :class:`Subscription` or its short form ``"trades:BTC-USDT"``) now, to
        every open connection subscribed to it; *data* replaces the market's data objects.

        Connections on which its instrument is frozen get nothing; a silent one still gets it.

        Raises:
            ValueError: for a *sub* text that is not a subscription.
            TypeError, IndexError, ValueError: for a bad *only* (see :meth:`send_notice`).
        """
        sub = _subscription(sub)
        for session in self._select(only, None):
            if sub in session.record.subscribed:
                session.push(sub, data)
        self._notify()

    def push_ticker(self, inst_id: str, *, only: Only = None) -> None:
        """``push(Subscription("tickers", inst_id), only=only)``.

        Raises:
            ValueError: for an *inst_id* that is not an instrument id (``BTC-USDT``).
            TypeError, IndexError, ValueError: for a bad *only* (see :meth:`send_notice`).
        """
        self.push(Subscription("tickers", inst_id), only=only)

    def freeze_instruments(self, *inst_ids: str, cured_by_resubscribe: bool = True) -> None:
        """Stop pushing *inst_ids* on every connection and channel, while they stay subscribed.

        The "frozen price" fault: subscribes are still acked and subscriptions do not
        change, but the subscriptions of *inst_ids* that exist now get no push, automatic
        or explicit, until :meth:`thaw_instruments`. Automatic pushes keep their schedule
        meanwhile, so a thaw resumes them on the same grid.

        By default the fault is per subscription, like a stuck server-side feed: a new
        subscribe of a frozen instrument (on a new connection, or after an unsubscribe on
        the same one) is served normally. A repeated subscribe without an unsubscribe
        changes nothing, so it cures nothing. With *cured_by_resubscribe* false, every
        subscription of *inst_ids*, now or later, stays frozen until the thaw.

        Raises:
            ValueError: if no instrument is named (:meth:`thaw_instruments` with none thaws
                all; freezing all is not offered).
        """
        if not inst_ids:
            raise ValueError("name at least one instrument to freeze")
        for inst_id in inst_ids:
            self._venue.frozen[inst_id] = cured_by_resubscribe
        for session in self._sessions:
            record = session.record
            subscribed = {s.inst_id for s in record.subscribed if s.inst_id is not None}
            record.frozen |= subscribed.intersection(inst_ids)
        self._notify()

    def thaw_instruments(self, *inst_ids: str) -> None:
        """Undo :meth:`freeze_instruments` for *inst_ids* (none: for every instrument).

        Automatic pushes resume at the next point of their schedule.
        """
        frozen = self._venue.frozen
        if not inst_ids:
            frozen.clear()
        for inst_id in inst_ids:
            frozen.pop(inst_id, None)
        for session in self._sessions:
            if inst_ids:
                session.record.frozen -= set(inst_ids)
            else:
                session.record.frozen.clear()
        self._notify()

    @property
    def frozen_instruments(self) -> frozenset[str]:
        """The instruments frozen and not thawed since.

        Whether a subscription is still frozen is per connection: ``FakeConnection.frozen``.
        """
        return frozenset(self._venue.frozen)

    def _select(self, only: Only, endpoint: EndpointName | None) -> list[ExchangeSession]:
        """The open sessions *only* names (on *endpoint*), oldest first, each once.

        Validates all of *only* before returning, so a fault with a bad *only* does nothing.
        """
        sessions = list(self._sessions)
        if endpoint is not None and endpoint not in ("public", "business", "private"):
            raise ValueError(
                f"endpoint must be 'public', 'business', 'private' or None, got {endpoint!r}"
            )
        chosen = sessions if only is None else _chosen(sessions, only)
        return [s for s in chosen if endpoint is None or s.record.endpoint == endpoint]


def _subscription(item: Subscription | str) -> Subscription:
    return Subscription.parse(item) if isinstance(item, str) else item


def _chosen(sessions: list[ExchangeSession], only: Iterable[Any]) -> list[ExchangeSession]:
    if isinstance(only, FakeConnection | int | str | bytes):
        raise TypeError(
            "only must be an iterable of FakeConnection records or indices into "
            f"connections, not {type(only).__name__}"
        )
    by_record = {session.record: session for session in sessions}
    chosen: set[ExchangeSession] = set()
    for item in only:
        if isinstance(item, FakeConnection):
            session = by_record.get(item)
            if session is not None:
                chosen.add(session)
            elif item.closed_at is None:
                raise ValueError(f"{item!r} is not a connection of this exchange")
        elif isinstance(item, int) and not isinstance(item, bool):
            try:
                chosen.add(sessions[item])
            except IndexError:
                raise IndexError(f"no connection at index {item}: {len(sessions)} open") from None
        else:
            raise TypeError(
                f"only must hold FakeConnection records or ints, not {type(item).__name__}"
            )
    return [session for session in sessions if session in chosen]
