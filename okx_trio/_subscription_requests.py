"""The requests a :class:`~okx_trio._subscriptions.SubscriptionBook` puts on the wire, what an
error meant to it, and the split of a burst into requests under OKX's size limit (sans-IO)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar

from ._codec import Op, encode_request, request_size
from ._subscription import Subscription

__all__ = ["ENVELOPE", "ErrorOutcome", "K", "OnServer", "Request", "batches_by_size"]

#: Bytes of a request around its arguments (with the longest id OKX takes).
ENVELOPE: Final = len(encode_request("unsubscribe", [], "")) + 32
#: What the book is keyed by: a Subscription, or a tickers instrument id.
K = TypeVar("K", str, Subscription)


class OnServer(enum.Enum):
    """Where one argument stands on the server of the current connection."""

    SUBSCRIBING = "subscribing"
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBING = "unsubscribing"


@dataclass(eq=False)
class Request(Generic[K]):
    """One request on the wire. ``waiting`` holds the arguments not yet acked or refused.

    ``inst_ids`` are its arguments, in request order: instrument ids or Subscriptions, as
    the book is keyed.
    """

    req_id: str
    op: Op
    inst_ids: tuple[K, ...]
    sent_at: float
    text: str
    waiting: set[K] = field(default_factory=set)


@dataclass(frozen=True)
class ErrorOutcome(Generic[K]):
    """What an error event meant to the book.

    ``rejected`` maps each pair dropped from the desired set to the server's reason.
    ``request`` is the request the error belongs to, if any. ``handled`` is False when the
    book could not act on it: the caller decides (log it, or give up the connection).
    """

    rejected: Mapping[K, str]
    request: Request[K] | None
    handled: bool


def batches_by_size(items: list[K], max_request_bytes: int) -> list[list[K]]:
    """*items* in order, cut into as few requests as fit in *max_request_bytes* each (one
    item alone always makes a request, however long)."""
    batches: list[list[K]] = []
    batch: list[K] = []
    size = ENVELOPE
    for item in items:
        cost = request_size(item)
        if batch and size + cost > max_request_bytes:
            batches.append(batch)
            batch, size = [], ENVELOPE
        batch.append(item)
        size += cost
    if batch:
        batches.append(batch)
    return batches
