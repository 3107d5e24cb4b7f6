"""The open connection of the ``websockets-sansio`` transport: no reader task of its own.

The task that calls :meth:`SansIOConnection.get_message` reads the stream itself and feeds
what it reads to websockets' sans-IO :class:`~websockets.client.ClientProtocol`; the data
frames become messages in a queue that :meth:`~SansIOConnection.get_messages_nowait` drains
without a checkpoint. A message therefore costs one wake-up (the receiver's), where a
transport with a reader task costs two and a hop through a channel.

Two tasks share the protocol object: the receiver (``get_message``) and one sender at a
time (``send_message``; the heartbeat and the subscription task send while the receiver
waits in ``receive_some``). That is safe because every use of the protocol is synchronous:
``receive_data`` + ``events_received`` + ``data_to_send`` on one side, ``send_text`` +
``data_to_send`` on the other, each run to completion between two checkpoints, so the
other task never sees it half-updated, and the bytes each produced are taken at once
(``data_to_send``) and appended to one outgoing queue in protocol order. Only the holder of
the send lock writes that queue to the stream, so frames reach the wire whole and in the
order the protocol produced them, and the receiver never waits on a slow send: when a
sender holds the lock, the receiver's replies (pong, the echo of a close) go out with the
sender's frame before it lets go.
"""

from __future__ import annotations

from collections import deque
from typing import Final, cast

import trio
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from ._connection import ConnectionClosed

__all__ = ["SansIOConnection"]

#: One read takes whatever the socket holds up to this: a burst of pushes is one wake-up.
RECEIVE_SIZE: Final = 65536
_ABNORMAL_CLOSURE: Final = 1006
_INVALID_DATA: Final = 1007
#: Failures of the stream under us: the peer reset it, TLS broke, or we closed it.
_STREAM_ERRORS: Final = (trio.BrokenResourceError, trio.ClosedResourceError, OSError)

_OPEN: Final = State.OPEN
_CLOSED: Final = State.CLOSED
_TEXT: Final = Opcode.TEXT
_BINARY: Final = Opcode.BINARY
_CONT: Final = Opcode.CONT


class SansIOConnection:
    """A :class:`~okx_trio.Connection` over a stream and websockets' sans-IO client protocol.

    Made by :class:`~okx_trio._transport_sansio.SansIOConnector` once the opening handshake
    is done. One task at a time may call ``get_message`` (two would make the stream raise
    :class:`trio.BusyResourceError`); any number may call ``send_message``.
    """

    __slots__ = (
        "_cause",
        "_closed",
        "_fragment_text",
        "_fragments",
        "_messages",
        "_outgoing",
        "_protocol",
        "_receiving",
        "_send_lock",
        "_stream",
        "_stream_closed",
    )

    def __init__(self, stream: trio.abc.Stream, protocol: ClientProtocol) -> None:
        self._stream = stream
        self._protocol = protocol
        self._messages: deque[str | bytes] = deque()
        # The frames of a fragmented message so far, and whether it is text.
        self._fragments: list[bytes | bytearray | memoryview] = []
        self._fragment_text = False
        #: How the connection closed (code, reason), once the protocol says it has.
        self._closed: ConnectionClosed | None = None
        #: What broke the stream (a reset, a failed send), chained to ConnectionClosed.
        self._cause: BaseException | None = None
        self._send_lock = trio.StrictFIFOLock()
        #: Bytes the protocol produced, in its order, not yet written (see the module doc).
        self._outgoing: deque[bytes] = deque()
        self._receiving = False
        self._stream_closed = False

    # -- receiving -----------------------------------------------------------------------------

    async def get_message(self) -> str | bytes:
        """The next message: ``str`` for a text message, ``bytes`` for a binary one.

        Raises :class:`okx_trio.ConnectionClosed` once the connection is closed, after every
        message received before the close: with the peer's close code and reason, the code
        we failed the connection with for a protocol error of the peer's (1002, 1007 for
        text that is not UTF-8, 1009 for a message over ``max_message_size``), or 1006 when
        the stream ended without a closing handshake. Cancellation loses nothing: a message
        read from the socket stays queued for the next call.
        """
        messages = self._messages
        if messages:
            # A queued message still costs a checkpoint, so a receiver that always finds one
            # (a flood larger than its batches) cannot starve the other tasks.
            await trio.lowlevel.checkpoint()
        while not messages:
            if self._closed is not None:
                raise self._closed_error()
            await self._receive()
        return messages.popleft()

    def get_messages_nowait(self, limit: int) -> list[str | bytes]:
        """Up to *limit* messages already received, in order; ``[]`` if none.

        Synchronous: no checkpoint, never blocks, never raises; a close is reported by the
        next ``get_message``, after these.
        """
        messages = self._messages
        if not messages or limit <= 0:
            return []
        if len(messages) <= limit:
            batch = list(messages)
            messages.clear()
            return batch
        popleft = messages.popleft
        return [popleft() for _ in range(limit)]

    async def _receive(self) -> None:
        """One read from the stream through the protocol; replies (pong, close) sent."""
        protocol = self._protocol
        self._receiving = True
        try:
            data = await self._stream.receive_some(RECEIVE_SIZE)
        except _STREAM_ERRORS as exc:
            # The stream is gone (or was closed under us after a failed send): the
            # protocol learns it as the end of the stream, hence code 1006.
            if self._cause is None:
                self._cause = exc
            data = b""
        finally:
            self._receiving = False
        if data:
            protocol.receive_data(data)
        else:
            protocol.receive_eof()
        self.accept(cast("list[Frame]", protocol.events_received()))
        writes = protocol.data_to_send()
        if writes:
            await self._write(writes, wait=False)

    def accept(self, events: list[Frame]) -> None:
        """Queue the messages in *events* (frames from the protocol); note a close."""
        append = self._messages.append
        for frame in events:
            opcode = frame.opcode
            if opcode is _TEXT and frame.fin:  # the usual case: a whole text message
                try:
                    append(str(frame.data, "utf-8"))
                except UnicodeDecodeError as exc:
                    self._invalid_text(exc)
                    break
            elif opcode is _TEXT or opcode is _BINARY or opcode is _CONT:
                # The protocol enforces the order (no new message inside a fragmented one).
                if opcode is not _CONT:
                    self._fragments.clear()
                    self._fragment_text = opcode is _TEXT
                self._fragments.append(frame.data)
                if frame.fin:
                    data = b"".join(self._fragments)
                    self._fragments.clear()
                    if not self._fragment_text:
                        append(data)
                        continue
                    try:
                        append(data.decode())
                    except UnicodeDecodeError as exc:
                        self._invalid_text(exc)
                        break
            # PING (the protocol has queued the pong), PONG, CLOSE: nothing to deliver.
        if self._closed is None and self._protocol.state is not _OPEN:
            self._closed = self._close_info()

    def _invalid_text(self, exc: UnicodeDecodeError) -> None:
        # As websockets' own connections do: fail the connection with 1007.
        self._fragments.clear()
        self._protocol.fail(_INVALID_DATA, f"invalid UTF-8 in a text message: {exc.reason}")
        self._cause = exc

    def _close_info(self) -> ConnectionClosed:
        protocol = self._protocol
        received, sent = protocol.close_rcvd, protocol.close_sent
        if received is not None:  # the peer's close frame (its code, or 1005 for none)
            closed = ConnectionClosed(int(received.code), received.reason)
        elif sent is not None and sent.code != 1000:  # we failed it: the peer's error
            closed = ConnectionClosed(int(sent.code), sent.reason)
        else:
            closed = ConnectionClosed(_ABNORMAL_CLOSURE)
        cause = protocol.parser_exc if self._cause is None else self._cause
        if isinstance(cause, EOFError):
            cause = None  # "unexpected end of stream": the 1006 says it
        closed.__cause__ = cause
        return closed

    def _closed_error(self) -> ConnectionClosed:
        """A fresh exception (raising one object twice would chain its tracebacks)."""
        info = self._closed
        if info is None:  # closing, or the stream broke under a send: not seen by a read
            info = self._close_info()
        closed = ConnectionClosed(info.code, info.reason)
        closed.__cause__ = info.__cause__
        return closed

    # -- sending -------------------------------------------------------------------------------

    async def send_message(self, message: str | bytes) -> None:
        """Send one message (``str``: a text frame, ``bytes``: a binary one).

        Raises :class:`okx_trio.ConnectionClosed` once the connection is closed or closing,
        or when the stream fails under the send (code 1006; the connection is closed then,
        and the receiver's next read reports it too). Cancelled before the first byte of the
        message is written (e.g. while another task's send holds the stream), it sends
        nothing and the connection stays usable; cancelled in the middle of writing, it
        closes the stream: a frame cut short would corrupt every later one.
        """
        protocol = self._protocol
        async with self._send_lock:
            if protocol.state is not _OPEN or self._stream_closed:
                raise self._closed_error()
            if isinstance(message, str):
                protocol.send_text(message.encode())
            else:
                protocol.send_binary(message)
            frames = protocol.data_to_send()
            self._outgoing.extend(frames)
            try:
                sent = await self._flush()
            except BaseException:
                # Cancelled before our frame was written: it is not sent later either.
                self._unqueue(frames)
                raise
            if not sent:
                raise self._closed_error()

    def _unqueue(self, frames: list[bytes]) -> None:
        outgoing = self._outgoing
        kept = [data for data in outgoing if not any(data is frame for frame in frames)]
        outgoing.clear()
        outgoing.extend(kept)

    async def _write(self, writes: list[bytes], *, wait: bool) -> bool:
        """Queue *writes* and write the queue, unless a sender holding the lock will (and
        *wait* is false: the receiver never waits for a sender). False if the stream failed."""
        self._outgoing.extend(writes)
        if not wait and self._send_lock.locked():
            return True  # the holder writes everything queued before it lets go
        async with self._send_lock:
            return await self._flush()

    async def _flush(self) -> bool:
        """Write the outgoing queue (the send lock held). False if the stream failed: it is
        closed then.

        Cancelled before a frame's first byte is written, it leaves that frame queued and
        the stream intact (between the check here and ``send_all``'s own there is no
        scheduling point, so ``send_all`` cannot then be cancelled before it writes);
        cancelled in the middle of a frame, it closes the stream, since the cut frame would
        corrupt every later one.
        """
        outgoing = self._outgoing
        send_all = self._stream.send_all
        while outgoing:
            await trio.lowlevel.checkpoint_if_cancelled()
            data = outgoing.popleft()
            # b"" is the protocol's "half-close now": the stream is closed at the end of
            # the block anyway, and TLS has no half-close.
            if not data:
                continue
            try:
                await send_all(data)
            except _STREAM_ERRORS as exc:
                await self.abort(exc)
                return False
            except BaseException:
                await self.abort()
                raise
        return True

    # -- closing -------------------------------------------------------------------------------

    async def close(self) -> None:
        """The closing handshake: send close 1000, read until the peer's answer.

        The caller bounds it (``disconnect_timeout``) and closes the stream afterwards
        (:meth:`abort`). Messages that arrive meanwhile are dropped. When another task is
        inside ``get_message`` it cannot read here; the close frame is sent and the stream
        closed, and that task gets :class:`ConnectionClosed`.
        """
        protocol = self._protocol
        if self._stream_closed:
            return
        if protocol.state is _OPEN:
            async with self._send_lock:
                if protocol.state is _OPEN:
                    protocol.send_close(1000)
                    self._outgoing.extend(protocol.data_to_send())
                if not await self._flush():
                    return
        if self._receiving:
            return
        self._messages.clear()
        while protocol.close_rcvd is None and protocol.state is not _CLOSED:
            try:
                data = await self._stream.receive_some(RECEIVE_SIZE)
            except _STREAM_ERRORS:
                return
            if not data:
                return
            protocol.receive_data(data)
            protocol.events_received()  # the block is left: nobody reads them
            protocol.data_to_send()  # a pong is pointless now; the close is already out

    async def abort(self, cause: BaseException | None = None) -> None:
        """Close the stream at once (idempotent); a task inside ``get_message`` wakes with
        :class:`ConnectionClosed` (1006 unless a close was received)."""
        if cause is not None and self._cause is None:
            self._cause = cause
        self._outgoing.clear()
        if not self._stream_closed:
            self._stream_closed = True
            await trio.aclose_forcefully(self._stream)
