"""Type and range checks read from a field's annotation, with msgspec doing the work.

A config field says what it accepts once, in its annotation
(``Annotated[float, Meta(gt=0), FINITE]``); this module turns that into a check of a Python
value (:func:`check_value`), a decoder for an environment string (:func:`decode_text`) and
the words an error uses (:func:`describe`), so no table repeats the annotations. Pure
functions: no I/O, no clock.
"""

from __future__ import annotations

import difflib
import math
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import msgspec

from ._credentials import Credentials

__all__ = [
    "FINITE",
    "FieldChecker",
    "FieldError",
    "check_credentials",
    "check_value",
    "decode_text",
    "describe",
    "did_you_mean",
    "is_optional",
]


class _Finite:
    """Annotation marker: the float must be finite (msgspec's bounds let ``inf`` through)."""

    def __repr__(self) -> str:
        return "FINITE"


FINITE: Final = _Finite()
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


class FieldError(ValueError):
    """A bad value for one field; :attr:`field` names it so a loader can say where it came from."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class FieldChecker:
    """Checks every field of a class at once, from its annotations (*hints*, field name to
    annotation), in one msgspec call: the cheap path for a value that is fine."""

    def __init__(self, owner: str, hints: Mapping[str, Any]) -> None:
        self._owner = owner
        self._hints = dict(hints)
        self._struct = msgspec.defstruct(f"{owner}Fields", list(self._hints.items()))
        self._finite = frozenset(name for name, hint in self._hints.items() if _wants_finite(hint))

    def check(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Every field of *values* converted as by :func:`check_value`.

        Raises:
            FieldError: for the first field, in annotation order, that is refused.
        """
        try:
            converted = msgspec.convert(
                {name: values[name] for name in self._hints}, self._struct, strict=True
            )
        except msgspec.ValidationError:
            converted = None
        if converted is not None and all(
            (value := getattr(converted, name)) is None or math.isfinite(value)
            for name in self._finite
        ):
            return {name: getattr(converted, name) for name in self._hints}
        # Something is wrong: find it, field by field, for a message that names it.
        for name, hint in self._hints.items():
            check_value(self._owner, name, hint, values[name])
        raise AssertionError(f"{self._owner}: refused {dict(values)!r}, yet every field passed")


def check_value(owner: str, name: str, hint: Any, value: object) -> Any:
    """*value* converted to *hint* (an int for a float field becomes a float, a list a tuple).

    Strict: no bool for a number, no string for a number, nothing parsed from text.

    Raises:
        FieldError: ``"<owner>.<name> must be <what the annotation says>, got <value!r>"``.
    """
    try:
        converted = msgspec.convert(value, type=hint, strict=True)
    except msgspec.ValidationError:
        converted = _INVALID
    if converted is _INVALID or (
        isinstance(converted, float) and not math.isfinite(converted) and _wants_finite(hint)
    ):
        raise FieldError(name, f"{owner}.{name} must be {describe(hint)}, got {value!r}")
    return converted


_INVALID: Final = object()


def decode_text(hint: Any, text: str) -> Any:
    """An environment variable's *text* decoded by *hint*: numbers and booleans parsed,
    ``none`` (or nothing) for an optional field, comma-separated items for a tuple.

    Only the text's form is checked here; ranges are :func:`check_value`'s business.

    Raises:
        ValueError: ``"expected <kind>, got <text!r>"`` (the caller names the variable).
    """
    text = text.strip()
    optional = is_optional(hint)
    if _is_tuple(hint):
        if optional and text.lower() == "none":
            return None
        return tuple(part.strip() for part in text.split(",") if part.strip())
    if optional and text.lower() in ("", "none"):
        return None
    base = _base_kind(hint)
    if base is bool:
        lowered = text.lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
    elif base is str:
        return text
    else:
        try:
            return msgspec.convert(text, type=base, strict=False)
        except msgspec.ValidationError:
            pass
    kinds = {bool: "true or false", int: "an integer", float: "a number"}
    kind = kinds.get(base, "a value")
    raise ValueError(f"expected {kind}{' or none' if optional else ''}, got {text!r}")


def describe(hint: Any) -> str:
    """What *hint* accepts, in words: ``"a finite number > 0 or None"``."""
    return _describe(msgspec.inspect.type_info(hint), finite=_wants_finite(hint))


def is_optional(hint: Any) -> bool:
    return type(None) in typing.get_args(_strip(hint))


def did_you_mean(
    word: str, candidates: Iterable[str], render: Callable[[str], str] | None = None
) -> str:
    """``" (did you mean X?)"`` for the closest of *candidates* (written by *render*), or
    ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {render(close[0]) if render else close[0]}?)"


# -- reading annotations ----------------------------------------------------------------


def _strip(hint: Any) -> Any:
    """*hint* without its ``Annotated`` layer."""
    return typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint


def _members(hint: Any) -> tuple[Any, ...]:
    """The members of a union (``X | None``), or *hint* alone."""
    bare = _strip(hint)
    args = typing.get_args(bare)
    if args and type(None) in args:
        return tuple(arg for arg in args if arg is not type(None))
    return (hint,)


def _wants_finite(hint: Any) -> bool:
    return any(
        any(extra is FINITE for extra in getattr(member, "__metadata__", ()))
        for member in (hint, *_members(hint))
    )


def _is_tuple(hint: Any) -> bool:
    return any(typing.get_origin(_strip(member)) is tuple for member in _members(hint))


def _base_kind(hint: Any) -> type:
    member = _strip(_members(hint)[0])
    return member if isinstance(member, type) else str


def _describe(info: msgspec.inspect.Type, *, finite: bool) -> str:
    if isinstance(info, msgspec.inspect.Metadata):
        description = (info.extra_json_schema or {}).get("description")
        return str(description) if description else _describe(info.type, finite=finite)
    if isinstance(info, msgspec.inspect.UnionType):
        parts = [
            _describe(member, finite=finite)
            for member in info.types
            if not isinstance(member, msgspec.inspect.NoneType)
        ]
        none = len(parts) < len(info.types)
        return " or ".join(parts) + (" or None" if none else "")
    if isinstance(info, msgspec.inspect.FloatType | msgspec.inspect.IntType):
        noun = "an int" if isinstance(info, msgspec.inspect.IntType) else "a number"
        if finite and noun == "a number":
            noun = "a finite number"
        bounds = [
            f"{op} {_number(bound)}"
            for op, bound in ((">", info.gt), (">=", info.ge), ("<", info.lt), ("<=", info.le))
            if bound is not None
        ]
        return " ".join([noun, " and ".join(bounds)]) if bounds else noun
    if isinstance(info, msgspec.inspect.BoolType):
        return "true or false"
    if isinstance(info, msgspec.inspect.StrType):
        return "a string"
    if isinstance(info, msgspec.inspect.VarTupleType):
        return f"a sequence of {_describe(info.item_type, finite=finite)} items"
    return str(info)


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


_CREDENTIAL_KEYS: Final = ("api_key", "secret_key", "passphrase")


def check_credentials(value: object) -> Credentials | None:
    """``credentials`` as given: None, :class:`Credentials`, or a mapping of its three
    fields (from a TOML table or a mapping).

    Raises:
        FieldError: naming the field and what is missing or extra, never a secret.
    """
    if value is None or isinstance(value, Credentials):
        return value
    if isinstance(value, Mapping):
        keys = set(value)
        missing = [k for k in _CREDENTIAL_KEYS if k not in keys]
        extra = sorted(str(k) for k in keys - set(_CREDENTIAL_KEYS))
        if missing or extra:
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unknown {', '.join(extra)}"] if extra else []
            )
            raise FieldError(
                "credentials",
                "ClientConfig.credentials must hold api_key, secret_key and passphrase: "
                + "; ".join(parts),
            )
        try:
            return Credentials(value["api_key"], value["secret_key"], value["passphrase"])
        except (TypeError, ValueError) as exc:
            raise FieldError("credentials", f"ClientConfig.credentials: {exc}") from None
    raise FieldError(
        "credentials",
        "ClientConfig.credentials must be okx_trio.Credentials or a mapping of api_key, "
        f"secret_key and passphrase, got {type(value).__name__}",
    )
