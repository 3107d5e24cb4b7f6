"""``Subscription``: one channel argument, validated against OKX's channel table when made.

Sans-IO and immutable. A subscription is what the user asks for and what OKX echoes back
(``arg`` in acks, errors and pushes); the client keys everything by it, so an ack of
``trades:BTC-USDT`` is never mistaken for one of ``tickers:BTC-USDT``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from ._okx import CHANNELS, ArgKey, ChannelSpec, Endpoint, channel_spec

__all__ = ["ArgKeyTuple", "Subscription", "arg_key_of", "sort_key"]

ArgKeyTuple = tuple[str, str | None, str | None, str | None, str | None]

# Instrument ids: spot BTC-USDT, swap BTC-USDT-SWAP, futures BTC-USD-220527, options
# BTC-USD-241013-70000-P (strikes may carry a decimal point), indexes BTC-USD.
_INST_ID: Final = re.compile(r"[A-Z0-9]{1,20}(?:-[A-Z0-9.]{1,20}){1,4}")
_INST_FAMILY: Final = re.compile(r"[A-Z0-9]{1,20}-[A-Z0-9]{1,20}")
_CCY: Final = re.compile(r"[A-Z0-9]{1,20}")
_PATTERNS: Final[Mapping[ArgKey, tuple[re.Pattern[str], str]]] = {
    "inst_id": (_INST_ID, "like BTC-USDT, BTC-USDT-SWAP or BTC-USD-241013-70000-P"),
    "inst_family": (_INST_FAMILY, "like BTC-USD"),
    "ccy": (_CCY, "like BTC"),
    "inst_type": (re.compile(r"[A-Z]{1,10}"), "like SPOT or SWAP"),
}
# OKX's key names, in the order OKX writes an arg.
_OKX_KEYS: Final[tuple[tuple[ArgKey, str], ...]] = (
    ("inst_type", "instType"),
    ("inst_family", "instFamily"),
    ("inst_id", "instId"),
    ("ccy", "ccy"),
)
_FROM_OKX: Final = {okx: ours for ours, okx in _OKX_KEYS}
# Keys OKX adds to an echoed arg that do not tell subscriptions apart.
_ECHO_ONLY: Final = frozenset({"uid", "extraParams"})


# Channels whose one argument is an instId (required or optional, no other choice needed).
_BY_INST_ID_ONLY: Final = frozenset(
    name
    for name, spec in CHANNELS.items()
    if not spec.one_of
    and spec.required <= {"inst_id"}
    and "inst_id" in spec.required | spec.optional
)


class Subscription(tuple):  # type: ignore[type-arg]
    """One OKX channel argument: ``Subscription("trades", "BTC-USDT")``.

    ``Subscription(channel, inst_id=None, *, inst_type=None, inst_family=None, ccy=None)``.
    Frozen, hashable, compared by value. ``endpoint`` is ``"public"``, ``"business"`` or
    ``"private"`` from the channel table; ``str()`` is the arg as OKX writes it
    (``{"channel":"trades","instId":"BTC-USDT"}``); :meth:`parse` reads the short form
    ``trades:BTC-USDT`` (and ``instruments:SPOT``, ``opt-summary:BTC-USD``).

    It is a tuple underneath, ``(channel, inst_type, inst_family, inst_id, ccy)`` (its
    :attr:`arg_key`), so hashing and comparing cost what a tuple's do (the client keys every
    per-message lookup by it); it therefore also equals that plain tuple.

    Raises:
        ValueError: naming the channel and the argument, for an unknown channel, an
            argument the channel needs that is missing, one it does not take, or a value
            of the wrong shape (instrument ids are upper case: ``BTC-USDT``).
    """

    __slots__ = ()

    def __new__(
        cls,
        channel: str,
        inst_id: str | None = None,
        *,
        inst_type: str | None = None,
        inst_family: str | None = None,
        ccy: str | None = None,
    ) -> Subscription:
        if (
            type(channel) is str
            and channel in _BY_INST_ID_ONLY
            and inst_type is None
            and inst_family is None
            and ccy is None
            and type(inst_id) is str
            and _INST_ID.fullmatch(inst_id) is not None
        ):
            # The common case (tickers, trades, books... of one instrument), checked exactly
            # as below at a fraction of the cost: a burst of new pairs makes one each.
            return tuple.__new__(cls, (channel, None, None, inst_id, None))
        spec = channel_spec(channel)
        values: dict[ArgKey, str | None] = {
            "inst_id": inst_id,
            "inst_type": inst_type,
            "inst_family": inst_family,
            "ccy": ccy,
        }
        given = {key for key, value in values.items() if value is not None}
        for key in sorted(spec.required - given):
            raise ValueError(f"channel {channel!r} needs {key}")
        allowed = spec.required | spec.optional | spec.one_of
        for key in sorted(given - allowed):
            takes = ", ".join(sorted(allowed)) or "no arguments"
            raise ValueError(f"channel {channel!r} does not take {key} (it takes {takes})")
        if spec.one_of and len(given & spec.one_of) != 1:
            options = " or ".join(sorted(spec.one_of))
            raise ValueError(f"channel {channel!r} needs exactly one of {options}")
        for key in sorted(given):
            value = values[key]
            pattern, shape = _PATTERNS[key]
            if not isinstance(value, str) or pattern.fullmatch(value) is None:
                raise ValueError(
                    f"channel {channel!r}: invalid {key} {value!r}: expected {shape} (upper case)"
                )
        if inst_type is not None and spec.inst_types and inst_type not in spec.inst_types:
            raise ValueError(
                f"channel {channel!r}: invalid inst_type {inst_type!r}: expected one of "
                f"{', '.join(sorted(spec.inst_types))}"
            )
        return tuple.__new__(cls, (channel, inst_type, inst_family, inst_id, ccy))

    # -- the fields ---------------------------------------------------------------------------

    @property
    def channel(self) -> str:
        return self[0]  # type: ignore[no-any-return]

    @property
    def inst_type(self) -> str | None:
        return self[1]  # type: ignore[no-any-return]

    @property
    def inst_family(self) -> str | None:
        return self[2]  # type: ignore[no-any-return]

    @property
    def inst_id(self) -> str | None:
        return self[3]  # type: ignore[no-any-return]

    @property
    def ccy(self) -> str | None:
        return self[4]  # type: ignore[no-any-return]

    @property
    def spec(self) -> ChannelSpec:
        """The channel's row of the channel table."""
        return CHANNELS[self[0]]

    @property
    def arg_key(self) -> ArgKeyTuple:
        """``(channel, inst_type, inst_family, inst_id, ccy)``, None where absent: what an
        echoed ``arg`` is matched by (see :func:`arg_key_of`)."""
        return tuple.__new__(tuple, self)

    # -- construction from text and from OKX ------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Subscription:
        """``"trades:BTC-USDT"`` → ``Subscription("trades", "BTC-USDT")``.

        The part after the colon is the channel's one argument: an ``instId`` for most
        channels, the ``instType`` for ``instruments`` and ``liquidation-orders``, the
        ``instFamily`` for ``opt-summary``, the ``ccy`` for ``account``; a bare channel
        name is a channel without arguments.

        Raises:
            ValueError: naming the text, for an unknown channel or a bad argument.
        """
        if not isinstance(text, str):
            raise ValueError(f"expected text like 'trades:BTC-USDT', got {text!r}")
        channel, sep, value = text.strip().partition(":")
        spec = channel_spec(channel)
        if not sep:
            return cls(channel)
        keys = sorted(spec.required) or sorted(spec.one_of | spec.optional)
        if len(keys) != 1 and "inst_id" in keys:
            keys = ["inst_id"]
        if len(keys) != 1:
            raise ValueError(f"{text!r}: channel {channel!r} takes no single argument")
        return cls(channel, **{keys[0]: value})

    @classmethod
    def from_arg(cls, arg: Mapping[str, Any]) -> Subscription:
        """The subscription an ``arg`` object OKX sent stands for (``uid`` is ignored).

        Raises:
            ValueError: for an arg that is not one of a channel the client speaks.
        """
        if not isinstance(arg, Mapping):
            raise ValueError(f"arg is not an object: {arg!r}")
        values: dict[str, str] = {}
        channel = arg.get("channel")
        for key, value in arg.items():
            if key == "channel" or key in _ECHO_ONLY:
                continue
            ours = _FROM_OKX.get(key)
            if ours is None:
                raise ValueError(f"arg has an unknown key {key!r}: {arg!r}")
            if not isinstance(value, str):
                raise ValueError(f"arg {key} is not a string: {arg!r}")
            values[ours] = value
        if not isinstance(channel, str):
            raise ValueError(f"arg without a channel: {arg!r}")
        return cls(channel, **values)

    # -- what OKX needs ---------------------------------------------------------------------

    @property
    def endpoint(self) -> Endpoint:
        return self.spec.endpoint

    @property
    def arg(self) -> dict[str, str]:
        """The arg object as OKX writes it, in OKX's key order."""
        out = {"channel": self.channel}
        for ours, okx in _OKX_KEYS:
            value = getattr(self, ours)
            if value is not None:
                out[okx] = value
        return out

    @property
    def key(self) -> str:
        """The short form :meth:`parse` reads: ``trades:BTC-USDT``, ``instruments:SPOT``."""
        # The tuple holds the channel, then the arguments in OKX's order: join what is set.
        return ":".join([v for v in self if v is not None])

    # -- value semantics --------------------------------------------------------------------

    def __lt__(self, other: object) -> bool:
        """Ordered by channel, then the arguments (for sorted output and requests)."""
        if type(other) is not Subscription:
            return NotImplemented
        return self._order() < other._order()

    def __le__(self, other: object) -> bool:
        if type(other) is not Subscription:
            return NotImplemented
        return self._order() <= other._order()

    def __gt__(self, other: object) -> bool:
        if type(other) is not Subscription:
            return NotImplemented
        return self._order() > other._order()

    def __ge__(self, other: object) -> bool:
        if type(other) is not Subscription:
            return NotImplemented
        return self._order() >= other._order()

    def _order(self) -> tuple[str, ...]:
        return (
            self.channel,
            self.inst_type or "",
            self.inst_family or "",
            self.inst_id or "",
            self.ccy or "",
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.channel, self.inst_id, self.inst_type, self.inst_family, self.ccy))

    def __repr__(self) -> str:
        parts = [repr(self.channel)]
        if self.inst_id is not None:
            parts.append(repr(self.inst_id))
        for name in ("inst_type", "inst_family", "ccy"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r}")
        return f"Subscription({', '.join(parts)})"

    def __str__(self) -> str:
        # json.dumps(self.arg) without its cost: every value matched a pattern of letters,
        # digits, "-" and "." (or is a channel of the table), so none needs escaping.
        text = f'{{"channel":"{self[0]}"'
        for (_, okx), value in zip(_OKX_KEYS, self[1:], strict=True):
            if value is not None:
                text += f',"{okx}":"{value}"'
        return text + "}"


def sort_key(item: str | Subscription) -> Any:
    """The key that sorts instrument ids (the tickers shorthand) or subscriptions as ``<``
    does, computed once per item (``sorted(..., key=sort_key)``: a comparison of two
    subscriptions builds both their orders each time)."""
    return item if isinstance(item, str) else item._order()


def arg_key_of(arg: Mapping[str, Any]) -> ArgKeyTuple | None:
    """The :attr:`Subscription.arg_key` of an ``arg`` object OKX sent, without validating
    it (cheap: for the per-message path); None if it is not an object with a channel.

    ``uid`` and other echo-only keys are ignored, as :meth:`Subscription.from_arg` does.
    """
    if not isinstance(arg, Mapping):
        return None
    channel = arg.get("channel")
    if not isinstance(channel, str):
        return None
    return (channel, arg.get("instType"), arg.get("instFamily"), arg.get("instId"), arg.get("ccy"))


def _rebuild(
    channel: str,
    inst_id: str | None,
    inst_type: str | None,
    inst_family: str | None,
    ccy: str | None,
) -> Subscription:
    return Subscription(channel, inst_id, inst_type=inst_type, inst_family=inst_family, ccy=ccy)
