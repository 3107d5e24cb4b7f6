"""OKX's signatures, sans-IO: the WebSocket login request, REST headers, the clock offset.

Nothing here reads a clock or does I/O: the caller passes the wall-clock time in Unix
seconds (never ``trio.current_time()``, which is not a Unix time) and the offset it measured
from OKX's public time endpoint with :func:`clock_offset`. Signatures come from
:meth:`Credentials.sign`, so the secret key never leaves the credentials. What is sent holds
the passphrase and a signature valid for 30 s: log only :attr:`LoginRequest.masked_text` and
:func:`masked_headers`.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, NoReturn, final

from ._credentials import Credentials

__all__ = [
    "LOGIN_VERIFY_PATH",
    "TIME_PATH",
    "LoginFailure",
    "LoginRequest",
    "classify_login_error",
    "clock_offset",
    "login_request",
    "masked_headers",
    "rest_headers",
]

#: The request path the WebSocket login signs (OKX API docs (v5), Overview > WebSocket > Login).
LOGIN_VERIFY_PATH: Final = "/users/self/verify"
#: OKX's public time endpoint: its answer's ``ts`` gives :func:`clock_offset`.
TIME_PATH: Final = "/api/v5/public/time"
_HIDDEN: Final = "***"
_SIGNED_HEADERS: Final = frozenset({"OK-ACCESS-SIGN", "OK-ACCESS-PASSPHRASE"})
# OKX v5 REST has only these; anything else is a typo that would fail as "invalid sign".
_METHODS: Final = frozenset({"GET", "POST"})
# Unix seconds from 2001-09-09 to 5138: below is a monotonic clock passed by mistake,
# above is milliseconds passed as seconds.
_MIN_UNIX: Final = 1_000_000_000
_MAX_UNIX: Final = 100_000_000_000


def _unix_millis(wall_time: float, offset: float) -> int:
    """``wall_time + offset`` as whole Unix milliseconds, truncated.

    Summed as the shortest decimals that are the two floats, so the time reads as it was
    written: ``1607418537.715 + 0.3`` is 1607418538.015 s, not the float sum's ...538.0149999.
    """
    _check_time("wall_time", wall_time)
    if isinstance(offset, bool) or not isinstance(offset, int | float):
        raise TypeError(f"offset must be seconds as a float, not {type(offset).__name__}")
    if not math.isfinite(offset):
        raise ValueError(f"offset must be a finite number of seconds, got {offset!r}")
    # float() first: a float subclass (numpy's) may not repr as a bare number.
    corrected = Decimal(repr(float(wall_time))) + Decimal(repr(float(offset)))
    if not _MIN_UNIX <= corrected < _MAX_UNIX:
        raise ValueError(
            f"wall_time {wall_time!r} + offset {offset!r} = {float(corrected)!r} is not a Unix "
            "time in seconds: is the offset in seconds?"
        )
    return math.floor(corrected * 1000)


def _check_time(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be Unix seconds as a float, not {type(value).__name__}")
    if not (math.isfinite(value) and _MIN_UNIX <= value < _MAX_UNIX):
        raise ValueError(
            f"{name} must be a Unix time in seconds (the wall clock, not trio.current_time(); "
            f"seconds, not milliseconds), got {value!r}"
        )


@final
class LoginRequest:
    """One WebSocket login request, built for one attempt (OKX refuses a reused timestamp).

    ``text`` is the JSON to send; ``timestamp`` the signed Unix time in whole seconds, as a
    string; ``masked_text`` the same JSON with ``passphrase`` and ``sign`` as ``***``, for
    the DEBUG traffic log. ``repr`` shows the masked text; pickling raises ``TypeError``.
    """

    __slots__ = ("masked_text", "text", "timestamp")

    text: str
    masked_text: str
    timestamp: str

    def __init__(self, text: str, masked_text: str, timestamp: str) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "masked_text", masked_text)
        object.__setattr__(self, "timestamp", timestamp)

    def __repr__(self) -> str:
        return f"LoginRequest({self.masked_text})"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return format(repr(self), format_spec)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"LoginRequest is frozen: cannot set {name!r}")

    def __copy__(self) -> LoginRequest:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> LoginRequest:
        return self

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("a LoginRequest holds a passphrase and cannot be pickled")


def _login_json(api_key: str, passphrase: str, timestamp: str, sign: str) -> str:
    arg = {"apiKey": api_key, "passphrase": passphrase, "timestamp": timestamp, "sign": sign}
    return json.dumps({"op": "login", "args": [arg]}, separators=(",", ":"))


def login_request(
    credentials: Credentials, wall_time: float, *, offset: float = 0.0
) -> LoginRequest:
    """The login request for one attempt: ``{"op":"login","args":[{apiKey, passphrase,
    timestamp, sign}]}``.

    ``timestamp`` is ``wall_time + offset`` in whole seconds (truncated, so it is never ahead
    of OKX's clock); ``sign = base64(HMAC_SHA256(secret_key, timestamp + "GET" +
    "/users/self/verify"))``. Build a fresh one for every attempt: a replayed timestamp gets
    60006, and OKX lets a request expire 30 s after its timestamp.

    Raises:
        TypeError: *credentials* is not :class:`Credentials`, or a time is not a number.
        ValueError: *wall_time* is not a Unix time in seconds, or *offset* is not finite.
    """
    if not isinstance(credentials, Credentials):
        raise TypeError(f"credentials must be Credentials, not {type(credentials).__name__}")
    timestamp = str(_unix_millis(wall_time, offset) // 1000)
    sign = credentials.sign(timestamp + "GET" + LOGIN_VERIFY_PATH)
    api_key = credentials.api_key
    return LoginRequest(
        _login_json(api_key, credentials.reveal_passphrase(), timestamp, sign),
        _login_json(api_key, _HIDDEN, timestamp, _HIDDEN),
        timestamp,
    )


def _iso_millis(millis: int) -> str:
    seconds, ms = divmod(millis, 1000)
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms:03d}Z"


def _request_path(request_path: str) -> str:
    if not isinstance(request_path, str):
        raise TypeError(f"request_path must be a str, not {type(request_path).__name__}")
    if request_path.startswith(("http://", "https://")):
        raise ValueError(
            f"request_path must be the path only (like /api/v5/account/balance?ccy=BTC), "
            f"not a URL: {request_path!r}"
        )
    if not request_path.startswith("/"):
        raise ValueError(f"request_path must start with '/', got {request_path!r}")
    if not all("!" <= ch <= "~" for ch in request_path) or "#" in request_path:
        raise ValueError(
            "request_path must be exactly what goes on the wire: printable ASCII, no spaces, "
            f"no fragment (percent-encode the query), got {request_path!r}"
        )
    return request_path


def _body_text(body: str | bytes | None) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes | bytearray):
        try:
            return bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("body must be UTF-8 (the JSON exactly as sent)") from None
    if isinstance(body, str):
        return body
    raise TypeError(f"body must be str, bytes or None, not {type(body).__name__}")


def rest_headers(
    credentials: Credentials,
    method: str,
    request_path: str,
    body: str | bytes | None,
    wall_time: float,
    *,
    offset: float = 0.0,
    demo: bool = False,
) -> dict[str, str]:
    """The headers of one signed OKX REST request.

    ``OK-ACCESS-KEY``, ``OK-ACCESS-SIGN`` = ``base64(HMAC_SHA256(secret_key, timestamp +
    METHOD + request_path + body))``, ``OK-ACCESS-TIMESTAMP`` (``wall_time + offset`` as
    ISO-8601 UTC with milliseconds, truncated: ``2020-12-08T09:08:57.715Z``),
    ``OK-ACCESS-PASSPHRASE``, and ``x-simulated-trading: 1`` when *demo*. *method* is
    upper-cased. *request_path* is the path as sent, a GET's query string included
    (``/api/v5/account/balance?ccy=BTC``); *body* is the JSON text exactly as sent (a GET
    has none: ``""`` or None). Log these only through :func:`masked_headers`.

    Raises:
        TypeError: an argument of the wrong type.
        ValueError: a method OKX does not use (GET, POST), a URL or a path not starting with
            ``/``, a GET with a body, a body that is not UTF-8, or a time as in
            :func:`login_request`.
    """
    if not isinstance(credentials, Credentials):
        raise TypeError(f"credentials must be Credentials, not {type(credentials).__name__}")
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, not {type(method).__name__}")
    verb = method.upper()
    if verb not in _METHODS:
        raise ValueError(f"method must be GET or POST (all OKX v5 REST uses), got {method!r}")
    path = _request_path(request_path)
    text = _body_text(body)
    if verb == "GET" and text:
        raise ValueError("a GET has no body: put its parameters in request_path's query string")
    timestamp = _iso_millis(_unix_millis(wall_time, offset))
    headers = {
        "OK-ACCESS-KEY": credentials.api_key,
        "OK-ACCESS-SIGN": credentials.sign(timestamp + verb + path + text),
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-PASSPHRASE": credentials.reveal_passphrase(),
    }
    if demo:
        headers["x-simulated-trading"] = "1"
    return headers


def masked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """*headers* with the signature and the passphrase as ``***``: safe to log."""
    return {
        name: _HIDDEN if name.upper() in _SIGNED_HEADERS else value
        for name, value in headers.items()
    }


# -- OKX's clock -------------------------------------------------------------------------


def _excerpt(answer: str | bytes) -> str:
    text = repr(answer)
    return text if len(text) <= 120 else text[:117] + "..."


def clock_offset(answer: bytes | str, sent_at: float, received_at: float) -> float:
    """Seconds to add to the local wall clock to read OKX's, from one time-endpoint answer.

    *answer* is the body of ``GET /api/v5/public/time``
    (``{"code":"0","msg":"","data":[{"ts":"1597026383085"}]}``, ``ts`` in Unix ms);
    *sent_at* and *received_at* are the wall-clock times the request left and the answer
    came back. OKX's time is taken to be the midpoint of that round trip, so the error is at
    most half the round trip.

    Raises:
        ValueError: the answer is not UTF-8 JSON of that shape, carries a code other than
            ``"0"`` (OKX's code and message are quoted), or its ``ts`` is not a Unix time in
            milliseconds; a time is not Unix seconds, or *received_at* is before *sent_at*.
        TypeError: *answer* is neither bytes nor str, or a time is not a number.
    """
    _check_time("sent_at", sent_at)
    _check_time("received_at", received_at)
    if received_at < sent_at:
        raise ValueError(f"received_at {received_at!r} is before sent_at {sent_at!r}")
    server_ms = _server_millis(answer)
    return server_ms / 1000 - (sent_at + received_at) / 2


def _server_millis(answer: bytes | str) -> int:
    if isinstance(answer, bytes | bytearray):
        try:
            text = bytes(answer).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"OKX time answer is not UTF-8: {_excerpt(answer)}") from None
    elif isinstance(answer, str):
        text = answer
    else:
        raise TypeError(f"answer must be bytes or str, not {type(answer).__name__}")
    try:
        parsed = json.loads(text)
    except ValueError:
        raise ValueError(f"OKX time answer is not JSON: {_excerpt(answer)}") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"OKX time answer is not a JSON object: {_excerpt(answer)}")
    code = parsed.get("code")
    if code != "0":
        raise ValueError(
            f'OKX time answer has code {code!r} (msg {parsed.get("msg")!r}), not "0": '
            f"{_excerpt(answer)}"
        )
    data = parsed.get("data")
    first = data[0] if isinstance(data, list) and data else None
    if not isinstance(first, dict) or "ts" not in first:
        raise ValueError(f'OKX time answer has no "data":[{{"ts":…}}]: {_excerpt(answer)}')
    ts = first["ts"]
    # OKX sends ts as a string of digits; an int is tolerated, anything else is refused.
    if isinstance(ts, str) and ts.isascii() and ts.isdigit():
        millis = int(ts)
    elif isinstance(ts, int) and not isinstance(ts, bool):
        millis = ts
    else:
        raise ValueError(f"OKX time answer's ts must be a string of digits, got {ts!r}")
    if not _MIN_UNIX * 1000 <= millis < _MAX_UNIX * 1000:
        raise ValueError(f"OKX time answer's ts {ts!r} is not a Unix time in milliseconds")
    return millis


# -- login outcomes ----------------------------------------------------------------------


class LoginFailure(enum.Enum):
    """What a failed login means to the client (see :func:`classify_login_error`)."""

    #: The credentials are refused: stop and tell the user; retrying cannot help.
    CREDENTIALS = "credentials"
    #: The timestamp was refused: measure the clock offset again, build a fresh login, once.
    CLOCK = "clock"
    #: OKX failed or is busy: log in again after a backoff.
    RETRYABLE = "retryable"
    #: The connection is logged in already: never log in twice on one connection (a bug of
    #: ours in tracking login state, not a failure of the credentials).
    ALREADY_LOGGED_IN = "already_logged_in"
    #: OKX calls our login request malformed: a bug of ours, do not retry as is.
    REQUEST = "request"
    #: A code not in OKX's login table: surface it, retry only after a backoff.
    UNKNOWN = "unknown"

    @property
    def fatal(self) -> bool:
        """Whether logging in again (on this or a new connection) cannot succeed as is."""
        return self in (LoginFailure.CREDENTIALS, LoginFailure.REQUEST)


_LOGIN_OUTCOMES: Final[Mapping[str, LoginFailure]] = {
    "60005": LoginFailure.CREDENTIALS,  # invalid apiKey
    "60007": LoginFailure.CREDENTIALS,  # invalid sign: wrong secret
    "60024": LoginFailure.CREDENTIALS,  # wrong passphrase
    "60032": LoginFailure.CREDENTIALS,  # API key does not exist
    "4001": LoginFailure.CREDENTIALS,  # close: login failed
    "4007": LoginFailure.CREDENTIALS,  # close: API key updated or deleted
    "60004": LoginFailure.CLOCK,  # invalid timestamp
    "60006": LoginFailure.CLOCK,  # timestamp expired or reused
    "63999": LoginFailure.RETRYABLE,  # login failed, internal error
    "60023": LoginFailure.RETRYABLE,  # bulk login requests too frequent
    "64007": LoginFailure.RETRYABLE,  # operation failed, internal error
    "60031": LoginFailure.ALREADY_LOGGED_IN,  # multiple or repeated logins
    "60012": LoginFailure.REQUEST,  # invalid request
    "60019": LoginFailure.REQUEST,  # invalid op
    "60026": LoginFailure.REQUEST,  # APIKey and token batch login
    "60027": LoginFailure.REQUEST,  # parameter empty
    "60033": LoginFailure.REQUEST,  # parameter error
}
_LOGIN_FAILED: Final = "60009"


def classify_login_error(code: str | int, *, retried: bool = False) -> LoginFailure:
    """What OKX's answer to a login means: an error code (``"60009"``) or a close code (4001).

    From the client-policy table of OKX's WebSocket error codes (the project's OKX notes,
    section 3, after OKX API docs (v5), Error Code > WebSocket > Public) and its close codes:

    - :attr:`~LoginFailure.CREDENTIALS`: 60005 invalid apiKey, 60007 invalid sign, 60024
      wrong passphrase, 60032 API key does not exist; close 4001 login failed and 4007 API
      key updated or deleted; and 60009 "Login failed" when *retried* is true.
    - :attr:`~LoginFailure.CLOCK`: 60004 invalid timestamp, 60006 timestamp expired or reused.
    - :attr:`~LoginFailure.RETRYABLE`: 63999 and 64007 internal errors, 60023 bulk logins too
      frequent, and 60009 on the first attempt ("at most one retry with fresh timestamp": pass
      ``retried=True`` for the answer to that retry).
    - :attr:`~LoginFailure.ALREADY_LOGGED_IN`: 60031.
    - :attr:`~LoginFailure.REQUEST`: 60012, 60019, 60026, 60027, 60033 (our request's fault).
    - :attr:`~LoginFailure.UNKNOWN`: any other code.

    Raises:
        ValueError: *code* is ``"0"`` (success) or not a string of digits / non-negative int.
        TypeError: *code* is neither str nor int.
    """
    if isinstance(code, bool) or not isinstance(code, str | int):
        raise TypeError(f"code must be OKX's code as a str or int, not {type(code).__name__}")
    key = str(code)
    if not (key.isascii() and key.isdigit()):
        raise ValueError(f"code must be a string of digits like '60009', got {code!r}")
    key = key.lstrip("0") or "0"
    if key == "0":
        raise ValueError("code 0 is a successful login, not a failure")
    if key == _LOGIN_FAILED:
        return LoginFailure.CREDENTIALS if retried else LoginFailure.RETRYABLE
    return _LOGIN_OUTCOMES.get(key, LoginFailure.UNKNOWN)
