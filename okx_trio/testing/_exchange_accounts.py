"""The fake exchange's accounts: ``FakeExchange.add_account`` and ``FakeExchange.accounts``."""

from __future__ import annotations

from typing import Any

from .._credentials import Credentials
from ._account_registry import Accounts
from ._accounts import FakeAccount

__all__ = ["AccountsMixin"]


class AccountsMixin:
    """Accounts of a fake exchange (``_accounts`` is provided by the exchange)."""

    _accounts: Accounts

    def add_account(
        self,
        credentials_or_key: Credentials | str,
        secret: str | None = None,
        passphrase: str | None = None,
        **options: Any,
    ) -> FakeAccount:
        """A new account that logs in with these credentials (``add_account(Credentials(...))``
        or ``add_account(api_key, secret, passphrase)``); script it to make private pushes
        (see :class:`~okx_trio.testing.FakeAccount`).

        *options*: ``ip_allowed`` (False: login 60009, REST 50110), ``expired`` (login
        60032, REST 50119), ``demo`` (REST needs ``x-simulated-trading: 1``), ``uid``,
        ``conn_cap`` (connections per private channel, OKX's 30), ``page_size``
        (positions/currencies per snapshot page), ``fee_rate``.

        Raises:
            ValueError: the key is taken or the values are not valid credentials (never
                quoted).
            TypeError: an unknown option, or the secret/passphrase missing with a key.
        """
        return self._accounts.add(credentials_or_key, secret, passphrase, **options)

    @property
    def accounts(self) -> Accounts:
        """The accounts of :meth:`add_account` (what ``handle_private_rest`` takes)."""
        return self._accounts
