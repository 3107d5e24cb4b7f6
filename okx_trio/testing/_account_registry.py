"""The fake exchange's registry of accounts by API key, and its wall clock (no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

from .._credentials import Credentials
from ._accounts import FakeAccount

__all__ = ["Accounts"]


class Accounts:
    """The fake exchange's accounts by API key, and its wall clock (see ``wall``).

    Args:
        epoch_ms: The exchange's wall clock at ``now == 0`` (Unix ms): ``now`` (the Trio
            clock's reading) plus this is OKX's time for the login window and REST.
        clock: Unix ms for pushes' times when the caller passes no ``ts``.
        changed: Called after every account change (the exchange wakes its connections).
    """

    def __init__(
        self,
        *,
        epoch_ms: int,
        clock: Callable[[], int] | None = None,
        changed: Callable[[], None] | None = None,
    ) -> None:
        self.epoch_ms = epoch_ms
        self._clock = clock or (lambda: epoch_ms)
        self._changed = changed or (lambda: None)
        self._by_key: dict[str, FakeAccount] = {}

    def add(
        self,
        credentials_or_key: Credentials | str,
        secret: str | None = None,
        passphrase: str | None = None,
        *,
        ip_allowed: bool = True,
        expired: bool = False,
        demo: bool = False,
        uid: str | None = None,
        conn_cap: int = 30,
        page_size: int = 100,
        fee_rate: Decimal | str = "0.001",
    ) -> FakeAccount:
        """A new account for a key: ``add(Credentials(...))`` or ``add(key, secret,
        passphrase)``. See :class:`FakeAccount` for the keywords.

        Raises:
            ValueError: the API key is taken, or the values are not valid credentials (as
                :class:`Credentials` says, never quoting them), or a keyword is invalid.
            TypeError: *secret*/*passphrase* given with Credentials, or missing with a key.
        """
        if isinstance(credentials_or_key, Credentials):
            if secret is not None or passphrase is not None:
                raise TypeError("give Credentials alone, or api_key, secret and passphrase")
            credentials = credentials_or_key
        else:
            if secret is None or passphrase is None:
                raise TypeError("add_account(api_key, secret, passphrase): all three are needed")
            credentials = Credentials(credentials_or_key, secret, passphrase)
        del secret, passphrase
        if credentials.api_key in self._by_key:
            raise ValueError(f"an account with API key {credentials.masked_api_key!r} exists")
        account = FakeAccount(
            credentials,
            uid=uid or str(614_488_474_791_000 + len(self._by_key)),
            clock=self._clock,
            changed=self._changed,
            ip_allowed=ip_allowed,
            expired=expired,
            demo=demo,
            conn_cap=conn_cap,
            page_size=page_size,
            fee_rate=fee_rate,
        )
        self._by_key[credentials.api_key] = account
        return account

    def get(self, api_key: str) -> FakeAccount | None:
        return self._by_key.get(api_key)

    def wall(self, now: float) -> float:
        """OKX's wall clock in Unix seconds at *now* (the fake's clock reading)."""
        return self.epoch_ms / 1000 + now

    def __iter__(self) -> Iterator[FakeAccount]:
        return iter(list(self._by_key.values()))

    def __len__(self) -> int:
        return len(self._by_key)
