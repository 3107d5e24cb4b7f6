"""The events the codec (:mod:`okx_trio._codec`) makes of OKX's messages, but the per-push
ones (:class:`~okx_trio._codec.TickerPush`, :class:`~okx_trio._codec.DataPush`): acks,
errors, notices, pongs, login answers, connection counts, and what is not a message at all.
Plain frozen values (sans-IO).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from ._subscription import ArgKeyTuple

__all__ = [
    "CHANNEL",
    "Ack",
    "BadMessage",
    "ChannelConnCount",
    "ErrorEvent",
    "LoginAnswer",
    "Notice",
    "Op",
    "OtherEvent",
    "Pong",
]

#: The channel an ack names when it names none (OKX's tickers, the first channel spoken).
CHANNEL: Final = "tickers"

Op = Literal["subscribe", "unsubscribe"]


@dataclass(frozen=True, slots=True)
class Ack:
    """The server accepted one argument of a subscribe or unsubscribe request.

    ``inst_id`` is None for channels not keyed by instrument (``instruments``, ...).
    """

    op: Op
    inst_id: str | None
    req_id: str | None
    channel: str = CHANNEL
    inst_type: str | None = None
    inst_family: str | None = None
    ccy: str | None = None

    @property
    def arg_key(self) -> ArgKeyTuple:
        return (self.channel, self.inst_type, self.inst_family, self.inst_id, self.ccy)


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """An ``error`` event. ``inst_id`` is recovered from the message text when OKX names it.

    ``arg_key`` is the argument the error is about when the event carries an ``arg`` or its
    text names the channel and instrument (``channel:trades,instId:FOO-BAR``); None when
    only the request ``id`` can tell.
    """

    code: str
    msg: str
    req_id: str | None
    inst_id: str | None
    arg_key: ArgKeyTuple | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Notice:
    """A ``notice`` event, e.g. code ``64008``: the connection closes soon for an upgrade."""

    code: str
    msg: str


@dataclass(frozen=True, slots=True)
class Pong:
    """The answer to our ``ping``."""


@dataclass(frozen=True, slots=True)
class OtherEvent:
    """A well-formed event we do not act on (``login``, ``channel-conn-count``, other channels'
    acks); the receiver counts it and moves on."""

    event: str
    raw: str


@dataclass(frozen=True, slots=True)
class ChannelConnCount:
    """OKX's count of connections subscribed to a private channel (``channel-conn-count``);
    ``error`` True: over OKX's limit, the subscription on this connection was ended."""

    channel: str
    count: str
    error: bool


@dataclass(frozen=True, slots=True)
class LoginAnswer:
    """OKX's ``login`` event: ``code`` ``"0"`` is success (a refusal comes as an ``error``)."""

    code: str
    msg: str


@dataclass(frozen=True, slots=True)
class BadMessage:
    """Something that is not a message of this protocol; ``reason`` says what was wrong."""

    reason: str
    raw: str | bytes
