"""``Credentials``: an OKX API key, its secret and passphrase, that never show themselves.

Sans-IO. The secret key and the passphrase stay inside the object: ``repr``/``str``/format
show the API key masked (``Credentials(api_key='a1b2…', secret_key=***, passphrase=***)``);
``pickle``, ``copy.deepcopy`` and ``dataclasses.asdict`` cannot carry them out by accident
(pickling refuses, copies are the same object, it is not a dataclass, ``vars()`` has no
``__dict__`` to read). The secret key leaves only as an HMAC (:meth:`Credentials.sign`); the
passphrase only through :meth:`Credentials.reveal_passphrase`, which the login request and
the REST headers call and nothing else should.

The values are sealed (shown as ``***``) before they are validated, so even a traceback
printed with its frames' locals (``pytest -l``, error reporters) shows none of them from
this module's frames. What this cannot do: Python has no private memory. A debugger, the
caller's own frames (where the strings came from), or code reaching into ``_secret_key``
can still see them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, NoReturn, final

__all__ = ["ENV_VARIABLES", "Credentials"]

#: The environment variables :meth:`Credentials.from_env` reads, by field.
ENV_VARIABLES: Final[Mapping[str, str]] = MappingProxyType(
    {"api_key": "OKX_API_KEY", "secret_key": "OKX_SECRET_KEY", "passphrase": "OKX_PASSPHRASE"}
)
_FIELDS: Final = tuple(ENV_VARIABLES)
# How much of the API key repr shows: enough to tell two keys apart, not to use one.
_SHOWN: Final = 4
_HIDDEN: Final = "***"


def _problem(value: str) -> str | None:
    """What is wrong with one field's value, in words that never quote the value."""
    if not value:
        return "is empty"
    if any(ch.isspace() for ch in value):
        return "contains whitespace (a stray space or newline from copy and paste?)"
    # OKX's keys are UUIDs and hex, passphrases printable ASCII; anything else cannot be sent
    # in an HTTP header and would only fail later, far from its cause.
    if not all("!" <= ch <= "~" for ch in value):
        return "contains a character that is not printable ASCII"
    return None


def _check(values: Mapping[str, _Secret], names: Mapping[str, str]) -> None:
    # Values arrive sealed, so a traceback printer that shows locals sees only ***.
    wrong_type = [
        f"{names[field]} must be a str, not {values[field].type_name}"
        for field in _FIELDS
        if not values[field].is_str
    ]
    if wrong_type:
        raise TypeError("invalid OKX credentials: " + "; ".join(wrong_type))
    problems = [
        f"{names[field]} {problem}"
        for field in _FIELDS
        if (problem := _problem(values[field].reveal())) is not None
    ]
    if problems:
        raise ValueError("invalid OKX credentials: " + "; ".join(problems))


@final
class _Secret:
    """One secret string, shown as ``***`` however it is printed or serialised."""

    __slots__ = ("_value",)
    _value: object  # a str once validated; sealed before, so a bad value is not shown either

    def __init__(self, value: object) -> None:
        object.__setattr__(self, "_value", value)

    @property
    def is_str(self) -> bool:
        return isinstance(self._value, str)

    @property
    def type_name(self) -> str:
        return type(self._value).__name__

    def reveal(self) -> str:
        if not isinstance(self._value, str):
            raise TypeError(f"a secret must be a str, not {self.type_name}")
        return self._value

    def matches(self, other: _Secret) -> bool:
        # Constant time, so a comparison cannot be timed into a guess.
        return hmac.compare_digest(self.reveal().encode(), other.reveal().encode())

    def __repr__(self) -> str:
        return _HIDDEN

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return format(_HIDDEN, format_spec)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("a secret is immutable")

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("a secret cannot be pickled")


@final
class Credentials:
    """An OKX API key with its secret key and passphrase: ``Credentials(api_key, secret_key,
    passphrase)``.

    Frozen, hashable (by the API key only) and compared in constant time. ``api_key`` is
    public (OKX sends it in every signed request); ``masked_api_key`` is its first four
    characters and ``…``, what ``repr`` shows so a user can tell keys apart. The secret key
    is used only through :meth:`sign`; the passphrase is read by :meth:`reveal_passphrase`.

    Raises:
        ValueError: naming every field that is empty, holds whitespace or a character that is
            not printable ASCII (never quoting the value).
        TypeError: naming every field that is not a str; on pickling (secrets are never
            serialised; build credentials in the other process, e.g. with :meth:`from_env`).
    """

    __slots__ = ("_passphrase", "_secret_key", "api_key")

    api_key: str
    _secret_key: _Secret
    _passphrase: _Secret

    def __init__(self, api_key: str, secret_key: str, passphrase: str) -> None:
        sealed = {
            "api_key": _Secret(api_key),
            "secret_key": _Secret(secret_key),
            "passphrase": _Secret(passphrase),
        }
        # Dropped before anything can raise: a traceback printed with its frames' locals
        # (pytest -l, error reporters) then shows only the sealed values.
        del api_key, secret_key, passphrase
        _check(sealed, {field: field for field in _FIELDS})
        object.__setattr__(self, "api_key", sealed["api_key"].reveal())
        object.__setattr__(self, "_secret_key", sealed["secret_key"])
        object.__setattr__(self, "_passphrase", sealed["passphrase"])

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """Credentials from ``OKX_API_KEY``, ``OKX_SECRET_KEY`` and ``OKX_PASSPHRASE``.

        *environ* defaults to ``os.environ``. Values are taken as they are: a trailing
        newline is an error, not trimmed silently.

        Raises:
            ValueError: naming every variable that is missing or empty, all at once; or
                naming every variable whose value is malformed (never quoting it).
        """
        env = os.environ if environ is None else environ
        present = {variable for variable in ENV_VARIABLES.values() if variable in env}
        sealed = {field: _Secret(env.get(variable)) for field, variable in ENV_VARIABLES.items()}
        # The environment holds the secrets: out of the frame before anything can raise.
        del env, environ
        missing = [
            f"{variable} is {'empty' if variable in present else 'not set'}"
            for field, variable in ENV_VARIABLES.items()
            if not (sealed[field].is_str and sealed[field].reveal())
        ]
        if missing:
            raise ValueError("OKX credentials missing from the environment: " + "; ".join(missing))
        _check(sealed, ENV_VARIABLES)
        return cls(*(sealed[field].reveal() for field in _FIELDS))

    @property
    def masked_api_key(self) -> str:
        """The API key's first four characters and ``…``: ``a1b2…``."""
        return self.api_key[:_SHOWN] + "…"

    def sign(self, message: str) -> str:
        """``base64(HMAC_SHA256(secret_key, message))``: OKX's signature of *message*.

        The only use of the secret key. *message* is encoded as UTF-8.
        """
        digest = hmac.new(
            self._secret_key.reveal().encode(), message.encode(), hashlib.sha256
        ).digest()
        return base64.b64encode(digest).decode("ascii")

    def reveal_passphrase(self) -> str:
        """The passphrase, for a login request or the ``OK-ACCESS-PASSPHRASE`` header only."""
        return self._passphrase.reveal()

    def __repr__(self) -> str:
        if not hasattr(self, "api_key"):
            # Shown by a traceback printer while __init__ is refusing the values.
            return "Credentials(<not built>)"
        return (
            f"Credentials(api_key={self.masked_api_key!r}, "
            f"secret_key={_HIDDEN}, passphrase={_HIDDEN})"
        )

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return format(repr(self), format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        # Every field is compared, in constant time, whatever the first one says.
        same_key = hmac.compare_digest(self.api_key.encode(), other.api_key.encode())
        same_secret = self._secret_key.matches(other._secret_key)
        same_passphrase = self._passphrase.matches(other._passphrase)
        return same_key & same_secret & same_passphrase

    def __hash__(self) -> int:
        # The API key only: a hash of a secret is information about it.
        return hash(self.api_key)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"Credentials are frozen: cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"Credentials are frozen: cannot delete {name!r}")

    def __copy__(self) -> Credentials:
        return self  # immutable: a copy would be the same value

    def __deepcopy__(self, memo: dict[int, Any]) -> Credentials:
        return self

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError(
            "Credentials cannot be pickled: secrets are never serialised; "
            "build them where they are used (Credentials.from_env())"
        )

    def __getstate__(self) -> NoReturn:
        raise TypeError("Credentials cannot be pickled: secrets are never serialised")
