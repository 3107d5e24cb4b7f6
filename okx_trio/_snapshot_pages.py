"""Joining the pages of a private snapshot push into one (sans-IO, no Trio, no clock).

OKX splits a big ``account`` or ``positions`` snapshot over several pushes: top-level
``curPage`` 1, 2, ... and ``lastPage`` (true on the last); ``event_update`` pushes carry
neither. A consumer that applies "a snapshot replaces what I hold" must see the whole
snapshot at once, never page 1 alone, so :class:`SnapshotPages` holds the pages of each
subscription (by its ``arg``) until the last one and then hands over one push whose
``data`` is every page's data in page order (``curPage`` 1, ``lastPage`` true).

Rules for an interrupted sequence:

- a new page 1 restarts: the partial snapshot is dropped (reported; the updates it held
  back are handed over) and the new one begun;
- a page out of order (a page missing, repeated, or a first page numbered above 1) drops
  the partial snapshot and that page, and says so; the next page 1 starts afresh;
- a partial snapshot whose next page does not come within *max_wait* seconds is dropped
  by :meth:`SnapshotPages.expire` (the caller passes ``now``; :meth:`next_deadline` says
  when to call it); :meth:`SnapshotPages.reset` drops everything (connection lost).

An ``event_update`` of a subscription whose snapshot is being assembled is held back and
handed over right after the assembled snapshot (or when the partial one is dropped): OKX
computed the snapshot before the event, so applying the event first would let the older
snapshot overwrite it. Pushes of other subscriptions pass straight through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

from ._push_values import PushError, show
from ._subscription import arg_key_of

__all__ = ["PAGINATED_CHANNELS", "Assembled", "PagesDropped", "SnapshotPages"]

#: The channels whose snapshots OKX paginates with ``curPage``/``lastPage``.
PAGINATED_CHANNELS: Final = frozenset({"account", "positions"})

Push = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PagesDropped:
    """A partial snapshot that was dropped, and why.

    ``channel``; ``arg``: the push's ``arg`` (without ``uid``); ``pages``: how many pages
    had arrived; ``reason``: a sentence for logs and stats (``"page 3 arrived after page
    1: page 2 is missing"``, ``"restarted by a new page 1"``, ``"no page 3 within 10 s"``,
    ``"connection lost"``).
    """

    channel: str
    arg: dict[str, str]
    pages: int
    reason: str


@dataclass(frozen=True, slots=True)
class Assembled:
    """What :meth:`SnapshotPages.feed` hands over: ``pushes`` to decode and deliver now, in
    order (an assembled snapshot, held-back updates, or the push fed itself), and the
    partial snapshots ``dropped`` on the way (report each one: a consumer then lacks a
    snapshot until OKX's next regular one)."""

    pushes: tuple[Push, ...] = ()
    dropped: tuple[PagesDropped, ...] = ()


@dataclass(slots=True)
class _Partial:
    arg: dict[str, str]
    deadline: float
    pages: list[Push] = field(default_factory=list)
    held: list[Push] = field(default_factory=list)


def _arg_shown(arg: Any) -> dict[str, str]:
    if not isinstance(arg, dict):
        return {}
    return {k: v for k, v in arg.items() if k != "uid" and isinstance(v, str)}


def _page_of(push: Push) -> tuple[int, bool] | None:
    """``(curPage, lastPage)``, or None for a push that is not a page."""
    cur, last = push.get("curPage"), push.get("lastPage")
    if cur is None and last is None:
        return None
    if type(cur) is not int or cur < 1:
        raise PushError(f"curPage: {show(cur)} is not a page number (an integer >= 1)")
    if type(last) is not bool:
        raise PushError(f"lastPage: {show(last)} is not a JSON boolean")
    return cur, last


class SnapshotPages:
    """Assembles paginated snapshot pushes, per subscription (see the module docstring).

    Args:
        max_wait: Seconds a partial snapshot may wait for its next page before
            :meth:`expire` drops it (OKX sends the pages back to back).

    Raises:
        ValueError: *max_wait* is not a positive number.
    """

    def __init__(self, max_wait: float = 10.0) -> None:
        if not (isinstance(max_wait, int | float) and 0 < max_wait < math.inf):
            raise ValueError(f"max_wait must be a positive number of seconds, got {max_wait!r}")
        self._max_wait = float(max_wait)
        self._partial: dict[tuple[Any, ...], _Partial] = {}

    @property
    def pending(self) -> int:
        """How many snapshots are partly assembled now."""
        return len(self._partial)

    def feed(self, push: Push, now: float) -> Assembled:
        """Take one parsed push of a private channel; what to deliver now.

        A push of a channel that is not paginated, or that is no page (no ``curPage`` nor
        ``lastPage``), passes through (held back only while its subscription's snapshot is
        being assembled). A single page (``curPage`` 1, ``lastPage`` true) passes through.

        Raises:
            PushError: naming the field, for a ``curPage`` that is not an integer >= 1 or a
                ``lastPage`` that is not a boolean (nothing is changed then), or a push
                whose ``arg`` names no channel, or a page whose ``data`` is not an array.
        """
        arg = push.get("arg")
        key = arg_key_of(arg) if isinstance(arg, dict) else None
        if key is None:
            raise PushError(f"arg: {show(arg)} is not an object naming a channel")
        channel = key[0]
        if channel not in PAGINATED_CHANNELS:
            return Assembled((push,))
        try:
            page = _page_of(push)
        except PushError as exc:
            raise PushError(f"{channel}: {exc}") from None
        partial = self._partial.get(key)
        if page is None:
            if partial is not None:
                partial.held.append(push)
                return Assembled()
            return Assembled((push,))
        if type(push.get("data")) is not list:
            raise PushError(f"{channel}: data: {show(push.get('data'))} is not an array")
        number, last = page
        if number == 1:
            restarted = (
                self._release(key, "restarted by a new page 1", extra_page=False)
                if partial is not None
                else Assembled()
            )
            if last:
                return Assembled((*restarted.pushes, push), restarted.dropped)
            self._partial[key] = _Partial(_arg_shown(arg), now + self._max_wait, [push])
            return restarted
        if partial is None:
            return Assembled(
                (),
                (PagesDropped(channel, _arg_shown(arg), 1, f"page {number} without page 1"),),
            )
        expected = len(partial.pages) + 1
        if number != expected:
            after = len(partial.pages)
            why = (
                f"page {number} arrived after page {after}: page {expected} is missing"
                if number > expected
                else f"page {number} arrived again after page {after}"
            )
            return self._release(key, why, extra_page=True)
        partial.pages.append(push)
        partial.deadline = now + self._max_wait
        if not last:
            return Assembled()
        del self._partial[key]
        return Assembled((_joined(partial.pages), *partial.held))

    def expire(self, now: float) -> Assembled:
        """Drop the partial snapshots whose next page is overdue at *now*; hand over the
        updates they held back."""
        pushes: list[Push] = []
        dropped: list[PagesDropped] = []
        for key, partial in list(self._partial.items()):
            if now >= partial.deadline:
                out = self._release(
                    key,
                    f"no page {len(partial.pages) + 1} within {self._max_wait:g} s",
                    extra_page=False,
                )
                pushes.extend(out.pushes)
                dropped.extend(out.dropped)
        return Assembled(tuple(pushes), tuple(dropped))

    def next_deadline(self) -> float:
        """When :meth:`expire` next has something to drop (inf: nothing pending)."""
        return min((p.deadline for p in self._partial.values()), default=math.inf)

    def reset(self) -> tuple[PagesDropped, ...]:
        """Forget every partial snapshot (the connection is gone); what was dropped. The
        held-back updates are dropped with them: the next connection starts with a new
        snapshot."""
        dropped = tuple(
            PagesDropped(key[0], p.arg, len(p.pages), "connection lost")
            for key, p in self._partial.items()
        )
        self._partial.clear()
        return dropped

    def _release(self, key: tuple[Any, ...], reason: str, *, extra_page: bool) -> Assembled:
        partial = self._partial[key]
        count = len(partial.pages) + (1 if extra_page else 0)
        del self._partial[key]
        return Assembled(tuple(partial.held), (PagesDropped(key[0], partial.arg, count, reason),))


def _joined(pages: list[Push]) -> Push:
    """One push of *pages*: the first page's fields, every page's data, ``lastPage`` true."""
    data: list[Any] = []
    for page in pages:
        data.extend(page["data"])  # each page's data was checked to be a list by feed()
    return {**pages[0], "curPage": 1, "lastPage": True, "data": data}
