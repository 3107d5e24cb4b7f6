"""One connection's login, sans-IO: when to send it, what OKX's answer means.

OKX keeps login state per connection, so every connection that needs it (the private
endpoint's; a public one carrying a login channel such as ``books-l2-tbt``) logs in before it
subscribes anything that needs a login: a fresh timestamp per attempt (a replayed one gets
60006), then the ``login`` event is awaited (never a fixed sleep). What a refusal means comes
from :func:`~okx_trio._signing.classify_login_error`:

- credentials refused (60005, 60007, 60024, 60032, 60009 after one retry): fatal, never retried;
- clock refused (60004, 60006): the caller measures the offset from OKX's time endpoint and
  the login is retried with it, once per connection;
- 60009 the first time, internal errors: one fresh retry on the connection, then a failed
  attempt (backoff);
- no answer within ``timeout``: a failed attempt.

The request text holds the passphrase and a signature: :attr:`Login.masked` is what may be
logged. The signer (``sign()``, returning a fresh :class:`~okx_trio._signing.LoginRequest`)
is the only part that reads a clock (the wall clock, for OKX's timestamp), and it is the
caller's.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass

from ._signing import LoginFailure, LoginRequest, classify_login_error

__all__ = ["Login", "LoginOutcome", "LoginState"]


class LoginState(enum.Enum):
    NEEDED = "needed"  #: to be sent by the next requests()
    SENT = "sent"  #: waiting for OKX's answer
    CLOCK = "clock"  #: refused for the clock: waiting for the offset to be measured
    DONE = "done"  #: logged in: subscriptions that need it may go
    FAILED = "failed"  #: refused for good on this connection


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """What an answer (or a timeout) did: ``done``, or a failure with OKX's code and text.

    ``fatal``: never retry with these credentials. ``measure_clock``: measure the offset
    and call :meth:`Login.clock_measured`. Otherwise, with ``retry`` the login goes again on
    this connection; without it the connection attempt failed (backoff).
    """

    done: bool
    description: str = ""
    code: str = ""
    fatal: bool = False
    measure_clock: bool = False
    retry: bool = False


_DONE = LoginOutcome(True)


class Login:
    """The login of one connection; see the module docstring."""

    def __init__(self, sign: Callable[[], LoginRequest], timeout: float) -> None:
        self._sign = sign
        self._timeout = timeout
        self.state = LoginState.NEEDED
        self.sent_at = math.inf
        self.attempts = 0
        self._clock_retried = False
        self._failure_retried = False
        self._text = ""
        #: The last login request with the passphrase and signature masked (for logs).
        self.masked = ""

    @property
    def done(self) -> bool:
        return self.state is LoginState.DONE

    @property
    def due(self) -> bool:
        return self.state is LoginState.NEEDED

    def request(self, now: float) -> str:
        """The login request to send now (a fresh timestamp), recorded as sent at *now*."""
        request = self._sign()
        self.state = LoginState.SENT
        self.sent_at = now
        self.attempts += 1
        self._text = request.text
        self.masked = request.masked_text
        return request.text

    def loggable(self, text: str) -> str:
        """*text* as it may be logged: the login request masked, anything else as is."""
        return self.masked if self._text and text == self._text else text

    def deadline(self) -> float:
        """When an unanswered login fails the attempt (inf unless one is in flight)."""
        return self.sent_at + self._timeout if self.state is LoginState.SENT else math.inf

    def timed_out(self, now: float) -> LoginOutcome | None:
        if now < self.deadline():
            return None
        self.state = LoginState.FAILED
        return LoginOutcome(False, f"login unanswered for {self._timeout:g}s")

    def answered(self, code: str, msg: str) -> LoginOutcome:
        """OKX answered the login: ``code`` ``"0"`` (a ``login`` event) or an error code."""
        if code in ("0", ""):
            self.state = LoginState.DONE
            self.sent_at = math.inf
            return _DONE
        description = f"login refused: error {code}: {msg}".rstrip(": ")
        try:
            failure = classify_login_error(code, retried=self._failure_retried)
        except ValueError:
            failure = LoginFailure.UNKNOWN
        if failure is LoginFailure.CLOCK and not self._clock_retried:
            self._clock_retried = True
            self.state = LoginState.CLOCK
            return LoginOutcome(False, description, code, measure_clock=True)
        if failure is LoginFailure.RETRYABLE and not self._failure_retried:
            self._failure_retried = True
            self.state = LoginState.NEEDED
            return LoginOutcome(False, description, code, retry=True)
        self.state = LoginState.FAILED
        return LoginOutcome(False, description, code, fatal=failure.fatal)

    def clock_measured(self) -> None:
        """The offset was measured (or could not be): log in again with a fresh timestamp."""
        if self.state is LoginState.CLOCK:
            self.state = LoginState.NEEDED

    def __repr__(self) -> str:
        return f"Login(state={self.state.value}, attempts={self.attempts})"
