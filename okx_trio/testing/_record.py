"""Recording a live OKX session in the capture format, for :class:`ReplayExchange` to replay.

:func:`record_session` opens one connection per endpoint the subscriptions need, sends one
subscribe request on each, and writes every frame (requests included) with its wall-clock
time, one line each, flushed as it goes, so that whatever ends the recording leaves a
complete file. ``python -m okx_trio.testing record`` is its command line.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final, Literal, NoReturn, TextIO
from urllib.parse import urlsplit

import trio
import trio_websocket

from .._connection import Connection, ConnectionClosed, Connector
from .._okx import (
    DEFAULT_HOST,
    ENDPOINT_PATHS,
    HOSTS,
    MAX_REQUEST_BYTES,
    PING,
    Endpoint,
    endpoint_url,
)
from .._subscription import Subscription
from .._transport_trio_websocket import WebSocketConnector
from ._replay import CaptureLine

__all__ = ["PING_AFTER", "RecordSummary", "record_session", "resolve_host"]

#: Seconds of silence on a connection before the recorder sends ``ping`` (OKX closes a
#: connection after 30 s without traffic); a second silence as long means it is dead.
PING_AFTER: Final = 20.0

EndReason = Literal["duration", "max_messages", "stopped", "closed"]
_CLOSED: Final = (ConnectionClosed, trio_websocket.ConnectionClosed)


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """How a recording went.

    Attributes:
        urls: The connections' urls, in the order they were opened.
        received: Frames received (and written), per url.
        sent: Frames sent (and written): subscribe requests and pings, per url.
        lines: Lines written in all.
        reason: What ended it: ``"duration"``, ``"max_messages"``, ``"stopped"`` (the
            *stop* event was set) or ``"closed"`` (a connection closed or went silent).
        closed: For ``"closed"``, which url and why (``"wss://...: connection closed
            (code 4004, ...)"``); otherwise ``None``.
    """

    urls: tuple[str, ...]
    received: dict[str, int]
    sent: dict[str, int]
    lines: int
    reason: EndReason
    closed: str | None = None

    @property
    def total_received(self) -> int:
        return sum(self.received.values())


def resolve_host(host: str) -> str:
    """The ``ws[s]://name[:port]`` host that *host* stands for.

    Takes a host url (``wss://ws.okx.com:8443``), a name from ``okx_trio._okx.HOSTS``
    (``production``, ``aws``, ``demo``, ...), or an endpoint url whose path is an OKX
    endpoint path (``ws://127.0.0.1:8765/ws/v5/public``, as the fake exchange prints it).

    Raises:
        ValueError: naming *host* and what was expected.
    """
    if not isinstance(host, str):
        raise ValueError(f"host must be a string, got {host!r}")
    if host in HOSTS:
        return HOSTS[host]
    expected = f"a ws:// or wss:// url with a host, or one of {', '.join(HOSTS)}"
    try:
        parts = urlsplit(host)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError(f"bad host {host!r}: expected {expected}") from None
    if parts.scheme not in ("ws", "wss") or not parts.hostname or any(c.isspace() for c in host):
        raise ValueError(f"bad host {host!r}: expected {expected}")
    path = parts.path.rstrip("/")
    if (path and path not in ENDPOINT_PATHS.values()) or parts.query or parts.fragment:
        raise ValueError(
            f"bad host {host!r}: the path must be empty or an OKX endpoint path "
            f"({', '.join(ENDPOINT_PATHS.values())})"
        )
    return f"{parts.scheme}://{parts.netloc}"


def _group(subscriptions: Iterable[Subscription | str]) -> dict[Endpoint, list[Subscription]]:
    groups: dict[Endpoint, list[Subscription]] = {}
    for item in subscriptions:
        if isinstance(item, str):
            try:
                sub = Subscription.parse(item)
            except ValueError as exc:
                raise ValueError(
                    f"bad subscription {item!r}: {exc}; expected CHANNEL:ARGUMENT, like "
                    "tickers:BTC-USDT, candle1m:BTC-USDT or instruments:SPOT"
                ) from None
        else:
            sub = item
        if not isinstance(sub, Subscription):
            raise ValueError(
                f"expected a Subscription or text like 'trades:BTC-USDT', got {item!r}"
            )
        if sub.spec.login or sub.endpoint == "private":
            raise ValueError(
                f"cannot record {sub.key!r}: channel {sub.channel!r} needs a login, and the "
                "recorder does not log in"
            )
        group = groups.setdefault(sub.endpoint, [])
        if sub not in group:
            group.append(sub)
    if not groups:
        raise ValueError("nothing to record: give at least one subscription")
    # Public first, then business: a fixed order, whatever order the user listed them in.
    order = list(ENDPOINT_PATHS)
    return dict(sorted(groups.items(), key=lambda item: order.index(item[0])))


def _requests(subs: list[Subscription]) -> list[str]:
    """Subscribe requests for *subs*: one, unless OKX's size limit makes it several."""
    requests: list[str] = []
    batch: list[str] = []
    size = 0  # bytes of the args in batch, commas included

    def text() -> str:
        # What json.dumps(..., separators=(",", ":")) writes, built from the args' texts
        # so that sizing a batch stays linear.
        return f'{{"id":"{len(requests) + 1}","op":"subscribe","args":[{",".join(batch)}]}}'

    overhead = len(text().encode())
    for sub in subs:
        arg = json.dumps(sub.arg, separators=(",", ":"))
        added = len(arg.encode()) + (1 if batch else 0)
        # +2: room for the id to grow a digit or two.
        if batch and overhead + 2 + size + added > MAX_REQUEST_BYTES:
            requests.append(text())
            batch, size, added = [], 0, added - 1
        batch.append(arg)
        size += added
    requests.append(text())
    return requests


class _Writer:
    """Writes capture lines, whole and flushed, and keeps the counts."""

    def __init__(self, out: TextIO, wall_clock: Callable[[], float]) -> None:
        self._out = out
        self._wall_clock = wall_clock
        self._last_opened: str | None = None
        self.urls: list[str] = []
        self.received: dict[str, int] = {}
        self.sent: dict[str, int] = {}
        self.lines = 0

    def write(self, kind: Literal["open", "sent", "received"], url: str, text: str | bytes) -> None:
        now = self._wall_clock()
        if not (isinstance(now, int | float) and math.isfinite(now) and now >= 0):
            raise ValueError(f"wall_clock() must return seconds since the epoch, got {now!r}")
        line = CaptureLine(kind, float(now), url, text).to_line(last_opened=self._last_opened)
        # A blocking write on purpose: a line is short, and doing it in a thread would let
        # an autojump clock move while it is in flight. One write call per whole line, then
        # a flush, so an interruption never leaves half a line behind.
        self._out.write(line + "\n")
        self._out.flush()
        self.lines += 1
        if kind == "open":
            self._last_opened = url
            self.urls.append(url)
            self.received[url] = self.sent[url] = 0
        elif kind == "sent":
            self.sent[url] += 1
        else:
            self.received[url] += 1


class _Recording:
    def __init__(self, writer: _Writer, max_messages: int | None) -> None:
        self.writer = writer
        self.max_messages = max_messages
        self.reason: EndReason | None = None
        self.closed: str | None = None
        self.scope = trio.CancelScope()

    def end(self, reason: EndReason, closed: str | None = None) -> None:
        if self.reason is None:
            self.reason, self.closed = reason, closed
        self.scope.cancel()


async def _record_connection(
    recording: _Recording,
    connector: Connector,
    url: str,
    subs: list[Subscription],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    writer = recording.writer
    started = False
    try:
        async with connector(url) as conn:
            writer.write("open", url, "")
            for request in _requests(subs):
                await conn.send_message(request)
                writer.write("sent", url, request)
            task_status.started()
            started = True
            await _receive(recording, conn, url)
    except _CLOSED as exc:
        recording.end("closed", f"{url}: {_describe(exc)}")
        if not started:  # closed while subscribing: the recording ends here all the same
            task_status.started()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, trio_websocket.ConnectionClosed) and exc.reason is not None:
        reason = exc.reason
        return str(ConnectionClosed(reason.code, reason.reason or ""))
    return str(exc)


async def _receive(recording: _Recording, conn: Connection, url: str) -> None:
    writer = recording.writer
    pinged = False
    while True:
        with trio.move_on_after(PING_AFTER) as silence:
            message = await conn.get_message()
        if silence.cancelled_caught:
            if pinged:
                recording.end("closed", f"{url}: no pong within {PING_AFTER:g} s of a ping")
                return
            await conn.send_message(PING)
            writer.write("sent", url, PING)
            pinged = True
            continue
        pinged = False
        writer.write("received", url, message)
        total = sum(writer.received.values())
        if recording.max_messages is not None and total >= recording.max_messages:
            recording.end("max_messages")
            return


@contextmanager
def _opened(out: str | os.PathLike[str] | TextIO) -> Iterator[TextIO]:
    if isinstance(out, str | os.PathLike):
        # newline="\n": a capture looks the same whatever platform wrote it.
        with open(out, "w", encoding="utf-8", newline="\n") as f:
            yield f
    else:
        yield out


async def record_session(
    subscriptions: Iterable[Subscription | str],
    out: str | os.PathLike[str] | TextIO,
    *,
    duration: float | None = None,
    host: str = DEFAULT_HOST,
    connector: Connector | None = None,
    wall_clock: Callable[[], float] = time.time,
    max_messages: int | None = None,
    stop: trio.Event | None = None,
) -> RecordSummary:
    """Record a live session of *subscriptions* into *out*, in the capture format.

    Subscriptions (``Subscription`` or text like ``"trades:BTC-USDT"``, duplicates
    dropped) are grouped by endpoint; one connection per endpoint is opened to
    ``endpoint_url(host, endpoint)``, public first, with *connector* (default: a new
    ``WebSocketConnector()``). On each, once open, one ``{"id":"1","op":"subscribe",...}``
    request is sent (several, with ids "1", "2", ..., only if OKX's 64 KB request limit
    forces it). Written, one line each and flushed as it goes: ``URL <-> T`` when a
    connection opens, ``URL <- T: TEXT`` for each frame sent, then every frame received,
    raw (see :mod:`okx_trio.testing._replay` for the format, including the ``URL -> T:``
    form a second connection's frames take). T is ``wall_clock()`` when the line is
    written, with microseconds; nothing else reads the wall clock, and time spans are
    measured in Trio time. After :data:`PING_AFTER` seconds without a frame, ``ping`` is
    sent (and written); a second silence as long ends the recording as ``"closed"``.

    It ends, closing every connection, when *duration* seconds (from the call) have
    passed, *max_messages* frames have been received (all connections together), *stop*
    is set, or a connection closes; it returns a :class:`RecordSummary`. *out* is a path
    (created or truncated, UTF-8; closed at the end) or an open text file (flushed, left
    open). Cancelled, it raises ``Cancelled`` as usual, and the file is complete up to
    the last frame received.

    Raises:
        ValueError: before anything is opened, for a bad subscription (naming it), a
            channel that needs a login, no subscriptions at all, a bad *host*, or a
            *duration* / *max_messages* that is not positive; later, if *wall_clock*
            returns something that is not a time.
        OSError, trio_websocket.HandshakeError, ...: whatever *connector* raises when a
            connection cannot be opened (the file holds what was written before).
    """
    groups = _group(subscriptions)
    base = resolve_host(host)
    if duration is not None and not duration > 0:
        raise ValueError(f"duration must be > 0 seconds (or None), got {duration!r}")
    if max_messages is not None and (
        isinstance(max_messages, bool) or not isinstance(max_messages, int) or max_messages < 1
    ):
        raise ValueError(f"max_messages must be an int >= 1 (or None), got {max_messages!r}")
    if connector is None:
        connector = WebSocketConnector()
    with _opened(out) as f:
        recording = _Recording(_Writer(f, wall_clock), max_messages)
        if duration is not None:
            recording.scope.deadline = trio.current_time() + duration
        try:
            with recording.scope:
                async with trio.open_nursery() as nursery:
                    if stop is not None:
                        nursery.start_soon(_wait_stop, recording, stop)
                    for endpoint, subs in groups.items():
                        url = endpoint_url(base, endpoint)
                        await nursery.start(_record_connection, recording, connector, url, subs)
        except BaseExceptionGroup as group:
            raise_single(group)
        writer = recording.writer
        return RecordSummary(
            urls=tuple(writer.urls),
            received=dict(writer.received),
            sent=dict(writer.sent),
            lines=writer.lines,
            # Nothing else cancels the scope: the connections run until one closes.
            reason=recording.reason or "duration",
            closed=recording.closed,
        )


async def _wait_stop(recording: _Recording, stop: trio.Event) -> None:
    await stop.wait()
    recording.end("stopped")


def raise_single(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Raise the one real error of *group* unwrapped (a ``Cancelled`` beside it is noise:
    Trio delivers cancellation again at the next checkpoint); several stay a group."""
    real = group.subgroup(lambda exc: not isinstance(exc, trio.Cancelled))
    chosen = group if real is None else real
    if len(chosen.exceptions) == 1 and not isinstance(chosen.exceptions[0], BaseExceptionGroup):
        raise chosen.exceptions[0] from None
    raise chosen
