from __future__ import annotations

from app.desktop.logs import ansi


def test_plain_text_is_one_plain_span() -> None:
    plain, spans = ansi.parse("hello")
    assert plain == "hello"
    assert spans == [ansi.Span(0, "hello", ansi.PLAIN)]


def test_sgr_colours_and_reset() -> None:
    plain, spans = ansi.parse("a\x1b[31mred\x1b[1;32m bold green\x1b[0m z")
    assert plain == "ared bold green z"
    assert [(s.text, s.style.fg, s.style.bold) for s in spans] == [
        ("a", None, False), ("red", 1, False), (" bold green", 2, True), (" z", None, False)]


def test_bright_256_and_true_colours() -> None:
    _, spans = ansi.parse("\x1b[91mx\x1b[38;5;200my\x1b[48;2;1;2;3mz")
    assert spans[0].style.fg == 9
    assert spans[1].style.fg == 200
    assert spans[2].style.bg == "#010203"


def test_other_sequences_are_dropped() -> None:
    text = "\x1b[2K\x1b[1Gprogress\x1b]0;title\x07 done"
    assert ansi.strip(text) == "progress done"
    plain, _ = ansi.parse(text)
    assert plain == "progress done"


def test_colour_hex_palettes() -> None:
    assert ansi.colour_hex(1, dark=False) != ansi.colour_hex(1, dark=True)
    assert ansi.colour_hex(16, dark=False) == "#000000"
    assert ansi.colour_hex(231, dark=False) == "#ffffff"
    assert ansi.colour_hex(232, dark=True) == "#080808"
