"""ANSI SGR colour codes in log lines, turned into styled spans.

Containers colour their output with escape sequences; the log view draws the
colours and searches the text without them. Every line is parsed on its own
(a colour never leaks into the next row), and sequences other than SGR are
dropped, so ``plain`` is exactly what the user sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

__all__ = ["DARK_PALETTE", "LIGHT_PALETTE", "Span", "Style", "parse", "strip"]

# CSI sequences (SGR and others), OSC strings and lone two-byte escapes.
_ESCAPE = re.compile(r"\x1b\[([0-9;:?<=>]*)([ -/]*[@-~])|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?"
                     r"|\x1b[@-Z\\-_]?")


@dataclass(frozen=True)
class Style:
    """Colours are palette indexes 0-255 or ``#rrggbb`` strings; None is the default."""

    fg: int | str | None = None
    bg: int | str | None = None
    bold: bool = False
    faint: bool = False
    italic: bool = False
    underline: bool = False
    inverse: bool = False


PLAIN = Style()


@dataclass(frozen=True)
class Span:
    start: int  # offset in the plain text
    text: str
    style: Style


def strip(text: str) -> str:
    """The text without escape sequences."""
    if "\x1b" not in text:
        return text
    return _ESCAPE.sub("", text)


def parse(text: str) -> tuple[str, list[Span]]:
    """The plain text and its styled spans (one span when there is no escape)."""
    if "\x1b" not in text:
        return text, [Span(0, text, PLAIN)] if text else []
    spans: list[Span] = []
    style = PLAIN
    plain: list[str] = []
    offset = 0
    pos = 0
    for match in _ESCAPE.finditer(text):
        if match.start() > pos:
            chunk = text[pos:match.start()]
            spans.append(Span(offset, chunk, style))
            plain.append(chunk)
            offset += len(chunk)
        pos = match.end()
        if match.group(2) == "m":
            style = _apply_sgr(style, match.group(1))
    if pos < len(text):
        chunk = text[pos:]
        spans.append(Span(offset, chunk, style))
        plain.append(chunk)
    return "".join(plain), spans


def _apply_sgr(style: Style, params: str) -> Style:
    codes = [int(p) if p.isdigit() else 0 for p in params.replace(":", ";").split(";")]
    i = 0
    while i < len(codes):
        code = codes[i]
        if code == 0:
            style = PLAIN
        elif code == 1:
            style = replace(style, bold=True)
        elif code == 2:
            style = replace(style, faint=True)
        elif code == 3:
            style = replace(style, italic=True)
        elif code == 4:
            style = replace(style, underline=True)
        elif code == 7:
            style = replace(style, inverse=True)
        elif code == 22:
            style = replace(style, bold=False, faint=False)
        elif code == 23:
            style = replace(style, italic=False)
        elif code == 24:
            style = replace(style, underline=False)
        elif code == 27:
            style = replace(style, inverse=False)
        elif 30 <= code <= 37:
            style = replace(style, fg=code - 30)
        elif 90 <= code <= 97:
            style = replace(style, fg=code - 90 + 8)
        elif code == 39:
            style = replace(style, fg=None)
        elif 40 <= code <= 47:
            style = replace(style, bg=code - 40)
        elif 100 <= code <= 107:
            style = replace(style, bg=code - 100 + 8)
        elif code == 49:
            style = replace(style, bg=None)
        elif code in (38, 48):
            colour, used = _extended_colour(codes[i + 1:])
            i += used
            if colour is not None:
                style = replace(style, fg=colour) if code == 38 else replace(style, bg=colour)
        i += 1
    return style


def _extended_colour(rest: list[int]) -> tuple[int | str | None, int]:
    """``5;n`` (256 colours) or ``2;r;g;b`` (true colour) after 38/48."""
    if len(rest) >= 2 and rest[0] == 5:
        return max(0, min(255, rest[1])), 2
    if len(rest) >= 4 and rest[0] == 2:
        r, g, b = (max(0, min(255, v)) for v in rest[1:4])
        return f"#{r:02x}{g:02x}{b:02x}", 4
    return None, len(rest)


# The 16 base colours, tuned to stay readable on a light and on a dark window.
LIGHT_PALETTE = ("#000000", "#b3261e", "#1b7a1b", "#8a6d00", "#1f4fbf", "#9c27b0",
                 "#00796b", "#6f6f6f", "#555555", "#d93025", "#2e9e2e", "#b08900",
                 "#3c6fe0", "#c040d0", "#009a8a", "#2b2b2b")
DARK_PALETTE = ("#3a3a3a", "#ff6b5e", "#6ccf6c", "#e5c07b", "#6fa8ff", "#d68cf0",
                "#56c8c8", "#c8c8c8", "#808080", "#ff8a80", "#98e698", "#ffe08a",
                "#9cc4ff", "#e6a8ff", "#8ae6e6", "#ffffff")


def colour_hex(value: int | str, dark: bool) -> str:
    """``#rrggbb`` for a palette index or a true colour."""
    if isinstance(value, str):
        return value
    if value < 16:
        return (DARK_PALETTE if dark else LIGHT_PALETTE)[value]
    if value < 232:
        value -= 16
        levels = (0, 95, 135, 175, 215, 255)
        r, g, b = levels[value // 36], levels[(value // 6) % 6], levels[value % 6]
        return f"#{r:02x}{g:02x}{b:02x}"
    grey = 8 + (value - 232) * 10
    return f"#{grey:02x}{grey:02x}{grey:02x}"


__all__ += ["PLAIN", "colour_hex"]
