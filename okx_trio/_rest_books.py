"""OKX's REST order book (``GET /api/v5/market/books``): the request and the answer (sans-IO).

A book that gets updates without a WebSocket snapshot is seeded from this (see
:mod:`okx_trio._book_keeper`). Only the parsing lives here; the HTTP call is the Trio shell's
(:mod:`okx_trio._rest`). OKX's answer: ``{"code":"0","msg":"","data":[{"asks":[[px, sz, "0",
orders], ...], "bids": [...], "ts": "...", "seqId": 3235851742}]}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from ._book_levels import level_error

__all__ = ["BOOKS_PATH", "RestBook", "RestError", "books_params", "parse_books_answer"]

BOOKS_PATH: Final = "/api/v5/market/books"
#: OKX's deepest REST snapshot per side (``sz`` above it is refused).
MAX_REST_DEPTH: Final = 400

Level = tuple[str, str, str, str]


class RestError(Exception):
    """A REST call that gave no usable answer; the message says what and why."""


@dataclass(frozen=True, slots=True)
class RestBook:
    """OKX's REST order book: its ``seqId``, ``ts`` and levels as OKX's strings."""

    seq_id: int
    ts: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


def books_params(inst_id: str, depth: int) -> dict[str, str]:
    """The query of the REST snapshot of *inst_id*, *depth* levels per side.

    Raises:
        ValueError: for a depth outside 1..400.
    """
    if not 1 <= depth <= MAX_REST_DEPTH:
        raise ValueError(f"depth must be within 1..{MAX_REST_DEPTH}, got {depth}")
    return {"instId": inst_id, "sz": str(depth)}


def parse_books_answer(status: int, body: bytes, inst_id: str) -> RestBook:
    """The book in OKX's answer to :data:`BOOKS_PATH` for *inst_id*.

    Raises:
        RestError: for an HTTP error, a body that is not OKX's shape, a non-zero ``code``
            (OKX's code and message are quoted), or a level that is not four strings.
    """
    where = f"REST order book of {inst_id}"
    try:
        answer: Any = json.loads(body)
    except (ValueError, RecursionError):
        answer = None
    if status != 200:
        detail = _okx_error(answer) or body[:200].decode("utf-8", "replace").strip()
        raise RestError(f"{where}: HTTP {status}" + (f" ({detail})" if detail else ""))
    if not isinstance(answer, dict):
        raise RestError(f"{where}: the answer is not a JSON object: {body[:200]!r}")
    if str(answer.get("code")) != "0":
        raise RestError(f"{where}: {_okx_error(answer) or 'no code in the answer'}")
    data = answer.get("data")
    if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
        raise RestError(f"{where}: expected data to hold one book, got {_show(data)}")
    book = data[0]
    seq_id = book.get("seqId")
    if isinstance(seq_id, str) and seq_id.lstrip("-").isdigit():
        seq_id = int(seq_id)
    if type(seq_id) is not int:
        raise RestError(f"{where}: seqId must be an integer, got {_show(seq_id)}")
    ts = book.get("ts")
    if not (isinstance(ts, str) and ts.isascii() and ts.isdigit()):
        raise RestError(f"{where}: ts must be a string of digits, got {_show(ts)}")
    return RestBook(seq_id, int(ts), _side(where, book, "bids"), _side(where, book, "asks"))


def _side(where: str, book: dict[str, Any], name: str) -> tuple[Level, ...]:
    levels = book.get(name)
    if not isinstance(levels, list):
        raise RestError(f"{where}: {name} must be a list of levels, got {_show(levels)}")
    for level in levels:
        error = level_error(level)
        if error is not None:
            raise RestError(f"{where}: {name}: {error}")
    return tuple(tuple(level) for level in levels)


def _okx_error(answer: Any) -> str:
    if isinstance(answer, dict) and "code" in answer:
        msg = str(answer.get("msg") or "").strip()
        return f"OKX error {answer.get('code')}" + (f": {msg}" if msg else "")
    return ""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
