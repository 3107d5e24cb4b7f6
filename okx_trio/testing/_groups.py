"""Keeping nurseries an implementation detail of the public context managers."""

from __future__ import annotations

from typing import NoReturn

import trio

__all__ = ["raise_single"]


def raise_single(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Re-raise what *group* means: its only real exception, or the group if it holds several.

    Our context managers yield inside a nursery, so with strict exception groups the user's
    own exception would come back wrapped, often next to a ``Cancelled`` from our server
    task when an outer scope is cancelled at the same time. ``Cancelled`` next to a real
    exception is dropped (Trio re-delivers cancellation at the next checkpoint, so nothing
    is lost); a group of one says nothing more than its member; several real exceptions
    are never unwrapped.
    """
    real = group.subgroup(lambda exc: not isinstance(exc, trio.Cancelled))
    chosen = group if real is None else real
    if len(chosen.exceptions) != 1:
        raise chosen
    exc = chosen.exceptions[0]
    # Raise without chaining the group in as __context__: it contains exc itself.
    context = exc.__context__
    try:
        raise exc
    finally:
        exc.__context__ = context
        del exc, context
