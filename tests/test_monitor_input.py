"""okx_trio.monitor._input: the line editor fed raw keys, and cbreak mode."""

from __future__ import annotations

import os

import pytest

import okx_trio.monitor as monitor
from okx_trio.monitor._input import cbreak


def test_typed_text_builds_the_line_and_enter_finishes_it() -> None:
    editor = monitor.InputEditor()
    assert editor.feed("+sol") == []
    assert editor.text == "+sol"
    assert editor.feed("x\x7f-usdt") == []
    assert editor.text == "+sol-usdt"
    assert editor.feed("\r") == [monitor.KeyAction("line", "+sol-usdt")]
    assert editor.text == ""
    editor.feed("abc\x15q")  # Ctrl-U clears the line
    assert editor.feed("\n") == [monitor.KeyAction("line", "q")]


def test_scroll_keys_even_when_split_across_reads() -> None:
    editor = monitor.InputEditor()
    assert editor.feed("+a\x1b[") == []
    assert editor.feed("6~") == [monitor.KeyAction("scroll", amount=1, pages=True)]
    assert editor.feed("\x1b[A\x1b[5~\x1b[B") == [
        monitor.KeyAction("scroll", amount=-1),
        monitor.KeyAction("scroll", amount=-1, pages=True),
        monitor.KeyAction("scroll", amount=1),
    ]
    assert editor.feed("\x1b[1;5D\x1b[H") == []  # other keys: ignored
    assert editor.text == "+a"


@pytest.mark.parametrize("chars", ["\x00\x01\x02", "\x1b" * 40, "\x1b[" + "9" * 40, "é€😀", "\t"])
def test_the_editor_never_raises(chars: str) -> None:
    editor = monitor.InputEditor(max_length=10)
    editor.feed(chars)
    editor.feed("z" * 50 + "\r")
    assert len(editor.text) <= 10


def test_cbreak_on_something_that_is_not_a_terminal_changes_nothing() -> None:
    read, write = os.pipe()
    try:
        with cbreak(read) as raw:
            assert raw is False
    finally:
        os.close(read)
        os.close(write)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_cbreak_turns_echo_off_and_restores_it() -> None:
    import termios

    controller, terminal = os.openpty()
    try:
        before = termios.tcgetattr(terminal)
        with cbreak(terminal) as raw:
            assert raw is True
            assert not termios.tcgetattr(terminal)[3] & termios.ECHO
            assert termios.tcgetattr(terminal)[3] & termios.ISIG  # Ctrl-C still interrupts
        assert termios.tcgetattr(terminal) == before
    finally:
        os.close(controller)
        os.close(terminal)


def test_tab_and_shift_tab_switch_views_and_left_right_pick_pairs() -> None:
    editor = monitor.InputEditor()
    assert editor.feed("+bo\t\x1b[Z\x1b[D\x1b") == [
        monitor.KeyAction("view", amount=1),
        monitor.KeyAction("view", amount=-1),
        monitor.KeyAction("pick", amount=-1),
    ]
    assert editor.feed("[C\x1bOD") == [
        monitor.KeyAction("pick", amount=1),
        monitor.KeyAction("pick", amount=-1),
    ]
    assert editor.text == "+bo"  # the keys leave the line being typed alone
