"""Docker's variable substitution and quote rules for Dockerfile words."""

from __future__ import annotations

import pytest

from engine.build.words import expand, expand_words
from engine.errors import InvalidArgument

ENV = {"A": "x", "E": "", "S": "a b"}


@pytest.mark.parametrize(("word", "expected"), [
    ("$A", "x"), ("${A}", "x"), ("pre${A}post", "prexpost"), ("$Z", ""),
    ("${E:-d}", "d"), ("${E-d}", ""), ("${Z-d}", "d"), ("${Z:-${A}q}", "xq"),
    ("${A:+alt}", "alt"), ("${E:+alt}", ""), ("${E+alt}", "alt"), ("${Z+alt}", ""),
    ("'$A'", "$A"), ('"$A \\$A"', "x $A"), ('"a\\b"', "a\\b"), ("a\\ b", "a b"),
    ("\\$A", "$A"), ("$", "$"), ("a$", "a$"),
])
def test_expand(word: str, expected: str) -> None:
    assert expand(word, ENV) == expected


def test_backtick_escape() -> None:
    assert expand("`$A", ENV, escape="`") == "$A"
    assert expand("c:\\dir", ENV, escape="`") == "c:\\dir"


def test_words_split_on_blanks_outside_quotes() -> None:
    assert expand_words('80 $S  "$S" ${Z}', ENV) == ["80", "a", "b", "a b"]


def test_errors() -> None:
    with pytest.raises(InvalidArgument, match="single-quote"):
        expand("'open", ENV)
    with pytest.raises(InvalidArgument, match="Z: must be set"):
        expand("${Z:?must be set}", ENV)
    with pytest.raises(InvalidArgument, match="unsupported modifier"):
        expand("${A/x/y}", ENV)
