"""The fake exchange's signed REST routes for the reconcile: a sans-IO handler.

:func:`handle_private_rest` answers ``GET /api/v5/trade/orders-pending``,
``GET /api/v5/account/positions`` and ``GET /api/v5/account/balance``
(:data:`PRIVATE_REST_PATHS`) from the exchange's accounts, after checking OKX's REST
signature rule (OKX API docs v5, Overview > REST Authentication): headers
``OK-ACCESS-KEY``, ``OK-ACCESS-SIGN``, ``OK-ACCESS-TIMESTAMP`` (ISO-8601 UTC with
milliseconds, ``2020-12-08T09:08:57.715Z``) and ``OK-ACCESS-PASSPHRASE``; ``sign =
base64(HMAC_SHA256(secret, timestamp + METHOD + requestPath + body))`` where
``requestPath`` includes ``?query`` exactly as sent; the timestamp within 30 s of the
exchange's clock. It has the shape of the fake's REST route table,
``(method, path, query, headers, body, now) -> (status, body)``, with the exchange (or its
:class:`~._account_registry.Accounts`) first.

Refusals, all HTTP 401 with OKX's ``{"code","msg","data":[]}``: a header missing (50103
key, 50104 passphrase, 50106 sign, 50107 timestamp), 50112 a timestamp not in OKX's format,
50102 outside the window, 50111 unknown key, 50119 expired key, 50101 a demo key without
``x-simulated-trading: 1`` (or that header with a live key), 50105 wrong passphrase,
50113 bad signature, 50110 IP not allowed. A bad query parameter is HTTP 400 code 51000;
another path 404, another method 405. Nothing quotes a header's value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, Protocol
from urllib.parse import parse_qsl, urlencode

from .._reconcile_answers import (
    BALANCE_PATH,
    ORDERS_PAGE_LIMIT,
    ORDERS_PENDING_PATH,
    POSITIONS_PATH,
)
from ._account_registry import Accounts
from ._account_shapes import WS_ONLY_ORDER_FIELDS, order_object, position_object
from ._accounts import FakeAccount
from ._login import LOGIN_WINDOW

__all__ = ["PRIVATE_REST_PATHS", "handle_private_rest"]

#: The paths :func:`handle_private_rest` serves (all GET).
PRIVATE_REST_PATHS: Final = frozenset({ORDERS_PENDING_PATH, POSITIONS_PATH, BALANCE_PATH})
_ISO: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_MISSING: Final = (
    ("OK-ACCESS-KEY", "50103"),
    ("OK-ACCESS-PASSPHRASE", "50104"),
    ("OK-ACCESS-SIGN", "50106"),
    ("OK-ACCESS-TIMESTAMP", "50107"),
)
_MESSAGES: Final = {
    "50101": "APIKey does not match current environment.",
    "50102": "Timestamp request expired",
    "50105": "Invalid OK-ACCESS-PASSPHRASE",
    "50110": "Your IP is not in linking trusted IP addresses.",
    "50111": "Invalid OK-ACCESS-KEY",
    "50112": "Invalid OK-ACCESS-TIMESTAMP",
    "50113": "Invalid Sign",
    "50119": "API key doesn't exist",
}
_ORDER_TYPES: Final = frozenset({"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS"})
_POSITION_TYPES: Final = frozenset({"MARGIN", "SWAP", "FUTURES", "OPTION"})


class HasAccounts(Protocol):
    @property
    def accounts(self) -> Accounts: ...


def _answer(status: int, code: str, msg: str, data: list[Any] | None = None) -> tuple[int, bytes]:
    body = {"code": code, "msg": msg, "data": [] if data is None else data}
    return status, json.dumps(body, separators=(",", ":")).encode()


def _refused(code: str) -> tuple[int, bytes]:
    return _answer(401, code, _MESSAGES[code])


def _query_text(query: str | Mapping[str, str] | None) -> str:
    if query is None:
        return ""
    if isinstance(query, str):
        return query.removeprefix("?")
    return urlencode(list(query.items()))


def _body_text(body: bytes | str | None) -> str | None:
    if body is None:
        return ""
    if isinstance(body, bytes | bytearray):
        try:
            return bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return body


def handle_private_rest(
    exchange_or_accounts: HasAccounts | Accounts,
    method: str,
    path: str,
    query: str | Mapping[str, str] | None,
    headers: Mapping[str, str],
    body: bytes | str | None,
    now: float,
) -> tuple[int, bytes]:
    """One signed REST request to the fake exchange; ``(HTTP status, JSON body)``.

    *query* is the query string as sent (no ``?``; or a mapping, encoded in its order);
    *headers* are matched case-insensitively; *now* is the fake's clock (the Trio clock's
    reading, as every sans-IO part of the fake takes it; OKX's wall clock is
    ``accounts.wall(now)``). Never raises for anything a client sends.
    """
    accounts = (
        exchange_or_accounts
        if isinstance(exchange_or_accounts, Accounts)
        else exchange_or_accounts.accounts
    )
    if path not in PRIVATE_REST_PATHS:
        return _answer(404, "404", f"Not Found: {path[:80]}")
    if not isinstance(method, str) or method.upper() != "GET":
        return _answer(405, "405", "Method Not Allowed")
    query_text = _query_text(query)
    text = _body_text(body)
    if text is None:
        return _answer(400, "50000", "Body can not be decoded as UTF-8")
    account = _authenticate(accounts, path, query_text, headers, text, now)
    if not isinstance(account, FakeAccount):
        return account
    params = dict(parse_qsl(query_text, keep_blank_values=True))
    now_ms = round(accounts.wall(now) * 1000)
    if path == ORDERS_PENDING_PATH:
        return _orders_pending(account, params)
    if path == POSITIONS_PATH:
        return _positions(account, params, now_ms)
    ccys = [c for c in params.get("ccy", "").split(",") if c]
    return _answer(200, "0", "", [account.account_object(ccys or None, now_ms)])


def _authenticate(
    accounts: Accounts,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: str,
    now: float,
) -> FakeAccount | tuple[int, bytes]:
    given = {name.upper(): value for name, value in headers.items() if isinstance(value, str)}
    for name, code in _MISSING:
        if not given.get(name):
            return _answer(401, code, f"Request header {name} cannot be empty.")
    timestamp = given["OK-ACCESS-TIMESTAMP"]
    if _ISO.fullmatch(timestamp) is None:
        return _refused("50112")
    try:
        moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return _refused("50112")
    if abs(moment.timestamp() - accounts.wall(now)) > LOGIN_WINDOW:
        return _refused("50102")
    account = accounts.get(given["OK-ACCESS-KEY"])
    if account is None:
        return _refused("50111")
    if account.expired:
        return _refused("50119")
    if account.demo != (given.get("X-SIMULATED-TRADING") == "1"):
        return _refused("50101")
    if not account.passphrase_is(given["OK-ACCESS-PASSPHRASE"]):
        return _refused("50105")
    request_path = path + (f"?{query}" if query else "")
    if not account.signs(timestamp + "GET" + request_path + body, given["OK-ACCESS-SIGN"]):
        return _refused("50113")
    if not account.ip_allowed:
        return _refused("50110")
    return account


def _bad(name: str) -> tuple[int, bytes]:
    return _answer(400, "51000", f"Parameter {name} error")


def _orders_pending(account: FakeAccount, params: dict[str, str]) -> tuple[int, bytes]:
    inst_type = params.get("instType", "")
    if inst_type and inst_type not in _ORDER_TYPES:
        return _bad("instType")
    limit_text = params.get("limit", str(ORDERS_PAGE_LIMIT))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= ORDERS_PAGE_LIMIT:
        return _bad("limit")
    bounds = {}
    for name in ("after", "before"):
        value = params.get(name, "")
        if value and not value.isdigit():
            return _bad(name)
        bounds[name] = int(value) if value else None
    orders = account.open_orders()  # newest first
    chosen = [
        order
        for order in orders
        if (not inst_type or order.inst_type == inst_type)
        and (not params.get("instId") or order.inst_id == params["instId"])
        and (not params.get("ordType") or order.ord_type == params["ordType"])
        and (not params.get("state") or order.state == params["state"])
        and (bounds["after"] is None or int(order.ord_id) < bounds["after"])
        and (bounds["before"] is None or int(order.ord_id) > bounds["before"])
    ][: int(limit_text)]
    rows = [
        {k: v for k, v in order_object(order).items() if k not in WS_ONLY_ORDER_FIELDS}
        for order in chosen
    ]
    return _answer(200, "0", "", rows)


def _positions(account: FakeAccount, params: dict[str, str], now_ms: int) -> tuple[int, bytes]:
    inst_type = params.get("instType", "")
    if inst_type and inst_type not in _POSITION_TYPES:
        return _bad("instType")
    inst_ids = {i for i in params.get("instId", "").split(",") if i}
    pos_ids = {p for p in params.get("posId", "").split(",") if p}
    rows = [
        position_object(h, now_ms)
        for h in account.positions()
        if (not inst_type or h.inst_type == inst_type)
        and (not inst_ids or h.inst_id in inst_ids)
        and (not pos_ids or h.pos_id in pos_ids)
    ]
    return _answer(200, "0", "", rows)
