""".dockerignore with moby's patternmatcher rules."""

from __future__ import annotations

import pytest

from engine.build.ignore import parse_ignore

RULES = parse_ignore("""
# comment
*.log
!keep.log
build/
/secret
**/*.tmp
docs/**/draft*
""")


@pytest.mark.parametrize(("path", "excluded"), [
    ("a.log", True), ("keep.log", False), ("sub/a.log", False),
    ("build", True), ("build/x/y", True), ("secret", True), ("secret/inner", True),
    ("x.tmp", True), ("a/b/c.tmp", True), ("docs/draft1", True), ("docs/a/b/draft", True),
    ("docs/final", False), ("src/main.py", False),
])
def test_patterns(path: str, excluded: bool) -> None:
    assert RULES.excluded(path) is excluded


def test_exception_after_a_directory() -> None:
    rules = parse_ignore("dir\n!dir/keep\n")
    assert rules.excluded("dir/other") and not rules.excluded("dir/keep")
    assert rules.may_reinclude()
