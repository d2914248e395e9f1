"""``.dockerignore``: which context files a build leaves out, by moby's patternmatcher rules.

Each line is a pattern (``#`` lines and blanks ignored, a leading ``!`` makes it an
exception, paths cleaned and a leading ``/`` dropped); ``*`` and ``?`` stay within
one path component, ``**`` crosses any number of them, ``[...]`` is a class and
``\\`` escapes. A path is excluded when the last pattern matching it or one of its
parent directories is not an exception.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

__all__ = ["IgnoreRules", "parse_ignore"]


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    exclusion: bool  # a "!" line


@dataclass(frozen=True)
class IgnoreRules:
    patterns: tuple[_Pattern, ...] = ()

    def excluded(self, path: str) -> bool:
        """Whether ``path`` (relative to the context, with /) is left out."""
        path = posixpath.normpath(path.lstrip("/"))
        parents = path.split("/")[:-1]
        matched = False
        for pattern in self.patterns:
            match = bool(pattern.regex.match(path))
            if not match:
                for i in range(len(parents)):
                    if pattern.regex.match("/".join(parents[: i + 1])):
                        match = True
                        break
            if match:
                matched = not pattern.exclusion
        return matched

    def may_reinclude(self) -> bool:
        """Whether an exception could bring back something under an excluded directory."""
        return any(p.exclusion for p in self.patterns)


def parse_ignore(text: str) -> IgnoreRules:
    patterns: list[_Pattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
            if not line:
                continue
        line = posixpath.normpath(line)
        if len(line) > 1 and line.startswith("/"):
            line = line.lstrip("/") or "/"
        patterns.append(_Pattern(re.compile(_regex(line)), exclusion))
    return IgnoreRules(tuple(patterns))


def _regex(pattern: str) -> str:
    out = ["^"]
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i >= n:
                    out.append(".*")
                    continue
                if pattern[i] == "/":
                    i += 1
                out.append("(.*/)?")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1:end]
                if body.startswith("^") or body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return "".join(out)
