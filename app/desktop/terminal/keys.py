"""Keys as a terminal program expects them: the bytes xterm sends for each key press.

:func:`key_bytes` is a pure function of the key, its modifiers, its text and
the screen's cursor-keys mode, so it is tested without a window.
:func:`wants_key` says which presses the terminal keeps for itself instead of
letting the window's shortcuts have them (Ctrl+C is an interrupt in a shell,
not "copy").
"""

from __future__ import annotations

from PySide6.QtCore import Qt

__all__ = ["is_copy", "is_paste", "key_bytes", "wants_key"]

K = Qt.Key
M = Qt.KeyboardModifier

_CURSOR: dict[int, str] = {
    K.Key_Up: "A", K.Key_Down: "B", K.Key_Right: "C", K.Key_Left: "D", K.Key_Home: "H",
    K.Key_End: "F"}
_TILDE: dict[int, int] = {
    K.Key_Insert: 2, K.Key_Delete: 3, K.Key_PageUp: 5, K.Key_PageDown: 6, K.Key_F5: 15,
    K.Key_F6: 17, K.Key_F7: 18, K.Key_F8: 19, K.Key_F9: 20, K.Key_F10: 21, K.Key_F11: 23,
    K.Key_F12: 24}
_SS3: dict[int, str] = {K.Key_F1: "P", K.Key_F2: "Q", K.Key_F3: "R", K.Key_F4: "S"}
_SIMPLE: dict[int, bytes] = {
    K.Key_Return: b"\r", K.Key_Enter: b"\r", K.Key_Backspace: b"\x7f", K.Key_Tab: b"\t",
    K.Key_Backtab: b"\x1b[Z", K.Key_Escape: b"\x1b"}
# Ctrl with punctuation: the ASCII control characters a terminal sends.
_CTRL_PUNCT: dict[int, bytes] = {
    K.Key_Space: b"\x00", K.Key_At: b"\x00", K.Key_BracketLeft: b"\x1b",
    K.Key_Backslash: b"\x1c", K.Key_BracketRight: b"\x1d", K.Key_AsciiCircum: b"\x1e",
    K.Key_Underscore: b"\x1f", K.Key_Minus: b"\x1f", K.Key_Question: b"\x7f"}


def _modifier_code(mods: Qt.KeyboardModifier) -> int:
    """xterm's parameter for modified special keys: 1 + Shift 1 + Alt 2 + Ctrl 4."""
    code = 1
    if mods & M.ShiftModifier:
        code += 1
    if mods & M.AltModifier:
        code += 2
    if mods & M.ControlModifier:
        code += 4
    return code


def key_bytes(key: int, mods: Qt.KeyboardModifier, text: str,
              cursor_keys: bool = False) -> bytes:
    """What to send for one key press; b"" when the key sends nothing."""
    key = int(key)
    mods = mods & ~M.KeypadModifier
    code = _modifier_code(mods)
    if key in _CURSOR:
        letter = _CURSOR[key]
        if code > 1:
            return f"\x1b[1;{code}{letter}".encode()
        return f"\x1b{'O' if cursor_keys else '['}{letter}".encode()
    if key in _TILDE:
        number = _TILDE[key]
        return (f"\x1b[{number};{code}~" if code > 1 else f"\x1b[{number}~").encode()
    if key in _SS3:
        letter = _SS3[key]
        return f"\x1b[1;{code}{letter}".encode() if code > 1 else f"\x1bO{letter}".encode()
    if key == K.Key_Backspace and mods & M.ControlModifier:
        return b"\x08"
    if key == K.Key_Tab and mods & M.ShiftModifier:
        return b"\x1b[Z"
    if key in _SIMPLE:
        data = _SIMPLE[key]
        return b"\x1b" + data if mods & M.AltModifier else data
    ctrl = bool(mods & M.ControlModifier)
    alt = bool(mods & M.AltModifier)
    if ctrl:
        if K.Key_A <= key <= K.Key_Z:
            data = bytes([key - K.Key_A + 1])
        elif key in _CTRL_PUNCT:
            data = _CTRL_PUNCT[key]
        elif K.Key_2 == key:
            data = b"\x00"
        elif K.Key_3 <= key <= K.Key_7:
            data = bytes([0x1b + key - K.Key_3])
        elif K.Key_8 == key:
            data = b"\x7f"
        else:
            return b""
        return b"\x1b" + data if alt else data
    if not text:
        return b""
    data = text.encode("utf-8", "replace")
    if alt and not text.startswith("\x1b"):
        return b"\x1b" + data
    return data


def is_copy(key: int, mods: Qt.KeyboardModifier) -> bool:
    """Ctrl+Shift+C (Ctrl+C alone is the interrupt) or Ctrl+Insert."""
    mods = mods & ~M.KeypadModifier
    return (key == K.Key_C and mods == M.ControlModifier | M.ShiftModifier) or \
        (key == K.Key_Insert and mods == M.ControlModifier)


def is_paste(key: int, mods: Qt.KeyboardModifier) -> bool:
    """Ctrl+Shift+V or Shift+Insert."""
    mods = mods & ~M.KeypadModifier
    return (key == K.Key_V and mods == M.ControlModifier | M.ShiftModifier) or \
        (key == K.Key_Insert and mods == M.ShiftModifier)


def wants_key(key: int, mods: Qt.KeyboardModifier, text: str) -> bool:
    """True when the terminal takes this press even if a window shortcut matches it.

    Typing, Ctrl with a letter (Ctrl+C, Ctrl+D, Ctrl+R...), the editing and cursor
    keys, and copy/paste stay in the terminal; Ctrl+Shift+letter, Ctrl+digit and the
    function keys reach the window's actions.
    """
    mods = mods & ~M.KeypadModifier
    if is_copy(key, mods) or is_paste(key, mods):
        return True
    ctrl = bool(mods & M.ControlModifier)
    shift = bool(mods & M.ShiftModifier)
    if key in _CURSOR or key in _SIMPLE or key in (K.Key_Insert, K.Key_Delete, K.Key_PageUp,
                                                    K.Key_PageDown):
        return not (ctrl and shift)
    if ctrl:
        if shift:
            return False
        return K.Key_A <= key <= K.Key_Z or key in _CTRL_PUNCT
    return bool(text) and text.isprintable()
