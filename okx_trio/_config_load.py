"""Reading config values from a mapping, a TOML file or the environment, before they are
checked: unknown keys (with a "did you mean"), the old key names, empty url lists, and
environment strings decoded by each field's type. Pure functions over plain data; the one
I/O is reading the named TOML file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._config_check import FieldError, check_value, decode_text, did_you_mean

__all__ = ["check_keys", "read_env", "read_toml", "refuse_unknown", "take_old_names"]


def check_keys(
    values: Mapping[str, Any],
    *,
    names: Iterable[str],
    aliases: Iterable[str],
    not_empty: Iterable[str],
    source: str = "",
    render: Callable[[str], str] | None = None,
) -> None:
    """Check the keys of *values* before they reach the config (old names, *aliases*, are
    known keys: the config maps them).

    *source* (a file name) starts every message; *render* turns a key into how the user
    wrote it (``OKX_TRIO_PING_INTERVAL``), and messages then start with that instead.

    Raises:
        ValueError: for an unknown key (with the closest known one), or an empty list for a
            key in *not_empty* (it would mean "no endpoint"; leave the key out for the urls
            derived from ``host``).
    """
    names = tuple(names)
    known = (*names, *aliases)

    def lead(key: str) -> str:
        if render is not None:
            return render(key)
        return f"{source}: {key}" if source else key

    unknown = sorted(str(key) for key in set(values) - set(known))
    if unknown:
        listed = ", ".join(render(name) if render else name for name in names)
        if render is not None:
            first = unknown[0]
            suggestion = did_you_mean(first, known, render)
            raise ValueError(f"{lead(first)}: unknown setting{suggestion} (known: {listed})")
        where = f"{source}: " if source else ""
        described = ", ".join(key + did_you_mean(key, known) for key in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise ValueError(f"{where}unknown key{plural} {described} (known: {listed})")
    for key in not_empty:
        value = values.get(key)
        if isinstance(value, list | tuple) and not value:
            raise ValueError(
                f"{lead(key)} is an empty list; leave it out for the urls derived from "
                "host, or list at least one url"
            )


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The settings table of a TOML file: its top level, or its ``[okx_trio]`` table.

    Raises:
        ValueError: naming the file, for text that is not TOML. OSError if it cannot be read.
    """
    source = os.fspath(path)
    with open(path, "rb") as file:
        try:
            data = tomllib.load(file)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{source}: not valid TOML: {exc}") from None
    table = data.get("okx_trio")
    return dict(table) if isinstance(table, dict) else data


def read_env(
    environ: Mapping[str, str], *, prefix: str, hints: Mapping[str, Any], aliases: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The ``<prefix><FIELD>`` variables of *environ*, decoded by each field's annotation.

    Returns the values by key (old names kept, as the config maps them) and each key's
    variable. An unknown key's text is returned as it is, for :func:`check_keys` to
    report with a suggestion.

    Raises:
        ValueError: naming the variable, for text that does not parse as its field's type.
    """
    values: dict[str, Any] = {}
    variables: dict[str, str] = {}
    for variable, text in sorted(environ.items()):
        if not variable.startswith(prefix):
            continue
        key = variable[len(prefix) :].lower()
        variables[key] = variable
        field = aliases.get(key, key)
        if field not in hints:
            values[key] = text
            continue
        try:
            values[key] = decode_text(hints[field], text)
        except ValueError as exc:
            raise ValueError(f"{variable}: {exc}") from None
    return values, variables


def take_old_names(
    owner: str,
    kwargs: dict[str, Any],
    *,
    aliases: Mapping[str, str],
    hints: Mapping[str, Any],
    strict: bool,
) -> None:
    """Move old field names (*aliases*, old to new) in *kwargs* to the new ones, checking
    each value by the new field's annotation but under the name the caller used.

    With *strict* (``replace``, where both names are the caller's), an old and a new name
    with different values are an error. Without it (the constructor) the old name wins: the
    new name's value there is usually a copy (``dataclasses.replace``, or ``asdict`` of
    another config updated with the old name, as ``examples/monitor.py`` does), and the
    old name is the change the caller made.

    Raises:
        FieldError: naming the old name, for a bad value or (strict) a disagreement.
    """
    for old, new in aliases.items():
        if old not in kwargs:
            continue
        value = check_value(owner, old, hints[new], kwargs.pop(old))
        if strict and new in kwargs and kwargs[new] != value:
            raise FieldError(
                old,
                f"{owner}.{old} ({value!r}) is the old name of {new} "
                f"({kwargs[new]!r}) and they disagree: give {new} alone",
            )
        kwargs[new] = value


def refuse_unknown(
    owner: str, kwargs: Mapping[str, Any], *, names: Iterable[str], aliases: Iterable[str]
) -> None:
    """Raise TypeError, with the closest known name, for a keyword that is no field."""
    names = tuple(names)
    for key in kwargs:
        if key not in names:
            raise TypeError(
                f"{owner} got an unexpected keyword argument {key!r}"
                f"{did_you_mean(key, (*names, *aliases))}"
            )
