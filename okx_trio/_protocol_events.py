"""What one connection's protocol object reports: typed, frozen events.

:meth:`OkxProtocol.receive <okx_trio._protocol.OkxProtocol.receive>` and ``poll`` return
these; the per-message one, :class:`Records`, is a msgspec Struct (one is made per push).
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from ._decoders import Record
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


class Records(msgspec.Struct, frozen=True, gc=False):
    """Records of one subscription, to be delivered (the per-message event: kept small)."""

    sub: Subscription
    records: tuple[Record, ...]


@dataclass(frozen=True, slots=True)
class SubscriptionsChanged:
    """An ack or a refusal moved the subscription book (waiters may want to look)."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """OKX refused *sub* for good (unknown instrument, wrong endpoint, ...): ``reason``."""

    sub: Subscription
    reason: str


@dataclass(frozen=True, slots=True)
class UpgradeAnnounced:
    """Notice 64008: OKX will close this connection for a service upgrade."""

    code: str
    msg: str


@dataclass(frozen=True, slots=True)
class ServerNotice:
    """Any other ``notice`` event."""

    code: str
    msg: str


@dataclass(frozen=True, slots=True)
class ServerError:
    """An error event that concerns no subscription: worth a line in the log and stats."""

    description: str


@dataclass(frozen=True, slots=True)
class Garbage:
    """A message that is not OKX's protocol (counted in ``bad_messages``)."""

    reason: str
    raw: str | bytes


@dataclass(frozen=True, slots=True)
class StaleResubscribed:
    """Subscriptions silent for their stale age, resubscribed on this connection."""

    subs: tuple[Subscription, ...]
    age: float


@dataclass(frozen=True, slots=True)
class BudgetSpent:
    """The hourly request budget is spent; requests wait until ``until``."""

    limit: int
    until: float


@dataclass(frozen=True, slots=True)
class BecameStable:
    """Subscribed and receiving for ``stable_after``: the retry count may reset."""


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """This connection is of no further use: end it. ``fatal``: do not retry at all."""

    reason: str
    fatal: bool = False
    heartbeat_miss: bool = False




@dataclass(frozen=True, slots=True)
class BookInvalid:
    """The order book of *sub* cannot be trusted from here on (its consumers get a ``Gap``).

    *reason* is an :class:`~okx_trio._book_seq.InvalidReason` value (``"gap"``,
    ``"crossed"``, ...); *detail* says what broke; *retry_in* is how long until the book is
    resubscribed (0: at once), None when nothing is scheduled here (the connection ended).
    """

    sub: Subscription
    reason: str
    detail: str
    retry_in: float | None


@dataclass(frozen=True, slots=True)
class BookSeedWanted:
    """The book of *sub* got updates without a snapshot: fetch OKX's REST snapshot of
    *depth* levels and hand it to :meth:`OkxProtocol.rest_book`."""

    sub: Subscription
    depth: int


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """OKX accepted this connection's login; what needs it is being subscribed now."""


@dataclass(frozen=True, slots=True)
class LoginClockRefused:
    """OKX refused the login's timestamp (*description* quotes it): measure the clock
    offset from OKX's time endpoint, then call :meth:`OkxProtocol.clock_measured`."""

    description: str


@dataclass(frozen=True, slots=True)
class PrivateSnapshotDropped:
    """A paginated private snapshot could not be assembled (*description* says which and
    why); its consumers have no snapshot until OKX's next regular one."""

    description: str


ProtocolEvent = (
    Records
    | SubscriptionsChanged
    | Rejected
    | UpgradeAnnounced
    | ServerNotice
    | ServerError
    | Garbage
    | StaleResubscribed
    | BudgetSpent
    | BecameStable
    | ConnectionFailed
    | BookInvalid
    | BookSeedWanted
    | LoggedIn
    | LoginClockRefused
    | PrivateSnapshotDropped
)
