"""The fake exchange's check of a WebSocket ``login`` request, as OKX defines it (no I/O).

OKX (API docs v5, Overview > WebSocket > Login): ``{"op":"login","args":[{"apiKey",
"passphrase","timestamp","sign"}]}`` with ``sign = base64(HMAC_SHA256(secretKey,
timestamp + "GET" + "/users/self/verify"))`` and ``timestamp`` Unix seconds (decimals
allowed); "the request will expire 30 seconds after the timestamp". The checks, in order,
and the code each failure gets (the project's OKX notes, section 3 and 6):

====================================================  ======  ==========================
the request                                           code    msg
====================================================  ======  ==========================
the connection is logged in already                   60031   multiple or repeated logins
``args`` not a non-empty list of objects              60012   Illegal request: (masked)
a field missing or empty                              60027   Parameter {name} can not be empty.
``timestamp`` not Unix seconds                        60004   Invalid timestamp
``timestamp`` more than 30 s from the exchange clock  60006   Timestamp request expired
``apiKey`` unknown                                    60005   Invalid apiKey
the key expired (OKX deletes unused keys)             60032   API key doesn't exist
wrong passphrase                                      60024   Wrong passphrase
bad signature                                         60007   Invalid sign
the client's IP is not on the key's list              60009   Login failed.
a timestamp this key logged in with before            60006   Timestamp request expired
====================================================  ======  ==========================

Nothing here quotes the passphrase or the signature: :func:`masked_login_text` is what the
exchange records of a login request, and what a 60012 echoes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Final

from .._signing import LOGIN_VERIFY_PATH
from ._account_registry import Accounts
from ._accounts import FakeAccount

__all__ = [
    "LOGIN_WINDOW",
    "LoginResult",
    "check_login",
    "login_object",
    "masked_login_text",
    "well_formed",
]

#: Seconds a login timestamp may be away from the exchange's clock.
LOGIN_WINDOW: Final = 30.0
_FIELDS: Final = ("apiKey", "passphrase", "timestamp", "sign")
_HIDDEN: Final = "***"
_SECRET_KEYS: Final = frozenset({"passphrase", "sign"})
MESSAGES: Final = {
    "60004": "Invalid timestamp",
    "60005": "Invalid apiKey",
    "60006": "Timestamp request expired",
    "60007": "Invalid sign",
    "60009": "Login failed.",
    "60024": "Wrong passphrase",
    "60031": "The WebSocket endpoint does not support multiple or repeated logins.",
    "60032": "API key doesn't exist",
}


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A login's outcome: ``code`` ``"0"`` with the ``accounts`` logged in, or OKX's error
    ``code`` and ``msg`` (no account)."""

    code: str
    msg: str
    accounts: tuple[FakeAccount, ...] = ()

    @property
    def ok(self) -> bool:
        return self.code == "0"


def login_object(message: str | bytes) -> dict[str, Any] | None:
    """The parsed request if *message* is a ``login`` op, else None (other frames go to the
    subscribe parser)."""
    if not isinstance(message, str) or '"login"' not in message:
        return None
    try:
        obj = json.loads(message)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) and obj.get("op") == "login" else None


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (_HIDDEN if k in _SECRET_KEYS else _masked(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def masked_login_text(obj: dict[str, Any]) -> str:
    """The login request with every ``passphrase`` and ``sign`` (at any depth, in any
    shape of request) as ``***``."""
    return json.dumps(_masked(obj), separators=(",", ":"))


def well_formed(obj: dict[str, Any]) -> bool:
    """Whether the login's ``args`` is a non-empty list of objects (else: 60012)."""
    args = obj.get("args")
    return isinstance(args, list) and bool(args) and all(isinstance(a, dict) for a in args)


def _failure(code: str) -> LoginResult:
    return LoginResult(code, MESSAGES[code])


def _seconds(timestamp: str) -> float | None:
    try:
        value = float(timestamp)
    except ValueError:
        return None
    # Digits with an optional fraction only: "1e9", "inf", " 1" are not OKX timestamps.
    whole, _, fraction = timestamp.partition(".")
    if not (whole.isascii() and whole.isdigit()) or (fraction and not fraction.isdigit()):
        return None
    return value if math.isfinite(value) else None


def check_login(
    accounts: Accounts, obj: dict[str, Any], now: float, *, logged_in: bool
) -> LoginResult:
    """Check a parsed login request arriving at *now* (the fake's clock; the exchange's
    wall clock is ``accounts.wall(now)``). On success every key's timestamp is remembered,
    so a replay of the same request is refused (60006). Never raises."""
    if logged_in:
        return _failure("60031")
    if not well_formed(obj):
        return LoginResult("60012", f"Illegal request: {masked_login_text(obj)}")
    args = obj["args"]
    wall = accounts.wall(now)
    found: list[tuple[FakeAccount, str]] = []
    for arg in args:
        for name in _FIELDS:
            value = arg.get(name)
            if not isinstance(value, str) or not value:
                return LoginResult("60027", f"Parameter {name} can not be empty.")
        result = _check_one(accounts, arg, wall)
        if isinstance(result, LoginResult):
            return result
        found.append((result, arg["timestamp"]))
    for account, timestamp in found:
        account.login_timestamps.add(timestamp)
    return LoginResult("0", "", tuple(account for account, _ in found))


def _check_one(accounts: Accounts, arg: dict[str, str], wall: float) -> FakeAccount | LoginResult:
    timestamp = arg["timestamp"]
    seconds = _seconds(timestamp)
    if seconds is None:
        return _failure("60004")
    if abs(seconds - wall) > LOGIN_WINDOW:
        return _failure("60006")
    account = accounts.get(arg["apiKey"])
    if account is None:
        return _failure("60005")
    if account.expired:
        return _failure("60032")
    if not account.passphrase_is(arg["passphrase"]):
        return _failure("60024")
    if not account.signs(timestamp + "GET" + LOGIN_VERIFY_PATH, arg["sign"]):
        return _failure("60007")
    if not account.ip_allowed:
        return _failure("60009")
    if timestamp in account.login_timestamps:
        return _failure("60006")
    return account
