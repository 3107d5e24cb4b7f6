"""Keyboard input on a terminal: a line editor fed raw keys (pure) and the reader that puts
the terminal in cbreak mode so typed text is drawn by the monitor, not echoed over it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = ["InputEditor", "KeyAction", "cbreak"]

#: Escape sequences of the keys that scroll the pair list, and by how much (pages or rows).
_SCROLL_KEYS: Final[dict[str, tuple[int, bool]]] = {
    "\x1b[A": (-1, False),  # Up
    "\x1b[B": (1, False),  # Down
    "\x1b[5~": (-1, True),  # PgUp
    "\x1b[6~": (1, True),  # PgDn
    "\x1bOA": (-1, False),
    "\x1bOB": (1, False),
}
#: Keys that switch the view (Shift-Tab goes back; Tab itself is a plain character).
_VIEW_KEYS: Final[dict[str, int]] = {"\x1b[Z": -1}
#: Keys that pick the previous or next pair of the view on screen.
_PICK_KEYS: Final[dict[str, int]] = {"\x1b[D": -1, "\x1b[C": 1, "\x1bOD": -1, "\x1bOC": 1}


@dataclass(frozen=True)
class KeyAction:
    """What a key did: a finished ``line``, a ``scroll`` by *amount* rows or pages, a
    ``view`` switch by *amount* views (Tab +1, Shift-Tab -1), or a ``pick`` of the view's
    previous (-1, Left) or next (+1, Right) pair."""

    kind: Literal["line", "scroll", "view", "pick"]
    text: str = ""
    amount: int = 0
    pages: bool = False


@dataclass
class InputEditor:
    """The line being typed, fed characters as they come (possibly split escape sequences).

    Printable characters are appended, Backspace deletes one, Ctrl-U clears the line, Enter
    finishes it; Up/Down and the page keys scroll, Tab/Shift-Tab switch views, Left/Right
    pick pairs; other control keys are ignored. Never raises, whatever bytes arrive.
    """

    text: str = ""
    max_length: int = 200
    _pending: str = field(default="", repr=False)

    def feed(self, chars: str) -> list[KeyAction]:
        """Apply *chars*; returns the finished lines and scroll keys, in order."""
        actions: list[KeyAction] = []
        data = self._pending + chars
        self._pending = ""
        i = 0
        while i < len(data):
            char = data[i]
            if char == "\x1b":
                sequence = _escape_sequence(data, i)
                if sequence is None:  # cut off: wait for the rest
                    self._pending = data[i:]
                    break
                i += len(sequence)
                scroll = _SCROLL_KEYS.get(sequence)
                if scroll is not None:
                    actions.append(KeyAction("scroll", amount=scroll[0], pages=scroll[1]))
                elif sequence in _VIEW_KEYS:
                    actions.append(KeyAction("view", amount=_VIEW_KEYS[sequence]))
                elif sequence in _PICK_KEYS:
                    actions.append(KeyAction("pick", amount=_PICK_KEYS[sequence]))
                continue
            i += 1
            if char == "\t":
                actions.append(KeyAction("view", amount=1))
            elif char in "\r\n":
                actions.append(KeyAction("line", self.text))
                self.text = ""
            elif char in "\x7f\x08":
                self.text = self.text[:-1]
            elif char == "\x15":  # Ctrl-U
                self.text = ""
            elif char.isprintable() and len(self.text) < self.max_length:
                self.text += char
        return actions


def _escape_sequence(data: str, start: int) -> str | None:
    """The escape sequence starting at *start*, or None if *data* ends inside it."""
    if start + 1 >= len(data):
        return None
    kind = data[start + 1]
    if kind not in "[O":
        return data[start : start + 2]  # Alt-key or a lone Esc followed by a key
    for end in range(start + 2, min(len(data), start + 16)):
        if "@" <= data[end] <= "~":
            return data[start : end + 1]
    return None if len(data) - start < 16 else data[start:]


@contextlib.contextmanager
def cbreak(fd: int) -> Iterator[bool]:
    """Put the terminal *fd* in cbreak mode (keys arrive at once, no echo, Ctrl-C still
    interrupts) for the block; yields False (and changes nothing) if it is not a terminal.

    The previous mode is restored on the way out, however the block ends.
    """
    try:
        import termios
        import tty
    except ImportError:  # pragma: no cover - Windows
        yield False
        return
    if not os.isatty(fd):
        yield False
        return
    try:
        saved = termios.tcgetattr(fd)
        tty.setcbreak(fd, termios.TCSANOW)
    except termios.error:
        yield False
        return
    try:
        yield True
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
