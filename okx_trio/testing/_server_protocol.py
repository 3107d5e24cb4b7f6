"""One connection of the fake exchange as a sans-IO protocol object (h11 style).

:class:`FakeServerProtocol` holds a connection's state (its endpoint, subscriptions and their
push schedules, request budget, pending closes) and decides every reply; it never touches
Trio, a socket or a clock: the caller passes ``now``. The Trio ``ExchangeSession`` drives it
over a transport; a unit test can drive it with plain strings and numbers, or pair it with
a client's sans-IO protocol. What it needs from the exchange (shared state: the market,
faults, the listing, limits, records) is the small :class:`Host` protocol.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from .._okx import BUSINESS_PATH, IDLE_CLOSE_CODE, PUBLIC_PATH
from .._subscription import Subscription
from ._account_registry import Accounts
from ._book_stream import BOOK_FAULT_CHANNELS, BookFaults
from ._channel_data import Cursor
from ._fidelity import IDLE_CLOSE_REASON, NOTICE_CLOSE_CODE, NOTICE_CLOSE_REASON, Fidelity
from ._limits import REQUEST_WINDOW, admit_into_window
from ._login import login_object, masked_login_text, well_formed
from ._private_channels import PrivateChannels
from ._protocol import (
    ILLEGAL_CODE,
    LOGIN_CODE,
    NOTICE_UPGRADE_CODE,
    PONG,
    TOO_FREQUENT_CODE,
    TOO_FREQUENT_MSG,
    Arg,
    IllegalRequest,
    Ping,
    Request,
    describe_arg,
    encode_ack,
    encode_error,
    encode_notice,
    encode_push,
    message_text,
    parse_request,
)
from ._records import FakeConnection, RecordedRequest, RequestOp

__all__ = ["FakeServerProtocol", "Host", "error_text"]

_MSG_60018: Final = (
    "Wrong URL or channel:{arg} doesn't exist. "
    "Please use the correct URL, channel and parameters referring to API document."
)
_MESSAGES: Final = {
    "64001": f"channel:{{arg}}: this channel is served on {BUSINESS_PATH}; please use that URL.",
    "64002": f"channel:{{arg}}: this channel is not served on {BUSINESS_PATH}; "
    f"please use {PUBLIC_PATH} or the private URL.",
    LOGIN_CODE: "Please log in",
    "64000": "Parameter uly is no longer supported, please use instFamily instead.",
    "64003": "channel:{arg}: your trading fee tier doesn't meet the requirement for this channel.",
}


def error_text(code: str, raw: dict[str, str] | Any) -> str:
    """OKX's ``msg`` for a per-argument error *code* about the arg *raw*."""
    template = _MESSAGES.get(code, _MSG_60018)
    return template.format(arg=describe_arg(raw))


class Host(Protocol):
    """What a connection needs from its exchange (state shared by all connections)."""

    @property
    def fidelity(self) -> Fidelity: ...

    @property
    def silent(self) -> bool: ...

    @property
    def ignoring_requests(self) -> bool: ...

    @property
    def max_requests_per_hour(self) -> int | None: ...

    def refusal(self, sub: Subscription) -> str | None:
        """The error code a subscribe of *sub* gets (rejected, unlisted), or None."""
        ...

    def frozen_for_new_subscriptions(self, inst_id: str) -> bool: ...

    def cadence(self, sub: Subscription) -> float | None:
        """Seconds between automatic pushes of *sub* (inf: the first only; None: none)."""
        ...

    def render(self, sub: Subscription, cursor: Cursor, now: float) -> list[str]:
        """The push messages of *sub* now (advancing *cursor*)."""
        ...

    def request_recorded(self, record: FakeConnection, request: RecordedRequest) -> None: ...

    def pushed(self, record: FakeConnection, sub: Subscription, now: float, count: int) -> None: ...

    def request_refused(self) -> None: ...


@dataclass(slots=True)
class _Schedule:
    start: float
    interval: float | None
    done: int = 0
    cursor: Cursor = field(default_factory=Cursor)

    @property
    def due(self) -> float:
        if self.interval is None:
            return math.inf
        if self.done == 0:
            return self.start
        return self.start + self.done * self.interval


class FakeServerProtocol:
    """The server's side of one OKX connection, without I/O (see the module docstring).

    Args:
        host: The exchange's shared state.
        record: The connection's record (``endpoint`` says which URL path it serves).
        now: When the connection opened (starts the idle clock).
        accounts: The exchange's accounts, for the ``login`` op and private channels
            (None: no account exists, so every login fails).
    """

    def __init__(
        self, host: Host, record: FakeConnection, now: float, accounts: Accounts | None = None
    ) -> None:
        self.record = record
        self._host = host
        self._schedule: dict[Subscription, _Schedule] = {}
        self._book_faults: dict[Subscription, BookFaults] = {}
        self._request_times: deque[float] = deque()
        self._last_inbound = now
        self._notice_close_at = math.inf
        self.private = PrivateChannels(accounts, self.conn_id, record.conn_id, self._error)

    @property
    def conn_id(self) -> str | None:
        """The ``connId`` OKX writes in this connection's events (None: the 2022 style)."""
        return self.record.conn_id if self._host.fidelity.conn_id else None

    @property
    def silent(self) -> bool:
        """Whether this connection neither pushes nor answers (exchange-wide or singled out)."""
        return self._host.silent or self.record.silent

    # -- input ------------------------------------------------------------------------------

    def receive(self, message: str | bytes, now: float) -> list[str]:
        """Handle one client frame; returns the replies to send, in order. Never raises."""
        host = self._host
        self._last_inbound = now
        login = login_object(message)
        if login is not None:
            return self._login(login, now)
        parsed = parse_request(message)
        host.request_recorded(self.record, _recorded(parsed, message, self.record.conn_id, now))
        if self.silent:
            return []  # half-open: the request arrived, nobody answers
        if isinstance(parsed, Ping):
            return [PONG]
        if isinstance(parsed, IllegalRequest):
            return [self._error(ILLEGAL_CODE, f"Illegal request: {parsed.text}", None)]
        if host.ignoring_requests:
            return []  # lost on the way: not answered, not applied, not counted
        if not admit_into_window(
            self._request_times, now, REQUEST_WINDOW, host.max_requests_per_hour
        ):
            # One error for the whole request, and none of its arguments is applied.
            host.request_refused()
            return [self._error(TOO_FREQUENT_CODE, TOO_FREQUENT_MSG, parsed.id)]
        out: list[str] = []
        for arg in parsed.args:
            out.extend(self._answer(parsed, arg, now))
        return out

    def _login(self, login: dict[str, Any], now: float) -> list[str]:
        # Recorded masked: a login request holds the passphrase and a signature.
        raw = masked_login_text(login)
        req_id = login.get("id") if isinstance(login.get("id"), str) else None
        op: RequestOp = "login" if well_formed(login) else "invalid"
        request = RecordedRequest(
            now, self.record.conn_id, op, None if op == "invalid" else req_id, (), raw
        )
        host = self._host
        host.request_recorded(self.record, request)
        if self.silent or host.ignoring_requests:
            return []
        # Login counts against the same per-connection budget as subscribe/unsubscribe.
        if not admit_into_window(
            self._request_times, now, REQUEST_WINDOW, host.max_requests_per_hour
        ):
            host.request_refused()
            return [self._error(TOO_FREQUENT_CODE, TOO_FREQUENT_MSG, req_id)]
        replies = self.private.login(login, now)
        if self.private.logged_in:
            self.record.api_key = self.private.accounts[0].api_key
        return replies

    def _error(self, code: str, msg: str, req_id: str | None) -> str:
        fidelity = self._host.fidelity
        return encode_error(code, msg, req_id, self.conn_id, msg_first=fidelity.msg_before_code)

    def _answer(self, request: Request, arg: Arg, now: float) -> list[str]:
        sub = arg.subscription
        if sub is None:
            return [self._error(arg.code, error_text(arg.code, arg.raw), request.id)]
        ack = encode_ack(request.op, arg.raw, request.id, self.conn_id)
        if request.op == "unsubscribe":
            # OKX acks an unsubscribe of something not subscribed, too.
            self._unsubscribe(sub)
            return [ack]
        code = self._refusal(sub)
        if code is not None:
            return [self._error(code, error_text(code, arg.raw), request.id)]
        if sub.endpoint == "private":
            replies = self.private.subscribe(sub, dict(arg.raw), ack)
            if self.private.subscribed(sub):
                self.record.subscribed.add(sub)
            return replies
        if sub in self.record.subscribed:
            return [ack]  # a repeated subscribe is acked again, not subscribed twice
        self._subscribe(sub, now)
        if self._host.fidelity.data_before_ack and self._schedule[sub].interval is not None:
            return [*self._auto_push(sub, self._schedule[sub], now), ack]
        # Otherwise the first push is due now: pushes_due(now) sends it after this ack.
        return [ack]

    def _refusal(self, sub: Subscription) -> str | None:
        endpoint = self.record.endpoint
        if sub.spec.login and not self.private.logged_in:
            return LOGIN_CODE  # login first (private channels, books-l2-tbt, ...)
        if (sub.endpoint == "private") != (endpoint == "private"):
            return "60018"  # a private channel elsewhere, or a market channel on /private
        if sub.endpoint == "business" and endpoint != "business":
            return "64001"
        if sub.endpoint != "business" and endpoint == "business":
            return "64002"
        if sub.endpoint == "private":
            return None
        return self._host.refusal(sub)

    def _subscribe(self, sub: Subscription, now: float) -> None:
        record = self.record
        record.subscribed.add(sub)
        # A new subscription starts healthy, unless the freeze outlives resubscribing.
        if sub.inst_id is not None and self._host.frozen_for_new_subscriptions(sub.inst_id):
            record.frozen.add(sub.inst_id)
        cursor = Cursor()
        if sub.channel in BOOK_FAULT_CHANNELS:
            cursor.book_faults = self.book_faults(sub)
        self._schedule[sub] = _Schedule(now, self._host.cadence(sub), cursor=cursor)

    def _unsubscribe(self, sub: Subscription) -> None:
        self.private.unsubscribe(sub)
        record = self.record
        record.subscribed.discard(sub)
        self._schedule.pop(sub, None)
        if sub.inst_id is not None and not any(s.inst_id == sub.inst_id for s in record.subscribed):
            record.frozen.discard(sub.inst_id)

    def book_faults(self, sub: Subscription) -> BookFaults:
        """The faults pending for book subscription *sub* on this connection (made on first
        use; they outlive unsubscribing, so a fault can wait for the next subscribe)."""
        faults = self._book_faults.get(sub)
        if faults is None:
            faults = self._book_faults[sub] = BookFaults()
        return faults

    # -- output the exchange asks for -------------------------------------------------------

    def push(self, sub: Subscription, now: float, data: list[Any] | None = None) -> list[str]:
        """One explicit push of *sub* (subscribed or not; a silent connection still gets it).

        *data* replaces the market's data objects. Nothing if *sub*'s instrument is frozen here.
        """
        if sub.inst_id is not None and sub.inst_id in self.record.frozen:
            return []
        if data is not None:
            messages = [encode_push(sub.arg, data)]
        else:
            schedule = self._schedule.get(sub)
            cursor = schedule.cursor if schedule is not None else Cursor()
            messages = self._host.render(sub, cursor, now)
        self._count(sub, now, len(messages))
        return messages

    def notice(self, code: str, msg: str, now: float) -> str:
        """A ``notice`` event; a 64008 also schedules the close OKX makes after it."""
        after = self._host.fidelity.notice_close_after
        if code == NOTICE_UPGRADE_CODE and after is not None:
            self._notice_close_at = min(self._notice_close_at, now + after)
        return encode_notice(code, msg, self.conn_id)

    def pushes_due(self, now: float) -> list[str]:
        """The automatic pushes due by *now*, in subscription order (advancing schedules)."""
        out: list[str] = [] if self.silent or self.record.blackholed else self.private.drain()
        for sub, schedule in list(self._schedule.items()):
            if schedule.due > now:
                continue
            interval = schedule.interval
            if interval is not None and schedule.done > 0:
                # A driver that woke late (real time, a loaded machine) sends one push, the
                # current one, as an exchange would: replaying every missed push at once
                # would only make it later still.
                missed = math.floor((now - schedule.due) / interval)
                schedule.done += max(0, missed)
            out.extend(self._auto_push(sub, schedule, now))
        return out

    def _auto_push(self, sub: Subscription, schedule: _Schedule, now: float) -> list[str]:
        schedule.done += 1
        record = self.record
        if self.silent or record.blackholed:
            return []
        if sub.inst_id is not None and sub.inst_id in record.frozen:
            return []
        messages = self._host.render(sub, schedule.cursor, now)
        self._count(sub, now, len(messages))
        return messages

    def _count(self, sub: Subscription, now: float, count: int) -> None:
        if count:
            record = self.record
            record.pushes += count
            record.last_push_of[sub] = now
            if sub.channel == "tickers" and sub.inst_id is not None:
                record.last_push_at[sub.inst_id] = now
            self._host.pushed(record, sub, now, count)

    def close_due(self, now: float) -> tuple[int, str] | None:
        """The close the exchange makes now, as ``(code, reason)``, or None.

        4004 for a connection idle past ``Fidelity.idle_timeout`` with nothing subscribed;
        the upgrade close ``Fidelity.notice_close_after`` seconds after a 64008. A stalled
        (blackholed) connection closes nothing: nothing gets through it.
        """
        if self.record.blackholed or self.record.closed_at is not None:
            return None
        if now >= self._notice_close_at:
            return (NOTICE_CLOSE_CODE, NOTICE_CLOSE_REASON)
        if now >= self._idle_deadline():
            return (IDLE_CLOSE_CODE, IDLE_CLOSE_REASON)
        return None

    def _idle_deadline(self) -> float:
        idle = self._host.fidelity.idle_timeout
        if idle is None or self.record.subscribed:
            return math.inf
        return self._last_inbound + idle

    def next_deadline(self) -> float:
        """When :meth:`pushes_due` or :meth:`close_due` next has something (inf: never)."""
        due = min((s.due for s in self._schedule.values()), default=math.inf)
        if self.private.pending and not (self.silent or self.record.blackholed):
            due = -math.inf  # account events wait to go out
        if self.record.blackholed:
            return due  # no close can happen on a stalled stream (see close_due)
        return min(due, self._notice_close_at, self._idle_deadline())

    def connection_lost(self) -> None:
        """The connection is gone: nothing more is scheduled."""
        self._schedule.clear()
        self._notice_close_at = math.inf
        self.private.lost()


def _recorded(
    parsed: Ping | Request | IllegalRequest, message: str | bytes, conn_id: str, now: float
) -> RecordedRequest:
    raw = message_text(message)
    if isinstance(parsed, Ping):
        return RecordedRequest(now, conn_id, "ping", None, (), raw)
    if isinstance(parsed, IllegalRequest):
        return RecordedRequest(now, conn_id, "invalid", None, (), raw)
    inst_ids = tuple(arg.inst_id for arg in parsed.args if arg.inst_id is not None)
    subs = tuple(arg.subscription for arg in parsed.args if arg.subscription is not None)
    return RecordedRequest(now, conn_id, parsed.op, parsed.id, inst_ids, raw, subs)
