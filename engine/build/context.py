"""The build context: the files COPY and ADD may take, and the Dockerfile.

A context is a directory, a tar file, or a tar on stdin (``-``); a tar is unpacked
into a private temporary directory first (links and names kept inside it), so
every step reads files from one place. ``.dockerignore`` at the context's root
decides what is left out (engine/build/ignore.py). Sources are resolved as
BuildKit does: cleaned relative to the root (``..`` never leaves it), globs
matched per path component, and never by following a symlink out of the root.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from engine.build.ignore import IgnoreRules, parse_ignore
from engine.errors import InvalidArgument

__all__ = ["BuildContext", "open_context"]

_GLOB = re.compile(r"[*?\[]")


@dataclass
class BuildContext:
    root: Path
    rules: IgnoreRules = field(default_factory=IgnoreRules)
    temporary: bool = False  # unpacked from a tar: removed by close()
    dockerfile_text: str | None = None  # a Dockerfile given apart from the files
    dockerfile_name: str = "Dockerfile"
    checkout: Path | None = None  # a git checkout the context is in: removed by close()

    def close(self) -> None:
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)
        if self.checkout is not None:
            shutil.rmtree(self.checkout, ignore_errors=True)

    def dockerfile(self, name: str) -> tuple[str, str]:
        """(text, file name) of the Dockerfile: ``name`` relative to the context."""
        if self.dockerfile_text is not None:
            return self.dockerfile_text, self.dockerfile_name
        path = self.inside(name or "Dockerfile")
        if not path.is_file():
            raise InvalidArgument(f"Cannot locate specified Dockerfile: {name or 'Dockerfile'}")
        return path.read_text(errors="replace"), posixpath.basename(name or "Dockerfile")

    def inside(self, relative: str, follow_last: bool = False, depth: int = 0) -> Path:
        """The context path for ``relative``, cleaned so it stays in the root; symlinks
        on the way (and the last one, with ``follow_last``) are resolved within the
        root too, as BuildKit does: a link never leads out of the context."""
        parts = [p for p in posixpath.normpath("/" + relative).split("/") if p]
        current = self.root
        for index, part in enumerate(parts):
            candidate = current / part
            last = index == len(parts) - 1
            if candidate.is_symlink() and (follow_last or not last):
                if depth > 40:
                    raise InvalidArgument(f"too many levels of symbolic links: {relative}")
                target = os.readlink(candidate)
                base = "" if target.startswith("/") else \
                    str(current.relative_to(self.root))
                current = self.inside(posixpath.join(base, target), True, depth + 1)
            else:
                current = candidate
        return current

    def sources(self, pattern: str) -> list[str]:
        """Context paths (relative, "" for the root) that ``pattern`` names."""
        clean = posixpath.normpath("/" + pattern).lstrip("/")
        if clean in ("", "."):
            return [""]
        if not _GLOB.search(clean):
            path = self.inside(clean)
            if not (path.exists() or path.is_symlink()) or not self.present(clean):
                return []
            return [clean]
        regex = re.compile("^" + "/".join(_component(c) for c in clean.split("/")) + "$")
        depth = clean.count("/")
        return [rel for rel in self._walk("", depth) if regex.match(rel)
                and self.present(rel)]

    def present(self, relative: str) -> bool:
        """Whether ``relative`` is in the context docker's CLI would send: not left out
        by .dockerignore, or a directory that an exception brings something back in."""
        return self.included(relative) or self.reincluded(relative)

    def reincluded(self, relative: str) -> bool:
        """An excluded directory with something an exception (``!``) brings back."""
        if not self.rules.may_reinclude():
            return False
        directory = self.root / relative
        if directory.is_symlink() or not directory.is_dir():
            return False
        for parent, dirs, files in os.walk(directory):
            for name in (*dirs, *files):
                rel = os.path.relpath(os.path.join(parent, name), self.root)
                if self.included(rel):
                    return True
        return False

    def _walk(self, relative: str, depth: int) -> Iterator[str]:
        directory = self.root / relative
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return
        for name in names:
            rel = f"{relative}/{name}" if relative else name
            yield rel
            if depth > 0 and (directory / name).is_dir() and \
                    not (directory / name).is_symlink():
                yield from self._walk(rel, depth - 1)

    def included(self, relative: str) -> bool:
        return not self.rules.excluded(relative)


def _component(text: str) -> str:
    """A path component of a glob as a regex: Go's filepath.Match rules."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = text.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = text[i + 1:end]
                if body.startswith("^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        elif ch == "\\" and i + 1 < len(text):
            i += 1
            out.append(re.escape(text[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def open_context(source: str | Path, stdin: IO[bytes] | None = None) -> BuildContext:
    """A directory, a tar file, ``-`` (a tar, or a lone Dockerfile, on ``stdin``), a git
    repository or a URL (engine/build/remote.py)."""
    from engine.build import remote

    text = str(source)
    local = text == "-" or Path(text).exists()  # a local path first, as docker's CLI
    if not local and remote.is_git_url(text):
        checkout, directory = remote.open_git(text)
        return _with_rules(BuildContext(directory, checkout=checkout))
    if not local and remote.is_remote(text):
        body = remote.open_url(text)
        try:
            with open(body, "rb") as stream:
                if _is_tar(stream.read(512)):
                    stream.seek(0)
                    return _unpacked(stream)
            return BuildContext(Path(tempfile.mkdtemp(prefix="skiff-build-")), temporary=True,
                                dockerfile_text=body.read_text(errors="replace"))
        finally:
            body.unlink(missing_ok=True)
    if str(source) == "-":
        if stdin is None:
            raise InvalidArgument("no build context on standard input")
        data = stdin.read()
        if not _is_tar(data):
            return BuildContext(Path(tempfile.mkdtemp(prefix="skiff-build-")),
                                temporary=True, dockerfile_text=data.decode(errors="replace"))
        return _unpacked(io.BytesIO(data))
    path = Path(source)
    if path.is_dir():
        return _with_rules(BuildContext(path.resolve()))
    if path.is_file():
        with open(path, "rb") as stream:
            return _unpacked(stream)
    raise InvalidArgument(f"unable to prepare context: path {str(source)!r} not found")


def unpack_tar(stream: IO[bytes]) -> BuildContext:
    """A context sent as a tar (the API's POST /build body)."""
    return _unpacked(stream)


def _is_tar(data: bytes) -> bool:
    if data[:2] == b"\x1f\x8b" or data[:3] == b"BZh" or data[:6] == b"\xfd7zXZ\x00":
        return True
    return len(data) >= 512 and data[257:262] == b"ustar"


def _unpacked(stream: IO[bytes]) -> BuildContext:
    root = Path(tempfile.mkdtemp(prefix="skiff-build-"))
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            tar.extractall(root, filter=_member_filter)
    except (tarfile.TarError, OSError, EOFError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise InvalidArgument(f"the build context is not a readable tar: {exc}") from None
    return _with_rules(BuildContext(root, temporary=True))


def _member_filter(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
    if member.isdev():
        return None  # a context holds files, not devices
    kept = tarfile.tar_filter(member, path)
    return kept.replace(uid=os.getuid(), gid=os.getgid(), uname="", gname="",
                        mode=(kept.mode or 0) & 0o7777, deep=False)


def _with_rules(context: BuildContext) -> BuildContext:
    ignore = context.root / ".dockerignore"
    if ignore.is_file() and not ignore.is_symlink():
        context.rules = parse_ignore(ignore.read_text(errors="replace"))
    return context
